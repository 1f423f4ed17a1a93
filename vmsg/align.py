"""Phoneme timelines for audio that came without one, by dynamic time warping.

A reference rendering of the same words whose timeline is exact (OpenJTalk, see
backends/tts/openjtalk.py) is compared frame by frame with the target audio on
speaker-normalised MFCCs; the DTW path maps every reference phoneme boundary to
a time in the target. Measured on engines that do give durations (tests/integration/
test_alignment.py): on an OpenJTalk rendering re-synthesised with a random
per-phoneme time warp, +4 semitones and shifted formants, boundaries land 6.4 ms
from the truth on average (linear scaling: 41 ms); see docs/synth.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vmsg.types import Phoneme

FEATURE_RATE = 16000
HOP = 80
"""5 ms frames: fine enough that frame quantisation stays far under the 20 ms target."""


def features(samples: np.ndarray, rate: int) -> np.ndarray:
    """MFCC 1–12 and their deltas, mean/variance normalised per utterance; shape (frames, 24).

    Low-order cepstra follow the vocal tract and ignore pitch, and the normalisation cancels most speaker and
    channel differences (on the alignment test they beat 20 MFCCs by 5x and log-mel on speaker robustness)."""
    import librosa
    from scipy.signal import resample_poly

    y = np.asarray(samples, np.float64)
    if rate != FEATURE_RATE:
        g = np.gcd(int(rate), FEATURE_RATE)
        y = resample_poly(y, FEATURE_RATE // g, int(rate) // g)
    mfcc = librosa.feature.mfcc(y=y.astype(np.float32), sr=FEATURE_RATE, n_mfcc=13, n_fft=512, win_length=400,
                                hop_length=HOP, n_mels=40, fmin=60, fmax=7600)[1:]
    feats = np.vstack([mfcc, librosa.feature.delta(mfcc, width=9)])
    feats = (feats - feats.mean(axis=1, keepdims=True)) / (feats.std(axis=1, keepdims=True) + 1e-6)
    return feats.T.astype(np.float64)


def warp_path(ref: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Monotone DTW path (pairs of reference frame, target frame) from start to end (librosa's DTW)."""
    import librosa
    from scipy.spatial.distance import cdist

    cost = cdist(ref, target, metric="euclidean")
    _, path = librosa.sequence.dtw(C=cost)
    return path[::-1]


def map_times(path: np.ndarray, times: np.ndarray, *, ref_frames: int, target_frames: int) -> np.ndarray:
    """Reference times (s) → target times (s) along the path: each reference frame goes to the mean of the
    target frames matched with it, interpolated between frames, kept monotone."""
    frame_s = HOP / FEATURE_RATE
    sums = np.bincount(path[:, 0], weights=path[:, 1], minlength=ref_frames)
    counts = np.bincount(path[:, 0], minlength=ref_frames)
    known = counts > 0
    centres = np.interp(np.arange(ref_frames), np.flatnonzero(known), sums[known] / counts[known])
    mapped = np.interp(np.asarray(times) / frame_s, np.arange(ref_frames), centres, left=0.0) * frame_s
    mapped = np.maximum.accumulate(np.clip(mapped, 0.0, target_frames * frame_s))
    return mapped


def align_timeline(reference: tuple[np.ndarray, int], timeline: Sequence[Phoneme],
                   target: tuple[np.ndarray, int]) -> tuple[Phoneme, ...]:
    """The reference's timeline moved onto the target audio; the last phoneme ends where the target ends."""
    if not timeline:
        return ()
    ref_f = features(*reference)
    tgt_f = features(*target)
    path = warp_path(ref_f, tgt_f)
    bounds = np.array([p.start for p in timeline] + [timeline[-1].end])
    mapped = map_times(path, bounds, ref_frames=len(ref_f), target_frames=len(tgt_f))
    target_duration = len(target[0]) / float(target[1])
    mapped[0], mapped[-1] = 0.0 if timeline[0].start <= 0 else mapped[0], target_duration
    mapped = np.minimum(mapped, target_duration)
    return tuple(Phoneme(p.symbol, float(a), float(b)) for p, a, b in zip(timeline, mapped[:-1], mapped[1:]))


def boundary_error(estimate: Sequence[Phoneme], truth: Sequence[Phoneme]) -> float:
    """Mean absolute difference of the inner phoneme boundaries, in seconds (same symbol sequence required)."""
    if [p.symbol for p in estimate] != [p.symbol for p in truth]:
        raise ValueError("timelines have different phoneme sequences")
    a = np.array([p.start for p in estimate[1:]])
    b = np.array([p.start for p in truth[1:]])
    return float(np.mean(np.abs(a - b))) if a.size else 0.0
