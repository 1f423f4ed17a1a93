"""A first mixer: the voice with a lead-in and tail, music looped (short
crossfade at the loop point), a fixed level under the voice, fades, then the
whole mix normalised to the target loudness under a true-peak limiter.
No ducking: the `broadcast` mixer is the default."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from vmsg.media.audio import resample, to_channels
from vmsg.media.dynamics import normalize
from vmsg.types import Phoneme, Soundtrack, Speech

LOOP_CROSSFADE_S = 0.05


class SimpleMixer:
    name: ClassVar[str] = "simple"
    version = "simple-1"

    def __init__(self, *, device: str = "auto") -> None:
        del device

    def mix(self, *, voice: Speech, music: tuple[np.ndarray, int] | None, options: Any) -> Soundtrack:
        rate, channels = options.sample_rate, options.channels
        lead = int(options.lead_in * rate)
        tail = int(options.tail * rate)
        speech = resample(voice.samples, voice.sample_rate, rate)
        speech = np.pad(speech, (lead, tail)).astype(np.float32)
        total = len(speech)
        out = to_channels(speech, channels).astype(np.float32)
        if music is not None:
            bed = to_channels(resample(music[0], music[1], rate), channels)
            bed = loop_to_length(bed, total, int(LOOP_CROSSFADE_S * rate))
            bed = bed * np.float32(_level_ratio(speech, bed, options.music_gain_db))
            bed = apply_fades(bed, rate, options.fade_in, options.fade_out)
            out = out + bed
        out = normalize(out, rate, target_lufs=options.effective_lufs, true_peak_db=options.true_peak_db)
        shift = lead / rate
        timeline = tuple(Phoneme(p.symbol, p.start + shift, p.end + shift) for p in voice.timeline)
        if lead:
            timeline = (Phoneme("sil", 0.0, shift), *timeline)
        return Soundtrack(out, rate, timeline, voice.timeline_source, {"mix_engine": self.name, "voice_offset": shift})


def _level_ratio(speech: np.ndarray, bed: np.ndarray, gain_db: float) -> float:
    """Gain that puts the music `gain_db` relative to the voice, by RMS over the whole length."""
    voice_rms = float(np.sqrt(np.mean(np.square(speech[np.abs(speech) > 1e-4])))) if np.any(np.abs(speech) > 1e-4) else 0.0
    bed_rms = float(np.sqrt(np.mean(np.square(bed)))) if bed.size else 0.0
    if voice_rms <= 0 or bed_rms <= 0:
        return 10 ** (gain_db / 20.0)
    return voice_rms / bed_rms * 10 ** (gain_db / 20.0)


def loop_to_length(bed: np.ndarray, n: int, crossfade: int) -> np.ndarray:
    """Repeat `bed` to `n` samples, crossfading each joint over `crossfade` samples."""
    if len(bed) >= n:
        return bed[:n]
    crossfade = min(crossfade, len(bed) // 4)
    ramp = np.linspace(0.0, 1.0, crossfade, dtype=np.float32)
    ramp = ramp[:, None] if bed.ndim == 2 else ramp
    out = bed.copy()
    while len(out) < n + crossfade:
        joint = out[-crossfade:] * (1 - ramp) + bed[:crossfade] * ramp if crossfade else out[:0]
        out = np.concatenate([out[: len(out) - crossfade], joint, bed[crossfade:]])
    return out[:n]


def apply_fades(x: np.ndarray, rate: int, fade_in: float, fade_out: float) -> np.ndarray:
    x = x.copy()
    for seconds, at_start in ((fade_in, True), (fade_out, False)):
        k = min(len(x), int(seconds * rate))
        if k <= 0:
            continue
        ramp = np.linspace(0.0, 1.0, k, dtype=np.float32)
        ramp = ramp[:, None] if x.ndim == 2 else ramp
        if at_start:
            x[:k] *= ramp
        else:
            x[-k:] *= ramp[::-1]
    return x
