"""A small record per job in Redis (hash `vmsg:job:<id>`): name, output, stage, percent, worker.

Celery's result backend holds the state and the result; this record adds what it cannot:
that a job id was ever submitted (so an unknown id is an error, not 'PENDING' forever),
and the stage a failed job was in.
"""

from __future__ import annotations

import json
import time
from typing import Any

PREFIX = "vmsg:job:"
DEFAULT_TTL = 7 * 24 * 3600


def key(job_id: str) -> str:
    return f"{PREFIX}{job_id}"


def write(client, job_id: str, ttl: int = DEFAULT_TTL, **fields: Any) -> None:
    """Set fields of a job's record (values stored as JSON) and refresh its expiry."""
    mapping = {k: json.dumps(v, ensure_ascii=False) for k, v in fields.items()}
    pipe = client.pipeline()
    pipe.hset(key(job_id), mapping=mapping)
    pipe.expire(key(job_id), int(ttl))
    pipe.execute()


def read(client, job_id: str) -> dict[str, Any] | None:
    raw = client.hgetall(key(job_id))
    if not raw:
        return None
    out = {}
    for k, v in raw.items():
        k = k.decode() if isinstance(k, bytes) else k
        try:
            out[k] = json.loads(v)
        except (TypeError, ValueError):
            out[k] = v.decode() if isinstance(v, bytes) else v
    return out


def now() -> float:
    return round(time.time(), 3)


def runs_key(job_id: str) -> str:
    return f"{PREFIX}{job_id}:runs"


def count_run(client, job_id: str, ttl: int = DEFAULT_TTL) -> int:
    """Count a run of the job that has started; the count is cleared when a run ends (done, failed or retrying).

    So the count at start, minus one, is how many earlier runs never ended: their worker died
    (hard time limit, out-of-memory kill, crash) and the broker handed the job out again.
    """
    pipe = client.pipeline()
    pipe.incr(runs_key(job_id))
    pipe.expire(runs_key(job_id), int(ttl))
    return int(pipe.execute()[0])


def run_ended(client, job_id: str) -> None:
    client.delete(runs_key(job_id))
