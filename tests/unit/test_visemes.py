"""Mouth shapes from timelines and from audio, blink and sway schedules, and the scorer's maths."""

from __future__ import annotations

import numpy as np

from vmsg.face.motion import blink_curve, sway_curves
from vmsg.face.visemes import audio_shapes, frame_rms, mouth_track, timeline_shapes
from vmsg.lipsync import best_lag_correlation, silent_runs
from vmsg.types import Phoneme, Soundtrack

FPS = 25


def _timeline(spec: list[tuple[str, float]]) -> tuple[Phoneme, ...]:
    out, t = [], 0.0
    for symbol, dur in spec:
        out.append(Phoneme(symbol, t, t + dur))
        t += dur
    return tuple(out)


def _times(duration: float) -> np.ndarray:
    return (np.arange(int(round(duration * FPS))) + 0.5) / FPS


def test_lips_closed_in_silences_and_open_on_vowels() -> None:
    tl = _timeline([("sil", 0.5), ("k", 0.08), ("a", 0.2), ("pau", 0.6), ("a", 0.2), ("sil", 0.5)])
    times = _times(tl[-1].end)
    opening, _ = timeline_shapes(tl, times)
    for ph in tl:
        inside = (times > ph.start + 0.04) & (times < ph.end - 0.04)
        if ph.symbol in ("sil", "pau"):
            assert np.all(opening[inside] == 0.0), ph
        elif ph.symbol == "a":
            assert opening[inside].max() > 0.8, ph


def test_bilabials_close_the_lips_between_vowels() -> None:
    tl = _timeline([("sil", 0.3), ("a", 0.15), ("m", 0.12), ("a", 0.15), ("p", 0.12), ("a", 0.15), ("sil", 0.3)])
    times = np.linspace(0.0, tl[-1].end, 2000)
    opening, _ = timeline_shapes(tl, times)
    for ph in tl:
        if ph.symbol in ("m", "p"):
            mid = (times > ph.start + 0.04) & (times < ph.end - 0.04)
            assert opening[mid].max() < 0.05, ph.symbol
    assert opening.max() > 0.9


def test_vowel_shapes_differ_in_opening_and_spread() -> None:
    shapes = {}
    for vowel in "aiueo":
        tl = _timeline([("sil", 0.3), (vowel, 0.3), ("sil", 0.3)])
        opening, spread = timeline_shapes(tl, np.array([0.45]))
        shapes[vowel] = (float(opening[0]), float(spread[0]))
    assert shapes["a"][0] > shapes["o"][0] > shapes["e"][0] > shapes["i"][0]
    assert shapes["i"][1] > 0.5 and shapes["e"][1] > 0.2
    assert shapes["u"][1] < -0.5 and shapes["o"][1] < -0.3


def test_moraic_n_before_m_closes_and_devoiced_vowels_barely_open() -> None:
    tl = _timeline([("sil", 0.3), ("a", 0.15), ("N", 0.12), ("m", 0.1), ("a", 0.15), ("s", 0.1), ("U", 0.1), ("sil", 0.3)])
    opening, _ = timeline_shapes(tl, np.array([tl[2].start + 0.06, tl[6].start + 0.05]))
    assert opening[0] < 0.05
    assert opening[1] < 0.2


def _bursts(rate: int = 16000) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Noise bursts (speech-like level) separated by digital silence."""
    rng = np.random.default_rng(3)
    spans = [(0.5, 1.3), (2.0, 2.6), (3.4, 4.2)]
    audio = np.zeros(int(5.0 * rate), np.float32)
    for a, b in spans:
        n = int((b - a) * rate)
        env = np.sin(np.linspace(0, np.pi, n)) ** 0.3
        audio[int(a * rate) : int(a * rate) + n] = 0.3 * env * rng.standard_normal(n)
    return audio, spans


def test_audio_driven_mouth_follows_the_level_and_shuts_in_silence() -> None:
    audio, spans = _bursts()
    n = 5 * FPS
    opening, spread = audio_shapes(audio, 16000, FPS, n)
    times = _times(5.0)
    speaking = np.zeros(n, bool)
    for a, b in spans:
        speaking |= (times > a + 0.1) & (times < b - 0.1)
    gaps = ~np.zeros(n, bool)
    for a, b in spans:
        gaps &= ~((times > a - 0.1) & (times < b + 0.1))
    assert np.all(opening[gaps] == 0.0)
    assert opening[speaking].mean() > 0.5
    assert np.all(spread == 0.0)


def test_mouth_track_picks_its_driver_from_the_timeline_source() -> None:
    audio, _ = _bursts()
    tl = _timeline([("sil", 0.5), ("a", 0.8), ("pau", 0.7), ("i", 0.6), ("pau", 0.8), ("o", 0.8), ("sil", 0.8)])
    n = 5 * FPS
    assert mouth_track(Soundtrack(audio, 16000), FPS, n)[2] == "audio"
    assert mouth_track(Soundtrack(audio, 16000, tl, "engine"), FPS, n)[2] == "timeline"
    opening, spread, driver = mouth_track(Soundtrack(audio, 16000, tl, "scaled"), FPS, n)
    assert driver == "audio+timeline shapes"
    assert spread[int(2.3 * FPS)] > 0.3  # the 'i' keeps its spread though the opening follows the audio


def test_frame_rms_matches_a_direct_computation() -> None:
    audio = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    rms = frame_rms(audio, 16000, 25, 25)
    direct = np.sqrt((audio[640:1280].astype(np.float64) ** 2).mean())
    assert abs(rms[1] - direct) < 1e-6


def test_blinks_and_sway_are_deterministic_for_a_seed_and_plausible() -> None:
    a = blink_curve(30 * FPS, FPS, np.random.default_rng(7))
    b = blink_curve(30 * FPS, FPS, np.random.default_rng(7))
    c = blink_curve(30 * FPS, FPS, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    starts = np.flatnonzero((a[1:] > 0.5) & (a[:-1] <= 0.5))
    assert 5 <= len(starts) <= 15  # one blink every 2-6 s
    assert np.all(np.diff(starts) / FPS >= 2.0)
    sway = sway_curves(30 * FPS, FPS, np.random.default_rng(7), 1.0)
    assert np.abs(sway[:, 0]).max() < 2.0  # degrees
    assert np.abs(np.diff(sway[:, 0])).max() < 0.1  # smooth from frame to frame
    assert np.all(sway_curves(100, FPS, np.random.default_rng(7), 0.0) == 0.0)


def test_best_lag_correlation_finds_a_known_shift() -> None:
    rng = np.random.default_rng(1)
    base = np.convolve(rng.standard_normal(300), np.ones(4) / 4, mode="same")
    shifted = np.roll(base, 3)
    r, lag = best_lag_correlation(shifted, base)
    assert lag == 3 and r > 0.95
    r0, _ = best_lag_correlation(rng.standard_normal(300), base)
    assert r0 < 0.3


def test_silent_runs_only_counts_silences_longer_than_300_ms() -> None:
    env = np.ones(100)
    env[10:16] = 1e-4  # 240 ms: too short
    env[40:60] = 1e-4  # 800 ms
    assert silent_runs(env, 25.0) == [(40, 60)]


def test_numpy_pchip_matches_scipy() -> None:
    from scipy.interpolate import PchipInterpolator

    from vmsg.face.visemes import _pchip

    rng = np.random.default_rng(5)
    for n in (2, 3, 7, 40):
        x = np.cumsum(rng.uniform(0.01, 0.3, n))
        y = rng.choice([0.0, 0.2, 0.6, 1.0], n)
        at = np.linspace(x[0], x[-1], 500)
        assert np.allclose(_pchip(x, y, at), PchipInterpolator(x, y)(at), atol=1e-9)
