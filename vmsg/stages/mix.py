"""mix: the voice over background music (ducked under speech), loudness-normalised for delivery.

Input handling, documented in docs/audio.md: any sample rate is resampled to
`sample_rate`; voice is mono (stereo is averaged), music of any channel count
is mixed down to mono or duplicated up to stereo to match `channels`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from vmsg.backends.mix import MIXERS
from vmsg.errors import InputError
from vmsg.media.audio import read_audio
from vmsg.stages.options import StageOptions
from vmsg.types import Soundtrack, Speech

MIN_MUSIC_SECONDS = 1.0
SILENT_PEAK = 1e-4
PRESETS: dict[str, float] = {"podcast": -16.0, "streaming-video": -14.0}


class MixOptions(StageOptions):
    engine: str = "broadcast"
    bgm: str | None = Field(None, description="library id (see `vmsg bgm`) or music file; None = voice only")
    music_gain_db: float = Field(-12.0, ge=-60.0, le=0.0, description="music level relative to the voice, before ducking")
    duck: bool = Field(True, description="dip the music under speech")
    duck_depth_db: float = Field(15.0, ge=0.0, le=40.0, description="how far the music dips under speech")
    duck_attack_ms: float = Field(50.0, ge=1.0, le=1000.0, description="time to dip (starts this much before speech)")
    duck_release_ms: float = Field(400.0, ge=10.0, le=5000.0, description="time to come back up after speech")
    duck_source: Literal["auto", "timeline", "energy"] = Field(
        "auto", description="voice activity from the phoneme timeline, an energy detector, or auto (timeline if any)")
    loop_crossfade: float = Field(0.5, ge=0.0, le=5.0, description="seconds crossfaded at loop points of files")
    fade_in: float = Field(1.0, ge=0.0, le=10.0)
    fade_out: float = Field(1.5, ge=0.0, le=10.0)
    lead_in: float = Field(0.3, ge=0.0, le=5.0, description="silence before the voice starts, seconds")
    tail: float = Field(0.6, ge=0.0, le=10.0, description="time after the voice ends, seconds")
    preset: Literal["podcast", "streaming-video"] = Field("podcast", description="loudness target: -16 or -14 LUFS")
    target_lufs: float | None = Field(None, ge=-40.0, le=-5.0, description="overrides the preset's target")
    true_peak_db: float = Field(-1.0, ge=-9.0, le=0.0, description="true-peak ceiling, dBTP")
    sample_rate: int = Field(48000, ge=8000, le=96000)
    channels: int = Field(2, ge=1, le=2)

    @property
    def effective_lufs(self) -> float:
        return self.target_lufs if self.target_lufs is not None else PRESETS[self.preset]


@functools.lru_cache(maxsize=4)
def _decoded(path: str, mtime_ns: int, size: int) -> tuple[np.ndarray, int]:
    """Decoded music, kept for the next job of a batch worker (keyed by path, mtime and size)."""
    del mtime_ns, size
    samples, rate = read_audio(Path(path), mono=False, what="background music")
    samples.setflags(write=False)
    return samples, rate


def load_music(spec: str) -> tuple[np.ndarray, int, dict | None]:
    """(samples, rate, library entry or None); rejects short, silent, corrupt or NaN music."""
    from vmsg.backends.mix.library import resolve

    path, entry = resolve(spec)
    stat = path.stat()
    samples, rate = _decoded(str(path), stat.st_mtime_ns, stat.st_size)
    seconds = len(samples) / rate
    if seconds < MIN_MUSIC_SECONDS:
        raise InputError(f"background music {spec}: {seconds:.2f} s is shorter than {MIN_MUSIC_SECONDS:.0f} s")
    if float(np.max(np.abs(samples))) < SILENT_PEAK:
        raise InputError(f"background music {spec}: is silent")
    return samples, rate, entry


def _check_voice(speech: Speech, has_music: bool) -> None:
    if speech.samples.size == 0:
        raise InputError("voice to mix: contains no samples")
    if not np.isfinite(speech.samples).all():
        raise InputError("voice to mix: contains NaN or infinite samples")
    if not has_music and float(np.max(np.abs(speech.samples))) < SILENT_PEAK:
        raise InputError("voice to mix: is silent and there is no music (nothing to deliver)")


def mix(speech: Speech, options: MixOptions | None = None) -> Soundtrack:
    options = options or MixOptions()
    _check_voice(speech, bool(options.bgm))
    if speech.samples.ndim == 2:
        speech = speech.with_audio(speech.samples.mean(axis=1).astype(np.float32))
    music = None
    if options.bgm:
        samples, rate, entry = load_music(options.bgm)
        if entry is not None and entry.get("seamless"):
            options = options.model_copy(update={"loop_crossfade": 0.0})
        music = (samples, rate)
    engine = MIXERS.instance(MIXERS.check(options.engine))
    track = engine.mix(voice=speech, music=music, options=options)
    return Soundtrack(track.samples, track.sample_rate, track.timeline, track.timeline_source,
                      {**track.meta, "bgm": options.bgm, "target_lufs": options.effective_lufs})


def mix_video(video: Path, output: Path, options: MixOptions | None = None) -> Soundtrack:
    """Music under an existing video's sound: the video stream is copied, the audio replaced by the mix.

    The video's audio is the voice (mixed down to mono; ducking from an energy
    detector); no lead-in or tail, so the length and lip-sync are unchanged.
    """
    from vmsg.media.ffmpeg import probe, run_ffmpeg
    from vmsg.store import atomic_path, check_writable

    options = (options or MixOptions()).model_copy(update={"lead_in": 0.0, "tail": 0.0})
    if output.suffix.lower() not in (".mp4", ".mov", ".m4v", ".mkv"):
        raise InputError(f"output {output}: a video output must end in .mp4, .mov, .m4v or .mkv")
    check_writable(output)
    info = probe(video)
    streams = info.get("streams", [])
    if not any(s.get("codec_type") == "video" for s in streams):
        raise InputError(f"video {video}: has no video stream")
    duration = float(info.get("format", {}).get("duration") or 0.0)
    if duration <= 0:
        raise InputError(f"video {video}: unknown or zero duration")
    rate = options.sample_rate
    if any(s.get("codec_type") == "audio" for s in streams):
        voice = _decode_audio(video, rate)
    else:
        voice = np.zeros(int(duration * rate), dtype=np.float32)
    voice = np.pad(voice, (0, max(0, int(round(duration * rate)) - len(voice))))
    if not np.any(np.abs(voice) > SILENT_PEAK):
        options = options.model_copy(update={"duck": False})
    track = mix(Speech(voice, rate, (), "none"), options)
    import tempfile

    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix=".vmsg-mix-", dir=output.parent) as folder:
        wav = Path(folder) / "mix.wav"
        sf.write(str(wav), np.clip(track.samples, -1, 1), rate, subtype="FLOAT")
        with atomic_path(output) as tmp:
            run_ffmpeg(["-i", str(video), "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
                        "-c:a", "aac", "-b:a", "192k", "-t", f"{duration:.3f}", "-movflags", "+faststart", str(tmp)],
                       what=f"muxing the mix into {output.name}")
    return track


def _decode_audio(video: Path, rate: int) -> np.ndarray:
    import subprocess

    from vmsg.media.ffmpeg import ffmpeg_binary

    proc = subprocess.run([ffmpeg_binary(), "-v", "error", "-nostdin", "-i", str(video), "-vn", "-f", "f32le",
                           "-ac", "1", "-ar", str(rate), "-"], capture_output=True, check=False)
    if proc.returncode != 0:
        raise InputError(f"video {video}: its audio cannot be decoded ({proc.stderr.decode(errors='replace')[-160:]})")
    samples = np.frombuffer(proc.stdout, dtype=np.float32).copy()
    if not np.isfinite(samples).all():
        raise InputError(f"video {video}: audio contains NaN or infinite samples")
    return samples

