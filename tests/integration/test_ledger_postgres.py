"""The job ledger against a real PostgreSQL server started on loopback by the test."""

from __future__ import annotations

import pytest

from tests.integration._servers import free_port, postgres_server
from tests.unit.test_ledger import check_ledger_contract
from vmsg.errors import TemporaryError
from vmsg.ledger import open_ledger

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


def test_postgres_contract(pg_url):
    ledger = open_ledger(pg_url)
    assert ledger.kind == "postgresql"
    check_ledger_contract(ledger)
    rows = ledger.conn.execute("SELECT count(*) FROM video_generations").fetchone()
    assert rows[0] == 3


def test_two_connections_see_each_others_jobs(pg_url):
    first, second = open_ledger(pg_url), open_ledger(pg_url)
    first.add("shared-1", name="x", batch="shared")
    second.start("shared-1", worker="other-host:2")
    second.finish("shared-1", "done", seconds=1.0)
    record = first.get("shared-1")
    assert (record.status, record.worker, record.attempts) == ("done", "other-host:2", 1)


def test_server_down_is_a_temporary_error_without_the_password():
    url = f"postgresql://vmsg:s3cret@127.0.0.1:{free_port()}/vmsg"
    with pytest.raises(TemporaryError) as info:
        open_ledger(url)
    assert info.value.exit_code == 75
    assert "cannot connect" in str(info.value) and "s3cret" not in str(info.value)


@pytest.fixture
def batch_env(tmp_path, monkeypatch):
    from tests.integration.test_batch import TEMPLATE

    for name, sub in (("VMSG_CACHE_DIR", "cache"), ("VMSG_HOME", "home"), ("VMSG_LOCK_DIR", "locks")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.delenv("VMSG_CACHE_URL", raising=False)
    (tmp_path / "tpl.yaml").write_text(TEMPLATE, encoding="utf-8")
    return tmp_path


def test_batch_records_every_job_in_postgres(pg_url, batch_env, capsys, monkeypatch):
    from tests.integration.test_batch import cli, write_csv

    monkeypatch.setenv("VMSG_LEDGER_URL", pg_url)
    batch = write_csv(batch_env / "pg.csv", [("p1", "ぴー。"), ("p2", "ぴーつー。")])
    code, _, err = cli(capsys, "batch", str(batch), "-t", str(batch_env / "tpl.yaml"))
    assert code == 0, err
    records = {r.name: r for r in open_ledger(pg_url).list(limit=100) if r.name in ("p1", "p2")}
    assert {r.status for r in records.values()} == {"done"}
    assert all(r.engines["synth"].startswith("pyopenjtalk") and r.timings["render"] > 0 for r in records.values())
    assert all(r.batch.startswith("pg.csv-") and r.output.endswith(f"{r.name}.mp4") for r in records.values())
    code, _, err = cli(capsys, "jobs", "list", "--batch", records["p1"].batch, "--json")
    assert code == 0


def test_batch_with_postgres_down_is_exit_75_and_runs_nothing(batch_env, capsys):
    from tests.integration.test_batch import cli, write_csv

    batch = write_csv(batch_env / "m.csv", [("a", "あ。")])
    code, _, err = cli(capsys, "batch", str(batch), "-t", str(batch_env / "tpl.yaml"),
                       "--ledger", f"postgresql://vmsg@127.0.0.1:{free_port()}/vmsg")
    assert code == 75 and "cannot connect" in err
    assert not list(batch_env.rglob("*.mp4"))
