"""Queue jobs for workers: recipes (YAML) or message rows (CSV/JSONL + a template recipe).

Every job is validated before any is queued; a broker that cannot be reached is a
TemporaryError (exit 75) and nothing is queued.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmsg.errors import InputError, TemporaryError, UsageError
from vmsg.recipe import Recipe
from vmsg.storage_uri import is_s3, redact_url
from vmsg.worker import PRIORITIES, QUEUE, TASK_NAME

ROW_SUFFIXES = (".csv", ".jsonl")


@dataclass
class Job:
    name: str
    recipe: Recipe
    source: str


def load_jobs(paths: list[Path], *, template: Path | None = None, overrides: list[str] | None = None) -> list[Job]:
    """Recipes and message rows → validated jobs (paths absolute, so any worker sharing the folders can run them)."""
    from vmsg.recipe import load_recipe

    jobs: list[Job] = []
    for path in paths:
        if path.suffix.lower() in ROW_SUFFIXES:
            if template is None:
                raise UsageError(f"{path}: message rows need --template recipe.yaml")
            jobs.extend(_rows_to_jobs(path, template, overrides or []))
        elif path.suffix.lower() in (".yaml", ".yml"):
            jobs.append(Job(path.stem, load_recipe(path, overrides=overrides), str(path)))
        else:
            raise UsageError(f"{path}: expected a recipe (.yaml) or message rows (.csv, .jsonl)")
    return jobs


def _rows_to_jobs(path: Path, template: Path, overrides: list[str]) -> list[Job]:
    """Each row layered over the template (which may leave out text and image): env < template < row < --set."""
    import yaml

    from vmsg.batch import row_fields
    from vmsg.batch_input import read_rows
    from vmsg.recipe import deep_merge, env_overrides, parse_set, validate_recipe

    try:
        base = yaml.safe_load(template.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputError(f"template {template}: file not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"template {template}: cannot be read ({exc})") from None
    if not isinstance(base, dict):
        raise InputError(f"template {template}: expected a recipe mapping")
    base_output = str(base.get("output") or "out/message.mp4")
    jobs = []
    for row in read_rows(path):
        where = f"{path}:{row.line}"
        fields = row_fields(row, path.parent)
        if "output" not in fields:
            fields["output"] = (f"{base_output.rsplit('/', 1)[0]}/{row.name}.mp4" if is_s3(base_output)
                                else str(Path(base_output).parent / f"{row.name}.mp4"))
        layered = deep_merge(deep_merge(deep_merge(env_overrides(), base), fields), parse_set(overrides))
        jobs.append(Job(row.name, validate_recipe(layered, source=where, base_dir=template.parent), where))
    return jobs


def check_jobs(jobs: list[Job], *, presign: int | None = None) -> None:
    """Every input present, every output writable and distinct: before anything is queued."""
    from vmsg.pipeline import check_inputs
    from vmsg.remote import check_presign

    if not jobs:
        raise UsageError("nothing to submit")
    seen: dict[str, str] = {}
    for job in jobs:
        if job.recipe.output in seen:
            raise InputError(f"{job.source}: output {job.recipe.output} is also the output of {seen[job.recipe.output]}")
        seen[job.recipe.output] = job.source
        check_presign(presign, job.recipe.output)
        check_inputs(job.recipe)


def ping_broker(url: str) -> None:
    """Fail fast (TemporaryError) when the Redis broker does not answer; names the broker without its password."""
    import redis

    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise UsageError(f"--broker {redact_url(url)}: expected redis://host:port/db")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except redis.AuthenticationError:
        raise UsageError(f"broker {redact_url(url)}: authentication failed") from None
    except redis.RedisError as exc:
        raise TemporaryError(f"broker {redact_url(url)} is unreachable ({_reason(exc)}); nothing was submitted",
                             hint="start redis-server or check --broker / VMSG_BROKER_URL, then retry") from None


def _reason(exc: Exception) -> str:
    text = str(exc).split(". ")[-1].strip(". ")
    return text or type(exc).__name__


def submit_jobs(app, jobs: list[Job], *, priority: str = "normal", presign: int | None = None,
                ttl: int | None = None) -> list[tuple[str, Job]]:
    """Queue every job; returns (job id, job). A broker lost midway raises TemporaryError naming what was queued."""
    from kombu.exceptions import OperationalError

    from vmsg.worker import hooks, records
    from vmsg.worker.tasks import recipe_hash

    if priority not in PRIORITIES:
        raise UsageError(f"--priority {priority!r}: choose one of {', '.join(PRIORITIES)}")
    queued: list[tuple[str, Job]] = []
    client = app.backend.client
    for job in jobs:
        job_id = str(uuid.uuid4())
        data = job.recipe.model_dump(mode="json")
        payload: dict[str, Any] = {"recipe": data, "source": job.source, "name": job.name, "presign": presign}
        try:
            records.write(client, job_id, ttl=ttl or records.DEFAULT_TTL, name=job.name, output=job.recipe.output,
                          priority=priority, status="queued", stage="queued", percent=0, submitted_at=records.now())
            app.send_task(TASK_NAME, args=[payload], task_id=job_id, queue=QUEUE, priority=PRIORITIES[priority],
                          retry=True, retry_policy={"max_retries": 2, "interval_start": 0.5, "interval_step": 0.5})
        except (OperationalError, OSError, _redis_errors()) as exc:
            with contextlib.suppress(Exception):
                client.delete(records.key(job_id))
            done = ", ".join(i for i, _ in queued) or "none"
            raise TemporaryError(f"broker {redact_url(app.conf.broker_url)} failed while queueing {job.source} "
                                 f"({type(exc).__name__}); queued before it: {done}") from None
        hooks.on_job_event(job_id, "queued", name=job.name, recipe_hash=recipe_hash(data), output=job.recipe.output,
                           priority=priority)
        queued.append((job_id, job))
    return queued


def _redis_errors() -> type[Exception]:
    import redis

    return redis.RedisError
