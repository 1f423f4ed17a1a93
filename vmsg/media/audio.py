"""Audio reading, writing, resampling and measuring.

Internally audio is float32 in [-1, 1], shape (n,) for mono or (n, channels).
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np

from vmsg.errors import InputError
from vmsg.media.ffmpeg import ffmpeg_binary
from vmsg.store import atomic_path

AUDIO_WRITE_FORMATS = (".wav", ".flac", ".mp3", ".m4a", ".ogg")


def read_audio(path: Path | str, *, mono: bool = True, what: str = "audio") -> tuple[np.ndarray, int]:
    """Read any audio file soundfile or ffmpeg can decode. Rejects empty, NaN/inf audio."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} {path}: file not found")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception:  # noqa: BLE001 - soundfile cannot read mp3/m4a everywhere: try ffmpeg
        data, rate = _decode_with_ffmpeg(path, what=what)
    if data.shape[0] == 0:
        raise InputError(f"{what} {path}: contains no samples")
    if not np.isfinite(data).all():
        raise InputError(f"{what} {path}: contains NaN or infinite samples")
    if mono:
        data = data.mean(axis=1)
    return np.ascontiguousarray(data, dtype=np.float32), int(rate)


def _decode_with_ffmpeg(path: Path, *, what: str) -> tuple[np.ndarray, int]:
    rate = 48000
    proc = subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-nostdin", "-i", str(path), "-f", "f32le", "-ac", "2", "-ar", str(rate), "-"],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no audio stream"]
        raise InputError(f"{what} {path}: not a readable audio file ({detail[0][:160]})")
    return np.frombuffer(proc.stdout, dtype=np.float32).reshape(-1, 2).copy(), rate


def write_audio(path: Path | str, samples: np.ndarray, rate: int) -> Path:
    """Write audio atomically; the format follows the suffix (wav/flac/ogg natively, mp3/m4a via ffmpeg)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in AUDIO_WRITE_FORMATS:
        raise InputError(f"output {path}: unsupported audio format {suffix or '(none)'}; use one of {', '.join(AUDIO_WRITE_FORMATS)}")
    samples = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    with atomic_path(path) as tmp:
        if suffix in (".wav", ".flac", ".ogg"):
            import soundfile as sf

            subtype = "PCM_16" if suffix != ".ogg" else "VORBIS"
            channels = 1 if samples.ndim == 1 else samples.shape[1]
            # Block by block: libsndfile 1.2's Vorbis encoder crashes (SIGSEGV) on one large write.
            with sf.SoundFile(str(tmp), "w", rate, channels, subtype=subtype) as f:
                for start in range(0, len(samples), rate):
                    f.write(samples[start : start + rate])
        else:
            _encode_with_ffmpeg(tmp, samples, rate, suffix)
    return path


def _encode_with_ffmpeg(out: Path, samples: np.ndarray, rate: int, suffix: str) -> None:
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    codec = ["-c:a", "libmp3lame", "-q:a", "2"] if suffix == ".mp3" else ["-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart"]
    proc = subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-nostdin", "-y", "-f", "f32le", "-ac", str(channels), "-ar", str(rate),
         "-i", "-", *codec, str(out)],
        input=samples.astype(np.float32).tobytes(),
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        from vmsg.errors import BackendError

        raise BackendError(f"ffmpeg failed encoding {out.name}: {proc.stderr.decode(errors='replace')[-300:]}")


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy), exact for any pair of integer rates."""
    if src_rate == dst_rate:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    ratio = Fraction(dst_rate, src_rate)
    return resample_poly(samples, ratio.numerator, ratio.denominator, axis=0).astype(np.float32)


def to_channels(samples: np.ndarray, channels: int) -> np.ndarray:
    """Mix down to mono or duplicate up to stereo."""
    if channels == 1:
        return samples if samples.ndim == 1 else samples.mean(axis=1).astype(np.float32)
    mono = samples if samples.ndim == 1 else samples.mean(axis=1)
    if samples.ndim == 2 and samples.shape[1] == channels:
        return samples
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


def rms_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level in dBFS (−inf for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def integrated_lufs(samples: np.ndarray, rate: int) -> float:
    """ITU-R BS.1770-4 integrated loudness (pyloudnorm); −inf for audio under 0.4 s or silent."""
    import pyloudnorm

    if samples.shape[0] < int(0.4 * rate) + 1:
        return float("-inf")
    return float(pyloudnorm.Meter(rate).integrated_loudness(samples.astype(np.float64)))


def true_peak_dbtp(samples: np.ndarray, rate: int) -> float:
    """True peak in dBTP, estimated with 4x oversampling as BS.1770 describes."""
    from scipy.signal import resample_poly

    oversampled = resample_poly(samples, 4, 1, axis=0) if rate < 176400 else samples
    peak = float(np.max(np.abs(oversampled))) if oversampled.size else 0.0
    return 20.0 * np.log10(peak) if peak > 0 else float("-inf")


def normalize_loudness(samples: np.ndarray, rate: int, *, target_lufs: float, true_peak_db: float) -> np.ndarray:
    """Gain to `target_lufs`, then a transparent peak ceiling at `true_peak_db`.

    The ceiling is a plain gain reduction when the peak would exceed it (a limiter
    proper is the mix stage's job); for speech at −16 LUFS it rarely engages.
    """
    loudness = integrated_lufs(samples, rate)
    if not np.isfinite(loudness):
        return samples
    gained = samples * np.float32(10 ** ((target_lufs - loudness) / 20.0))
    peak = true_peak_dbtp(gained, rate)
    if peak > true_peak_db:
        gained = gained * np.float32(10 ** ((true_peak_db - peak) / 20.0))
    return gained.astype(np.float32)
