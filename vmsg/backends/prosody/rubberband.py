"""Prosody through Rubber Band: pitch shift with formants kept, tempo change with pitch kept."""

from __future__ import annotations

from typing import ClassVar

from vmsg.device import require_cpu_only
from vmsg.media.stretch import rubberband
from vmsg.types import Speech


class RubberBandProsody:
    name: ClassVar[str] = "rubberband"
    version = "rubberband-ffmpeg-1"

    def __init__(self, *, device: str = "auto") -> None:
        require_cpu_only(device, self.name)

    def apply(self, *, speech: Speech, pitch_semitones: float, speed: float) -> Speech:
        out = rubberband(speech.samples, speech.sample_rate, tempo=speed, semitones=pitch_semitones)
        factor = len(out) / max(1, len(speech.samples))
        return speech.rescaled(out, factor, prosody_engine=self.name)
