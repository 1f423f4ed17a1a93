"""Workers sharing a stage cache (`vmsg worker --cache`), on a real redis-server and a real worker (127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.scale_servers import ROOT, free_port, start_redis, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_second_job_with_the_same_content_is_served_from_the_shared_cache(tmp_path, astronaut_png):
    from vmsg.recipe import validate_recipe
    from vmsg.worker.app import make_celery
    from vmsg.worker.status import job_status
    from vmsg.worker.submit import Job, submit_jobs

    port = free_port()
    broker, cache = f"redis://127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/1"
    redis = start_redis(port, tmp_path)
    env = {**os.environ, "VMSG_LEDGER_URL": str(tmp_path / "ledger.sqlite"), "VMSG_CACHE_DIR": str(tmp_path / "local"),
           "PYTHONUNBUFFERED": "1"}
    env.pop("VMSG_CACHE_URL", None)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "vmsg", "worker", "--broker", broker, "--name", "cache@test",
                               "--cache", cache], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        app = make_celery(broker)

        def job(name: str) -> Job:
            recipe = validate_recipe({"image": str(astronaut_png), "text": "こんにちは。今日は良い天気ですね。",
                                      "output": str(tmp_path / "out" / f"{name}.mp4"),
                                      "voice": {"engine": "openjtalk"}, "render": {"engine": "still", "size": 256}},
                                     source=name)
            return Job(name, recipe, name)

        def run(name: str) -> dict:
            [(job_id, _)] = submit_jobs(app, [job(name)])
            deadline = time.monotonic() + 180
            while not (s := job_status(app, job_id))["done"]:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert s["state"] == "SUCCESS", (s, log.read_text()[-3000:])
            return json.loads((tmp_path / "out" / f"{name}.report.json").read_text())

        first, second = run("first"), run("second")
        assert {st["detail"].get("cache") for st in first["stages"]} == {"miss"}
        assert {st["detail"].get("cache") for st in second["stages"]} == {"hit"}
        assert second["outputs"]["video"]["sha256"] == first["outputs"]["video"]["sha256"]
    finally:
        stop(worker)
        stop(redis)


def test_an_unreachable_cache_stops_the_worker_before_any_job(tmp_path):
    closed = free_port()
    proc = subprocess.run([sys.executable, "-m", "vmsg", "worker", "--broker", f"redis://127.0.0.1:{free_port()}/0",
                           "--cache", f"redis://127.0.0.1:{closed}/1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 75, proc.stderr
    assert f"127.0.0.1:{closed}" in proc.stderr
