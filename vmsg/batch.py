"""Many renders on one machine: plan every job, validate them all, then run them
in N worker processes (each loads its engines once), recording each in the job
ledger and a batch report. One failed job never stops the others.

Resuming is safe because outputs are atomic and every finished output carries its
content key in the run report beside it: a job whose output matches is skipped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vmsg.batch_input import Row
from vmsg.errors import InputError, RecipeError, TemporaryError, VmsgError
from vmsg.recipe import Recipe, deep_merge, load_recipe, validate_recipe

log = logging.getLogger(__name__)

STAGE_PERCENT = {"segment": 5.0, "synth": 25.0, "clone": 45.0, "prosody": 55.0, "mix": 65.0, "render": 75.0}
"""Rough share of a job done when each stage starts (render is the slowest), for `vmsg jobs` and queue status."""


@dataclass
class Job:
    id: str
    name: str
    source: str
    recipe: Recipe
    key: str = ""


@dataclass
class JobResult:
    id: str
    name: str
    source: str
    output: str
    status: str
    seconds: float = 0.0
    exit_code: int = 0
    error: str | None = None
    error_kind: str | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)
    engines: dict[str, str | None] = field(default_factory=dict)


@dataclass
class BatchSettings:
    """How to run a batch; the URLs are None for the defaults (see vmsg.cache, vmsg.ledger)."""

    workers: int = 1
    resume: bool = True
    use_cache: bool = True
    cache_url: str | None = None
    use_ledger: bool = True
    ledger_url: str | None = None
    batch_id: str | None = None
    stage_events: bool = False
    clean_parts: bool = False
    presign: int | None = None


@dataclass
class BatchReport:
    batch: str | None
    started_at: str
    workers: int
    jobs: list[JobResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        out = {"done": 0, "skipped": 0, "failed": 0}
        for job in self.jobs:
            out[job.status] = out.get(job.status, 0) + 1
        return out

    @property
    def exit_code(self) -> int:
        """0 all done; 75 when every failure is worth retrying; 1 when anything else failed."""
        failed = [j for j in self.jobs if j.status == "failed"]
        if not failed:
            return 0
        return 75 if all(j.exit_code == 75 for j in failed) else 1

    def to_dict(self) -> dict[str, Any]:
        from vmsg.report import redact

        return redact({"batch": self.batch, "started_at": self.started_at, "seconds": round(self.seconds, 3),
                       "workers": self.workers, "counts": self.counts, "exit_code": self.exit_code,
                       "jobs": [asdict(j) for j in self.jobs]})

    def write(self, path: Path | str) -> Path:
        from vmsg.store import write_bytes_atomic

        return write_bytes_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2).encode("utf-8"))


# ---------------------------------------------------------------- planning


def row_fields(row: Row, base: Path) -> dict[str, Any]:
    """The recipe fields a message row sets; paths relative to the batch file's folder.

    `voice` is a voice name, or `engine:voice` to switch engines too.
    """
    fields: dict[str, Any] = {"text": row.text}
    if row.image:
        fields["image"] = _resolve(base, row.image)
    if row.output:
        fields["output"] = _resolve(base, row.output)
    if row.voice:
        engine, sep, voice = row.voice.partition(":")
        fields["voice"] = {"engine": engine, "voice": voice or None} if sep else {"voice": row.voice}
    return fields


def jobs_from_rows(rows: list[Row], template: Recipe, *, batch_file: Path, out_dir: Path | str | None = None) -> list[Job]:
    """One job per row: the template with the row's text, image, voice and output (`out_dir` may be s3://…)."""
    from vmsg.ledger import new_job_id

    base = batch_file.resolve().parent
    out_dir = _out_folder(str(out_dir) if out_dir else None, template.output)
    data = template.model_dump()
    jobs, problems = [], []
    for row in rows:
        fields = row_fields(row, base)
        item = deep_merge(json.loads(json.dumps(data)), fields)
        if "output" not in fields:
            item["output"] = f"{out_dir}/{row.name}.mp4"
        source = f"{batch_file}:{row.line}"
        try:
            recipe = validate_recipe(item, source=source)
        except RecipeError as exc:
            problems.append(str(exc).replace("invalid recipe\n  ", ""))
            continue
        jobs.append(Job(new_job_id(), row.name, source, recipe))
    if problems:
        raise InputError(f"batch file {batch_file}: {len(problems)} problem(s), nothing was run\n  " + "\n  ".join(problems))
    return jobs


def _out_folder(out_dir: str | None, template_output: str) -> str:
    """Where rows' videos go, without a trailing slash; an s3:// folder stays a URI (a Path would fold its //)."""
    from vmsg.storage_uri import is_s3

    if out_dir:
        return out_dir.rstrip("/") if is_s3(out_dir) else str(Path(out_dir).resolve())
    return template_output.rpartition("/")[0] if is_s3(template_output) else str(Path(template_output).parent)


def jobs_from_recipes(paths: list[Path], overrides: list[str] | None = None) -> list[Job]:
    """One job per recipe file; every file is loaded (and so validated) before any job runs."""
    from vmsg.ledger import new_job_id

    jobs, problems = [], []
    for path in paths:
        try:
            recipe = load_recipe(path, overrides=overrides)
        except RecipeError as exc:
            problems.append(str(exc))
            continue
        jobs.append(Job(new_job_id(), Path(path).stem, str(path), recipe))
    if problems:
        raise RecipeError(f"{len(problems)} recipe(s) are invalid, nothing was run\n  " + "\n  ".join(problems))
    return jobs


def _resolve(base: Path, value: str) -> str:
    return value if Path(value).is_absolute() or "://" in value else str((base / value).resolve())


def validate_jobs(jobs: list[Job]) -> None:
    """Check every job's inputs and outputs, and that no two jobs write the same file; compute content keys."""
    from vmsg.pipeline import check_inputs, job_key
    from vmsg.text import normalize_text

    problems: list[str] = []
    temporary = 0
    outputs: dict[str, Job] = {}
    hashes: dict[str, str] = {}
    for job in jobs:
        try:
            normalize_text(job.recipe.text, what="text")
            check_inputs(job.recipe)
            job.key = job_key(job.recipe, _cached_hashes(job.recipe, hashes))
        except VmsgError as exc:
            problems.append(f"{job.source} ({job.name}): {exc.message}")
            temporary += isinstance(exc, TemporaryError)
        out = str(Path(job.recipe.output).resolve())
        if out in outputs:
            problems.append(f"{job.source} ({job.name}): output {out} is also written by {outputs[out].source} "
                            f"({outputs[out].name}); give each message its own name or output")
        else:
            outputs[out] = job
    if problems:
        message = f"{len(problems)} job(s) cannot run, nothing was run\n  " + "\n  ".join(problems)
        # Only when every problem may pass (an endpoint down) is the whole batch worth retrying as is.
        raise (TemporaryError if temporary == len(problems) else InputError)(message)


def _cached_hashes(recipe: Recipe, memo: dict[str, str]) -> dict[str, Any]:
    """input_hashes, hashing a file shared by many jobs (the portrait, the music) once."""
    from vmsg.pipeline import input_hashes
    from vmsg.report import sha256_file
    from vmsg.storage_uri import is_s3

    def memo_sha(path: Any) -> str:
        if is_s3(path):
            return remote_fingerprint(str(path))
        stat = os.stat(path)
        tag = f"{os.path.realpath(path)}:{stat.st_size}:{stat.st_mtime_ns}"
        if tag not in memo:
            memo[tag] = sha256_file(path)
        return memo[tag]

    return input_hashes(recipe, sha=memo_sha)


def content_key(recipe: Recipe) -> str:
    """The content key of one recipe as `validate_jobs` computes it (s3:// inputs by ETag and size)."""
    from vmsg.pipeline import job_key

    return job_key(recipe, _cached_hashes(recipe, {}))


def remote_fingerprint(uri: str) -> str:
    """What stands for an s3:// input's content without downloading it: its ETag and size."""
    from vmsg.store import s3_store

    head = s3_store().head(uri)
    return f"s3:{head.get('ETag', '').strip(chr(34))}:{head.get('ContentLength', '')}"


def remove_stale_parts(output: Path | str) -> int:
    """Delete temporary files an interrupted run left beside `output` (never a final name)."""
    output = Path(output)
    removed = 0
    for pattern in (f".{output.stem}.*.part{output.suffix}", f".{output.stem}.report.*.part.json"):
        for part in output.parent.glob(pattern):
            try:
                part.unlink()
                removed += 1
            except OSError:
                pass
    return removed


# ---------------------------------------------------------------- running


def run_batch(jobs: list[Job], settings: BatchSettings, *, on_job: Callable[[JobResult], None] | None = None) -> BatchReport:
    """Run validated jobs; returns the report (never raises for a failed job)."""
    from vmsg.pipeline import is_up_to_date

    report = BatchReport(settings.batch_id, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), settings.workers)
    started = time.perf_counter()
    notify = on_job or (lambda _: None)
    _check_services(settings)
    ledger = _ledger(settings)
    if ledger is not None and settings.batch_id:
        ledger.interrupt_running(settings.batch_id)
    todo = []
    for job in jobs:
        if ledger is not None:
            ledger.add(job.id, name=job.name, recipe_hash=job.key, output=job.recipe.output, batch=settings.batch_id)
        if settings.resume and is_up_to_date(job.recipe.output, job.key):
            result = JobResult(job.id, job.name, job.source, job.recipe.output, "skipped")
            if ledger is not None:
                ledger.finish(job.id, "skipped", output=job.recipe.output)
            report.jobs.append(result)
            notify(result)
            continue
        if settings.clean_parts:
            remove_stale_parts(job.recipe.output)
        todo.append(job)
    if settings.workers <= 1 or len(todo) <= 1:
        for job in todo:
            result = run_job(job, settings)
            report.jobs.append(result)
            notify(result)
    else:
        for result in _run_pool(todo, settings):
            report.jobs.append(result)
            notify(result)
    order = {job.id: i for i, job in enumerate(jobs)}
    report.jobs.sort(key=lambda r: order.get(r.id, 0))
    report.seconds = time.perf_counter() - started
    return report


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """The batch's worker processes: fresh (spawned), each with its share of the CPUs' threads."""
    import multiprocessing

    from vmsg.threads import share

    context = multiprocessing.get_context("spawn")
    from vmsg.worker_process import init_batch_process

    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_batch_process,
                               initargs=(share(workers),))


def _run_pool(jobs: list[Job], settings: BatchSettings):
    from concurrent.futures.process import BrokenProcessPool

    with worker_pool(settings.workers) as pool:
        futures = {pool.submit(run_job, job, settings): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                yield future.result()
            except BrokenProcessPool:
                yield JobResult(job.id, job.name, job.source, job.recipe.output, "failed", exit_code=75,
                                error="the worker process died (killed or out of memory); rerun to finish it",
                                error_kind="TemporaryError")


_PROCESS: dict[str, Any] = {}


def _process_cache(settings: BatchSettings):
    if not settings.use_cache:
        return None
    from vmsg.cache import process_cache

    return process_cache(settings.cache_url)


def _ledger(settings: BatchSettings):
    if not settings.use_ledger:
        return None
    from vmsg.ledger import default_ledger_path

    key = f"ledger:{settings.ledger_url or os.environ.get('VMSG_LEDGER_URL') or default_ledger_path()}:{os.getpid()}"
    if key not in _PROCESS:
        from vmsg.ledger import open_ledger

        _PROCESS[key] = open_ledger(settings.ledger_url)
    return _PROCESS[key]


def _check_services(settings: BatchSettings) -> None:
    """Reach the cache before any job runs: an unreachable shared cache is a temporary failure (exit 75)."""
    cache = _process_cache(settings)
    if cache is not None:
        cache.check()


def run_job(job: Job, settings: BatchSettings) -> JobResult:
    """Render one job (in a worker or in-process); every error becomes a failed result."""
    from vmsg.pipeline import run_recipe

    started = time.perf_counter()
    ledger = _safe(lambda: _ledger(settings))
    _ledger_call(ledger, "start", job.id)

    def on_event(event) -> None:
        if event.status == "start":
            _ledger_call(ledger, "stage", job.id, event.stage, percent=STAGE_PERCENT.get(event.stage))
        if settings.stage_events:
            record = {"event": "stage", "job": job.id, "name": job.name, "stage": event.stage, "status": event.status,
                      "seconds": None if event.seconds is None else round(event.seconds, 3), **event.detail}
            print(json.dumps(record, ensure_ascii=False), file=sys.stderr, flush=True)

    result = JobResult(job.id, job.name, job.source, job.recipe.output, "done")
    try:
        report = run_recipe(job.recipe, source=job.source, on_event=on_event, cache=_process_cache(settings),
                            presign=settings.presign)
        result.stages = [{"stage": s.stage, "engine": s.engine, "seconds": s.seconds, **s.detail} for s in report.stages]
        result.engines = {s.stage: s.engine_version or s.engine for s in report.stages}
    except VmsgError as exc:
        error = _disk_full(exc, job) or exc
        result.status, result.error, result.error_kind, result.exit_code = "failed", str(error), type(error).__name__, error.exit_code
    except Exception as exc:  # noqa: BLE001 - one broken job must not stop the batch; the report keeps the cause
        log.exception("job %s (%s) failed unexpectedly", job.name, job.source)
        error = _disk_full(exc, job)
        if error is not None:
            result.error, result.error_kind, result.exit_code = str(error), type(error).__name__, error.exit_code
        else:
            result.error, result.error_kind, result.exit_code = f"internal error: {type(exc).__name__}: {exc}", type(exc).__name__, 1
        result.status = "failed"
    result.seconds = round(time.perf_counter() - started, 3)
    timings = {s["stage"]: s["seconds"] for s in result.stages}
    _ledger_call(ledger, "finish", job.id, result.status, seconds=result.seconds, output=result.output,
                 error=result.error, error_kind=result.error_kind, engines=result.engines, timings=timings)
    return result


def _disk_full(exc: BaseException, job: Job) -> VmsgError | None:
    """A full disk anywhere in the cause chain → a clear temporary error (free space, rerun: done jobs are kept)."""
    seen: BaseException | None = exc
    while seen is not None:
        if (isinstance(seen, OSError) and seen.errno == errno.ENOSPC) or "No space left on device" in str(seen):
            folder = Path(job.recipe.output).parent
            return TemporaryError(f"output {job.recipe.output}: the disk holding {folder} is full",
                                  hint="free some space and run the batch again; finished videos are kept")
        seen = seen.__cause__ or seen.__context__
    return None


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except VmsgError as exc:
        log.warning("job ledger unavailable in this worker (%s); the batch report still records every job", exc)
        return None


def _ledger_call(ledger: Any, method: str, *args: Any, **kwargs: Any) -> None:
    if ledger is None:
        return
    try:
        getattr(ledger, method)(*args, **kwargs)
    except VmsgError as exc:
        log.warning("job ledger: %s failed (%s)", method, exc)


@contextlib.contextmanager
def recorded(job: Job, settings: BatchSettings) -> Iterator[Callable[[Any], None]]:
    """Record one render run outside a batch in the ledger; yields an event sink for its stages."""
    ledger = _safe(lambda: _ledger(settings))
    _ledger_call(ledger, "add", job.id, name=job.name, recipe_hash=job.key, output=job.recipe.output)
    _ledger_call(ledger, "start", job.id)
    started = time.perf_counter()

    def on_event(event: Any) -> None:
        if event.status == "start":
            _ledger_call(ledger, "stage", job.id, event.stage, percent=STAGE_PERCENT.get(event.stage))

    try:
        yield on_event
    except BaseException as exc:
        error = exc if isinstance(exc, VmsgError) else None
        _ledger_call(ledger, "finish", job.id, "failed", seconds=round(time.perf_counter() - started, 3),
                     error=str(exc) or type(exc).__name__, error_kind=type(error or exc).__name__)
        raise
    _ledger_call(ledger, "finish", job.id, "done", seconds=round(time.perf_counter() - started, 3))
