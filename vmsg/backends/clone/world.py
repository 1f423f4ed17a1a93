"""WORLD vocoder voice conversion: F0 statistics and spectral envelope moved toward
the reference speaker, frame by frame, so the timing stays exact.

Analysis (DIO + StoneMask + CheapTrick + D4C via pyworld) splits speech into pitch,
spectral envelope (vocal tract: formants, timbre) and aperiodicity. The converter
maps log-F0 mean and spread onto the reference's, warps the envelope's frequency
axis by the factor that best lines up the source's mean envelope with the
reference's (a shorter vocal tract has higher formants), then applies the smoothed
remaining difference as a long-term equaliser. The frame count is unchanged, so
every phoneme keeps its start and end.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from vmsg.device import require_cpu_only
from vmsg.errors import InputError
from vmsg.media.audio import resample

FRAME_MS = 5.0
ANALYSIS_RATE = 16000
ENVELOPE_FFT = 1024
GRID_HZ = np.linspace(0.0, ANALYSIS_RATE / 2, ENVELOPE_FFT // 2 + 1)
F0_FLOOR, F0_CEIL = 60.0, 700.0
WARP_RANGE = (0.84, 1.20)
EQ_LIMIT_DB = 9.0


def _world(samples: np.ndarray, rate: int, *, aperiodicity: bool = True):
    import pyworld

    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, t = pyworld.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
    f0 = pyworld.stonemask(x, f0, t, rate)
    fft = max(ENVELOPE_FFT * rate // ANALYSIS_RATE, pyworld.get_cheaptrick_fft_size(rate, F0_FLOOR))
    sp = pyworld.cheaptrick(x, f0, t, rate, fft_size=fft)
    ap = pyworld.d4c(x, f0, t, rate, fft_size=fft) if aperiodicity else None
    return f0, sp, ap


def _frame_energy_mask(sp: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """Voiced frames that are not near-silent (the ones that describe the voice)."""
    energy = np.log(np.maximum(sp.sum(axis=1), 1e-20))
    return (f0 > 0) & (energy > np.percentile(energy, 30))


def voice_stats(clips: list[tuple[np.ndarray, int]]) -> tuple[dict[str, float], np.ndarray]:
    """F0 statistics (Hz and log-Hz) and the mean log envelope on GRID_HZ, over all clips."""
    f0s, envs = [], []
    for samples, rate in clips:
        f0, sp, _ = _world(resample(samples, rate, ANALYSIS_RATE), ANALYSIS_RATE, aperiodicity=False)
        mask = _frame_energy_mask(sp, f0)
        f0s.append(f0[f0 > 0])
        if mask.any():
            envs.append(np.log(sp[mask]))
    voiced = np.concatenate(f0s) if f0s else np.zeros(0)
    if voiced.size < 20 or not envs:
        raise InputError("reference clips contain too little voiced speech to analyse")
    logf0 = np.log(voiced)
    stats = {"median_hz": float(np.median(voiced)), "log_mean": float(logf0.mean()), "log_std": float(logf0.std())}
    return stats, np.concatenate(envs).mean(axis=0).astype(np.float32)


def _on_grid(log_env: np.ndarray, rate: int) -> np.ndarray:
    freqs = np.linspace(0.0, rate / 2, log_env.shape[-1])
    return np.interp(GRID_HZ, freqs, log_env)


def best_warp(source_env: np.ndarray, target_env: np.ndarray) -> float:
    """Frequency-warp factor a (source f → a·f) that best aligns the two mean envelopes, 200 Hz–5 kHz."""
    band = (GRID_HZ >= 200) & (GRID_HZ <= 5000)
    tgt = target_env[band] - target_env[band].mean()
    best, best_err = 1.0, np.inf
    for a in np.arange(WARP_RANGE[0], WARP_RANGE[1] + 1e-9, 0.01):
        warped = np.interp(GRID_HZ[band] / a, GRID_HZ, source_env)
        err = float(np.mean(np.square(warped - warped.mean() - tgt)))
        if err < best_err:
            best, best_err = float(a), err
    return best


def equaliser(source_env: np.ndarray, target_env: np.ndarray, warp: float) -> np.ndarray:
    """Smoothed log-gain (on GRID_HZ) that takes the warped source's mean envelope to the target's."""
    from scipy.ndimage import gaussian_filter1d

    warped = np.interp(GRID_HZ / warp, GRID_HZ, source_env)
    diff = target_env - warped
    diff -= np.average(diff, weights=np.exp(target_env - target_env.max()))
    bins_per_hz = (len(GRID_HZ) - 1) / GRID_HZ[-1]
    diff = gaussian_filter1d(diff, sigma=150.0 * bins_per_hz, mode="nearest")
    limit = EQ_LIMIT_DB / 20.0 * np.log(10.0) * 2.0  # dB of amplitude → log power
    return np.clip(diff, -limit, limit)


class WorldConverter:
    """F0 + spectral-envelope conversion toward a voice profile (or reference clips)."""

    name: ClassVar[str] = "world"
    version = "world-1"

    def __init__(self, *, device: str = "auto", strength: float = 1.0) -> None:
        require_cpu_only(device, self.name)
        self.strength = float(strength)

    def convert(self, *, speech, references: list[tuple[np.ndarray, int]], profile=None):
        if profile is not None:
            target_f0, target_env = profile.f0, profile.envelope
        else:
            target_f0, target_env = voice_stats(references)
        out, facts = self.convert_samples(speech.samples, speech.sample_rate, target_f0, target_env)
        return speech.with_audio(out, clone_engine=self.name, **facts)

    def convert_samples(self, samples: np.ndarray, rate: int, target_f0: dict, target_env: np.ndarray):
        import pyworld

        n = len(samples)
        f0, sp, ap = _world(samples, rate)
        voiced = f0 > 0
        if voiced.sum() < 10:
            raise InputError("the speech to convert contains no voiced frames")
        logf0 = np.log(f0[voiced])
        spread = float(np.clip(target_f0["log_std"] / max(logf0.std(), 1e-3), 0.5, 2.0))
        shift = (target_f0["log_mean"] - logf0.mean()) * self.strength
        new_f0 = f0.copy()
        new_f0[voiced] = np.exp(logf0.mean() + shift + (logf0 - logf0.mean()) * (1 + (spread - 1) * self.strength))

        mask = _frame_energy_mask(sp, f0)
        src_env = _on_grid(np.log(sp[mask if mask.any() else voiced]).mean(axis=0), rate)
        warp = 1.0 + (best_warp(src_env, target_env) - 1.0) * self.strength
        eq = equaliser(src_env, target_env, warp) * self.strength
        freqs = np.linspace(0.0, rate / 2, sp.shape[1])
        eq_bins = np.interp(freqs, GRID_HZ, eq) * np.clip((10000.0 - freqs) / 2000.0, 0.0, 1.0)
        log_sp = np.log(np.maximum(sp, 1e-20))
        warped = np.stack([np.interp(freqs / warp, freqs, frame) for frame in log_sp])
        new_sp = np.exp(warped + eq_bins[None, :])

        y = pyworld.synthesize(new_f0, np.ascontiguousarray(new_sp), ap, rate, frame_period=FRAME_MS)
        y = y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))
        rms_in, rms_out = float(np.sqrt(np.mean(samples**2))), float(np.sqrt(np.mean(y**2)))
        if rms_out > 0:
            y = y * (rms_in / rms_out)
        peak = float(np.max(np.abs(y)))
        if peak > 0.99:
            y = y * (0.99 / peak)
        facts = {"clone_f0_shift_semitones": round(float(shift) * 12 / np.log(2), 2), "clone_warp": round(warp, 3)}
        return y.astype(np.float32), facts
