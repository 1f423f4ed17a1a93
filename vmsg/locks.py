"""One run of a batch at a time: an fcntl lock on a file named after the batch file.

The kernel drops the lock when the holder dies (even by kill -9), so a crashed
run never blocks the next cron run; the file keeps the holder's pid for messages.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from vmsg.errors import StorageError, TemporaryError


def lock_dir() -> Path:
    from vmsg.cache import default_cache_dir

    return Path(os.environ.get("VMSG_LOCK_DIR") or default_cache_dir() / "locks")


def lock_path_for(target: Path | str) -> Path:
    """`/srv/msgs/today.csv` → `<lock dir>/today.csv-<hash of the absolute path>.lock`."""
    target = Path(target).resolve()
    digest = hashlib.sha256(str(target).encode("utf-8")).hexdigest()[:12]
    return lock_dir() / f"{target.name}-{digest}.lock"


@contextlib.contextmanager
def exclusive(target: Path | str, *, what: str = "batch") -> Iterator[Path]:
    """Hold the lock for `target` for the block; TemporaryError (exit 75) when another run holds it."""
    path = lock_path_for(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StorageError(f"lock file {path}: cannot be created ({exc.strerror})", hint="set VMSG_LOCK_DIR") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
            raise TemporaryError(f"{what} {target} is already running (pid {holder} holds {path})",
                                 hint="this run did nothing; the next cron run will pick up what is left") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield path
    finally:
        os.close(fd)
