"""Shared test helpers: the real fixtures beside the repo, checked against SHA256SUMS."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("VMSG_FIXTURES", ROOT.parent / "shared" / "fixtures"))


def _sums() -> dict[str, str]:
    sums_file = FIXTURES / "SHA256SUMS"
    if not sums_file.is_file():
        return {}
    out = {}
    for line in sums_file.read_text().splitlines():
        digest, _, name = line.strip().partition("  ")
        if digest and name:
            out[name.lstrip("*").removeprefix("./")] = digest
    return out


def fixture_file(relative: str) -> Path:
    """Path of a shared fixture, verified against SHA256SUMS; skips the test when absent."""
    path = FIXTURES / relative
    if not path.is_file():
        pytest.skip(f"shared fixture {relative} not found under {FIXTURES}")
    expected = _sums().get(relative)
    if expected is not None:
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        assert actual == expected, f"fixture {relative} does not match SHA256SUMS"
    return path


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def astronaut_png() -> Path:
    path = ROOT / "assets" / "portraits" / "astronaut.png"
    assert path.is_file(), "run scripts/make_portraits.py"
    return path
