"""The job ledger: one row per job (id, recipe hash, status, stage, timings,
output, error) in the reference design's `video_generations` table.

SQLite by default (one machine, no server); PostgreSQL by URL
(`postgresql://user@host/db`, psycopg 3) when several machines share work.
Batch runners and queue workers record through the same small API:

    ledger = open_ledger(url)              # None → VMSG_LEDGER_URL or the SQLite file
    ledger.add(job_id, name=…, recipe_hash=…, output=…, batch=…)
    ledger.start(job_id, worker="host:pid")
    ledger.stage(job_id, "synth", percent=30)
    ledger.finish(job_id, "done", seconds=…, engines={…}, timings={…})   # or "failed", error=…
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vmsg.errors import InputError, StorageError, TemporaryError

TABLE = "video_generations"
STATUSES = ("queued", "running", "done", "failed", "skipped", "interrupted")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id TEXT PRIMARY KEY,
    batch TEXT,
    name TEXT,
    recipe_hash TEXT,
    status TEXT NOT NULL,
    stage TEXT,
    percent DOUBLE PRECISION,
    output TEXT,
    error TEXT,
    error_kind TEXT,
    engines TEXT,
    timings TEXT,
    seconds DOUBLE PRECISION,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION
)"""
_INDEXES = (f"CREATE INDEX IF NOT EXISTS {TABLE}_batch ON {TABLE} (batch)",
            f"CREATE INDEX IF NOT EXISTS {TABLE}_status ON {TABLE} (status, created_at)")
COLUMNS = ("id", "batch", "name", "recipe_hash", "status", "stage", "percent", "output", "error", "error_kind",
           "engines", "timings", "seconds", "attempts", "worker", "created_at", "started_at", "finished_at")
JSON_COLUMNS = ("engines", "timings")


@dataclass
class JobRecord:
    id: str
    status: str
    batch: str | None = None
    name: str | None = None
    recipe_hash: str | None = None
    stage: str | None = None
    percent: float | None = None
    output: str | None = None
    error: str | None = None
    error_kind: str | None = None
    engines: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    attempts: int = 0
    worker: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def default_ledger_path() -> Path:
    home = os.environ.get("VMSG_HOME")
    if home:
        return Path(home).expanduser() / "ledger.sqlite"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "vmsg" / "ledger.sqlite"


class Ledger:
    """One connection, SQL shared by both databases (written with %s, rewritten to ? for SQLite)."""

    def __init__(self, conn: Any, *, kind: str, location: str) -> None:
        self.conn, self.kind, self.location = conn, kind, location
        self._execute(_SCHEMA)
        for sql in _INDEXES:
            self._execute(sql)

    def _sql(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.kind == "sqlite" else sql

    def _execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            cur = self.conn.execute(self._sql(sql), params)
            rows = cur.fetchall() if cur.description else []
            self.conn.commit()
            return rows
        except Exception as exc:  # noqa: BLE001 - each driver has its own error tree; rethrown as ours
            _rollback(self.conn)
            raise _ledger_error(self.location, exc) from exc

    def add(self, job_id: str, *, name: str | None = None, recipe_hash: str | None = None, output: str | None = None,
            batch: str | None = None, status: str = "queued") -> None:
        """Record a new job (or reset a job of the same id for another attempt)."""
        self._execute(
            f"INSERT INTO {TABLE} (id, batch, name, recipe_hash, status, output, created_at) VALUES (%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (id) DO UPDATE SET status = excluded.status, recipe_hash = excluded.recipe_hash, "
            "output = excluded.output, error = NULL, error_kind = NULL, stage = NULL, percent = NULL",
            (job_id, batch, name, recipe_hash, _status(status), output, time.time()),
        )

    def start(self, job_id: str, *, worker: str | None = None) -> None:
        self._execute(f"UPDATE {TABLE} SET status = 'running', attempts = attempts + 1, worker = %s, started_at = %s, "
                      "stage = NULL, percent = 0 WHERE id = %s", (worker or worker_name(), time.time(), job_id))

    def stage(self, job_id: str, stage: str, *, percent: float | None = None) -> None:
        self._execute(f"UPDATE {TABLE} SET stage = %s, percent = %s WHERE id = %s", (stage, percent, job_id))

    def finish(self, job_id: str, status: str, *, seconds: float | None = None, output: str | None = None,
               error: str | None = None, error_kind: str | None = None, engines: dict | None = None,
               timings: dict | None = None) -> None:
        percent = 100.0 if status in ("done", "skipped") else None
        self._execute(
            f"UPDATE {TABLE} SET status = %s, seconds = %s, output = COALESCE(%s, output), error = %s, error_kind = %s, "
            "engines = %s, timings = %s, finished_at = %s, percent = COALESCE(%s, percent) WHERE id = %s",
            (_status(status), seconds, output, error, error_kind, json.dumps(engines or {}), json.dumps(timings or {}),
             time.time(), percent, job_id),
        )

    def interrupt_running(self, batch: str) -> int:
        """Mark a batch's 'running' jobs as interrupted (called while holding the batch lock, after a crash)."""
        rows = self._execute(f"SELECT id FROM {TABLE} WHERE batch = %s AND status IN ('running', 'queued')", (batch,))
        self._execute(f"UPDATE {TABLE} SET status = 'interrupted', finished_at = %s "
                      "WHERE batch = %s AND status IN ('running', 'queued')", (time.time(), batch))
        return len(rows)

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE id = %s", (job_id,))
        if not rows:
            rows = self._execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE id LIKE %s ORDER BY created_at DESC",
                                 (f"{job_id}%",))
            if len(rows) > 1:
                raise InputError(f"job id {job_id!r} is ambiguous: {', '.join(r[0] for r in rows[:5])}")
        return _record(rows[0]) if rows else None

    def list(self, *, status: str | None = None, batch: str | None = None, limit: int = 50) -> list[JobRecord]:
        where, params = [], []
        if status:
            where.append("status = %s")
            params.append(_status(status))
        if batch:
            where.append("batch = %s")
            params.append(batch)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = self._execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} {clause}ORDER BY created_at DESC, id LIMIT %s",
                             (*params, int(limit)))
        return [_record(r) for r in rows]

    def close(self) -> None:
        self.conn.close()


def _status(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"job status {status!r} is not one of {', '.join(STATUSES)}")
    return status


def _record(row: tuple) -> JobRecord:
    values = dict(zip(COLUMNS, row))
    for name in JSON_COLUMNS:
        values[name] = json.loads(values[name]) if values[name] else {}
    return JobRecord(**values)


def _rollback(conn: Any) -> None:
    try:
        conn.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone; the original error matters
        pass


def _ledger_error(location: str, exc: Exception) -> Exception:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    temporary = isinstance(exc, sqlite3.OperationalError) and "locked" in text
    if type(exc).__module__.startswith("psycopg"):
        import psycopg

        temporary = isinstance(exc, psycopg.OperationalError)
    if temporary:
        return TemporaryError(f"job ledger {location}: {text}", hint="the database is busy or down; retry later")
    return StorageError(f"job ledger {location}: {text}")


def open_ledger(url: str | None = None) -> Ledger:
    """The ledger at `url`: `postgresql://…` (psycopg 3), `sqlite:///path`, a file path, or the default SQLite file."""
    url = url or os.environ.get("VMSG_LEDGER_URL")
    if url and url.startswith(("postgresql://", "postgres://")):
        return _open_postgres(url)
    if url and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))  # sqlite:///rel.db, sqlite:////abs/path.db
    else:
        path = Path(url) if url else default_ledger_path()
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"job ledger {path}: cannot be opened ({exc})", hint="set VMSG_LEDGER_URL or VMSG_HOME") from exc
    return Ledger(conn, kind="sqlite", location=str(path))


def _open_postgres(url: str) -> Ledger:
    from vmsg.cache import _safe_url

    try:
        import psycopg
    except ImportError as exc:
        raise StorageError("a postgresql:// ledger needs psycopg 3", hint="pip install 'vmsg[batch]'") from exc
    try:
        conn = psycopg.connect(url, connect_timeout=5)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreachable"
        raise TemporaryError(f"job ledger {_safe_url(url)}: cannot connect ({first})",
                             hint="check the server and the URL; nothing was run") from exc
    return Ledger(conn, kind="postgresql", location=_safe_url(url))
