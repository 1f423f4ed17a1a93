"""The background library: assets/backgrounds/library.yaml and the JPEGs beside it,
made by scripts/make_backgrounds.py. Recipes and the CLI name a background by its id."""

from __future__ import annotations

import functools
from pathlib import Path

from vmsg.errors import InputError

@functools.lru_cache(maxsize=4)
def load_library(folder: str | None = None) -> dict[str, dict]:
    """id → entry (id, name, category, tags, size, file, thumb); {} when the library is absent."""
    import yaml

    from vmsg.assets import asset_dir

    root = Path(folder) if folder else asset_dir("backgrounds")
    index = root / "library.yaml"
    if not index.is_file():
        return {}
    data = yaml.safe_load(index.read_text(encoding="utf-8")) or {}
    return {e["id"]: {**e, "path": str(root / e["file"]), "thumb_path": str(root / e["thumb"])} for e in data.get("backgrounds", [])}


def library_path(background_id: str) -> Path:
    entries = load_library()
    if background_id not in entries:
        raise InputError(f"background {background_id!r} is not in the library; ids: {', '.join(entries) or '(library missing)'}")
    return Path(entries[background_id]["path"])
