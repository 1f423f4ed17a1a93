"""render: the composited subject and the soundtrack into an H.264/AAC mp4."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from vmsg.backends.render import RENDERERS
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.store import atomic_path
from vmsg.types import Soundtrack

MAX_AUDIO_SECONDS = 600.0


class RenderOptions(StageOptions):
    engine: str = "face2d"
    fps: Literal[25, 30] = 25
    size: int = Field(720, ge=256, le=1920, description="longest side of the video in pixels")
    crf: int = Field(20, ge=0, le=51)
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = "veryfast"
    audio_bitrate: str = "192k"
    device: DeviceName = "auto"
    # face2d: what moves besides the lips; the same seed gives the same video.
    seed: int = Field(0, ge=0, description="seed for blinks and head motion")
    blinks: bool = True
    motion: float = Field(1.0, ge=0.0, le=2.0, description="head motion and breathing, 0 = still head")
    expressiveness: float = Field(1.0, ge=0.3, le=1.5, description="how wide the mouth opens")


def render(image: np.ndarray, soundtrack: Soundtrack, output: Path | str, options: RenderOptions | None = None) -> dict[str, Any]:
    """Render atomically to `output`; returns facts for the run report."""
    from vmsg.errors import InputError

    options = options or RenderOptions()
    if soundtrack.duration > MAX_AUDIO_SECONDS:
        raise InputError(f"audio is {soundtrack.duration:.0f} s long; the render limit is {MAX_AUDIO_SECONDS:.0f} s")
    engine = RENDERERS.instance(RENDERERS.check(options.engine), device=options.device)
    with atomic_path(output) as tmp:
        facts = engine.render(image=image, soundtrack=soundtrack, output=tmp, options=options)
    return {"engine": options.engine, "engine_version": engine.version, **facts}
