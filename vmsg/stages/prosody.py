"""prosody: pitch, speed and energy edits that keep formants, pitch and the timeline in step."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from vmsg.backends.prosody import PROSODY_ENGINES
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.types import Speech

PEAK_CEILING = 0.98


class ProsodyOptions(StageOptions):
    engine: str = "rubberband"
    pitch: float = Field(0.0, ge=-12.0, le=12.0, description="semitones")
    speed: float = Field(1.0, ge=0.5, le=2.0, description="tempo factor; >1 is faster")
    energy: float = Field(1.0, ge=0.5, le=1.5, description="loudness factor, peaks limited")
    device: DeviceName = "auto"

    @property
    def is_neutral(self) -> bool:
        return self.pitch == 0.0 and self.speed == 1.0 and self.energy == 1.0


def prosody(speech: Speech, options: ProsodyOptions | None = None) -> Speech:
    options = options or ProsodyOptions()
    if options.is_neutral:
        return speech
    out = speech
    if options.pitch != 0.0 or options.speed != 1.0:
        engine = PROSODY_ENGINES.instance(PROSODY_ENGINES.check(options.engine), device=options.device)
        out = engine.apply(speech=speech, pitch_semitones=options.pitch, speed=options.speed)
    if options.energy != 1.0:
        out = out.with_audio(_energy(out.samples, options.energy))
    return out


def _energy(samples: np.ndarray, factor: float) -> np.ndarray:
    """Scale the level; peaks above the ceiling are pulled back by one gain (no clipping)."""
    scaled = samples * np.float32(factor)
    peak = float(np.max(np.abs(scaled))) if scaled.size else 0.0
    return scaled * np.float32(PEAK_CEILING / peak) if peak > PEAK_CEILING else scaled
