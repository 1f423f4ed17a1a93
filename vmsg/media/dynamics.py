"""Level processing shared by prosody, enhance and mix: a look-ahead true-peak
limiter, loudness normalisation that lands within a tenth of a LU of its target
after limiting, and a voice-activity envelope for ducking.

Everything is vectorised (min/mean filters, not per-sample Python loops) so that a
minute of 48 kHz stereo takes tens of milliseconds.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.signal import sosfilt

OVERSAMPLE = 4
LIMITER_MARGIN_DB = 0.15


BLOCK = 1024
CONTEXT = 32


def _abs_peak(x: np.ndarray) -> np.ndarray:
    """|x| per sample, the largest over channels (column-wise: row-wise reductions are slow)."""
    if x.ndim == 1:
        return np.abs(x)
    out = np.abs(x[:, 0])
    for c in range(1, x.shape[1]):
        np.maximum(out, np.abs(x[:, c]), out=out)
    return out


def _envelope_peak(x: np.ndarray, oversample: bool, floor: float = 0.0) -> np.ndarray:
    """Per-sample absolute peak over channels, with inter-sample (4x oversampled)
    peaks where the sample peak of the block exceeds `floor` (−4 dB under the
    ceiling: inter-sample overs of real audio stay well below that), which keeps
    the costly oversampling to the loudest blocks only."""
    mono_abs = _abs_peak(x)
    n = len(mono_abs)
    if not oversample or n < 8:
        return mono_abs
    nb = -(-n // BLOCK)
    padded = np.pad(mono_abs, (0, nb * BLOCK - n))
    hot = padded.reshape(nb, BLOCK).max(axis=1) > floor
    if not hot.any():
        return mono_abs
    out = mono_abs.copy()
    if hot.mean() > 0.3:  # mostly loud: one pass over everything is cheaper than many pieces
        return np.maximum(out, _oversampled_peak(x, 0, n)[:n])
    edges = np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(np.int8), [0]])))
    for b0, b1 in zip(edges[::2], edges[1::2]):
        a, b = b0 * BLOCK, min(n, b1 * BLOCK)
        lo, hi = max(0, a - CONTEXT), min(n, b + CONTEXT)
        seg = _oversampled_peak(x, lo, hi)
        out[a:b] = np.maximum(out[a:b], seg[a - lo : b - lo])
    return out


@functools.cache
def _interpolator() -> np.ndarray:
    """The 4x low-pass scipy's resample_poly designs by default (Kaiser, β = 5), made once."""
    from scipy.signal import firwin

    return firwin(2 * 10 * OVERSAMPLE + 1, 1.0 / OVERSAMPLE, window=("kaiser", 5.0)).astype(np.float32)


def _oversampled_peak(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Per input sample, the largest |value| among its 4 oversampled points (x[lo:hi])."""
    from scipy.signal import resample_poly

    seg = x[lo:hi] if x.ndim == 1 else np.ascontiguousarray(x[lo:hi].T)
    up = resample_poly(seg, OVERSAMPLE, 1, axis=-1, window=_interpolator())
    up_abs = _abs_peak(up if up.ndim == 1 else up.T)
    return up_abs[: (hi - lo) * OVERSAMPLE].reshape(hi - lo, OVERSAMPLE).max(axis=1)


@functools.cache
def _k_weighting(rate: int) -> np.ndarray:
    """pyloudnorm's two K-weighting biquads for `rate`, as second-order sections."""
    import pyloudnorm
    from scipy.signal import tf2sos

    return np.vstack([tf2sos(f.b, f.a) for f in pyloudnorm.Meter(rate)._filters.values()])


def loudness(x: np.ndarray, rate: int, *, copies: int = 1) -> float:
    """BS.1770-4 integrated loudness, vectorised, with pyloudnorm's K-weighting
    filters (same figures as pyloudnorm.Meter.integrated_loudness, ~10x faster);
    −inf for silence or audio shorter than one 400 ms block. `copies`: mono `x`
    measured as that many identical channels (dual-mono stereo = 2), without building them."""
    data = x[:, None] if x.ndim == 1 else x
    step = int(round(0.1 * rate))
    if data.shape[0] < 4 * step:
        return float("-inf")
    weighted = sosfilt(_k_weighting(rate), np.ascontiguousarray(data.T, dtype=np.float32), axis=1)
    n_steps = data.shape[0] // step
    energy = np.square(weighted[:, : n_steps * step]).reshape(data.shape[1], n_steps, step).sum(axis=2, dtype=np.float64)
    z = (energy[:, :-3] + energy[:, 1:-2] + energy[:, 2:-1] + energy[:, 3:]).T / (4 * step)
    gains = np.array([1.0, 1.0, 1.0, 1.41, 1.41])[: data.shape[1]]
    block_power = z @ gains * copies
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(block_power)
    gated = levels >= -70.0
    if not gated.any():
        return float("-inf")
    relative = -0.691 + 10 * np.log10(block_power[gated].mean()) - 10.0
    final = gated & (levels > relative)
    return float(-0.691 + 10 * np.log10(block_power[final].mean())) if final.any() else float("-inf")


def limit(x: np.ndarray, rate: int, *, ceiling_db: float = -1.0, attack_ms: float = 5.0, release_ms: float = 60.0,
          true_peak: bool = True) -> np.ndarray:
    """Look-ahead brick-wall limiter: the gain reaches its floor *before* a peak
    (min-filter over the attack window, then averaging), so no sample over the
    ceiling gets through and the gain moves smoothly (no clicks, no distortion of
    the waveform beyond the gain ride). `true_peak` measures 4x-oversampled peaks.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    if x.size == 0:
        return x
    ceiling = 10 ** ((ceiling_db - LIMITER_MARGIN_DB) / 20.0)
    peak = _envelope_peak(x, true_peak, floor=ceiling * 10 ** (-4 / 20))
    if float(peak.max()) <= ceiling:
        return x if x.dtype == np.float32 else x.astype(np.float32)
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    attack = max(1, int(rate * attack_ms / 1000.0))
    release = max(attack, int(rate * release_ms / 1000.0))
    # held[k] = min of need over [k - release, k + attack]; averaging it over ±attack/2
    # keeps gain[n] <= need[n] (every window in the average contains n).
    size = attack + release + 1
    held = minimum_filter1d(need, size=size, origin=(release - attack) // 2 - (size % 2 == 0), mode="nearest")
    gain = uniform_filter1d(held, size=attack, mode="nearest")
    out = x * (gain[:, None] if x.ndim == 2 else gain).astype(np.float32)
    return out.astype(np.float32)


def normalize(x: np.ndarray, rate: int, *, target_lufs: float, true_peak_db: float, passes: int = 6) -> np.ndarray:
    return normalize_measured(x, rate, target_lufs=target_lufs, true_peak_db=true_peak_db, passes=passes)[0]


def normalize_measured(x: np.ndarray, rate: int, *, target_lufs: float, true_peak_db: float, passes: int = 6,
                       copies: int = 1) -> tuple[np.ndarray, float]:
    """Gain to `target_lufs` with the true peak limited to `true_peak_db`.

    Limiting takes some loudness away, so gain and limiter alternate until the
    integrated loudness is within 0.05 LU of the target (usually two passes).
    Silence (loudness −inf) is returned unchanged. Returns (audio, its loudness).
    `copies`: mono `x` stands for that many identical channels (see `loudness`).
    """
    out = x.astype(np.float32, copy=False)
    level = loudness(out, rate, copies=copies)
    for _ in range(passes):
        if not np.isfinite(level) or abs(level - target_lufs) < 0.05:
            break
        gained = out * np.float32(10 ** ((target_lufs - level) / 20.0))
        out = limit(gained, rate, ceiling_db=true_peak_db)
        if out is gained:  # the limiter had nothing to do: loudness moved by exactly the gain
            level = target_lufs
            break
        level = loudness(out, rate, copies=copies)
    return out, level


def frame_rms_db(x: np.ndarray, rate: int, frame_s: float = 0.01) -> tuple[np.ndarray, int]:
    """RMS level in dBFS per frame of `frame_s` seconds; returns (levels, hop in samples)."""
    mono = x if x.ndim == 1 else x.mean(axis=1)
    hop = max(1, int(rate * frame_s))
    n = len(mono) // hop
    if n == 0:
        return np.full(1, -120.0), hop
    frames = mono[: n * hop].reshape(n, hop).astype(np.float64)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-6)), hop


def energy_vad(x: np.ndarray, rate: int, *, threshold_db: float = -35.0, hangover_s: float = 0.15) -> np.ndarray:
    """Voice activity per 10 ms frame (bool): louder than `threshold_db` below the
    loud frames' level (the 95th percentile), bridged over short gaps by a hangover."""
    from scipy.ndimage import maximum_filter1d

    levels, _ = frame_rms_db(x, rate)
    reference = float(np.percentile(levels, 95)) if levels.size else -120.0
    active = levels > max(reference + threshold_db, -70.0)
    k = max(1, int(hangover_s / 0.01))
    return maximum_filter1d(active.astype(np.uint8), size=2 * k + 1).astype(bool)


def timeline_vad(timeline, n_frames: int, offset_s: float = 0.0) -> np.ndarray:
    """Voice activity per 10 ms frame from the phoneme timeline (non-silence phonemes)."""
    active = np.zeros(n_frames, dtype=bool)
    for p in timeline:
        if p.is_silence:
            continue
        a = max(0, int((p.start + offset_s) / 0.01))
        b = min(n_frames, int(np.ceil((p.end + offset_s) / 0.01)))
        active[a:b] = True
    return active


def duck_gain(active: np.ndarray, n_samples: int, rate: int, *, depth_db: float, attack_ms: float, release_ms: float,
              frame_s: float = 0.01) -> np.ndarray:
    """Per-sample linear gain for the music: −`depth_db` while the voice is active.

    The gain starts falling `attack_ms` before speech (look-ahead, so the first
    syllable is never masked) and takes `attack_ms` to reach the floor; after
    speech it holds briefly and rises over `release_ms` with a raised-cosine shape.
    """
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    if depth_db <= 0 or not active.any():
        return np.ones(n_samples, dtype=np.float32)
    a = max(1, int(attack_ms / 1000.0 / frame_s))
    r = max(1, int(release_ms / 1000.0 / frame_s))
    # Extend activity a frames earlier (look-ahead) and r/2 later (hold), then smooth:
    # a symmetric average of width a at the onset and width r at the release.
    widened = maximum_filter1d(active.astype(np.float64), size=2 * a + 1, origin=0)
    duck = np.maximum(uniform_filter1d(widened, size=a), uniform_filter1d(widened, size=r, origin=(r - 1) // 2))
    duck = np.clip(duck, 0.0, 1.0)
    duck = 0.5 - 0.5 * np.cos(np.pi * duck)
    gain = 10 ** (-depth_db * duck / 20.0)
    times = (np.arange(len(gain)) + 0.5) * frame_s * rate
    # Linear between 10 ms frames: the per-sample power of the dB curve cost more than the rest together.
    return np.interp(np.arange(n_samples, dtype=np.float32), times, gain).astype(np.float32)
