"""A hard time-out is recorded even while the killed job's process holds the ledger's write lock.

Celery calls the task's on_failure in the worker's main process *before* it kills the timed-out
pool process. A process frozen mid-transaction (SIGSTOP, a stuck C call) holds SQLite's write
lock until that kill, so a failure recorded inline would wait out the lock and be lost, with the
worker's event loop frozen meanwhile. Real redis-server on 127.0.0.1, real SQLite ledger.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.scale_servers import free_port, start_redis, stop

pytestmark = pytest.mark.integration


def test_hard_timeout_is_recorded_once_the_lock_holder_is_gone(tmp_path, monkeypatch):
    from celery.exceptions import TimeLimitExceeded

    from vmsg.ledger import open_ledger
    from vmsg.worker import TASK_NAME, records
    from vmsg.worker.app import make_celery
    from vmsg.worker.config import WorkerOptions
    from vmsg.worker.tasks import register_tasks

    port = free_port()
    redis = start_redis(port, tmp_path)
    ledger_path = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("VMSG_LEDGER_URL", str(ledger_path))
    try:
        app = make_celery(f"redis://127.0.0.1:{port}/0")
        options = WorkerOptions(soft_time_limit=11, time_limit=12, visibility_timeout=20)
        register_tasks(app, options)
        job_id = "job-stuck-1"
        ledger = open_ledger(str(ledger_path))
        ledger.add(job_id, name="stuck")
        ledger.start(job_id, worker="w1")

        frozen = sqlite3.connect(str(ledger_path), timeout=0)  # the frozen process, mid-transaction
        frozen.execute("BEGIN IMMEDIATE")
        frozen.execute("UPDATE video_generations SET stage = 'segment' WHERE id = ?", (job_id,))
        app.tasks[TASK_NAME].on_failure(TimeLimitExceeded(12), job_id, (), {}, None)  # returns: no wait on the lock
        assert ledger.get(job_id).status == "running"
        frozen.rollback()  # Celery kills the process; the kernel drops its lock
        frozen.close()

        deadline = time.monotonic() + 10
        while (record := ledger.get(job_id)).status != "failed":
            assert time.monotonic() < deadline, record
            time.sleep(0.05)
        assert "over the hard time limit of 12 s" in record.error
        redis_record = records.read(app.backend.client, job_id)
        assert redis_record["status"] == "failed" and redis_record["stage"] == "timeout"
    finally:
        stop(redis)
