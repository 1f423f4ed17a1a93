"""`vmsg jobs list|show`: the job ledger (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Optional

import typer

from vmsg.cli.common import LedgerOpt

jobs_app = typer.Typer(help="Jobs recorded in the ledger (--ledger or VMSG_LEDGER_URL).", no_args_is_help=True,
                       rich_markup_mode=None)
"""Other job commands (e.g. the queue's `jobs status`) add themselves to this group."""

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON")]


def _when(epoch: float | None) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if epoch else ""


@jobs_app.command("list")
def list_command(
    status: Annotated[Optional[str], typer.Option(help="queued, running, done, failed, skipped or interrupted")] = None,
    batch: Annotated[Optional[str], typer.Option(help="only this batch")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="newest first")] = 50,
    ledger: LedgerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The newest jobs."""
    from dataclasses import asdict

    from vmsg.errors import UsageError
    from vmsg.ledger import STATUSES, open_ledger

    if status is not None and status not in STATUSES:
        raise UsageError(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    records = open_ledger(ledger).list(status=status, batch=batch, limit=limit)
    if as_json:
        print(json.dumps([asdict(r) for r in records], ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    from vmsg.cli.output import stdout

    table = Table("id", "name", "status", "stage", "seconds", "created (UTC)", "output / error")
    for r in records:
        table.add_row(r.id, r.name or "", r.status, r.stage or "", f"{r.seconds:.1f}" if r.seconds is not None else "",
                      _when(r.created_at), (r.error or "").splitlines()[0] if r.error else (r.output or ""))
    stdout.print(table)


@jobs_app.command("show")
def show_command(
    job_id: Annotated[str, typer.Argument(help="job id (a unique prefix will do)")],
    ledger: LedgerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Everything recorded about one job."""
    from dataclasses import asdict

    from vmsg.errors import InputError
    from vmsg.ledger import open_ledger

    record = open_ledger(ledger).get(job_id)
    if record is None:
        raise InputError(f"no job {job_id!r} in the ledger")
    values = asdict(record)
    if as_json:
        print(json.dumps(values, ensure_ascii=False, indent=2))
        return
    for key in ("created_at", "started_at", "finished_at"):
        values[key] = _when(values[key])
    width = max(len(k) for k in values)
    for key, value in values.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        print(f"{key:<{width}}  {'' if value is None else value}")


def register(app: typer.Typer) -> None:
    from vmsg.cli.jobs_status import status_command

    jobs_app.command("status")(status_command)
    app.add_typer(jobs_app, name="jobs")
