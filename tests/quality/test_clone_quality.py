"""Measured cloning quality on the five real speakers (docs/clone.md has the figures).

For each speaker: a profile from that speaker's Common Voice clip, then a sentence
that is not in the clip, spoken by the stock Kokoro voice and by the profile.
Similarity is resemblyzer's; 0 = the stock voice, 1 = two halves of the real clip.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import fixture_file

SPEAKERS = ["38833628", "38843402", "38852485", "38853932", "38864552"]
MEAN_NORMALISED_FLOOR = 0.47
"""Measured 0.54 (issue target 0.5); run-to-run noise moves the mean by about ±0.02. The previous
engine (single-frame kNN, voice chosen on one probe) reached 0.45, which this floor fails."""


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    clips = [fixture_file(f"audio/ja/common_voice_ja_{s}_16k.wav") for s in SPEAKERS]
    mp = pytest.MonkeyPatch()
    mp.setenv("VMSG_HOME", str(tmp_path_factory.mktemp("home")))
    from vmsg.backends.clone.measure import clone_quality

    rows = clone_quality(clips)
    mp.undo()
    print(json.dumps(rows, ensure_ascii=False, indent=1))
    return rows


@pytest.mark.quality
@pytest.mark.slow
def test_cloned_voice_moves_toward_every_speaker_on_average(table):
    normalised = [r["normalised"] for r in table]
    assert all(n is not None for n in normalised)
    assert np.mean(normalised) >= MEAN_NORMALISED_FLOOR, normalised
    assert min(normalised) >= -0.1, "the profile's measured choice must never make a voice clearly worse than stock"
    assert np.mean([r["similarity"] for r in table]) > np.mean([r["stock_similarity"] for r in table]) + 0.08


@pytest.mark.quality
@pytest.mark.slow
def test_cloned_speech_keeps_the_words_and_the_timing(table):
    """DTW against OpenJTalk renderings of the right and of a wrong text (measure.intelligibility).

    The measure is weak (stock Kokoro itself reaches only 1.12; some stock voices about 1.01),
    so the bar is: never closer to the wrong text (measured min 1.030), and on average still
    clearly closer to the right one (measured mean 1.051). docs/clone.md lists the per-speaker margins.
    """
    margins = [row["cloned_intelligibility"]["margin"] for row in table]
    assert min(margins) >= 1.0, margins
    assert np.mean(margins) >= 1.03, margins
    for row in table:
        assert row["cloned_intelligibility"]["dtw_right"] < row["stock_intelligibility"]["dtw_right"] * 1.3, row
        assert row["same_length_as_timeline"] is not False
