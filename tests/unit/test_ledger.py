"""The job ledger on SQLite (the PostgreSQL run of the same contract is in tests/integration)."""

from __future__ import annotations

import multiprocessing

import pytest

from vmsg.errors import InputError, StorageError
from vmsg.ledger import TABLE, open_ledger


def check_ledger_contract(ledger) -> None:
    """What every ledger backend must do; run against SQLite here and a real PostgreSQL server."""
    ledger.add("job-aaa-1", name="hello", recipe_hash="h1", output="/o/hello.mp4", batch="b1")
    ledger.add("job-aaa-2", name="bye", recipe_hash="h2", output="/o/bye.mp4", batch="b1")
    ledger.add("job-bbb-3", name="other", batch="b2")
    ledger.start("job-aaa-1", worker="host:1")
    ledger.stage("job-aaa-1", "synth", percent=40.0)
    running = ledger.get("job-aaa-1")
    assert (running.status, running.stage, running.percent, running.attempts, running.worker) == ("running", "synth", 40.0, 1, "host:1")
    ledger.finish("job-aaa-1", "done", seconds=3.5, engines={"synth": "kokoro-1"}, timings={"synth": 1.25})
    done = ledger.get("job-aaa-1")
    assert done.status == "done" and done.seconds == 3.5 and done.percent == 100.0
    assert done.engines == {"synth": "kokoro-1"} and done.timings == {"synth": 1.25} and done.finished_at >= done.started_at
    ledger.start("job-aaa-2")
    ledger.finish("job-aaa-2", "failed", error="image x.png: no person found", error_kind="InputError")
    failed = ledger.list(status="failed")
    assert [(r.id, r.error, r.error_kind) for r in failed] == [("job-aaa-2", "image x.png: no person found", "InputError")]
    assert {r.id for r in ledger.list(batch="b1")} == {"job-aaa-1", "job-aaa-2"}
    assert len(ledger.list(limit=2)) == 2
    assert ledger.get("job-bbb").id == "job-bbb-3"
    with pytest.raises(InputError, match="ambiguous"):
        ledger.get("job-aaa")
    assert ledger.get("nope") is None
    ledger.start("job-bbb-3")
    assert ledger.interrupt_running("b2") == 1
    assert ledger.get("job-bbb-3").status == "interrupted"
    ledger.add("job-bbb-3", name="other", batch="b2")
    retried = ledger.get("job-bbb-3")
    assert retried.status == "queued" and retried.attempts == 1
    with pytest.raises(ValueError, match="not one of"):
        ledger.finish("job-bbb-3", "exploded")


def test_sqlite_contract(tmp_path):
    ledger = open_ledger(str(tmp_path / "l.sqlite"))
    check_ledger_contract(ledger)
    ledger.close()
    reopened = open_ledger(f"sqlite:///{tmp_path}/l.sqlite")
    assert reopened.get("job-aaa-1").status == "done"


def test_default_location_follows_vmsg_home(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VMSG_LEDGER_URL", raising=False)
    ledger = open_ledger()
    assert ledger.location == str(tmp_path / "home" / "ledger.sqlite")
    rows = ledger.conn.execute(f"SELECT name FROM sqlite_master WHERE name = '{TABLE}'").fetchall()
    assert rows == [("video_generations",)]


def _writer(path: str, start: int) -> None:
    ledger = open_ledger(path)
    for i in range(start, start + 40):
        ledger.add(f"j{i}", name=str(i))
        ledger.start(f"j{i}")
        ledger.finish(f"j{i}", "done", seconds=0.1)


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "l.sqlite")
    open_ledger(path).close()
    procs = [multiprocessing.get_context("spawn").Process(target=_writer, args=(path, k * 100)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(open_ledger(path).list(status="done", limit=1000)) == 120


def test_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot be opened"):
        open_ledger(str(blocker / "sub" / "l.sqlite"))
