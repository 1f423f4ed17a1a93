"""Prosody through Rubber Band: pitch shift with formants kept, tempo change
with pitch kept; an intonation scale other than 1 goes through WORLD (F0 edit,
same spectral envelope), which then also does the pitch shift."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from vmsg.backends.prosody.timing import remap
from vmsg.device import require_cpu_only
from vmsg.media.stretch import rubberband_parallel
from vmsg.types import Speech


class RubberBandProsody:
    name: ClassVar[str] = "rubberband"
    version = "rubberband-ffmpeg-3"

    def __init__(self, *, device: str = "auto") -> None:
        require_cpu_only(device, self.name)

    def apply(self, *, speech: Speech, pitch_semitones: float, speed: float, intonation: float = 1.0) -> Speech:
        samples, methods = speech.samples, []
        if abs(intonation - 1.0) > 1e-6:
            from vmsg.backends.prosody.world import world_edit

            samples = world_edit(samples, speech.sample_rate, semitones=pitch_semitones, intonation=intonation)
            methods.append("world")
            pitch_semitones = 0.0
        if abs(speed - 1.0) > 1e-6 or abs(pitch_semitones) > 1e-6:
            samples, (src, dst) = rubberband_parallel(samples, speech.sample_rate, tempo=speed, semitones=pitch_semitones)
            methods.append("rubberband")
            timeline = remap(speech.timeline, src, dst)
        else:
            timeline = speech.timeline
        meta = {**speech.meta, "prosody_engine": self.name, "prosody_methods": methods}
        return replace(speech, samples=samples, timeline=timeline, meta=meta)


class WorldProsody(RubberBandProsody):
    """Pitch (and intonation) through WORLD whatever the values, tempo through Rubber Band.

    Slower (WORLD analysis is ~0.3 s per second of audio), but the spectral envelope
    is kept exactly, also on large downward shifts where Rubber Band's formant
    preservation is only partial (docs/audio.md)."""

    name: ClassVar[str] = "world"
    version = "world-pyworld-0.3.5-2"

    def apply(self, *, speech: Speech, pitch_semitones: float, speed: float, intonation: float = 1.0) -> Speech:
        if abs(pitch_semitones) > 1e-6 and abs(intonation - 1.0) <= 1e-6:
            intonation = 1.0 + 1e-5  # routes the pitch shift through WORLD (an F0 scale of 1.00001 is inaudible)
        out = super().apply(speech=speech, pitch_semitones=pitch_semitones, speed=speed, intonation=intonation)
        return replace(out, meta={**out.meta, "prosody_engine": self.name})
