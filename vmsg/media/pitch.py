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


def median_f0(samples: np.ndarray, rate: int) -> float:
    """Median F0 of voiced frames in Hz; 0.0 when nothing is voiced."""
    f0 = f0_contour(samples, rate)
    voiced = f0[f0 > 0]
    return float(np.median(voiced)) if voiced.size >= 10 else 0.0
