"""Start-up of a batch worker process. Kept apart from vmsg.batch on purpose: a spawned process
imports this module to run the initialiser, and numpy (OpenBLAS) must not be loaded before the
thread limits are in the environment."""

from __future__ import annotations

import sys


def init_batch_process(threads: int) -> None:
    """Use this process's share of threads; die with the parent (so a killed batch leaves no orphan
    worker rendering behind a released lock)."""
    from vmsg.threads import limit

    limit(threads)
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
