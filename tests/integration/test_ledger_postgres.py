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
