"""Fundamental-frequency measurement (WORLD's DIO + StoneMask via pyworld)."""

from __future__ import annotations

import numpy as np

FRAME_PERIOD_MS = 5.0


def load_pyworld():
    """pyworld, imported without its pkg_resources deprecation warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld
    return pyworld


def f0_contour(samples: np.ndarray, rate: int) -> np.ndarray:
    """F0 in Hz every 5 ms; 0 where unvoiced."""
    pyworld = load_pyworld()

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = pyworld.dio(x, rate, f0_floor=60.0, f0_ceil=700.0, frame_period=FRAME_PERIOD_MS)
    return pyworld.stonemask(x, f0, times, rate)


ENERGY_GATE_DB = 25.0
"""Voiced frames quieter than this under the loud frames are ignored: DIO marks
breath and processing residue as voiced, and those frames sit an octave low."""


def frame_energy_db(samples: np.ndarray, rate: int, n_frames: int) -> np.ndarray:
    """RMS level in dB of a 20 ms window centred on each 5 ms analysis frame."""
    hop = rate * FRAME_PERIOD_MS / 1000.0
    half = int(0.01 * rate)
    padded = np.pad(samples.astype(np.float64), half)
    csum = np.concatenate([[0.0], np.cumsum(padded**2)])
    centres = (np.arange(n_frames) * hop).astype(int) + half
    lo, hi = np.clip(centres - half, 0, len(padded)), np.clip(centres + half, 0, len(padded))
    power = (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)
    return 10.0 * np.log10(power + 1e-12)


def median_f0(samples: np.ndarray, rate: int) -> float:
    """Median F0 in Hz of the voiced frames that carry real energy; 0.0 when nothing is voiced."""
    f0 = f0_contour(samples, rate)
    energy = frame_energy_db(samples, rate, len(f0))
    loud = energy > np.percentile(energy, 95) - ENERGY_GATE_DB
    voiced = f0[(f0 > 0) & loud]
    return float(np.median(voiced)) if voiced.size >= 10 else 0.0
