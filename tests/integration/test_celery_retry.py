"""A job whose S3 input is unreachable is retried with backoff, and completes once S3 is back.

Real redis-server, a real `vmsg worker`, and moto's S3 server started midway on the port
the worker was told about.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.scale_servers import ROOT, S3_ENV, TcpForwarder, free_port, start_moto, start_redis, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_temporary_s3_outage_is_retried_until_it_succeeds(tmp_path, astronaut_png, monkeypatch):
    import vmsg.store as store_mod
    from vmsg.recipe import validate_recipe
    from vmsg.worker import records
    from vmsg.worker.app import make_celery
    from vmsg.worker.status import job_status
    from vmsg.worker.submit import Job, submit_jobs

    redis_port, s3_port = free_port(), free_port()
    broker = f"redis://127.0.0.1:{redis_port}/0"
    endpoint = f"http://127.0.0.1:{s3_port}"
    redis = start_redis(redis_port, tmp_path)
    monkeypatch.setenv("VMSG_HOME", str(tmp_path / "home"))  # the job ledger's SQLite file
    env = {**os.environ, **S3_ENV, "VMSG_S3_ENDPOINT_URL": endpoint, "VMSG_S3_MAX_ATTEMPTS": "1",
           "VMSG_S3_CONNECT_TIMEOUT": "1"}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "vmsg", "worker", "--broker", broker, "--name", "retry@test",
                               "--retry-backoff", "1", "--max-retries", "8", "--preload", "voice=openjtalk"],
                              cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    moto = forwarder = None
    try:
        app = make_celery(broker)
        recipe = validate_recipe({"image": "s3://vmsg-retry/in/face.png", "text": "はい。", "output": str(tmp_path / "o.mp4"),
                                  "voice": {"engine": "openjtalk"}, "render": {"engine": "still", "size": 256}}, source="retry test")
        # queued while S3 is down (the submitter's own check would refuse it; this is an outage after submit)
        [(job_id, _)] = submit_jobs(app, [Job("retry", recipe, "retry test")])
        deadline = time.monotonic() + 120
        while (record := records.read(app.backend.client, job_id) or {}).get("status") != "retrying":
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert "cannot reach the S3 endpoint" in record["error"] and "s3://vmsg-retry/in/face.png" in record["error"]

        # S3 comes up with the object in place, then becomes reachable on the worker's endpoint
        moto, moto_url = start_moto()
        for k, v in {**S3_ENV, "VMSG_S3_ENDPOINT_URL": moto_url}.items():
            monkeypatch.setenv(k, v)
        monkeypatch.setattr(store_mod, "_S3", None)
        store_mod.s3_store().client.create_bucket(Bucket="vmsg-retry")
        store_mod.s3_store().upload(astronaut_png, "s3://vmsg-retry/in/face.png")
        forwarder = TcpForwarder(s3_port, int(moto_url.rsplit(":", 1)[1]))

        while not (status := job_status(app, job_id))["done"]:
            assert time.monotonic() < deadline + 60, log.read_text()
            time.sleep(0.3)
        assert status["state"] == "SUCCESS", status
        assert status["attempt"] >= 2
        assert (tmp_path / "o.mp4").stat().st_size > 10_000
        assert log.read_text().count(f"[{job_id}] retry: Retry in") >= 1
    finally:
        stop(worker, signal.SIGTERM, timeout=15)
        if forwarder is not None:
            forwarder.close()
        if moto is not None:
            stop(moto)
        stop(redis)


def test_job_over_the_soft_time_limit_fails_cleanly(tmp_path, astronaut_png, monkeypatch):
    from vmsg.recipe import validate_recipe
    from vmsg.worker.app import make_celery
    from vmsg.worker.status import job_status
    from vmsg.worker.submit import Job, submit_jobs

    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port, tmp_path)
    monkeypatch.setenv("VMSG_HOME", str(tmp_path / "home"))  # the job ledger's SQLite file
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "vmsg", "worker", "--broker", broker, "--name", "limits@test",
                               "--soft-time-limit", "2", "--time-limit", "60", "--visibility-timeout", "120"],
                              cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        app = make_celery(broker)
        text = "今日は本当にありがとうございました。" * 8  # about 30 s of speech at 1920 px: far over 2 s of work
        recipe = validate_recipe({"image": str(astronaut_png), "text": text, "output": str(tmp_path / "out" / "long.mp4"),
                                  "voice": {"engine": "openjtalk"}, "render": {"size": 1920}}, source="limits test")
        [(job_id, _)] = submit_jobs(app, [Job("long", recipe, "limits test")])
        deadline = time.monotonic() + 120
        while not (status := job_status(app, job_id))["done"]:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert status["state"] == "FAILURE", status
        assert "over the soft time limit of 2 s" in status["error"]
        out = tmp_path / "out"
        assert not out.exists() or list(out.iterdir()) == [], "a stopped job must leave nothing behind"
    finally:
        stop(worker, signal.SIGTERM, timeout=15)
        stop(redis)
