"""Prometheus metrics for batches and workers: jobs done/failed, stage and job durations,
queue depth. Written to a node-exporter textfile (atomically) and/or pushed to a Pushgateway.

Worker processes come and go (recycling after N jobs), so a worker sets
PROMETHEUS_MULTIPROC_DIR before anything imports prometheus_client; the figures of every
process are then added up when written (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from vmsg.errors import StorageError, TemporaryError

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
JOB_BUCKETS = (1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200)


class JobMetrics:
    """The metrics a process records. Counters are per process and summed at write time."""

    def __init__(self) -> None:
        from vmsg.worker.app import require

        require("prometheus_client")
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.jobs = Counter("vmsg_jobs", "Jobs finished, by outcome (done, failed, retried)", ["status"],
                            registry=self.registry)
        self.stage_seconds = Histogram("vmsg_stage_seconds", "Seconds spent in each pipeline stage", ["stage"],
                                       buckets=STAGE_BUCKETS, registry=self.registry)
        self.job_seconds = Histogram("vmsg_job_seconds", "Seconds per job, from start to published output",
                                     buckets=JOB_BUCKETS, registry=self.registry)
        self.last_done = Gauge("vmsg_last_job_done_timestamp_seconds", "When the last job finished well (unix time)",
                               multiprocess_mode="max", registry=self.registry)
        for status in ("done", "failed", "retried"):
            self.jobs.labels(status)

    def job_finished(self, status: str, seconds: float | None = None) -> None:
        import time

        self.jobs.labels(status).inc()
        if seconds is not None and status == "done":
            self.job_seconds.observe(seconds)
        if status == "done":
            self.last_done.set(time.time())

    def stage_done(self, stage: str, seconds: float) -> None:
        self.stage_seconds.labels(stage).observe(seconds)

    def output_registry(self, broker: str | None = None, queue: str | None = None):
        """A registry with every process's figures (and the queue depth when a broker is given)."""
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        out = CollectorRegistry(auto_describe=False)
        if os.environ.get(MULTIPROC_ENV):
            MultiProcessCollector(out)
        else:
            out.register(_Forward(self.registry))
        if broker:
            out.register(QueueDepthCollector(broker, queue))
        return out


class _Forward:
    def __init__(self, registry) -> None:
        self._registry = registry

    def collect(self):
        yield from self._registry.collect()


class QueueDepthCollector:
    """Jobs waiting in the Redis queue per priority, and jobs handed out but not yet finished."""

    def __init__(self, broker: str, queue: str | None = None) -> None:
        from vmsg.worker import QUEUE

        self.broker = broker
        self.queue = queue or QUEUE

    def keys(self) -> dict[str, str]:
        from vmsg.worker import PRIORITIES

        return {name: self.queue if pri == 0 else f"{self.queue}:{pri}" for name, pri in PRIORITIES.items()}

    def collect(self):
        import redis
        from prometheus_client.core import GaugeMetricFamily

        depth = GaugeMetricFamily("vmsg_queue_depth", "Jobs waiting in the queue", labels=["queue", "priority"])
        unacked = GaugeMetricFamily("vmsg_jobs_in_flight", "Jobs handed to a worker and not yet finished")
        up = GaugeMetricFamily("vmsg_broker_up", "1 when the broker answered the last scrape")
        try:
            client = redis.Redis.from_url(self.broker, socket_connect_timeout=2, socket_timeout=2)
            pipe = client.pipeline()
            names = list(self.keys().items())
            for _, key in names:
                pipe.llen(key)
            pipe.hlen("unacked")
            counts = pipe.execute()
            client.close()
        except redis.RedisError as exc:
            logger.warning("queue depth not measured: broker unreachable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        for (name, _), count in zip(names, counts[:-1], strict=True):
            depth.add_metric([self.queue, name], count)
        unacked.add_metric([], counts[-1])
        up.add_metric([], 1)
        yield from (depth, unacked, up)


_METRICS: JobMetrics | None = None


def job_metrics() -> JobMetrics:
    global _METRICS
    if _METRICS is None:
        _METRICS = JobMetrics()
    return _METRICS


def write_textfile(path: Path | str, registry) -> Path:
    """Write the node-exporter textfile atomically (prometheus_client writes a temp file, then renames)."""
    from prometheus_client import write_to_textfile

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_to_textfile(str(path), registry)
    except OSError as exc:
        raise StorageError(f"metrics file {path}: {exc.strerror or exc}") from exc
    return path


def push(url: str, registry, *, job: str = "vmsg", instance: str | None = None) -> None:
    """PUT the metrics to a Pushgateway under job/instance (replaces this instance's previous push)."""
    import socket

    from prometheus_client import push_to_gateway

    from vmsg.storage_uri import redact_url

    try:
        push_to_gateway(url, job=job, registry=registry, grouping_key={"instance": instance or socket.gethostname()},
                        timeout=5)
    except OSError as exc:
        raise TemporaryError(f"pushgateway {redact_url(url)}: {exc}") from exc


class MetricsSink:
    """Where a worker's metrics go after each job and every `interval` seconds."""

    def __init__(self, *, textfile: Path | str | None = None, pushgateway: str | None = None,
                 instance: str | None = None, broker: str | None = None, queue: str | None = None) -> None:
        self.textfile = Path(textfile) if textfile else None
        self.pushgateway = pushgateway
        self.instance = instance
        self.broker = broker
        self.queue = queue

    @property
    def enabled(self) -> bool:
        return bool(self.textfile or self.pushgateway)

    def flush(self) -> None:
        """Write and push; failures are logged, never raised into a job."""
        if not self.enabled:
            return
        registry = job_metrics().output_registry(self.broker, self.queue)
        try:
            if self.textfile:
                write_textfile(self.textfile, registry)
            if self.pushgateway:
                push(self.pushgateway, registry, instance=self.instance)
        except (StorageError, TemporaryError) as exc:
            logger.warning("metrics not written: %s", exc)
