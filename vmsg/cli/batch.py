"""`vmsg batch`: one video per row of a CSV/JSONL file, from a template recipe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import (CacheUrlOpt, JobsOpt, LedgerOpt, NoCacheOpt, NoLedgerOpt, QuietOpt, ReportOpt, ResumeOpt,
                             SetOpt)


def batch_command(
    messages: Annotated[Path, typer.Argument(help="messages.csv or messages.jsonl (columns: name, text, image, voice, output)")],
    template: Annotated[Path, typer.Option("--template", "-t", help="recipe giving everything a row leaves out")],
    out_dir: Annotated[Optional[str], typer.Option("--out-dir", help="where <name>.mp4 go: a folder or s3://bucket/prefix "
                                                                    "(default: the template's output folder)")] = None,
    jobs: JobsOpt = None,
    resume: ResumeOpt = None,
    cache_url: CacheUrlOpt = None,
    no_cache: NoCacheOpt = False,
    ledger: LedgerOpt = None,
    no_ledger: NoLedgerOpt = False,
    report: ReportOpt = None,
    set_: SetOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Render every message of MESSAGES; a second run of the same file waits for nothing and exits 75."""
    from vmsg.batch import BatchSettings, jobs_from_rows, validate_jobs
    from vmsg.batch_input import read_rows
    from vmsg.locks import exclusive, lock_path_for
    from vmsg.recipe import load_recipe
    from vmsg.storage_uri import is_s3

    settings = BatchSettings(workers=jobs or 1, resume=True if resume is None else resume, use_cache=not no_cache,
                             cache_url=cache_url, use_ledger=not no_ledger, ledger_url=ledger,
                             batch_id=lock_path_for(messages).stem, clean_parts=True)
    with exclusive(messages):
        rows = read_rows(messages)
        recipe = load_recipe(template, overrides=list(set_ or []))
        planned = jobs_from_rows(rows, recipe, batch_file=messages, out_dir=out_dir)
        validate_jobs(planned)
        first = planned[0].recipe.output
        folder = messages.resolve().parent if is_s3(first) else Path(first).parent  # the batch report stays local
        report_path = report or folder / f"{messages.stem}.batch-report.json"
        execute(planned, settings, report_path, quiet)


def execute(planned, settings, report_path: Path | None, quiet: bool) -> None:
    """Run validated jobs with progress, write the report, print the summary, exit with the batch's code."""
    from vmsg.batch import run_batch
    from vmsg.cli.output import done, is_tty, stderr

    settings.stage_events = not quiet and not is_tty()
    if is_tty() and not quiet:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=stderr, transient=False) as progress:
            task = progress.add_task(f"rendering {len(planned)} job(s)", total=len(planned))

            def on_job(result) -> None:
                mark = {"done": "[green]✓[/]", "skipped": "[dim]=[/]", "failed": "[red]✗[/]"}[result.status]
                tail = f" {result.seconds:.1f} s" if result.status == "done" else ("" if result.status == "skipped" else f" {result.error}")
                progress.console.print(f"{mark} {result.name} → {result.output}{tail}")
                progress.advance(task)

            report = run_batch(planned, settings, on_job=on_job)
    else:
        import json
        import sys

        def on_job(result) -> None:
            if quiet and result.status != "failed":
                return
            record = {"event": "job", "id": result.id, "name": result.name, "status": result.status,
                      "output": result.output, "seconds": result.seconds, "error": result.error}
            print(json.dumps(record, ensure_ascii=False), file=sys.stderr, flush=True)

        report = run_batch(planned, settings, on_job=on_job)
    if report_path is not None:
        report.write(report_path)
    counts = report.counts
    done(f"{counts['done']} done, {counts['skipped']} skipped (up to date), {counts['failed']} failed "
         f"in {report.seconds:.1f} s" + (f"; report {report_path}" if report_path else ""),
         quiet, **counts, report=str(report_path) if report_path else None, exit_code=report.exit_code)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    app.command("batch")(batch_command)
