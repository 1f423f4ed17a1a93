"""Intonation (and pitch) edits with the WORLD vocoder: F0 is edited, the
spectral envelope and aperiodicity are kept, so formants and voice quality stay.

WORLD is slow (analysis and resynthesis cost about 0.14 s per second of 24 kHz
audio here, all on one core, holding the GIL), which is why the prosody stage
only calls it when the intonation scale is not 1, and why long audio is handled
like this: pauses (quiet runs, vmsg.media.stretch.quiet_gaps) are copied as they
are instead of being analysed and resynthesised, and the speech is cut at a
quiet point into one piece per core; the other pieces go to child processes
(`python -m vmsg.backends.prosody.world`, pickles over pipes). Each piece
reports the sum of its voiced log-F0 first, so the contour is still scaled
around the mean of the whole message, then resynthesises with that mean.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import pickle
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np

FRAME_PERIOD_MS = 5.0
MIN_PIECE_S = 8.0
log = logging.getLogger(__name__)


def load_pyworld(*, stand_in: bool = False):
    """Import pyworld. pyworld 0.3.5 reads its version through `pkg_resources`,
    which setuptools ≥ 81 no longer ships: a tiny stand-in answers that one call.
    `stand_in=True` uses it even where the real one exists (importing that costs
    0.2 s; the WORLD child processes, which import nothing else, skip it)."""
    if stand_in and "pkg_resources" not in sys.modules:
        sys.modules["pkg_resources"] = _pkg_resources_stand_in()
    try:
        import pyworld
    except ModuleNotFoundError as exc:
        if exc.name != "pkg_resources":
            raise
        sys.modules.setdefault("pkg_resources", _pkg_resources_stand_in())
        import pyworld
    return pyworld


def _pkg_resources_stand_in() -> types.ModuleType:
    shim = types.ModuleType("pkg_resources")
    shim.get_distribution = lambda name: types.SimpleNamespace(version=importlib.metadata.version(name))  # type: ignore[attr-defined]
    return shim


def edit_f0(f0: np.ndarray, *, semitones: float, intonation: float, mean: float | None = None) -> np.ndarray:
    """Scale the log-F0 contour around `mean` (default: its own voiced mean) by `intonation`, then shift by `semitones`."""
    out = f0.copy()
    voiced = f0 > 0
    if not voiced.any():
        return out
    log_f0 = np.log(f0[voiced])
    mean = float(log_f0.mean()) if mean is None else mean
    out[voiced] = np.exp(mean + intonation * (log_f0 - mean) + semitones * np.log(2.0) / 12.0)
    return np.clip(out, 0.0, 1100.0)


class _Piece:
    """One piece of audio through WORLD: analysis on construction, resynthesis with the edit."""

    def __init__(self, samples: np.ndarray, rate: int) -> None:
        self.pw = load_pyworld()
        self.x, self.rate = np.ascontiguousarray(samples, dtype=np.float64), rate
        f0, self.times = self.pw.dio(self.x, rate, f0_floor=60.0, f0_ceil=700.0, frame_period=FRAME_PERIOD_MS)
        self.f0 = self.pw.stonemask(self.x, f0, self.times, rate)

    def log_f0_sum(self) -> tuple[float, int]:
        voiced = self.f0[self.f0 > 0]
        return float(np.log(voiced).sum()) if voiced.size else 0.0, int(voiced.size)

    def aperiodicity(self) -> np.ndarray:
        """D4C on every other frame (10 ms), linearly interpolated: aperiodicity moves slowly,
        and D4C is the costliest step of the analysis (this halves it)."""
        pw, f0, times = self.pw, self.f0, self.times
        if len(f0) < 4:
            return pw.d4c(self.x, f0, times, self.rate)
        half = pw.d4c(self.x, np.ascontiguousarray(f0[::2]), np.ascontiguousarray(times[::2]), self.rate)
        out = np.empty((len(f0), half.shape[1]))
        out[::2] = half
        odd = out[1::2]
        odd[: len(half) - 1] = 0.5 * (half[:-1] + half[1:])
        odd[len(half) - 1 :] = half[-1]
        return out

    def synthesize(self, *, semitones: float, intonation: float, mean: float | None) -> np.ndarray:
        pw, x, rate = self.pw, self.x, self.rate
        envelope = pw.cheaptrick(x, self.f0, self.times, rate)
        aperiodicity = self.aperiodicity()
        f0 = edit_f0(self.f0, semitones=semitones, intonation=intonation, mean=mean)
        y = pw.synthesize(f0, envelope, aperiodicity, rate, FRAME_PERIOD_MS)
        return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)].astype(np.float32)


class _Child:
    """A piece handled by a child process (pyworld holds the GIL, so threads would not run in parallel)."""

    def __init__(self, samples: np.ndarray, rate: int) -> None:
        root = str(Path(__file__).resolve().parents[3])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "vmsg.backends.prosody.world"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        # Written from a thread: the child needs a moment to start, this process goes on with its own piece.
        self.sender = threading.Thread(target=self._send, args=((samples, rate),), daemon=True)
        self.sender.start()

    def _send(self, payload: object) -> None:
        try:
            pickle.dump(payload, self.proc.stdin)
            self.proc.stdin.flush()
        except (OSError, ValueError):  # the child died (or was stopped); reading its answer reports it
            pass

    def log_f0_sum(self) -> tuple[float, int]:
        self.sender.join()
        return pickle.load(self.proc.stdout)

    def synthesize(self, **edit: float | None) -> np.ndarray:
        pickle.dump(edit, self.proc.stdin)
        self.proc.stdin.close()
        y = pickle.load(self.proc.stdout)
        self.proc.wait()
        return y

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.sender.join(timeout=10)
        error = self.proc.stderr.read().decode(errors="replace").strip()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
        if error:
            log.warning("WORLD child process said: %s", error[-500:])


def _serve() -> None:
    """Child side of `_Child`: read a piece, answer its log-F0 sum, read the edit, answer the audio."""
    load_pyworld(stand_in=True)
    piece = _Piece(*pickle.load(sys.stdin.buffer))
    pickle.dump(piece.log_f0_sum(), sys.stdout.buffer)
    sys.stdout.buffer.flush()
    pickle.dump(piece.synthesize(**pickle.load(sys.stdin.buffer)), sys.stdout.buffer)
    sys.stdout.buffer.flush()


def _edit_parallel(x: np.ndarray, rate: int, cuts: list[int], *, semitones: float, intonation: float) -> np.ndarray:
    """WORLD over x cut at `cuts`: the first piece here, the others in child processes, one F0 mean for all."""
    bounds = [0, *cuts, len(x)]
    children: list[_Child] = []
    try:
        children = [_Child(x[a:b], rate) for a, b in zip(bounds[1:-1], bounds[2:])]
        here = _Piece(x[: bounds[1]], rate)
        sums = [here.log_f0_sum(), *[c.log_f0_sum() for c in children]]
        total, count = sum(s for s, _ in sums), sum(n for _, n in sums)
        mean = total / count if count else None
        edit = {"semitones": semitones, "intonation": intonation, "mean": mean}
        return np.concatenate([here.synthesize(**edit), *[c.synthesize(**edit) for c in children]])
    finally:
        for child in children:
            child.close()


def world_edit(samples: np.ndarray, rate: int, *, semitones: float = 0.0, intonation: float = 1.0,
               workers: int | None = None) -> np.ndarray:
    """Resynthesise `samples` with an edited F0 and the same envelope; same length.

    Pauses are copied unchanged; speech is handled in one piece per core when long enough."""
    from vmsg.media.stretch import quiet_cuts, quiet_gaps

    x = np.asarray(samples, dtype=np.float32)
    gaps = quiet_gaps(x, rate)
    bounds = [0, *[i for gap in gaps for i in gap], len(x)]
    kept = list(zip(bounds[::2], bounds[1::2]))
    stream = np.concatenate([x[a:b] for a, b in kept]) if gaps else x
    workers = workers or max(1, os.cpu_count() or 1)
    cuts = quiet_cuts(stream, rate, workers) if len(stream) >= workers * MIN_PIECE_S * rate else []
    edit = {"semitones": semitones, "intonation": intonation}
    if cuts:
        try:
            y = _edit_parallel(stream, rate, cuts, **edit)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            log.warning("WORLD child process failed (%s); resynthesising in this process", exc)
            cuts = []
    if not cuts:
        y = _Piece(stream, rate).synthesize(**edit, mean=None)
    if not gaps:
        return y
    out = x.copy()
    position = 0
    for a, b in kept:
        out[a:b] = y[position : position + b - a]
        position += b - a
    return out


if __name__ == "__main__":
    _serve()
