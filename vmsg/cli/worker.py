"""`vmsg worker`: run a Celery worker that renders queued jobs (see docs/scale.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import BrokerOpt, ResultBackendOpt, build_options


def worker_command(
    broker: BrokerOpt = None,
    result_backend: ResultBackendOpt = None,
    concurrency: Annotated[Optional[int], typer.Option(help="jobs at once (each in its own process with its own models)")] = None,
    max_tasks_per_child: Annotated[Optional[int], typer.Option(help="recycle a process after this many jobs")] = None,
    soft_time_limit: Annotated[Optional[float], typer.Option(help="seconds before a job is asked to stop")] = None,
    time_limit: Annotated[Optional[float], typer.Option(help="seconds before a job's process is killed")] = None,
    visibility_timeout: Annotated[Optional[float], typer.Option(help="seconds before a dead worker's job goes to another")] = None,
    max_retries: Annotated[Optional[int], typer.Option(help="retries of a job that hit a temporary error")] = None,
    retry_backoff: Annotated[Optional[float], typer.Option(help="first retry delay (s), doubling each time")] = None,
    max_deliveries: Annotated[Optional[int], typer.Option(help="times a job's worker may die while running it "
                                                              "before the job is failed (no endless redelivery)")] = None,
    name: Annotated[Optional[str], typer.Option("--name", "-n", help="worker name (default vmsg-PID@HOST)")] = None,
    metrics_file: Annotated[Optional[Path], typer.Option(help="write Prometheus metrics to this textfile")] = None,
    pushgateway: Annotated[Optional[str], typer.Option(help="push Prometheus metrics to this Pushgateway URL")] = None,
    metrics_interval: Annotated[Optional[float], typer.Option(help="seconds between metrics writes while idle")] = None,
    loglevel: Annotated[Optional[str], typer.Option(help="DEBUG, INFO, WARNING or ERROR")] = None,
    cache_url: Annotated[Optional[str], typer.Option("--cache", help="stage cache shared by the workers: redis://host:port/db "
                                                     "or s3://bucket/prefix (default: $VMSG_CACHE_URL, else none)")] = None,
    preload: Annotated[Optional[list[str]], typer.Option(help="load STAGE=ENGINE in each process before its first job "
                                                                 "(repeatable), e.g. segment=mediapipe")] = None,
) -> None:
    """Run a worker: take jobs from the Redis queue (high priority first) and render them."""
    import os
    import socket
    import tempfile

    from vmsg.errors import UsageError
    from vmsg.metrics import MULTIPROC_ENV
    from vmsg.worker.config import WorkerOptions

    if not broker:
        raise UsageError("give --broker redis://host:6379/0 (or set VMSG_BROKER_URL)")
    for flag, url in (("--broker", broker), ("--result-backend", result_backend)):
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            from vmsg.storage_uri import redact_url

            raise UsageError(f"{flag} {redact_url(url)}: expected redis://host:port/db (job states live in Redis)")
    options = build_options(WorkerOptions, concurrency=concurrency, max_tasks_per_child=max_tasks_per_child,
                            soft_time_limit=soft_time_limit, time_limit=time_limit, visibility_timeout=visibility_timeout,
                            max_retries=max_retries, retry_backoff=retry_backoff, max_deliveries=max_deliveries,
                            metrics_interval=metrics_interval, cache_url=cache_url,
                            loglevel=loglevel.upper() if loglevel else None)
    from vmsg.threads import limit, share

    limit(share(options.concurrency))  # before numpy loads: pool processes are forked from this one
    from vmsg.worker.tasks import cache_url_of, parse_preload

    if cache_url_of(options):
        from vmsg.cache import open_cache

        open_cache(cache_url_of(options)).check()  # an unreachable or forbidden cache stops the worker before any job

    engines = parse_preload(list(preload or []))
    hostname = name or f"vmsg-{os.getpid()}@{socket.gethostname()}"
    if metrics_file or pushgateway:
        # before prometheus_client is imported anywhere: every pool process then writes its own figures here
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="vmsg-metrics-")
    _run(broker, result_backend, options, hostname, metrics_file, pushgateway, engines)


def _run(broker: str, backend: str | None, options, hostname: str, metrics_file: Path | None, pushgateway: str | None,
         engines: list[tuple[str, str]]) -> None:
    import threading

    from celery import signals

    from vmsg.metrics import MetricsSink
    from vmsg.worker import tasks
    from vmsg.worker.app import make_celery

    app = make_celery(broker, backend, options)
    tasks.register_tasks(app, options)
    sink = MetricsSink(textfile=metrics_file, pushgateway=pushgateway, instance=hostname, broker=broker, queue=options.queue)
    tasks.SINK = sink
    if engines:
        @signals.worker_process_init.connect(weak=False)
        def _preload(**_) -> None:
            tasks.preload(engines)

    if sink.enabled:
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(options.metrics_interval):
                sink.flush()

        @signals.worker_ready.connect(weak=False)
        def _start_metrics(**_) -> None:
            sink.flush()
            threading.Thread(target=loop, name="vmsg-metrics", daemon=True).start()

        @signals.worker_shutdown.connect(weak=False)
        def _final_metrics(**_) -> None:
            stop.set()
            sink.flush()

    try:
        app.worker_main(["worker", "--hostname", hostname, "--loglevel", options.loglevel, "--queues", options.queue,
                         "--pool", "prefork", "--without-gossip", "--without-mingle", "--without-heartbeat"])
    finally:
        _remove_metrics_dir()


def _remove_metrics_dir() -> None:
    import os
    import shutil

    from vmsg.metrics import MULTIPROC_ENV

    folder = os.environ.get(MULTIPROC_ENV, "")
    if os.path.basename(folder).startswith("vmsg-metrics-"):
        shutil.rmtree(folder, ignore_errors=True)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker_command)
