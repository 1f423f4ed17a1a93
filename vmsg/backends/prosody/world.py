"""Intonation (and pitch) edits with the WORLD vocoder: F0 is edited, the
spectral envelope and aperiodicity are kept, so formants and voice quality stay.

WORLD analysis is slow (about 0.3 s per second of 24 kHz audio here), which is
why the prosody stage only calls it when the intonation scale is not 1.
"""

from __future__ import annotations

import importlib.metadata
import sys
import types

import numpy as np

FRAME_PERIOD_MS = 5.0


def load_pyworld():
    """Import pyworld. pyworld 0.3.5 reads its version through `pkg_resources`,
    which setuptools ≥ 81 no longer ships: a tiny stand-in answers that one call."""
    try:
        import pyworld
    except ModuleNotFoundError as exc:
        if exc.name != "pkg_resources":
            raise
        shim = types.ModuleType("pkg_resources")
        shim.get_distribution = lambda name: types.SimpleNamespace(version=importlib.metadata.version(name))  # type: ignore[attr-defined]
        sys.modules.setdefault("pkg_resources", shim)
        import pyworld
    return pyworld


def edit_f0(f0: np.ndarray, *, semitones: float, intonation: float) -> np.ndarray:
    """Scale the log-F0 contour around its voiced mean by `intonation`, then shift by `semitones`."""
    out = f0.copy()
    voiced = f0 > 0
    if not voiced.any():
        return out
    log_f0 = np.log(f0[voiced])
    mean = float(log_f0.mean())
    out[voiced] = np.exp(mean + intonation * (log_f0 - mean) + semitones * np.log(2.0) / 12.0)
    return np.clip(out, 0.0, 1100.0)


def world_edit(samples: np.ndarray, rate: int, *, semitones: float = 0.0, intonation: float = 1.0) -> np.ndarray:
    """Resynthesise `samples` with an edited F0 and the same envelope; same length."""
    pw = load_pyworld()
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = pw.dio(x, rate, f0_floor=60.0, f0_ceil=700.0, frame_period=FRAME_PERIOD_MS)
    f0 = pw.stonemask(x, f0, times, rate)
    envelope = pw.cheaptrick(x, f0, times, rate)
    aperiodicity = pw.d4c(x, f0, times, rate)
    y = pw.synthesize(edit_f0(f0, semitones=semitones, intonation=intonation), envelope, aperiodicity, rate, FRAME_PERIOD_MS)
    y = np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]
    return y.astype(np.float32)
