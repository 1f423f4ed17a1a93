"""Pitch shifting and time stretching with the Rubber Band library, through
ffmpeg's `rubberband` filter (Debian's ffmpeg is built with it): formants kept
on pitch shifts, pitch kept on tempo changes."""

from __future__ import annotations

import subprocess

import numpy as np

from vmsg.errors import BackendError
from vmsg.media.ffmpeg import ffmpeg_binary


def rubberband(samples: np.ndarray, rate: int, *, tempo: float = 1.0, semitones: float = 0.0) -> np.ndarray:
    """Mono float32 in, mono float32 out; `tempo` > 1 is faster (shorter)."""
    if abs(tempo - 1.0) < 1e-6 and abs(semitones) < 1e-6:
        return samples
    pitch = 2.0 ** (semitones / 12.0)
    filt = f"rubberband=tempo={tempo:.6f}:pitch={pitch:.6f}:formant=preserved:pitchq=quality:window=standard"
    proc = subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-nostdin", "-f", "f32le", "-ac", "1", "-ar", str(rate), "-i", "-",
         "-af", filt, "-f", "f32le", "-ac", "1", "-ar", str(rate), "-"],
        input=np.ascontiguousarray(samples, dtype=np.float32).tobytes(),
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BackendError(
            f"pitch/tempo change failed: {proc.stderr.decode(errors='replace').strip()[-200:]}",
            hint="vmsg needs an ffmpeg built with librubberband (Debian's ffmpeg is)",
        )
    return np.frombuffer(proc.stdout, dtype=np.float32).copy()
