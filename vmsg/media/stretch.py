"""Pitch shifting and time stretching with the Rubber Band library, through
ffmpeg's `rubberband` filter (Debian's ffmpeg is built with it): formants kept
on pitch shifts, pitch kept on tempo changes.

ffmpeg's filter runs on one core and costs about 0.03 s per second of 24 kHz
audio here, so three things keep a minute of speech fast:
- pitchq=speed with the short window: measured against pitchq=quality (the F0
  error of the shift, the spectral envelope and the aperiodicity of the output,
  docs/audio.md) it is as accurate and as clean, for ~30 % less CPU;
- pauses skip the phase vocoder: quiet runs are cut out (a margin stays with the
  speech on each side so Rubber Band's windows fade out in quiet), the speech is
  stretched as one stream, and the quiet parts are put back resampled to their
  new length (the stretch of a pause is a pause; no pitch to keep in it);
- long audio is cut at quiet points into one piece per core, stretched in parallel.
Every piece is stretched by the same factor, and the returned time map (input
seconds → output seconds, piecewise linear) lets callers move a timeline exactly.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from vmsg.errors import BackendError
from vmsg.media.ffmpeg import ffmpeg_binary

MIN_PIECE_S = 8.0
QUIET_DB = -50.0
"""A 10 ms frame this far under the loud frames (95th percentile) counts as quiet."""
QUIET_MARGIN_S = 0.06
"""Quiet kept with the speech on each side of a pause that is cut out."""
MIN_GAP_S = 0.1
"""Shorter quiet (after the margins) stays in the stretched stream."""


def rubberband(samples: np.ndarray, rate: int, *, tempo: float = 1.0, semitones: float = 0.0) -> np.ndarray:
    """Mono float32 in, mono float32 out; `tempo` > 1 is faster (shorter)."""
    if abs(tempo - 1.0) < 1e-6 and abs(semitones) < 1e-6:
        return samples
    pitch = 2.0 ** (semitones / 12.0)
    formant = ":formant=preserved" if abs(semitones) >= 1e-6 else ""
    filt = f"rubberband=tempo={tempo:.6f}:pitch={pitch:.6f}{formant}:pitchq=speed:window=short"
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


def quiet_cuts(samples: np.ndarray, rate: int, pieces: int) -> list[int]:
    """Sample indices that cut `samples` into about `pieces` parts at the quietest 20 ms near each even split."""
    if pieces <= 1 or len(samples) < pieces * MIN_PIECE_S * rate:
        return []
    hop = max(1, int(0.02 * rate))
    n = len(samples) // hop
    energy = np.square(samples[: n * hop].reshape(n, hop).astype(np.float64)).mean(axis=1)
    cuts = []
    for i in range(1, pieces):
        centre = n * i // pieces
        lo, hi = max(1, centre - int(2.0 / 0.02)), min(n - 1, centre + int(2.0 / 0.02))
        cuts.append((lo + int(np.argmin(energy[lo:hi]))) * hop + hop // 2)
    return sorted(set(cuts))


def quiet_gaps(samples: np.ndarray, rate: int) -> list[tuple[int, int]]:
    """Sample ranges inside the pauses (quiet runs, less a margin each side) that need no phase vocoder."""
    hop = max(1, int(0.01 * rate))
    n = len(samples) // hop
    if n < 10:
        return []
    power = np.square(samples[: n * hop].reshape(n, hop).astype(np.float64)).mean(axis=1)
    levels = 10.0 * np.log10(power + 1e-14)
    reference = float(np.percentile(levels, 95))
    if reference < -90.0:
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (levels < reference + QUIET_DB).astype(np.int8), [0]])))
    margin, shortest = int(QUIET_MARGIN_S * rate), int(MIN_GAP_S * rate)
    gaps = [(a * hop + margin, b * hop - margin) for a, b in zip(edges[::2], edges[1::2])]
    return [(a, b) for a, b in gaps if b - a >= shortest]


def _resampled(x: np.ndarray, n: int) -> np.ndarray:
    if n <= 0 or x.size == 0:
        return np.zeros(max(0, n), np.float32)
    return np.interp(np.linspace(0.0, len(x) - 1.0, n), np.arange(len(x)), x).astype(np.float32)


def rubberband_parallel(samples: np.ndarray, rate: int, *, tempo: float = 1.0, semitones: float = 0.0,
                        workers: int | None = None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Like `rubberband`, with pauses left out of the stretch and pieces in parallel;
    returns (audio, (input times, output times))."""
    gaps = quiet_gaps(samples, rate)
    if not gaps:
        return _stretch_pieces(samples, rate, tempo=tempo, semitones=semitones, workers=workers)
    bounds = [0, *[i for gap in gaps for i in gap], len(samples)]
    kept = [(a, b) for a, b in zip(bounds[::2], bounds[1::2])]
    stream = np.concatenate([samples[a:b] for a, b in kept])
    stretched, (src, dst) = _stretch_pieces(stream, rate, tempo=tempo, semitones=semitones, workers=workers)
    joins = np.concatenate([[0], np.cumsum([b - a for a, b in kept])])
    cuts = np.clip(np.round(np.interp(joins / rate, src, dst) * rate).astype(int), 0, len(stretched))
    cuts[-1] = len(stretched)
    out, times_in, times_out, position = [], [], [], 0
    for k, (a, b) in enumerate(kept):
        times_in.append(a)
        times_out.append(position)
        out.append(stretched[cuts[k] : cuts[k + 1]])
        position += len(out[-1])
        times_in.append(b)
        times_out.append(position)
        if k < len(gaps):
            g0, g1 = gaps[k]
            out.append(_resampled(samples[g0:g1], int(round((g1 - g0) / tempo))))
            position += len(out[-1])
    return (np.concatenate(out).astype(np.float32),
            (np.asarray(times_in, np.float64) / rate, np.asarray(times_out, np.float64) / rate))


def _stretch_pieces(samples: np.ndarray, rate: int, *, tempo: float, semitones: float, workers: int | None
                    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """`rubberband` over one piece per core, cut at quiet points; returns (audio, time map)."""
    from vmsg.threads import threads

    workers = workers or threads()
    cuts = quiet_cuts(samples, rate, workers)
    bounds = [0, *cuts, len(samples)]
    pieces = [samples[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    if len(pieces) == 1:
        outs = [rubberband(samples, rate, tempo=tempo, semitones=semitones)]
    else:
        with ThreadPoolExecutor(max_workers=len(pieces)) as pool:
            outs = list(pool.map(lambda p: rubberband(p, rate, tempo=tempo, semitones=semitones), pieces))
    src = np.array(bounds, dtype=np.float64) / rate
    dst = np.concatenate([[0.0], np.cumsum([len(o) for o in outs])]) / rate
    return np.concatenate(outs).astype(np.float32), (src, dst)
