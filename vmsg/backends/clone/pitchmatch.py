"""A first, honest voice conversion: move the voice's median pitch to the
reference speaker's, formants kept. It changes pitch, not timbre; the measured
engines of the clone issue go further."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from vmsg.device import require_cpu_only
from vmsg.errors import InputError
from vmsg.media.audio import resample
from vmsg.media.pitch import median_f0
from vmsg.media.stretch import rubberband
from vmsg.types import Speech

MAX_SHIFT_SEMITONES = 12.0


class PitchMatchConverter:
    name: ClassVar[str] = "pitchmatch"
    version = "pitchmatch-1"

    def __init__(self, *, device: str = "auto") -> None:
        require_cpu_only(device, self.name)

    def convert(self, *, speech: Speech, references: list[tuple[np.ndarray, int]], profile=None) -> Speech:
        if profile is not None:
            ref_f0 = [profile.f0["median_hz"]]
        else:
            ref_f0 = [median_f0(resample(s, r, 16000), 16000) for s, r in references]
            ref_f0 = [f for f in ref_f0 if f > 0]
        if not ref_f0:
            raise InputError("reference clips contain no voiced speech")
        src_f0 = median_f0(resample(speech.samples, speech.sample_rate, 16000), 16000)
        if src_f0 <= 0:
            raise InputError("the speech to convert contains no voiced frames")
        shift = float(np.clip(12.0 * np.log2(float(np.median(ref_f0)) / src_f0), -MAX_SHIFT_SEMITONES, MAX_SHIFT_SEMITONES))
        out = rubberband(speech.samples, speech.sample_rate, semitones=shift)
        out = _fit_length(out, len(speech.samples))
        return speech.with_audio(out, clone_engine=self.name, clone_shift_semitones=round(shift, 2))


def _fit_length(samples: np.ndarray, n: int) -> np.ndarray:
    """Pitch shifting keeps length up to a few samples; pad or cut so the timeline stays exact."""
    return samples[:n] if len(samples) >= n else np.pad(samples, (0, n - len(samples)))
