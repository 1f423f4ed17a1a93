"""`vmsg jobs status ID…`: state, stage and percent of queued jobs (attached to the
`vmsg jobs` group of vmsg/cli/jobs.py, beside `list` and `show`)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from vmsg.cli.common import BrokerOpt, ResultBackendOpt


def status_command(
    job_ids: Annotated[list[str], typer.Argument(help="job ids printed by vmsg submit")],
    broker: BrokerOpt = None,
    result_backend: ResultBackendOpt = None,
    wait: Annotated[Optional[float], typer.Option(help="wait up to this many seconds for the jobs to finish")] = None,
    json_: Annotated[bool, typer.Option("--json", help="one JSON object per job")] = False,
) -> None:
    """Show each job's state, stage and percent. With --wait: exit 1 if one failed, 75 if time ran out."""
    import json
    import time

    from vmsg.errors import UsageError
    from vmsg.worker.app import make_celery
    from vmsg.worker.status import job_status

    if not broker and not result_backend:
        raise UsageError("give --broker redis://host:6379/0 (or set VMSG_BROKER_URL)")
    app = make_celery(broker or result_backend, result_backend)
    deadline = time.monotonic() + (wait or 0)
    while True:
        statuses = [job_status(app, job_id) for job_id in job_ids]
        if wait is None or all(s["done"] for s in statuses) or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    for s in statuses:
        if json_:
            print(json.dumps(s, ensure_ascii=False), flush=True)
            continue
        percent = "" if s.get("percent") is None else f"{s['percent']:>3}%"
        line = f"{s['id']}  {s['state']:<8} {s.get('stage') or '':<8} {percent:>4}  {s.get('name') or ''}  {s.get('output') or ''}"
        print(line.rstrip(), flush=True)
        if s.get("error"):
            print(f"    error: {s['error']}", flush=True)
    if wait is not None:
        if any(s["state"] == "FAILURE" for s in statuses):
            raise typer.Exit(1)
        if not all(s["done"] for s in statuses):
            raise typer.Exit(75)

