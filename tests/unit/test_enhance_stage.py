"""enhance: trim and pad move the timeline with the audio; loudness and true peak land on target."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit._audio_signals import assert_timeline_matches, energy_in, speech_like
from vmsg.errors import InputError
from vmsg.media.audio import true_peak_dbtp
from vmsg.media.dynamics import loudness
from vmsg.stages.enhance import EnhanceOptions, enhance
from vmsg.types import Speech


@pytest.fixture(scope="module")
def voice():
    return speech_like(rate=24000)


def test_defaults_hit_loudness_and_true_peak_and_keep_the_timeline(voice):
    out = enhance(voice)
    rate = out.sample_rate
    assert loudness(out.samples, rate) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(out.samples, rate) <= -1.0
    assert_timeline_matches(out)
    first = next(p for p in out.timeline if not p.is_silence)
    assert first.start == pytest.approx(0.15, abs=0.011)  # pad_start, whatever the input's lead silence
    last = [p for p in out.timeline if not p.is_silence][-1]
    assert out.duration - last.end == pytest.approx(0.3, abs=0.011)


def test_trim_shifts_every_phoneme_by_the_same_amount(voice):
    padded = Speech(np.concatenate([np.zeros(24000, np.float32), voice.samples]), 24000,
                    tuple(type(p)(p.symbol, p.start + 1.0, p.end + 1.0) for p in voice.timeline), "engine")
    out = enhance(padded, EnhanceOptions(denoise=0, pad_start=0.2, target_lufs=None))
    spoken_in = [p for p in padded.timeline if not p.is_silence]
    spoken_out = [p for p in out.timeline if not p.is_silence]
    shifts = {round(b.start - a.start, 3) for a, b in zip(spoken_in, spoken_out)}
    assert len(shifts) == 1 and shifts.pop() == pytest.approx(0.2 - 1.3, abs=0.011)
    assert_timeline_matches(out)


def test_highpass_removes_rumble_and_denoise_lowers_the_floor(voice):
    rate = voice.sample_rate
    rng = np.random.default_rng(3)
    t = np.arange(len(voice.samples)) / rate
    dirty = voice.samples + 0.05 * np.sin(2 * np.pi * 30 * t).astype(np.float32) + 0.003 * rng.standard_normal(len(t)).astype(np.float32)
    out = enhance(voice.with_audio(dirty), EnhanceOptions(trim=False, target_lufs=None, presence_db=0))
    pau = next(p for p in voice.timeline if p.symbol == "pau")
    before = energy_in(dirty, rate, pau.start + 0.03, pau.end - 0.03)
    after = energy_in(out.samples, rate, pau.start + 0.03, pau.end - 0.03)
    assert after < before - 10.0
    word = voice.timeline[1]
    assert energy_in(out.samples, rate, word.start, word.end) == pytest.approx(energy_in(voice.samples, rate, word.start, word.end), abs=1.5)


def test_silent_and_nan_speech_are_refused(voice):
    with pytest.raises(InputError, match="silent"):
        enhance(voice.with_audio(np.zeros(24000, np.float32)), EnhanceOptions(denoise=0))
    bad = voice.samples.copy()
    bad[100] = np.nan
    with pytest.raises(InputError, match="NaN"):
        enhance(voice.with_audio(bad))
