"""How many threads one process's math uses: onnxruntime, torch, BLAS, x264, rubberband pieces.

One home for the figure: VMSG_THREADS when set, else the CPUs this process may run on. A batch
with `--jobs N` and a worker with `--concurrency N` give each of their processes about C/N
(`share`), so N processes on C cores run about C busy threads, not N×C that fight for the cores.
"""

from __future__ import annotations

import os
import sys

ENV = "VMSG_THREADS"
LIBRARY_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
"""Read by OpenMP, OpenBLAS, MKL and numexpr once, when they load: set before the heavy imports."""


def cpus() -> int:
    """CPUs this process may run on (a container's or taskset's limit, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def threads() -> int:
    """Intra-op threads for this process: VMSG_THREADS, else every CPU it may use."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return cpus()
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        from vmsg.errors import UsageError

        raise UsageError(f"{ENV}={raw!r}: expected a whole number of threads, 1 or more")
    return value


def share(processes: int) -> int:
    """Threads for each of `processes` processes sharing this machine; an explicit VMSG_THREADS wins."""
    if os.environ.get(ENV, "").strip():
        return threads()
    return max(1, cpus() // max(1, processes))


def limit(count: int) -> None:
    """Make this process, and the processes it starts, use `count` threads.

    Libraries loaded later read the environment; torch, when already loaded, is told directly.
    """
    os.environ[ENV] = str(count)
    for name in LIBRARY_ENV:
        os.environ[name] = str(count)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(count)


def ffmpeg_args() -> list[str]:
    """x264's own thread count (it would start 1.5 threads per CPU in every process)."""
    return ["-threads", str(threads())]
