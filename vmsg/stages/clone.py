"""clone: the same words and timing in the voice of 1–5 reference clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import Field

from vmsg.backends.clone import VOICE_CONVERTERS
from vmsg.errors import InputError
from vmsg.media.audio import read_audio, rms_dbfs
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.types import Speech

MIN_REFERENCE_SECONDS = 3.0
MAX_REFERENCES = 5
SILENCE_DBFS = -50.0


class CloneOptions(StageOptions):
    engine: str = "pitchmatch"
    references: list[str] = Field(default_factory=list, description="1–5 clips of the target voice")
    device: DeviceName = "auto"


def load_references(paths: list[str | Path]) -> list[tuple[np.ndarray, int]]:
    """Read and check reference clips: 1–5, each at least 3 s and not silent."""
    if not paths:
        raise InputError("clone needs at least one reference clip")
    if len(paths) > MAX_REFERENCES:
        raise InputError(f"clone takes at most {MAX_REFERENCES} reference clips, got {len(paths)}")
    clips = []
    for path in paths:
        samples, rate = read_audio(path, what="reference clip")
        if len(samples) / rate < MIN_REFERENCE_SECONDS:
            raise InputError(f"reference clip {path}: {len(samples) / rate:.1f} s is too short (at least {MIN_REFERENCE_SECONDS:.0f} s)")
        if rms_dbfs(samples) < SILENCE_DBFS:
            raise InputError(f"reference clip {path}: silent (level {rms_dbfs(samples):.0f} dBFS)")
        clips.append((samples, rate))
    return clips


def clone(speech: Speech, options: CloneOptions) -> Speech:
    references = load_references(options.references)
    engine = VOICE_CONVERTERS.instance(VOICE_CONVERTERS.check(options.engine), device=options.device)
    return engine.convert(speech=speech, references=references)
