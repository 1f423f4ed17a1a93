"""`vmsg submit`: queue recipes or message rows for `vmsg worker`s; prints one job id per line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import BrokerOpt, PresignOpt, QuietOpt, ResultBackendOpt, SetOpt


def submit_command(
    inputs: Annotated[list[Path], typer.Argument(help="recipe YAML files, or message rows (.csv/.jsonl) with --template")],
    template: Annotated[Optional[Path], typer.Option(help="recipe the message rows are laid over")] = None,
    set_: SetOpt = None,
    broker: BrokerOpt = None,
    result_backend: ResultBackendOpt = None,
    priority: Annotated[Optional[str], typer.Option(help="high, normal or low")] = None,
    presign: PresignOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="print one JSON object per job instead of bare ids")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Validate every job, then queue them all; exit 75 (retry later) when the broker is down."""
    import json

    from vmsg.cli.output import done
    from vmsg.errors import UsageError
    from vmsg.storage_uri import redact_url
    from vmsg.worker.app import make_celery
    from vmsg.worker.submit import check_jobs, load_jobs, ping_broker, submit_jobs

    if not broker:
        raise UsageError("give --broker redis://host:6379/0 (or set VMSG_BROKER_URL)")
    jobs = load_jobs(list(inputs), template=template, overrides=list(set_ or []))
    check_jobs(jobs, presign=presign)
    ping_broker(broker)
    app = make_celery(broker, result_backend)
    kwargs = {"priority": priority} if priority else {}
    queued = submit_jobs(app, jobs, presign=presign, **kwargs)
    for job_id, job in queued:
        if json_:
            print(json.dumps({"id": job_id, "name": job.name, "output": job.recipe.output}, ensure_ascii=False), flush=True)
        else:
            print(job_id, flush=True)
    done(f"queued {len(queued)} job(s) on {redact_url(broker)}", quiet, jobs=len(queued))


def register(app: typer.Typer) -> None:
    app.command("submit")(submit_command)
