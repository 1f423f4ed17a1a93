"""The D-ID engine: upload the image and the soundtrack (or use presigned URLs),
create a talk with an audio script, poll it, download the result at once (its
URL expires), then re-encode it with our own full-quality soundtrack (D-ID
resamples audio to 16 kHz) to the size, fps and codecs every engine delivers.

A cost guard refuses, before anything is uploaded, a talk that would take the
process past `render.did.max_clips` or `render.did.max_seconds`; a refusal
hands over to the next engine of `render.fallback` without tripping the
circuit breaker. The key is read at render time (so a rotated key file is
picked up) and never stored in options, logs or reports.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vmsg.backends.render.did_api import DidClient  # httpx + tenacity: a missing one names the `did` extra
from vmsg.errors import BackendError
from vmsg.fallback import PolicyRefusal
from vmsg.media.ffmpeg import run_ffmpeg
from vmsg.types import Soundtrack

log = logging.getLogger(__name__)

KEY_ENV = "VMSG_DID_API_KEY"
MAX_UPLOAD_SIDE = 1920


class CostGuard:
    """Clips and seconds sent to D-ID by this process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clips = 0
        self.seconds = 0.0

    def reserve(self, seconds: float, *, max_clips: int, max_seconds: float) -> float:
        with self._lock:
            if self.clips + 1 > max_clips:
                raise PolicyRefusal(f"D-ID cost guard: this run already made {self.clips} talk(s); "
                                    f"render.did.max_clips is {max_clips}")
            if self.seconds + seconds > max_seconds + 1e-9:
                raise PolicyRefusal(f"D-ID cost guard: {seconds:.1f} s more would make {self.seconds + seconds:.1f} s "
                                    f"this run; render.did.max_seconds is {max_seconds:g}")
            self.clips += 1
            self.seconds += seconds
            return seconds

    def refund(self, seconds: float) -> None:
        with self._lock:
            self.clips -= 1
            self.seconds -= seconds


class DidRenderer:
    name: ClassVar[str] = "did"
    version = "did-talks-1"

    def __init__(self, *, device: str = "auto") -> None:
        self.device = device  # the work runs on D-ID's servers; no local device is used
        self.guard = CostGuard()

    def render(self, *, image: np.ndarray, soundtrack: Soundtrack, output: Path, options: Any) -> dict[str, Any]:
        from vmsg.secrets import read_secret

        did = options.did
        key = read_secret(KEY_ENV, what="D-ID API key ($VMSG_DID_API_KEY)")
        reserved = self.guard.reserve(soundtrack.duration + did.pad_audio,
                                      max_clips=did.max_clips, max_seconds=did.max_seconds)
        talk_id = None
        try:
            with tempfile.TemporaryDirectory(prefix="vmsg-did-") as tmp_name, DidClient(
                base_url=did.base_url, key=key, timeout_s=did.timeout_s, retries=did.retries
            ) as client:
                tmp = Path(tmp_name)
                source_url = did.image_url or client.upload_image(_write_jpeg(image, tmp / "portrait.jpg"))
                audio_url = did.audio_url or client.upload_audio(_write_wav(soundtrack, tmp / "voice.wav"))
                talk_id = client.create_talk(talk_payload(source_url, audio_url, did))
                log.info("D-ID talk %s created", talk_id)
                talk = client.wait_talk(talk_id, interval_s=did.poll_interval_s,
                                        max_interval_s=did.poll_max_interval_s, timeout_s=did.poll_timeout_s)
                result = tmp / "result.mp4"
                try:
                    client.download(talk["result_url"], result, what=f"downloading talk {talk_id}")
                except BackendError:  # the link may have expired already: ask for a fresh one, once
                    client.download(client.get_talk(talk_id)["result_url"], result, what=f"downloading talk {talk_id}")
                width, height = _finish(result, soundtrack, output, options)
        except BaseException:
            if talk_id is None:
                self.guard.refund(reserved)
            raise
        return {"width": width, "height": height, "fps": options.fps, "talk_id": talk_id,
                "uploaded": {"image": did.image_url is None, "audio": did.audio_url is None}}


def talk_payload(source_url: str, audio_url: str, did: Any) -> dict[str, Any]:
    """The POST /talks body: an audio script and the config from the options."""
    config: dict[str, Any] = {"stitch": did.stitch, "fluent": did.fluent, "pad_audio": did.pad_audio,
                              "result_format": "mp4"}
    if did.expression is not None:
        config["driver_expressions"] = {"expressions": [
            {"start_frame": 0, "expression": did.expression, "intensity": did.expression_intensity}]}
    payload: dict[str, Any] = {"source_url": source_url, "script": {"type": "audio", "audio_url": audio_url},
                               "config": config}
    if did.driver_url:
        payload["driver_url"] = did.driver_url
    return payload


def _write_jpeg(image: np.ndarray, path: Path) -> Path:
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    picture.thumbnail((MAX_UPLOAD_SIDE, MAX_UPLOAD_SIDE))
    picture.save(path, format="JPEG", quality=92)
    return path


def _write_wav(soundtrack: Soundtrack, path: Path) -> Path:
    import soundfile as sf

    sf.write(str(path), np.clip(soundtrack.samples, -1.0, 1.0), soundtrack.sample_rate, subtype="PCM_16")
    return path


def _finish(result: Path, soundtrack: Soundtrack, output: Path, options: Any) -> tuple[int, int]:
    """D-ID's video + our soundtrack → H.264 yuv420p/AAC at the requested size and fps, faststart."""
    import soundfile as sf

    from vmsg.media.ffmpeg import probe

    try:
        streams = [s for s in probe(result)["streams"] if s.get("codec_type") == "video"]
    except Exception as exc:  # noqa: BLE001 - any unreadable download is D-ID's fault here
        raise BackendError(f"D-ID's result is not a readable video ({exc})") from None
    if not streams:
        raise BackendError("D-ID's result has no video stream")
    w, h = int(streams[0]["width"]), int(streams[0]["height"])
    size = options.size
    out_w, out_h = (size, round(h * size / w / 2) * 2) if w >= h else (round(w * size / h / 2) * 2, size)
    total = soundtrack.duration + options.did.pad_audio
    audio = result.with_name("soundtrack.wav")
    sf.write(str(audio), soundtrack.samples, soundtrack.sample_rate, subtype="FLOAT")
    run_ffmpeg(
        [
            "-i", str(result), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
            "-vf", f"scale={out_w}:{out_h},fps={options.fps},tpad=stop_mode=clone:stop=-1",
            "-af", "apad", "-t", f"{total:.3f}",
            "-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", options.audio_bitrate, "-movflags", "+faststart", "-f", "mp4", str(output),
        ],
        what=f"re-encoding the D-ID result into {output.name}",
    )
    return out_w, out_h
