"""The Celery app shared by workers and submitters (same queue, priorities and serializer)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vmsg.worker import PRIORITIES, QUEUE

if TYPE_CHECKING:
    from celery import Celery

    from vmsg.worker.config import WorkerOptions


def require(*modules: str, extra: str = "worker") -> None:
    """A missing optional package becomes a BackendError naming the extra to install."""
    import importlib.util

    from vmsg.errors import BackendError

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise BackendError(f"this needs the package(s) {', '.join(missing)}, which are not installed",
                           hint=f"pip install 'vmsg[{extra}]'")


def transport_options(options: WorkerOptions) -> dict:
    """Redis broker settings. A job of a worker that died is handed out again after
    `visibility_timeout`; kombu looks for such jobs every `unacked_restore_interval` seconds.
    The look holds a Redis lock; a worker killed while holding it (kombu's default expiry: 300 s)
    would stop every other worker from handing out dead workers' jobs for minutes."""
    return {
        "visibility_timeout": options.visibility_timeout,
        "unacked_restore_interval": max(1.0, min(10.0, options.visibility_timeout / 4)),
        "unacked_restore_throttle": 1,
        "unacked_mutex_expire": 30,
        "queue_order_strategy": "priority",
        "priority_steps": sorted(set(PRIORITIES.values())),
        "sep": ":",
        "socket_connect_timeout": 5,
        "retry_on_timeout": True,
        "health_check_interval": 10,
    }


def make_celery(broker: str, backend: str | None = None, options: WorkerOptions | None = None) -> Celery:
    """A Celery app on `broker` (redis://…); results and job states go to `backend` (the broker by default)."""
    from vmsg.worker.config import WorkerOptions

    require("celery", "redis")
    from celery import Celery

    options = options or WorkerOptions()
    app = Celery("vmsg", broker=broker, backend=backend or broker, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=options.concurrency,
        worker_max_tasks_per_child=options.max_tasks_per_child,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_send_task_events=False,
        worker_proc_alive_timeout=120,  # a new pool process may be loading models (--preload)
        task_default_queue=QUEUE,
        task_default_priority=PRIORITIES["normal"],
        task_soft_time_limit=options.soft_time_limit,
        task_time_limit=options.time_limit,
        result_expires=options.result_expires,
        result_backend_always_retry=True,
        result_backend_max_retries=30,
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_connection_timeout=5,
        broker_transport_options=transport_options(options),
        redis_socket_connect_timeout=5,
        redis_retry_on_timeout=True,
        redis_backend_health_check_interval=10,
    )
    return app
