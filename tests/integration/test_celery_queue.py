"""Submitting to a real redis-server (no workers): priority lists, queue depth, job status."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.scale_servers import ROOT, free_port, start_redis, stop
from vmsg.errors import InputError, TemporaryError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    port = free_port()
    proc = start_redis(port, tmp_path_factory.mktemp("redis"))
    yield f"redis://127.0.0.1:{port}/0"
    stop(proc)


def _jobs(tmp_path, astronaut_png, names):
    from vmsg.worker.submit import load_jobs

    paths = []
    for name in names:
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"image: {astronaut_png}\ntext: はい。\noutput: out/{name}.mp4\nvoice:\n  engine: openjtalk\n",
                        encoding="utf-8")
        paths.append(path)
    return load_jobs(paths)


def test_priorities_land_in_their_lists_and_queue_depth_counts_them(broker, tmp_path, astronaut_png):
    from vmsg.metrics import QueueDepthCollector
    from vmsg.worker.app import make_celery
    from vmsg.worker.status import job_status
    from vmsg.worker.submit import submit_jobs

    app = make_celery(broker)
    queued = {p: submit_jobs(app, _jobs(tmp_path, astronaut_png, [f"{p}{i}" for i in range(n)]), priority=p)
              for p, n in (("high", 1), ("normal", 2), ("low", 3))}
    families = {f.name: f for f in QueueDepthCollector(broker).collect()}
    depth = {s.labels["priority"]: s.value for s in families["vmsg_queue_depth"].samples}
    assert depth == {"high": 1, "normal": 2, "low": 3}
    assert families["vmsg_jobs_in_flight"].samples[0].value == 0
    assert families["vmsg_broker_up"].samples[0].value == 1

    job_id, job = queued["low"][2]
    status = job_status(app, job_id)
    assert (status["state"], status["stage"], status["percent"], status["name"]) == ("PENDING", "queued", 0, "low2")
    assert status["output"] == job.recipe.output and status["priority"] == "low" and not status["done"]
    with pytest.raises(InputError, match="unknown"):
        job_status(app, "00000000-0000-0000-0000-000000000000")

    env = {k: v for k, v in os.environ.items() if k != "VMSG_BROKER_URL"}
    proc = subprocess.run([sys.executable, "-m", "vmsg", "jobs", "status", job_id, "--broker", broker, "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0 and '"stage": "queued"' in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "vmsg", "jobs", "status", "no-such-job", "--broker", broker],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2 and "job no-such-job: unknown" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "vmsg", "jobs", "status", job_id, "--broker", broker, "--wait", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 75 and "PENDING" in proc.stdout


def test_status_with_redis_down_is_temporary():
    from vmsg.worker.app import make_celery
    from vmsg.worker.status import job_status

    app = make_celery(f"redis://:pw-secret@127.0.0.1:{free_port()}/0")
    with pytest.raises(TemporaryError, match="unreachable") as err:
        job_status(app, "whatever")
    assert "pw-secret" not in str(err.value)
