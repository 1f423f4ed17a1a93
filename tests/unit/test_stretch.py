"""Rubber Band stretching with pauses left out of the phase vocoder: the speech lands
where the moved timeline says, pauses stay quiet and seamless, noisy pauses are kept."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit._audio_signals import energy_in, speech_like
from vmsg.media.stretch import quiet_gaps, rubberband_parallel
from vmsg.stages.prosody import ProsodyOptions, prosody


@pytest.fixture(scope="module")
def voice():
    return speech_like(words=8)


def onset(samples: np.ndarray, rate: int, near: float) -> float:
    """First 5 ms frame within ±0.15 s of `near` that is louder than −30 dBFS."""
    hop = int(0.005 * rate)
    start = max(0, int((near - 0.15) * rate))
    for i in range(start, min(len(samples), int((near + 0.15) * rate)), hop):
        if energy_in(samples, rate, i / rate, (i + hop) / rate) > -30.0:
            return i / rate
    return float("nan")


def test_pauses_are_found_and_cut_inside_their_margins(voice):
    rate = voice.sample_rate
    gaps = quiet_gaps(voice.samples, rate)
    pauses = [p for p in voice.timeline if p.is_silence]
    assert len(gaps) == len(pauses)
    for (a, b), p in zip(gaps, pauses):
        assert p.start * rate <= a < b <= p.end * rate


@pytest.mark.parametrize("pitch,speed", [(3.0, 1.25), (-2.0, 0.8)])
def test_speech_lands_where_the_timeline_says(voice, pitch, speed):
    out = prosody(voice, ProsodyOptions(pitch=pitch, speed=speed))
    rate = out.sample_rate
    assert out.duration == pytest.approx(voice.duration / speed, abs=0.005)
    spoken = [p for p in out.timeline if not p.is_silence]
    assert len(spoken) == 8
    for p in spoken:
        assert abs(onset(out.samples, rate, p.start) - p.start) < 0.02, p
    for p in out.timeline:
        if p.is_silence and p.duration > 0.15:
            inner = out.samples[int((p.start + 0.05) * rate) : int((p.end - 0.05) * rate)]
            assert np.abs(inner).max() < 3e-3  # quiet, and no click where the pause was put back


def test_noisy_pauses_are_not_cut_out(voice):
    """Background noise 35 dB under the voice is not a pause to skip: Rubber Band stretches all of it."""
    rate = voice.sample_rate
    noisy = voice.samples + np.random.default_rng(0).normal(0, 0.004, voice.samples.size).astype(np.float32)
    assert quiet_gaps(noisy, rate) == []
    out, (src, dst) = rubberband_parallel(noisy, rate, tempo=1.2)
    assert len(out) / rate == pytest.approx(len(noisy) / rate / 1.2, abs=0.005)
    assert dst[-1] == pytest.approx(src[-1] / 1.2, abs=0.005)


def test_long_intonation_edit_runs_in_pieces_around_one_mean():
    """Over 16 s of speech WORLD runs in one piece per core (child processes); flattening
    the contour still brings every piece to the same F0, the mean of the whole message."""
    from vmsg.backends.prosody.world import load_pyworld

    load_pyworld()
    from vmsg.media.pitch import f0_contour

    long = speech_like(words=34)  # F0 rises word by word: each half has its own mean
    rate = long.sample_rate
    flat = prosody(long, ProsodyOptions(intonation=0.0))
    assert len(flat.samples) == len(long.samples)
    before, after = f0_contour(long.samples, rate), f0_contour(flat.samples, rate)

    def spread(f0: np.ndarray) -> float:
        low, high = np.percentile(12 * np.log2(f0[f0 > 0]), [10, 90])
        return float(high - low)

    assert spread(before) > 10.0
    assert spread(after) < 0.5
    mean = lambda f0: float(np.mean(np.log2(f0[f0 > 0])))  # noqa: E731
    assert 12 * abs(mean(after) - mean(before)) < 0.3


@pytest.mark.parametrize("python", ["/nonexistent/python", "/bin/false"])
def test_world_falls_back_to_one_process_when_a_child_cannot_run(monkeypatch, caplog, python):
    """A child that cannot start or dies at once: the edit is still made, in this process, with a warning."""
    import sys

    from vmsg.backends.prosody.world import world_edit

    long = speech_like(words=34)
    monkeypatch.setattr(sys, "executable", python)
    with caplog.at_level("WARNING", logger="vmsg.backends.prosody.world"):
        y = world_edit(long.samples, long.sample_rate, intonation=0.0)
    assert "resynthesising in this process" in caplog.text
    assert len(y) == len(long.samples) and np.isfinite(y).all()
    assert energy_in(y, long.sample_rate, long.timeline[1].start, long.timeline[1].end) > -30.0
