"""Finding and running ffmpeg/ffprobe. The system binary is preferred; the one
shipped in imageio-ffmpeg is the fallback (it has no ffprobe)."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from vmsg.errors import BackendError, InputError


WRITE_FAILURES = ("Error writing trailer", "No space left on device", "Error closing file")


@functools.cache
def ffmpeg_binary() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        raise BackendError(
            "ffmpeg was not found on PATH", hint="install it (apt-get install ffmpeg) or pip install imageio-ffmpeg"
        ) from exc


@functools.cache
def ffprobe_binary() -> str | None:
    return shutil.which("ffprobe")


def run_ffmpeg(args: list[str], *, what: str) -> None:
    """Run ffmpeg quietly; on failure raise with the tail of its log."""
    cmd = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise BackendError(f"ffmpeg failed while {what}: {tail or 'exit code ' + str(proc.returncode)}")
    if any(marker in proc.stderr for marker in WRITE_FAILURES):
        # ffmpeg exits 0 when the disk fills while it writes the trailer: the file is truncated, never rename it.
        from vmsg.errors import StorageError

        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise StorageError(f"ffmpeg could not finish writing while {what}: {tail}")


@functools.cache
def ffmpeg_encoders() -> frozenset[str]:
    proc = subprocess.run([ffmpeg_binary(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False)
    names = set()
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6:
            names.add(parts[1])
    return frozenset(names)


def probe(path: Path | str) -> dict[str, Any]:
    """ffprobe's JSON description of a media file (format and streams)."""
    exe = ffprobe_binary()
    if exe is None:
        raise BackendError("ffprobe was not found on PATH", hint="apt-get install ffmpeg")
    proc = subprocess.run(
        [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise InputError(f"{path}: not a readable media file ({proc.stderr.strip()[:200]})")
    return json.loads(proc.stdout)
