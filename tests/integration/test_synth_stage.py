"""The synth stage with the fast OpenJTalk engine: chunking, pauses and a timeline that stays on the audio."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.stages.synth import SynthOptions, synth
from vmsg.text import MAX_CHUNK_CHARS, SENTENCE_PAUSE

pytestmark = pytest.mark.integration


def silent_run_after(speech, t: float) -> float:
    """Length of the silence (5 ms frames under -50 dBFS) that contains time t."""
    rate, hop = speech.sample_rate, speech.sample_rate // 200
    frames = np.abs(speech.samples[: len(speech.samples) // hop * hop]).reshape(-1, hop).max(axis=1) < 10 ** (-50 / 20)
    i = int(t * 200)
    a = b = i
    while a > 0 and frames[a - 1]:
        a -= 1
    while b < len(frames) and frames[b]:
        b += 1
    return (b - a) / 200


@pytest.fixture(scope="module")
def long_speech():
    text = "おはようございます。" + "、".join(["今日はとても良い天気なので公園まで散歩に行きました"] * 6) + "。また明日。"
    return synth(text, SynthOptions(engine="openjtalk"))


def test_long_text_is_chunked_and_timeline_stays_on_the_audio(long_speech) -> None:
    speech = long_speech
    assert speech.meta["chunks"] >= 4
    assert speech.timeline_source == "engine"
    assert speech.timeline[-1].end == pytest.approx(speech.duration, abs=1e-3)
    starts = np.array([p.start for p in speech.timeline])
    assert np.all(np.diff(starts) >= 0)
    ends = np.array([p.end for p in speech.timeline])
    assert np.allclose(ends[:-1], starts[1:], atol=1e-6), "no holes or overlaps between phonemes"


def test_sentences_are_separated_by_a_natural_pause(long_speech) -> None:
    speech = long_speech
    timeline = speech.timeline
    i = next(i for i, p in enumerate(timeline) if p.is_silence and any(not q.is_silence for q in timeline[:i]))
    first_end, gap_end = timeline[i].start, timeline[i].end
    while timeline[i + 1].is_silence:
        i += 1
        gap_end = timeline[i].end
    pause = gap_end - first_end
    assert SENTENCE_PAUSE - 0.02 <= pause <= SENTENCE_PAUSE + 0.05
    assert silent_run_after(speech, first_end + pause / 2) >= 0.25


def test_chunks_never_exceed_the_chunk_limit(long_speech) -> None:
    assert len(long_speech.meta["text"]) > MAX_CHUNK_CHARS
