"""The small interfaces every engine of a stage implements (keyword-only methods)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from vmsg.types import PersonBox, Soundtrack, Speech


@runtime_checkable
class Segmenter(Protocol):
    name: ClassVar[str]
    version: str

    def matte(self, *, image: np.ndarray) -> np.ndarray:
        """Alpha matte float32 HxW in [0, 1] for an RGB uint8 image."""


@runtime_checkable
class Detector(Protocol):
    name: ClassVar[str]
    version: str

    def detect(self, *, image: np.ndarray) -> list[PersonBox]:
        """People (box, score, face box when known) in an RGB uint8 image, any order."""


@runtime_checkable
class SpeechEngine(Protocol):
    name: ClassVar[str]
    version: str

    def voices(self) -> list[str]: ...

    def synthesize(self, *, text: str, voice: str | None, speed: float) -> Speech:
        """Audio plus its phoneme timeline for one chunk of normalised text."""


@runtime_checkable
class VoiceConverter(Protocol):
    name: ClassVar[str]
    version: str

    def convert(self, *, speech: Speech, references: list[tuple[np.ndarray, int]], profile: Any = None) -> Speech:
        """The same words and timing in the voice of the reference clips, or of a saved
        vmsg.profiles.VoiceProfile (then `references` is empty)."""


@runtime_checkable
class ProsodyEngine(Protocol):
    name: ClassVar[str]
    version: str

    def apply(self, *, speech: Speech, pitch_semitones: float, speed: float) -> Speech:
        """Pitch shift (formants kept) and tempo change (pitch kept); the timeline is rescaled."""


@runtime_checkable
class Mixer(Protocol):
    name: ClassVar[str]
    version: str

    def mix(self, *, voice: Speech, music: tuple[np.ndarray, int] | None, options: Any) -> Soundtrack: ...


@runtime_checkable
class Renderer(Protocol):
    name: ClassVar[str]
    version: str

    def render(self, *, image: np.ndarray, soundtrack: Soundtrack, output: Path, options: Any) -> dict[str, Any]:
        """Write the video to `output` (a temporary path the caller renames) and return facts for the report."""
