"""`vmsg cache stats|prune` and `vmsg jobs list|show` on a private cache folder and ledger."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.cli_run import run_cli
from vmsg.cache import LocalCache, content_key
from vmsg.ledger import open_ledger


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VMSG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VMSG_CACHE_URL", raising=False)
    monkeypatch.delenv("VMSG_LEDGER_URL", raising=False)
    return tmp_path


def test_cache_stats_and_prune(home, capsys):
    cache = LocalCache()
    keys = [content_key("t", engine=None, version=None, inputs={"i": i}) for i in range(3)]
    for key in keys:
        cache.put(key, b"x" * 1000)
    old = time.time() - 40 * 86400
    os.utime(cache._path(keys[0]), (old, old))
    code, out, _ = run_cli(capsys, "cache", "stats", "--json")
    assert code == 0 and json.loads(out)["entries"] == 3 and json.loads(out)["bytes"] == 3000
    code, out, _ = run_cli(capsys, "cache", "prune", "--older-than", "30d")
    assert code == 0 and "removed 1 entries" in out
    code, out, _ = run_cli(capsys, "cache", "prune", "--max-size", "1K")
    assert code == 0 and "removed 1 entries" in out
    code, _, err = run_cli(capsys, "cache", "prune", "--max-size", "lots")
    assert code == 2 and "expected a size like 500M" in err
    code, out, _ = run_cli(capsys, "cache", "prune", "--all")
    assert code == 0 and LocalCache().stats().entries == 0


def test_jobs_list_and_show(home, capsys):
    ledger = open_ledger()
    ledger.add("0123456789abcdef", name="hello", batch="b", output="/o/hello.mp4")
    ledger.start("0123456789abcdef")
    ledger.finish("0123456789abcdef", "failed", error="image x.png: no person found", error_kind="InputError")
    code, out, _ = run_cli(capsys, "jobs", "list", "--json", "--status", "failed")
    assert code == 0 and [j["name"] for j in json.loads(out)] == ["hello"]
    code, out, _ = run_cli(capsys, "jobs", "show", "0123")
    assert code == 0 and "no person found" in out and "InputError" in out
    code, _, err = run_cli(capsys, "jobs", "show", "ffff")
    assert code == 2 and "no job 'ffff'" in err
    code, _, err = run_cli(capsys, "jobs", "list", "--status", "bogus")
    assert code == 2 and "expected one of" in err
