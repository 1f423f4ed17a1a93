"""Where artifacts are written. Every write is atomic: a temporary name in the
same folder, then a rename, so no half-written file ever sits under a final name.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from vmsg.errors import InputError, StorageError


def check_writable(path: Path, *, what: str = "output") -> Path:
    """Fail early (before any work) when `path` cannot be written; create its folder."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise InputError(f"{what} {path} is a folder, expected a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot create its folder ({exc.strerror})") from exc
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"{what} {path}: folder {path.parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{what} {path}: file exists and is not writable")
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    The temporary name keeps the suffix so tools that infer the format from it
    (ffmpeg, soundfile, PIL) still work.
    """
    path = check_writable(Path(path))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise StorageError(f"output {path}: nothing was written")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise StorageError(f"output {path}: {exc.strerror}") from exc
    return Path(path)
