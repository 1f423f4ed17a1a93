"""mix: the voice over background music, loudness-normalised for delivery."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from vmsg.backends.mix import MIXERS
from vmsg.errors import InputError
from vmsg.media.audio import read_audio
from vmsg.stages.options import StageOptions
from vmsg.types import Soundtrack, Speech

MIN_MUSIC_SECONDS = 1.0


class MixOptions(StageOptions):
    engine: str = "simple"
    bgm: str | None = Field(None, description="music file; None = voice only")
    music_gain_db: float = Field(-20.0, ge=-60.0, le=0.0, description="music level relative to the voice")
    fade_in: float = Field(1.0, ge=0.0, le=10.0)
    fade_out: float = Field(1.5, ge=0.0, le=10.0)
    lead_in: float = Field(0.3, ge=0.0, le=5.0, description="silence before the voice starts, seconds")
    tail: float = Field(0.6, ge=0.0, le=10.0, description="time after the voice ends, seconds")
    target_lufs: float = Field(-16.0, ge=-40.0, le=-5.0)
    true_peak_db: float = Field(-1.0, ge=-9.0, le=0.0)
    sample_rate: int = Field(48000, ge=8000, le=96000)
    channels: int = Field(2, ge=1, le=2)


def load_music(spec: str) -> tuple:
    samples, rate = read_audio(Path(spec), mono=False, what="background music")
    if len(samples) / rate < MIN_MUSIC_SECONDS:
        raise InputError(f"background music {spec}: {len(samples) / rate:.2f} s is shorter than {MIN_MUSIC_SECONDS:.0f} s")
    return samples, rate


def mix(speech: Speech, options: MixOptions | None = None) -> Soundtrack:
    options = options or MixOptions()
    music = load_music(options.bgm) if options.bgm else None
    engine = MIXERS.instance(MIXERS.check(options.engine))
    return engine.mix(voice=speech, music=music, options=options)
