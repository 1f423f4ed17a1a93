"""Where a job's life is reported beyond Redis.

>>> LEDGER HOOK <<<  The job ledger (vmsg/ledger.py, SQLite/PostgreSQL, issue 7 part A) is not in
this branch. At merge, the lead makes `on_job_event` record each event in the ledger
(id, recipe hash, status, stage, timings, output, error). Everything the worker knows
about a job passes through this one function, so nothing else needs to change.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

JOB_EVENTS = ("queued", "started", "stage", "retry", "done", "failed")


def on_job_event(job_id: str, event: str, **facts: Any) -> None:
    """Called on every job event (see JOB_EVENTS); must never raise into the job.

    "queued" runs in the submitting process (vmsg submit), every other event in the worker
    process running the job: with several machines the ledger must be the shared one (PostgreSQL).

    facts: queued → name, recipe_hash, output, priority; started → worker, attempt;
    stage → stage, percent; retry → error, countdown; done → output, seconds, report;
    failed → error, stage.
    """
    # LEDGER HOOK: vmsg.ledger.record(job_id, event, **facts) goes here at merge.
    logger.debug("job %s %s %s", job_id, event, {k: v for k, v in facts.items() if k != "recipe"})
