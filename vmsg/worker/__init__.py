"""Distributed rendering with Celery on Redis: `vmsg worker` runs jobs, `vmsg submit` queues them.

The Celery app is built by `vmsg.worker.app.make_celery`; the task (one recipe per job)
lives in `vmsg.worker.tasks`; a small per-job record in Redis (`vmsg.worker.records`)
carries stage and percent for `vmsg jobs status`. Nothing here is imported by `vmsg --help`.
"""

QUEUE = "vmsg"
TASK_NAME = "vmsg.render_job"
PRIORITIES = {"high": 0, "normal": 5, "low": 9}
"""Redis priorities: kombu polls the lists of lower numbers first, so 0 is served first."""
