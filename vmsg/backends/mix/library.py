"""The background-music library: `assets/bgm/library.yaml` names tracks made by
scripts/make_bgm.py. A `bgm` value is a library id or a path to any audio file."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from vmsg.errors import InputError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".opus")


def library_dir() -> Path:
    """`VMSG_BGM_DIR`, else the bundled assets/bgm."""
    from vmsg.assets import asset_dir

    return asset_dir("bgm")


@functools.cache
def _load(folder: str) -> dict[str, dict[str, Any]]:
    import yaml

    path = Path(folder) / "library.yaml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(t["id"]): {**t, "path": str(Path(folder) / t["file"])} for t in data.get("tracks", [])}


def tracks() -> dict[str, dict[str, Any]]:
    """id → entry (id, name, mood, category, duration, bpm, licence, file, path, seamless)."""
    return _load(str(library_dir()))


def looks_like_file(spec: str) -> bool:
    return "/" in spec or os.sep in spec or spec.lower().endswith(AUDIO_SUFFIXES)


def resolve(spec: str) -> tuple[Path, dict[str, Any] | None]:
    """(file, library entry or None) for a library id or a file path."""
    entry = tracks().get(spec)
    if entry is not None:
        return Path(entry["path"]), entry
    path = Path(spec)
    if path.is_file():
        return path, None
    if looks_like_file(spec):
        raise InputError(f"background music {spec}: file not found")
    known = ", ".join(sorted(tracks())) or "(library is empty)"
    raise InputError(f"background music {spec!r}: neither a file nor a library id; library ids: {known}")
