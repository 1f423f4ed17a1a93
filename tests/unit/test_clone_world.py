"""WORLD kNN conversion on generated voices: exact length, F0 and timbre moved toward the target."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.backends.clone.world import GRID_HZ, WorldConverter, cepstra, voice_stats
from vmsg.media.pitch import median_f0
from vmsg.types import Phoneme, Speech

RATE = 16000


def _vowel_voice(f0_hz: float, formant_scale: float, seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """A voice made with WORLD itself: a slow F0 contour and vowel envelopes whose formants scale."""
    import pyworld

    frames = int(seconds * 200)
    t = np.arange(frames) / 200
    f0 = f0_hz * (1 + 0.08 * np.sin(2 * np.pi * 1.3 * t))
    freqs = np.linspace(0, RATE / 2, 513)
    vowels = [(700, 1200, 2600), (300, 2300, 3000), (500, 900, 2400)]
    sp = np.empty((frames, 513))
    for i in range(frames):
        f1, f2, f3 = vowels[(i // 60 + seed) % 3]
        env = 0.3 / (1 + freqs / 400) + sum(np.exp(-0.5 * ((freqs - f * formant_scale) / (180 * formant_scale)) ** 2) * g for f, g in ((f1, 1.0), (f2, 0.5), (f3, 0.25)))
        sp[i] = (1e-4 + env) ** 2 * 1e-3
    ap = np.full((frames, 513), 0.05)
    ap[:, freqs > 4000] = 0.6
    return pyworld.synthesize(f0, sp, ap, RATE, frame_period=5.0).astype(np.float32)


@pytest.fixture(scope="module")
def voices():
    return _vowel_voice(120.0, 1.0, seed=1), _vowel_voice(230.0, 1.18, seed=2)


def test_conversion_keeps_length_and_timeline_and_moves_f0(voices):
    source, target = voices
    timeline = (Phoneme("a", 0.0, 1.0), Phoneme("i", 1.0, 2.5))
    speech = Speech(source, RATE, timeline, "engine")
    out = WorldConverter(device="cpu").convert(speech=speech, references=[(target, RATE)])
    assert len(out.samples) == len(source) and out.timeline == timeline
    got, want = median_f0(out.samples, RATE), median_f0(target, RATE)
    assert abs(np.log2(got / want)) < 0.05, (got, want)
    assert out.meta["clone_f0_shift_semitones"] == pytest.approx(12 * np.log2(230 / 120), abs=0.5)


def test_conversion_moves_the_envelope_toward_the_target(voices):
    source, target = voices
    f0, frames = voice_stats([(target, RATE)])
    converted, _ = WorldConverter(device="cpu").convert_samples(source, RATE, f0, frames)

    def mean_env(x):
        _, tf = voice_stats([(x, RATE)])
        return tf.astype(np.float32).mean(axis=0)

    band = (GRID_HZ > 200) & (GRID_HZ < 4000)
    tgt = mean_env(target)[band]
    before = np.mean((mean_env(source)[band] - tgt) ** 2)
    after = np.mean((mean_env(converted)[band] - tgt) ** 2)
    assert after < 0.5 * before, (before, after)


def test_strength_zero_leaves_pitch_alone(voices):
    source, target = voices
    f0, frames = voice_stats([(target, RATE)])
    out, facts = WorldConverter(device="cpu", strength=0.0).convert_samples(source, RATE, f0, frames)
    assert facts["clone_f0_shift_semitones"] == 0.0
    assert abs(np.log2(median_f0(out, RATE) / median_f0(source, RATE))) < 0.03


def test_cepstra_are_normalised_per_utterance():
    rng = np.random.default_rng(0)
    env = rng.normal(size=(300, 513))
    c = cepstra(env)
    np.testing.assert_allclose(c.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(cepstra(env + 3.0), c, atol=1e-6), "a constant level change is removed"


def test_silence_is_refused():
    with pytest.raises(Exception, match="no voiced frames|too little voiced"):
        WorldConverter(device="cpu").convert(speech=Speech(np.zeros(RATE, np.float32), RATE), references=[(np.zeros(RATE * 3, np.float32), RATE)])


def test_cuda_is_refused_clearly():
    from vmsg.errors import BackendError

    with pytest.raises(BackendError, match="CPU only"):
        WorldConverter(device="cuda")
