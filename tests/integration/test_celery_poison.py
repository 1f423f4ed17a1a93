"""Jobs that kill their worker, on a real redis-server and a real `vmsg worker` (127.0.0.1).

A pool process SIGKILLed at every run (what the out-of-memory killer or a segfault does) must not
loop forever: after --max-deliveries lost runs the job fails with a clear error and is never
handed out again. A process stuck past the hard time limit (SIGSTOPped: deaf to the soft limit)
is killed by Celery and its job fails once, not redelivered. Other jobs still complete.

The hard limit is 12 s, not less: Celery waits `worker_lost_wait` (10 s) for a killed process's
result before it requeues the job, and the hard limit must not fire first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.scale_servers import ROOT, free_port, start_redis, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_job_that_kills_its_worker_fails_after_max_deliveries(tmp_path, astronaut_png):
    from celery.result import AsyncResult

    from vmsg.ledger import open_ledger
    from vmsg.threads import cpus
    from vmsg.recipe import validate_recipe
    from vmsg.worker.app import make_celery
    from vmsg.worker.status import job_status
    from vmsg.worker.submit import Job, submit_jobs

    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port, tmp_path)
    ledger_url = str(tmp_path / "ledger.sqlite")
    env = {**os.environ, "VMSG_LEDGER_URL": ledger_url, "PYTHONUNBUFFERED": "1"}
    env.pop("VMSG_THREADS", None)
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "vmsg", "worker", "--broker", broker, "--name", "poison@test",
                               "--soft-time-limit", "11", "--time-limit", "12", "--visibility-timeout", "20",
                               "--max-deliveries", "2", "--concurrency", "2"],
                              cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        os.environ["VMSG_LEDGER_URL"] = ledger_url  # the submitter records "queued" in the same ledger
        app = make_celery(broker)

        def job(name: str, text: str = "こんにちは。今日は良い天気ですね。") -> Job:
            recipe = validate_recipe({"image": str(astronaut_png), "text": text, "output": str(tmp_path / "out" / f"{name}.mp4"),
                                      "voice": {"engine": "openjtalk"}, "render": {"engine": "still", "size": 256}},
                                     source=name)
            return Job(name, recipe, name)

        [(poison, _), (good, _)] = submit_jobs(app, [job("poison"), job("good", "はい。")])
        killed: list[int] = []
        deadline = time.monotonic() + 120
        while not (s := job_status(app, poison))["done"]:
            assert time.monotonic() < deadline, log.read_text()
            if s["state"] == "PROGRESS" and s.get("pid") and s["pid"] not in killed:
                os.kill(s["pid"], signal.SIGKILL)  # what the OOM killer does to a job that eats all memory
                killed.append(s["pid"])
            time.sleep(0.05)
        assert len(killed) == 2, killed
        assert s["state"] == "FAILURE", s
        assert f"job {poison}: worker lost 2 times while running this job" in s["error"] and "giving up" in s["error"]

        # the next job runs as usual; the poison job is never taken from the queue again
        while not (g := job_status(app, good))["done"]:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert g["state"] == "SUCCESS", g
        assert (tmp_path / "out" / "good.mp4").stat().st_size > 5_000
        # two pool processes on this machine: each with half the CPUs' threads (VMSG_THREADS unset)
        assert AsyncResult(good, app=app).result["threads"] == max(1, cpus() // 2)
        assert not (tmp_path / "out" / "poison.mp4").exists()

        # a process stuck past the hard time limit is killed; its job fails once and is not redelivered
        [(stuck, _)] = submit_jobs(app, [job("stuck")])
        while not (s := job_status(app, stuck))["done"]:
            assert time.monotonic() < deadline + 30, log.read_text()
            if s["state"] == "PROGRESS" and s.get("pid") and s["pid"] not in killed:
                os.kill(s["pid"], signal.SIGSTOP)  # deaf to the soft limit, like a job stuck in C code
                killed.append(s["pid"])
            time.sleep(0.05)
        # Celery stores the failure, then calls the task's on_failure, which records vmsg's message (in a thread)
        while "over the hard time limit of 12 s" not in ((s := job_status(app, stuck)).get("error") or ""):
            assert time.monotonic() < deadline + 40, s
            time.sleep(0.1)
        assert s["state"] == "FAILURE", s
        text = log.read_text(errors="replace")
        assert text.count(f"Task vmsg.render_job[{poison}] received") == 3, text
        assert text.count(f"Task vmsg.render_job[{stuck}] received") == 1, text

        # the CLI and the ledger tell the same story
        cli = subprocess.run([sys.executable, "-m", "vmsg", "jobs", "status", poison, "--broker", broker, "--wait", "5"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert cli.returncode == 1 and "FAILURE" in cli.stdout and "worker lost 2 times" in cli.stdout, cli.stdout + cli.stderr
        ledger = open_ledger(ledger_url)
        record = ledger.get(poison)
        assert record.status == "failed" and "worker lost 2 times" in record.error and record.attempts == 2, record
        assert ledger.get(good).status == "done"
        while (record := ledger.get(stuck)).status != "failed":  # the stopped process may have held the lock
            assert time.monotonic() < deadline + 60, record
            time.sleep(0.1)
        assert "hard time limit" in record.error
    finally:
        os.environ.pop("VMSG_LEDGER_URL", None)
        stop(worker, signal.SIGTERM, timeout=15)
        stop(redis)
