"""Shared pieces of the stage Options models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DeviceName = Literal["auto", "cpu", "cuda"]


class StageOptions(BaseModel):
    """Strict: unknown keys are errors, so a typo in a recipe never passes silently."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BreakerOptions(StageOptions):
    """The circuit breaker of a stage's engines (see vmsg/fallback.py)."""

    threshold: int = Field(3, ge=1, le=1000, description="consecutive failures that open an engine's circuit")
    cooldown_s: float = Field(300.0, ge=0, le=86400, description="seconds an open circuit skips the engine")


def primary_from_fallback(data: Any) -> Any:
    """`fallback: [did, face2d, still]` without `engine`: the list is the whole chain, its first is the engine."""
    if isinstance(data, dict) and data.get("engine") is None and data.get("fallback"):
        first = data["fallback"][0] if isinstance(data["fallback"], list) else None
        if isinstance(first, str):
            data = {**data, "engine": first}
    return data
