"""Where a job's life is recorded beyond Redis: the job ledger (vmsg/ledger.py).

Everything the worker and the submitter know about a job passes through `on_job_event`,
which records it in the ledger (VMSG_LEDGER_URL: PostgreSQL when several machines share
work; else each machine's own SQLite file, like `vmsg batch`).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

logger = logging.getLogger(__name__)

JOB_EVENTS = ("queued", "started", "stage", "retry", "done", "failed")
_LEDGERS: dict[tuple[int, int, str | None], Any] = {}


def _ledger():
    """One connection per process and thread: a connection must cross neither a fork (Celery's pool
    processes) nor a thread (SQLite refuses; the worker records hard time-outs in a thread of its own)."""
    from vmsg.ledger import open_ledger

    key = (os.getpid(), threading.get_ident(), os.environ.get("VMSG_LEDGER_URL"))
    if key not in _LEDGERS:
        _LEDGERS[key] = open_ledger()
    return _LEDGERS[key]


def on_job_event(job_id: str, event: str, **facts: Any) -> None:
    """Called on every job event (see JOB_EVENTS); never raises into the job.

    "queued" runs in the submitting process (vmsg submit), every other event in the worker
    process running the job.

    facts: queued → name, recipe_hash, output, priority; started → worker, attempt, name, output;
    stage → stage, percent; retry → error, countdown; done → output, seconds, report;
    failed → error, stage.
    """
    logger.debug("job %s %s %s", job_id, event, {k: v for k, v in facts.items() if k != "recipe"})
    try:
        _record(_ledger(), job_id, event, facts)
    except Exception as exc:  # noqa: BLE001 - the ledger is a record; a job must not fail for it
        logger.warning("job ledger: could not record %s of job %s (%s)", event, job_id, exc)


def _record(ledger, job_id: str, event: str, facts: dict[str, Any]) -> None:
    if event == "queued":
        ledger.add(job_id, name=facts.get("name"), recipe_hash=facts.get("recipe_hash"), output=facts.get("output"))
    elif event == "started":
        if ledger.get(job_id) is None:  # submitted from another machine with its own ledger
            ledger.add(job_id, name=facts.get("name"), output=facts.get("output"), status="running")
        ledger.start(job_id, worker=facts.get("worker"))
    elif event == "stage":
        ledger.stage(job_id, facts["stage"], percent=facts.get("percent"))
    elif event == "retry":
        ledger.stage(job_id, "retrying")
    elif event == "done":
        ledger.finish(job_id, "done", seconds=facts.get("seconds"), output=facts.get("output"))
    elif event == "failed":
        if ledger.get(job_id) is None:
            ledger.add(job_id, status="failed")
        ledger.finish(job_id, "failed", error=facts.get("error"))
