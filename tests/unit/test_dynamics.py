"""Loudness, true-peak limiting and the ducking envelope, measured."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from vmsg.media.audio import true_peak_dbtp
from vmsg.media.dynamics import duck_gain, energy_vad, limit, loudness, normalize


def noise(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((int(seconds * rate), channels)) * 0.1
    return (x[:, 0] if channels == 1 else x).astype(np.float32)


@pytest.mark.parametrize("rate,channels", [(48000, 2), (24000, 1), (44100, 2), (16000, 1)])
def test_loudness_matches_pyloudnorm(rate, channels):
    x = noise(6.0, rate, channels)
    x[: rate * 2] *= 0.05  # a quiet stretch so that the gates matter
    assert loudness(x, rate) == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64)), abs=0.01)


def test_loudness_of_silence_and_short_audio_is_minus_infinity():
    assert loudness(np.zeros(48000, np.float32), 48000) == float("-inf")
    assert loudness(noise(0.2, 48000), 48000) == float("-inf")


def test_limiter_holds_true_peak_and_leaves_quiet_audio_alone():
    rate = 48000
    t = np.arange(rate * 2) / rate
    # A sine at rate/4 sampled off its peaks: sample peak 0.707, true peak 1.0 (+3 dB inter-sample).
    tricky = np.sin(2 * np.pi * rate / 4 * t + np.pi / 4).astype(np.float32) * 1.2
    out = limit(tricky, rate, ceiling_db=-1.0)
    assert true_peak_dbtp(out, rate) <= -1.0
    quiet = noise(1.0, rate) * 0.5
    assert np.array_equal(limit(quiet, rate, ceiling_db=-1.0), quiet)


def test_limiter_gain_moves_smoothly():
    rate = 48000
    x = noise(2.0, rate) * 0.3
    x[rate : rate + 100] = 1.0  # a burst 10 dB over the ceiling
    out = limit(x, rate, ceiling_db=-1.0)
    gain = np.divide(out, x, out=np.ones_like(x), where=np.abs(x) > 1e-3)
    assert np.max(np.abs(np.diff(gain[np.abs(x) > 1e-3]))) < 0.2
    assert true_peak_dbtp(out, rate) <= -1.0


@pytest.mark.parametrize("target", [-16.0, -14.0, -23.0])
def test_normalize_lands_on_target_under_the_ceiling(target):
    rate = 48000
    x = noise(8.0, rate, 2)
    x[::12007] *= 8.0  # a spike every quarter second: the limiter has work to do
    out = normalize(x, rate, target_lufs=target, true_peak_db=-1.0)
    assert loudness(out, rate) == pytest.approx(target, abs=0.5)
    assert true_peak_dbtp(out, rate) <= -1.0


def test_duck_gain_attack_and_release_times():
    rate, frame = 1000, 0.01
    active = np.zeros(400, bool)
    active[100:200] = True  # speech from 1.0 s to 2.0 s
    gain_db = 20 * np.log10(duck_gain(active, 4 * rate, rate, depth_db=15, attack_ms=50, release_ms=400))
    assert gain_db[:900].min() > -0.01  # untouched until shortly before speech
    assert gain_db[1000:2000].max() < -14.9  # fully ducked through the speech (look-ahead attack)
    back = 2000 + int(np.argmax(gain_db[2000:] > -0.5))
    assert 0.3 <= (back - 2000) / rate <= 0.6  # comes back over about the release time
    assert np.max(np.abs(np.diff(gain_db))) < 1.0  # no steps (a 1 ms step of 15 dB would click)
    del frame


def test_energy_vad_finds_the_talk():
    rate = 16000
    x = np.zeros(rate * 3, np.float32)
    x[rate : 2 * rate] = noise(1.0, rate)
    active = energy_vad(x, rate)
    assert active[110:190].all() and not active[:80].any() and not active[220:].any()
