"""OpenJTalk (pyopenjtalk-plus): dictionary and HTS voice ship in the wheel.

The timeline is exact: the HTS duration model is run alone on the same labels
and speed (vmsg.backends.tts.hts_durations), giving each label's frame count in
the full rendering for a few percent of the synthesis cost. Where that C API is
not reachable, each label is synthesised alone instead (the duration model
predicts a label's length from that label only, so this agrees at speed 1 and
within a frame otherwise), at the cost of a second synthesis.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import numpy as np

from vmsg.device import require_cpu_only
from vmsg.errors import BackendError, InputError
from vmsg.types import Phoneme, Speech

log = logging.getLogger(__name__)

VOICES = ("mei_normal",)
RATE = 48000


def phoneme_of(label: str) -> str:
    """The current phoneme of a full-context label ('a^b-c+d=e/...' → 'c')."""
    return label.split("-", 1)[1].split("+", 1)[0]


class OpenJTalkEngine:
    name: ClassVar[str] = "openjtalk"
    static_voices: ClassVar[tuple[str, ...]] = VOICES

    def __init__(self, *, device: str = "auto") -> None:
        require_cpu_only(device, self.name)
        import pyopenjtalk

        self._jt = pyopenjtalk
        self.version = f"pyopenjtalk-plus-{pyopenjtalk.__version__}"

    def voices(self) -> list[str]:
        return list(VOICES)

    def synthesize(self, *, text: str, voice: str | None, speed: float, half_tone: float = 0.0) -> Speech:
        if voice not in (None, *VOICES):
            raise InputError(f"unknown openjtalk voice {voice!r}; valid voices: {', '.join(VOICES)}")
        labels = self._labels(text)
        audio, rate = self._jt.synthesize(labels, speed=speed, half_tone=half_tone)
        timeline = self._timeline(labels, speed=speed, half_tone=half_tone)
        samples = (np.asarray(audio, dtype=np.float64) / 32768.0).astype(np.float32)
        return Speech(samples, int(rate), timeline, "engine", {"engine": self.name, "voice": VOICES[0]})

    def phoneme_timeline(self, text: str, *, speed: float = 1.0) -> tuple[Phoneme, ...]:
        """Only the timeline (no full rendering): the reference Kokoro is aligned to."""
        return self._timeline(self._labels(text), speed=speed, half_tone=0.0)

    def _labels(self, text: str) -> list[str]:
        labels = self._jt.extract_fullcontext(text)
        if len(labels) <= 2:
            raise InputError(f"text {text[:40]!r}: nothing pronounceable")
        return labels

    def _timeline(self, labels: list[str], *, speed: float, half_tone: float) -> tuple[Phoneme, ...]:
        from vmsg.backends.tts.hts_durations import load_duration_model

        model = load_duration_model()
        counts = None
        if model is not None and model.sample_rate == RATE:
            try:
                counts = model.sample_counts(labels, speed)
            except BackendError as exc:
                log.warning("%s; timing each label alone", exc.message)
        if counts is None:
            counts = self.label_sample_counts(labels, speed=speed, half_tone=half_tone)
        edges = np.concatenate([[0], np.cumsum(counts)]) / RATE
        return tuple(Phoneme(phoneme_of(label), float(a), float(b))
                     for label, a, b in zip(labels, edges[:-1], edges[1:]))

    def label_sample_counts(self, labels: list[str], *, speed: float, half_tone: float = 0.0) -> list[int]:
        """Each label synthesised alone: the slow way to its length, used when the duration model is unreachable."""
        return [len(self._jt.synthesize([label], speed=speed, half_tone=half_tone)[0]) for label in labels]
