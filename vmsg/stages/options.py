"""Shared pieces of the stage Options models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

DeviceName = Literal["auto", "cpu", "cuda"]


class StageOptions(BaseModel):
    """Strict: unknown keys are errors, so a typo in a recipe never passes silently."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)
