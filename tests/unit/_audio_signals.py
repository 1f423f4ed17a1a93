"""Generated speech-like signals with an exact timeline, for the audio tests."""

from __future__ import annotations

import numpy as np

from vmsg.types import Phoneme, Speech


def vowel(seconds: float, rate: int, f0: float = 150.0, seed: int = 0) -> np.ndarray:
    """A voiced 'a': harmonics of a gently moving F0 through two formant-like resonances."""
    from scipy.signal import lfilter

    t = np.arange(int(seconds * rate)) / rate
    freq = f0 * (1 + 0.03 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(freq) / rate
    src = sum(np.sin(k * phase) / k for k in range(1, int(rate / 2 / (f0 * 1.1))))
    y = src
    for fc, bw in ((700.0, 120.0), (1200.0, 150.0)):
        r = np.exp(-np.pi * bw / rate)
        y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / rate), r * r], y)
    env = np.minimum(1, np.minimum(t, seconds - t) / 0.02)
    y = y * env
    return (0.3 * y / np.max(np.abs(y))).astype(np.float32)


def speech_like(rate: int = 24000, words: int = 6, f0: float = 150.0, text: str = "") -> Speech:
    """sil, then `words` voiced segments separated by 'pau' silences, then sil; exact timeline."""
    rng = np.random.default_rng(1)
    parts, timeline, t = [], [], 0.0

    def put(symbol: str, x: np.ndarray) -> None:
        nonlocal t
        parts.append(x)
        timeline.append(Phoneme(symbol, t, t + len(x) / rate))
        t += len(x) / rate

    put("sil", np.zeros(int(0.3 * rate), np.float32))
    for i in range(words):
        put("a", vowel(float(rng.uniform(0.35, 0.6)), rate, f0 * (1 + 0.05 * i)))
        put("pau" if i < words - 1 else "sil", np.zeros(int((0.3 if i < words - 1 else 0.4) * rate), np.float32))
    return Speech(np.concatenate(parts), rate, tuple(timeline), "engine", {"text": text} if text else {})


def energy_in(samples: np.ndarray, rate: int, start: float, end: float) -> float:
    """RMS in dBFS of samples[start:end] (seconds)."""
    seg = samples[int(start * rate) : int(end * rate)]
    rms = float(np.sqrt(np.mean(np.square(seg, dtype=np.float64)))) if seg.size else 0.0
    return 20 * np.log10(max(rms, 1e-9))


def assert_timeline_matches(speech: Speech, *, silence_below_db: float = -45.0, voiced_above_db: float = -30.0) -> None:
    """The timeline ends where the audio ends, pau spans are quiet and spoken spans are not."""
    assert abs(speech.timeline[-1].end - speech.duration) < 0.02, (speech.timeline[-1].end, speech.duration)
    for p in speech.timeline:
        if p.duration < 0.1:
            continue
        inner = 0.03  # edges may carry the tail of a transient
        level = energy_in(speech.samples, speech.sample_rate, p.start + inner, p.end - inner)
        if p.symbol == "pau":
            assert level < silence_below_db, f"pau at {p.start:.2f}-{p.end:.2f} s has {level:.1f} dBFS"
        elif not p.is_silence:
            assert level > voiced_above_db, f"{p.symbol} at {p.start:.2f}-{p.end:.2f} s has {level:.1f} dBFS"
