"""The asset libraries must travel with the package, not only live in a checkout."""

from __future__ import annotations

import tomllib
from pathlib import Path

from vmsg.assets import asset_dir

ROOT = Path(__file__).resolve().parents[2]


def test_package_data_covers_every_asset_file():
    """A file under assets/ that no package-data pattern names would be missing from the wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["vmsg._assets"]
    shipped = {p for pattern in patterns for p in (ROOT / "vmsg" / "_assets").glob(pattern) if p.is_file()}
    every = {p for p in (ROOT / "vmsg" / "_assets").rglob("*") if p.is_file()}
    assert every and every == shipped, sorted(str(p.relative_to(ROOT)) for p in every - shipped)


def test_libraries_resolve_through_the_package_and_honour_overrides(tmp_path, monkeypatch):
    from vmsg.backends.mix.library import tracks
    from vmsg.backends.segment.library import load_library

    assert (asset_dir("bgm") / "library.yaml").is_file() and (asset_dir("backgrounds") / "library.yaml").is_file()
    assert len(tracks()) >= 15 and len(load_library()) >= 20
    monkeypatch.setenv("VMSG_BGM_DIR", str(tmp_path))
    assert asset_dir("bgm") == tmp_path
