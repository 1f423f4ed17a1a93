"""Measurements of cloned speech used by the quality test and the benchmark.

Intelligibility, without a Japanese speech recogniser: the converted audio is
compared by DTW (on per-utterance normalised MFCCs) with OpenJTalk renderings
of the right text and of a wrong text of similar length. Speech whose words
survived lines up with the right text at a clearly lower cost; `margin` =
wrong cost / right cost (> 1 means the right words are recognisably there).
"""

from __future__ import annotations

import functools

import numpy as np

from vmsg.media.audio import resample

RATE = 16000


def mfcc(samples: np.ndarray, rate: int) -> np.ndarray:
    """MFCC 1–19 at 10 ms, mean/variance normalised per utterance (removes speaker and channel means)."""
    import librosa

    y = resample(np.asarray(samples, np.float32), rate, RATE)
    m = librosa.feature.mfcc(y=y, sr=RATE, n_mfcc=20, n_fft=512, hop_length=160)[1:]
    return (m - m.mean(axis=1, keepdims=True)) / (m.std(axis=1, keepdims=True) + 1e-6)


def dtw_cost(a: tuple[np.ndarray, int], b: tuple[np.ndarray, int]) -> float:
    """Mean frame distance along the best DTW path between two utterances."""
    import librosa

    cost, path = librosa.sequence.dtw(X=mfcc(*a), Y=mfcc(*b), metric="euclidean")
    return float(cost[-1, -1] / len(path))


@functools.lru_cache(maxsize=32)
def _openjtalk(text: str) -> tuple[np.ndarray, int]:
    from vmsg.backends.tts import SPEECH_ENGINES

    speech = SPEECH_ENGINES.instance("openjtalk", device="cpu").synthesize(text=text, voice=None, speed=1.0)
    return speech.samples, speech.sample_rate


def intelligibility(samples: np.ndarray, rate: int, text: str, wrong_text: str) -> dict[str, float]:
    right = dtw_cost((samples, rate), _openjtalk(text))
    wrong = dtw_cost((samples, rate), _openjtalk(wrong_text))
    return {"dtw_right": round(right, 4), "dtw_wrong": round(wrong, 4), "margin": round(wrong / right, 4)}


HELD_OUT = "明日の会議は午後三時から始まります。"
WRONG = "小さな猫が窓の外を静かに見ていた。"
"""Neither sentence is in any of the reference clips."""


def clone_quality(clips: list, *, text: str = HELD_OUT, wrong_text: str = WRONG) -> list[dict]:
    """Per reference clip: a profile from it, then the held-out text in the stock voice and in
    the profile's voice; raw and normalised similarity, intelligibility of both, and timings."""
    import time
    from pathlib import Path

    from vmsg.speaker import score
    from vmsg.stages.clone import create_profile
    from vmsg.stages.synth import SynthOptions, synth

    stock = synth(text, SynthOptions(engine="kokoro", device="cpu"))
    stock_intel = intelligibility(stock.samples, stock.sample_rate, text, wrong_text)
    rows = []
    for i, clip in enumerate(clips):
        t0 = time.perf_counter()
        profile = create_profile(f"quality{i}", [clip])
        t1 = time.perf_counter()
        cloned = synth(text, SynthOptions(engine="kokoro", device="cpu", profile=f"quality{i}"))
        t2 = time.perf_counter()
        figures = score(cloned.samples, cloned.sample_rate, profile, baseline=(stock.samples, stock.sample_rate))
        rows.append({
            "clip": Path(clip).name,
            "voice": profile.facts.get("kokoro_voice"),
            "strength": profile.facts.get("strength"),
            **figures,
            "stock_intelligibility": stock_intel,
            "cloned_intelligibility": intelligibility(cloned.samples, cloned.sample_rate, text, wrong_text),
            "same_length_as_timeline": abs(cloned.timeline[-1].end - cloned.duration) < 0.05 if cloned.timeline else None,
            "profile_seconds": round(t1 - t0, 2),
            "synth_seconds": round(t2 - t1, 2),
            "speech_seconds": round(cloned.duration, 3),
        })
    return rows
