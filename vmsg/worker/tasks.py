"""The job a worker runs: one recipe (a dict), rendered with models loaded once per process.

Progress goes to Celery's result backend as the custom state PROGRESS with meta
{stage, percent}; the same facts go to the job's record (vmsg.worker.records) and to
vmsg.worker.hooks.on_job_event (where the ledger plugs in).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vmsg.worker import TASK_NAME
from vmsg.worker import hooks, records

logger = logging.getLogger(__name__)

PROGRESS = "PROGRESS"
PROCESS_STATS = {"jobs": 0, "pid": os.getpid()}
SINK = None
"""The worker's MetricsSink (set by vmsg.cli.worker before the pool starts)."""


def planned_stages(recipe) -> list[str]:
    """The steps a job goes through, in order, for its percent figure."""
    from vmsg.remote import input_uris
    from vmsg.storage_uri import is_s3

    stages = ["fetch"] if any(is_s3(v) for _, v in input_uris(recipe)) else []
    stages += ["segment", "synth"]
    if recipe.clone is not None:
        stages.append("clone")
    if not recipe.prosody.is_neutral:
        stages.append("prosody")
    return [*stages, "enhance", "mix", "render", "publish"]


def recipe_hash(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def engines_loaded() -> int:
    """How many engine instances this process holds (they load once and are reused)."""
    from vmsg.backends.clone import VOICE_CONVERTERS
    from vmsg.backends.mix import MIXERS
    from vmsg.backends.prosody import PROSODY_ENGINES
    from vmsg.backends.render import RENDERERS
    from vmsg.backends.segment import SEGMENTERS
    from vmsg.backends.tts import SPEECH_ENGINES

    registries = (VOICE_CONVERTERS, MIXERS, PROSODY_ENGINES, RENDERERS, SEGMENTERS, SPEECH_ENGINES)
    return sum(len(r._instances) for r in registries)  # noqa: SLF001 - a count, for the job result


def _safe(fn, *args, **kwargs) -> None:
    """Side records (Redis record, hook, metrics) must never fail a job."""
    try:
        fn(*args, **kwargs)
    except Exception:  # noqa: BLE001
        logger.warning("job bookkeeping failed", exc_info=True)


def cache_url_of(options) -> str | None:
    """The worker's shared cache: --cache, else $VMSG_CACHE_URL; None means no cache.

    Unlike `vmsg render`, a worker has no private cache by default: the point of a
    worker cache is to share stage results between machines.
    """
    return options.cache_url or os.environ.get("VMSG_CACHE_URL") or None


def worker_cache(options):
    """The process's cache (opened once per pool process), or None."""
    url = cache_url_of(options)
    if url is None:
        return None
    from vmsg.cache import process_cache

    return process_cache(url)


def run_job(task, payload: dict[str, Any], options) -> dict[str, Any]:
    """Body of the Celery task; `task` is the bound task (for id, retries, update_state), `options` the WorkerOptions."""
    from celery.exceptions import SoftTimeLimitExceeded
    from celery.utils.time import get_exponential_backoff_interval

    from vmsg.errors import BackendError, TemporaryError, VmsgError
    from vmsg.metrics import job_metrics
    from vmsg.recipe import validate_recipe
    from vmsg.remote import run_staged
    from vmsg.threads import threads

    job_id = task.request.id
    client = task.backend.client
    worker = task.request.hostname or socket.gethostname()
    attempt = task.request.retries + 1
    started = time.monotonic()
    metrics = job_metrics()
    PROCESS_STATS["jobs"] += 1
    current = {"stage": "validate", "percent": 0}

    def progress(stage: str, percent: int) -> None:
        current.update(stage=stage, percent=percent)
        meta = {"stage": stage, "percent": percent, "worker": worker, "pid": os.getpid(), "attempt": attempt}
        _safe(task.update_state, state=PROGRESS, meta=meta)
        _safe(records.write, client, job_id, stage=stage, percent=percent, status="running", worker=worker)
        _safe(hooks.on_job_event, job_id, "stage", stage=stage, percent=percent)

    _give_up_if_poison(job_id, client, metrics, options)
    _safe(records.write, client, job_id, status="running", worker=worker, attempt=attempt, started_at=records.now())
    _safe(hooks.on_job_event, job_id, "started", worker=worker, attempt=attempt, name=payload.get("name"),
          output=(payload.get("recipe") or {}).get("output"))
    try:
        recipe = validate_recipe(payload["recipe"], source=payload.get("source") or f"job {job_id}")
        plan = planned_stages(recipe)
        finished: list[str] = []

        def on_event(event) -> None:
            if event.status == "start":
                progress(event.stage, round(100 * len(finished) / len(plan)))
            elif event.status == "done":
                finished.append(event.stage)
                if event.seconds is not None:
                    _safe(metrics.stage_done, event.stage, event.seconds)

        report = run_staged(recipe, source=payload.get("source"), on_event=on_event, presign=payload.get("presign"),
                            cache=worker_cache(options))
    except SoftTimeLimitExceeded:
        error = BackendError(f"job {job_id} stopped: over the soft time limit of {options.soft_time_limit:g} s "
                             f"(in stage {current['stage']})")
        _finish_failed(job_id, client, metrics, error, current["stage"], started)
        raise error from None
    except TemporaryError as exc:
        if task.request.retries < options.max_retries:
            # a delayed retry waits unacknowledged in a worker: keep it well inside the visibility timeout
            ceiling = min(options.retry_backoff_max, options.visibility_timeout / 2)
            countdown = get_exponential_backoff_interval(options.retry_backoff, task.request.retries, ceiling)
            _safe(metrics.job_finished, "retried")
            _safe(records.write, client, job_id, status="retrying", error=str(exc), stage=current["stage"])
            _safe(hooks.on_job_event, job_id, "retry", error=str(exc), countdown=countdown)
            _safe(records.run_ended, client, job_id)
            _safe(_flush)
            raise task.retry(exc=exc, countdown=countdown) from None
        _finish_failed(job_id, client, metrics, exc, current["stage"], started)
        raise
    except VmsgError as exc:
        _finish_failed(job_id, client, metrics, exc, current["stage"], started)
        raise
    except Exception as exc:
        _finish_failed(job_id, client, metrics, exc, current["stage"], started)
        raise BackendError(f"job {job_id} failed in stage {current['stage']}: {type(exc).__name__}: {exc}") from None

    seconds = round(time.monotonic() - started, 3)
    video = report.outputs.get("video", {})
    result = {
        "status": "done", "stage": "done", "percent": 100, "output": report.output, "report": report.outputs.get("report"),
        "seconds": seconds, "video_seconds": video.get("seconds"), "worker": worker, "pid": os.getpid(),
        "attempt": attempt, "jobs_in_process": PROCESS_STATS["jobs"], "engines_loaded": engines_loaded(),
        "threads": threads(),
        "finished_at": records.now(),
    }
    # a presigned URL is a credential: it goes to the report and the job record, never into the
    # Celery result (workers log results)
    signed = {k: video[k] for k in ("presigned_url", "presigned_expires_at") if k in video}
    _safe(metrics.job_finished, "done", seconds)
    _safe(records.write, client, job_id, status="done", stage="done", percent=100, output=report.output,
          report=result["report"], finished_at=result["finished_at"], seconds=seconds, **signed)
    _safe(hooks.on_job_event, job_id, "done", output=report.output, seconds=seconds, report=result["report"])
    _safe(records.run_ended, client, job_id)
    _safe(_flush)
    return result


def _give_up_if_poison(job_id: str, client, metrics, options) -> None:
    """A job whose earlier runs all killed their worker is failed here, before it runs again.

    With acks late and reject-on-worker-lost, the broker hands a job out again whenever the process
    running it dies; a job that always kills its process would loop forever. Raising here fails
    the task, which Celery then acknowledges: it is never delivered again.
    """
    from vmsg.errors import BackendError

    try:
        lost = records.count_run(client, job_id, ttl=options.result_expires) - 1
        stage = (records.read(client, job_id) or {}).get("stage") if lost else None
    except Exception:  # noqa: BLE001 - Redis trouble must not stop a job; the broker's own retry handles Redis
        logger.warning("job %s: could not count its runs", job_id, exc_info=True)
        return
    if lost < options.max_deliveries:
        return
    where = f" (last in stage {stage})" if stage else ""
    error = BackendError(f"job {job_id}: worker lost {lost} times while running this job{where}; giving up",
                         hint="the job kills its worker: look for out-of-memory kills or crashes in the worker logs, "
                              "or raise --time-limit / --max-deliveries")
    _finish_failed(job_id, client, metrics, error, stage or "lost", None, ended=False)
    raise error


def _finish_failed(job_id: str, client, metrics, exc: Exception, stage: str, started: float | None,
                   ended: bool = True) -> None:
    message = str(exc)
    timing = {"seconds": round(time.monotonic() - started, 3)} if started is not None else {}
    _safe(metrics.job_finished, "failed")
    _safe(records.write, client, job_id, status="failed", stage=stage, error=message, finished_at=records.now(), **timing)
    _safe(hooks.on_job_event, job_id, "failed", error=message, stage=stage)
    if ended:
        _safe(records.run_ended, client, job_id)
    _safe(_flush)


def _flush() -> None:
    if SINK is not None:
        SINK.flush()


_TIMEOUT_RECORDER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vmsg-timeout-record")
"""Records hard-time-limit failures off the worker's event loop.

Celery calls on_failure *before* it kills the timed-out process, which may be frozen holding the
SQLite ledger's write lock: recorded inline, the whole worker would wait out the lock's timeout and
the failure would be lost. In this thread the write simply goes through once the process is gone.
"""


def register_tasks(app, options) -> None:
    """Attach the render task to `app` with the retry settings of `options` (a WorkerOptions)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """A hard time limit kills the job's process, so run_job cannot record it: the worker does, here."""
        from celery.exceptions import TimeLimitExceeded

        from vmsg.metrics import job_metrics

        if isinstance(exc, TimeLimitExceeded):
            error = f"job {task_id} killed: over the hard time limit of {options.time_limit:g} s"
            _TIMEOUT_RECORDER.submit(_finish_failed, task_id, self.backend.client, job_metrics(), RuntimeError(error),
                                     "timeout", None, ended=False)

    @app.task(bind=True, name=TASK_NAME, max_retries=options.max_retries, acks_late=True, reject_on_worker_lost=True,
              on_failure=on_failure)
    def render_job(self, payload: dict[str, Any]) -> dict[str, Any]:
        return run_job(self, payload, options)


PRELOAD_STAGES = {"segment": "SEGMENTERS", "voice": "SPEECH_ENGINES", "clone": "VOICE_CONVERTERS",
                  "prosody": "PROSODY_ENGINES", "mix": "MIXERS", "render": "RENDERERS"}


def parse_preload(specs: list[str]) -> list[tuple[str, str]]:
    """['segment=mediapipe', 'voice=openjtalk'] → checked (stage, engine) pairs."""
    from vmsg.errors import UsageError

    pairs = []
    for spec in specs:
        stage, sep, engine = spec.partition("=")
        if not sep or stage not in PRELOAD_STAGES:
            raise UsageError(f"--preload {spec!r}: expected STAGE=ENGINE with STAGE one of {', '.join(PRELOAD_STAGES)}")
        registry = _registry(stage)
        registry.check(engine)
        pairs.append((stage, engine))
    return pairs


def _registry(stage: str):
    import importlib

    module = {"segment": "segment", "voice": "tts", "clone": "clone", "prosody": "prosody", "mix": "mix", "render": "render"}
    return getattr(importlib.import_module(f"vmsg.backends.{module[stage]}"), PRELOAD_STAGES[stage])


def preload(pairs: list[tuple[str, str]], device: str = "auto") -> None:
    """Load engines in a fresh worker process, before its first job (so time limits cover only the job).

    The instances land in each registry's per-process cache, which the stages reuse.
    """
    for stage, engine in pairs:
        started = time.monotonic()
        instance = _registry(stage).instance(engine, device=device)
        if stage == "voice":
            instance.synthesize(text="あ", voice=None, speed=1.0)
        logger.info("preloaded %s engine %s in %.1f s", stage, engine, time.monotonic() - started)
