"""API keys from the environment or a file, held so they never leak.

A key is read from `NAME` or from the file named by `NAME_FILE` (the docker /
systemd credentials pattern). The value lives in a `Secret` whose repr is
redacted, and every value read is remembered so `scrub()` can blank it out of
any text that is about to be logged, raised or written to a report (an error
body that echoes a header, for example).
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from collections.abc import Mapping
from pathlib import Path

from vmsg.errors import BackendError, InputError

log = logging.getLogger(__name__)

REDACTED = "<redacted>"
_known: set[str] = set()
_lock = threading.Lock()


class Secret:
    """A secret value; str/repr never show it, only `reveal()` does."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self.source = source
        remember(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED}, from {self.source})"

    __str__ = __repr__

    def __reduce__(self):  # pickling would copy the key into queues and caches
        raise TypeError("a Secret cannot be pickled; read it where it is used")


def remember(value: str) -> None:
    """Register a secret value so `scrub()` removes it from text."""
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def scrub(text: str) -> str:
    """`text` with every known secret value replaced by <redacted>."""
    with _lock:
        values = sorted(_known, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def read_secret(name: str, *, what: str, environ: Mapping[str, str] | None = None) -> Secret:
    """The secret from `$NAME`, else from the file `$NAME_FILE`; a clear error when neither is set.

    The error names the variables and the file, never a value.
    """
    environ = os.environ if environ is None else environ
    value = (environ.get(name) or "").strip()
    if value:
        return Secret(value, f"${name}")
    file_name = (environ.get(f"{name}_FILE") or "").strip()
    if not file_name:
        raise BackendError(
            f"{what} is not set",
            hint=f"export {name}=… or put it in a file and export {name}_FILE=/path/to/file",
        )
    path = Path(file_name).expanduser()
    try:
        mode = path.stat().st_mode
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise InputError(f"{what} file {path} (from ${name}_FILE): file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} file {path} (from ${name}_FILE): cannot be read ({type(exc).__name__})") from None
    if not value:
        raise InputError(f"{what} file {path} (from ${name}_FILE) is empty")
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("%s file %s is readable by other users; chmod 600 it", what, path)
    return Secret(value, str(path))
