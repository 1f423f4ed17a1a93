"""Error types. Library code raises these; only the CLI turns them into exit codes.

Exit codes follow sysexits where it helps cron users: 2 bad usage or input,
1 a failure while running, 75 a temporary failure worth retrying.
"""

from __future__ import annotations


class VmsgError(Exception):
    """Base of every error vmsg raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class UsageError(VmsgError):
    """The command line itself is wrong (conflicting or missing options)."""

    exit_code = 2


class RecipeError(VmsgError):
    """A recipe file is invalid; the message names the file, the line and the field."""

    exit_code = 2


class InputError(VmsgError):
    """An input file or value is missing, corrupt or out of range."""

    exit_code = 2


class BackendError(VmsgError):
    """An engine failed while running, or is not installed."""

    exit_code = 1


class ModelError(VmsgError):
    """A model file is missing, corrupt or does not match its registry entry."""

    exit_code = 1


class StorageError(VmsgError):
    """Reading or writing an artifact failed (permissions, full disk, S3)."""

    exit_code = 1


class TemporaryError(VmsgError):
    """A failure worth retrying later: an HTTP engine down, a rate limit, a lock held."""

    exit_code = 75
