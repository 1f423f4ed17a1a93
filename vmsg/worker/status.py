"""What a job is doing: Celery's state and meta, completed by the job's record in Redis."""

from __future__ import annotations

from typing import Any

from vmsg.errors import InputError, TemporaryError
from vmsg.storage_uri import redact_url
from vmsg.worker import records

FINAL_STATES = ("SUCCESS", "FAILURE", "REVOKED")


def job_status(app, job_id: str) -> dict[str, Any]:
    """state (PENDING/STARTED/PROGRESS/RETRY/SUCCESS/FAILURE), stage, percent, worker, output, error."""
    import redis
    from celery.result import AsyncResult

    try:
        record = records.read(app.backend.client, job_id) or {}
        result = AsyncResult(job_id, app=app)
        state = result.state
        info = result.info
    except (redis.RedisError, OSError) as exc:
        raise TemporaryError(f"result backend {redact_url(str(app.conf.result_backend))} is unreachable "
                             f"({type(exc).__name__})") from None
    if not record and state == "PENDING":
        raise InputError(f"job {job_id}: unknown (never submitted to this broker, or its record expired)")
    status: dict[str, Any] = {
        "id": job_id, "state": state, "name": record.get("name"), "stage": record.get("stage"),
        "percent": record.get("percent"), "worker": record.get("worker"), "output": record.get("output"),
        "priority": record.get("priority"), "error": None,
    }
    for extra in ("presigned_url", "presigned_expires_at", "report"):
        if extra in record:
            status[extra] = record[extra]
    if state == "PENDING":
        status.update(stage="queued", percent=0)
    elif isinstance(info, dict) and state in ("PROGRESS", "SUCCESS", "STARTED"):
        status.update({k: info[k] for k in ("stage", "percent", "worker", "pid", "output", "seconds", "attempt",
                                            "report") if k in info})
    elif state in ("FAILURE", "RETRY"):
        # the record holds vmsg's own message (e.g. "over the hard time limit"), Celery's only the exception's name
        recorded = record.get("error") if state == "FAILURE" and record.get("status") == "failed" else None
        status["error"] = recorded or (str(info) if info is not None else record.get("error"))
    status["done"] = state in FINAL_STATES
    return status
