"""Typer options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu or cuda (cuda where unavailable is an error)")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="output file (written atomically)")]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="override a recipe field: key.sub=value (repeatable)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="print nothing but errors")]
BrokerOpt = Annotated[Optional[str], typer.Option("--broker", envvar="VMSG_BROKER_URL", show_envvar=True,
                                                  help="Redis URL of the job queue, e.g. redis://127.0.0.1:6379/0")]
ResultBackendOpt = Annotated[Optional[str], typer.Option("--result-backend", envvar="VMSG_RESULT_BACKEND",
                                                         help="Redis URL for job states (default: the broker)")]
PresignOpt = Annotated[Optional[int], typer.Option("--presign", metavar="SECONDS",
                                                   help="put a presigned URL of each s3:// output, valid this long, in its report")]
SelectOpt = Annotated[Optional[str], typer.Option(help="which person: largest, center, index, point or all")]
IndexOpt = Annotated[Optional[int], typer.Option(help="pick person N (0 = leftmost); implies --select index")]
PointOpt = Annotated[Optional[str], typer.Option(help="pick the person at pixel x,y; implies --select point")]


def implied_select(select: Optional[str], index: Optional[int], point: Optional[str]) -> Optional[str]:
    """--index N or --point x,y alone mean --select index / point."""
    if select is None:
        return "index" if index is not None else "point" if point is not None else None
    return select


def build_options(model, /, **fields):
    """Options from the flags that were given (None = not given, so the model's default holds).

    A value out of range becomes a usage error naming the flag.
    """
    from pydantic import ValidationError

    from vmsg.errors import UsageError

    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"--{'-'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})" if e["loc"]
            else e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise UsageError(problems) from None

JobsOpt = Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, max=64, help="worker processes (each loads the models once)")]
ResumeOpt = Annotated[Optional[bool], typer.Option("--resume/--no-resume", help="skip jobs whose output exists and matches its content key")]
CacheUrlOpt = Annotated[Optional[str], typer.Option("--cache-url", "--cache", help="shared cache: redis://host:port/db or s3://bucket/prefix (default: the local folder VMSG_CACHE_DIR)")]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="compute every stage, store nothing")]
LedgerOpt = Annotated[Optional[str], typer.Option("--ledger", help="job ledger: postgresql://… or a SQLite file (default: VMSG_LEDGER_URL or ~/.local/state/vmsg/ledger.sqlite)")]
NoLedgerOpt = Annotated[bool, typer.Option("--no-ledger", help="do not record jobs in the ledger")]
ReportOpt = Annotated[Optional[Path], typer.Option("--report", help="batch report (JSON, one entry per job)")]
