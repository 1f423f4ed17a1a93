"""The still renderer: the composited image held for the length of the
soundtrack, H.264 yuv420p + AAC, faststart. Deterministic and cheap; the
lip-synced engines build on the same encoder settings.

The image enters at 1 frame/s and ffmpeg repeats it up to the output rate:
decoding it once a second instead of every frame makes the encode 2–3× faster
for the same 25/30 fps output."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vmsg.device import require_cpu_only
from vmsg.media.ffmpeg import run_ffmpeg
from vmsg.media.image import fit_even
from vmsg.media.video import x264_params
from vmsg.threads import ffmpeg_args
from vmsg.types import Soundtrack


class StillRenderer:
    name: ClassVar[str] = "still"
    version = "still-1"

    def __init__(self, *, device: str = "auto") -> None:
        require_cpu_only(device, self.name)

    def render(self, *, image: np.ndarray, soundtrack: Soundtrack, output: Path, options: Any) -> dict[str, Any]:
        import soundfile as sf
        from PIL import Image

        frame = fit_even(image, options.size)
        with tempfile.TemporaryDirectory(prefix="vmsg-still-") as tmp:
            still, audio = Path(tmp) / "frame.png", Path(tmp) / "audio.wav"
            Image.fromarray(frame).save(still, compress_level=1)
            sf.write(str(audio), soundtrack.samples, soundtrack.sample_rate, subtype="FLOAT")
            run_ffmpeg(
                [
                    "-loop", "1", "-framerate", "1", "-i", str(still),
                    "-i", str(audio),
                    "-t", f"{soundtrack.duration:.3f}",
                    "-c:v", "libx264", "-preset", options.preset, "-tune", "stillimage", "-crf", str(options.crf),
                    *x264_params(options),
                    "-pix_fmt", "yuv420p", "-r", str(options.fps), *ffmpeg_args(),
                    "-c:a", "aac", "-b:a", options.audio_bitrate,
                    "-movflags", "+faststart", "-f", "mp4", str(output),
                ],
                what=f"encoding {output.name}",
            )
        return {"width": int(frame.shape[1]), "height": int(frame.shape[0]), "fps": options.fps}
