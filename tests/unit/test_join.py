"""Joining chunk audio: the pause between chunks is what was asked, counting the engines' own edge silence."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.backends.tts.join import join_speech, trim_edges
from vmsg.types import Phoneme, Speech

RATE = 1000


def piece(lead: float, voiced: float, tail: float) -> Speech:
    n0, n1, n2 = int(lead * RATE), int(voiced * RATE), int(tail * RATE)
    samples = np.concatenate([np.zeros(n0), 0.5 * np.ones(n1), np.zeros(n2)]).astype(np.float32)
    timeline = (Phoneme("sil", 0, lead), Phoneme("a", lead, lead + voiced), Phoneme("sil", lead + voiced, lead + voiced + tail))
    return Speech(samples, RATE, timeline, "engine")


def silent_gaps(speech: Speech) -> list[float]:
    loud = np.abs(speech.samples) > 0
    edges = np.flatnonzero(np.diff(loud.astype(int)))
    return [(b - a) / RATE for a, b in zip(edges[1::2], edges[2::2])]


@pytest.mark.parametrize(("tail", "lead"), [(0.05, 0.05), (0.3, 0.4), (0.0, 0.0)])
def test_pause_is_exact_whatever_the_engine_silence(tail: float, lead: float) -> None:
    joined = join_speech([piece(0.1, 1.0, tail), piece(lead, 0.5, 0.1)], [0.4])
    assert silent_gaps(joined) == [pytest.approx(0.4, abs=2 / RATE)]
    voiced = [p for p in joined.timeline if p.symbol == "a"]
    assert voiced[1].start - voiced[0].end == pytest.approx(0.4, abs=2 / RATE)
    assert joined.timeline[-1].end == pytest.approx(joined.duration, abs=1 / RATE)
    starts = [p.start for p in joined.timeline]
    assert starts == sorted(starts)


def test_timeline_marks_where_the_audio_is_loud() -> None:
    joined = join_speech([piece(0.2, 0.7, 0.3), piece(0.0, 0.4, 0.2), piece(0.5, 0.3, 0.0)], [0.4, 0.2])
    for p in joined.timeline:
        seg = joined.samples[int(round(p.start * RATE)) + 1 : int(round(p.end * RATE)) - 1]
        if seg.size:
            assert (np.abs(seg).max() > 0) == (p.symbol == "a")


def test_trim_keeps_the_rest_of_the_timeline() -> None:
    trimmed = trim_edges(piece(0.5, 1.0, 0.5), lead_max=0.1, tail_max=0.2)
    assert trimmed.duration == pytest.approx(1.3)
    assert [p.symbol for p in trimmed.timeline] == ["sil", "a", "sil"]
    assert trimmed.timeline[1].start == pytest.approx(0.1) and trimmed.timeline[-1].end == pytest.approx(1.3)
