"""Two real `vmsg worker` processes on a real redis-server (and moto's S3 server), all on 127.0.0.1.

One module-scoped cluster; the tests run in file order and build on it: a batch with
priorities, a worker SIGKILLed mid-job, Redis restarted under the workers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from tests.scale_servers import ROOT, S3_ENV, free_port, moto_s3, start_redis, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUCKET = "vmsg-jobs"
SHORT = "こんにちは。"
LONG = "こんにちは。今日は良い天気ですね。明日もよろしくお願いします。"
PRIORITY_RANK = {"high": 0, "normal": 1, "low": 2}


class Pushgateway(BaseHTTPRequestHandler):
    """Records every push (method, path, body), answers 200 like a Pushgateway."""

    pushes: list[tuple[str, str, str]] = []

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.pushes.append((self.command, self.path, body))
        self.send_response(200)
        self.end_headers()

    do_PUT = do_POST = _record

    def log_message(self, *args) -> None:
        pass


class Cluster:
    def __init__(self, root: Path, image: Path, s3_url: str) -> None:
        self.root = root
        self.image = image
        self.redis_port = free_port()
        self.broker = f"redis://127.0.0.1:{self.redis_port}/0"
        self.redis = start_redis(self.redis_port, root)
        self.out = root / "out"
        self.env = {**os.environ, **S3_ENV, "VMSG_S3_ENDPOINT_URL": s3_url, "PYTHONUNBUFFERED": "1",
                    "VMSG_HOME": str(root / "home")}  # the job ledger's SQLite file
        self.workers: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        from vmsg.worker.app import make_celery

        self.app = make_celery(self.broker)

    def start_worker(self, name: str, *extra: str) -> None:
        log = self.root / f"{name}.log"
        cmd = [sys.executable, "-m", "vmsg", "worker", "--broker", self.broker, "--name", f"{name}@test",
               "--preload", "segment=mediapipe", "--preload", "voice=openjtalk",
               "--soft-time-limit", "20", "--time-limit", "25", "--visibility-timeout", "30", "--loglevel", "INFO", *extra]
        self.logs[name] = log
        self.workers[name] = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                              start_new_session=True)

    def wait_ready(self, name: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in self.logs[name].read_text(errors="replace"):
                return
            assert self.workers[name].poll() is None, self.logs[name].read_text()
            time.sleep(0.2)
        raise TimeoutError(f"worker {name} not ready:\n{self.logs[name].read_text()[-3000:]}")

    def recipe(self, name: str, text: str = SHORT, image: str | None = None, output: str | None = None) -> Path:
        path = self.root / f"{name}.yaml"
        path.write_text(json.dumps({"image": image or str(self.image), "text": text,
                                    "output": output or str(self.out / f"{name}.mp4"),
                                    "voice": {"engine": "openjtalk"}, "render": {"engine": "still", "size": 256}},
                                   ensure_ascii=False), encoding="utf-8")
        return path

    def vmsg(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "vmsg", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def submit(self, *args: str) -> list[str]:
        proc = self.vmsg("submit", *args, "--broker", self.broker)
        assert proc.returncode == 0, proc.stderr
        return [json.loads(line)["id"] if line.startswith("{") else line for line in proc.stdout.splitlines()]

    def status(self, job_id: str) -> dict:
        from vmsg.worker.status import job_status

        return job_status(self.app, job_id)

    def wait_done(self, ids: list[str], timeout: float = 300) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {i: self.status(i) for i in ids}
            if all(s["done"] for s in states.values()):
                return states
            time.sleep(0.5)
        logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in self.logs.values())
        raise TimeoutError(f"jobs not done: {states}\n{logs}")

    def result(self, job_id: str) -> dict:
        from celery.result import AsyncResult

        return AsyncResult(job_id, app=self.app).result

    def close(self) -> None:
        for proc in self.workers.values():
            stop(proc, signal.SIGTERM, timeout=15)
        stop(self.redis)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, astronaut_png):
    root = tmp_path_factory.mktemp("cluster")
    saved = {k: os.environ.get(k) for k in S3_ENV}
    os.environ.update(S3_ENV)
    try:
        with moto_s3() as s3_url:
            import vmsg.store as store_mod

            store_mod._S3 = None
            os.environ["VMSG_S3_ENDPOINT_URL"] = s3_url
            store_mod.s3_store().client.create_bucket(Bucket=BUCKET)
            store_mod.s3_store().upload(astronaut_png, f"s3://{BUCKET}/in/face.png")
            c = Cluster(root, astronaut_png, s3_url)
            try:
                yield c
            finally:
                c.close()
    finally:
        os.environ.pop("VMSG_S3_ENDPOINT_URL", None)
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def wait_running(cluster: Cluster, job_id: str, timeout: float = 120) -> dict:
    """Poll until the job is mid-way (before its render), so a kill lands mid-job."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = cluster.status(job_id)
        if s["state"] == "PROGRESS" and s["stage"] in ("segment", "synth", "mix"):
            return s
        assert not s["done"], f"job finished before it could be killed: {s}"
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} never started")


def received_times(cluster: Cluster) -> dict[str, str]:
    """job id → when a worker took it from the queue (from the workers' logs)."""
    found = {}
    for log in cluster.logs.values():
        for line in log.read_text(errors="replace").splitlines():
            match = re.match(r"\[([\d\- :,]+): INFO/MainProcess\] Task vmsg.render_job\[([0-9a-f\-]+)\] received", line)
            if match:
                found[match.group(2)] = match.group(1)
    return found


def assert_video(path: Path, seconds: float) -> None:
    from vmsg.media.ffmpeg import probe

    info = probe(path)
    codecs = sorted((s["codec_type"], s["codec_name"]) for s in info["streams"])
    assert codecs == [("audio", "aac"), ("video", "h264")], f"{path}: {codecs}"
    assert abs(float(info["format"]["duration"]) - seconds) < 0.2, f"{path}: {info['format']['duration']} vs {seconds}"


def test_batch_of_six_with_priorities_on_two_workers(cluster):
    rows = cluster.root / "rows.csv"
    rows.write_text(f"name,text\nlow1,{SHORT}\nlow2,{SHORT}\n", encoding="utf-8")
    template = cluster.recipe("template")
    ids = {"low": cluster.submit(str(rows), "--template", str(template), "--priority", "low")}
    ids["normal"] = cluster.submit(str(cluster.recipe("normal1")), "--priority", "normal")
    s3_recipe = cluster.recipe("normal2", image=f"s3://{BUCKET}/in/face.png", output=f"s3://{BUCKET}/out/normal2.mp4")
    ids["normal"] += cluster.submit(str(s3_recipe), "--presign", "600")
    ids["high"] = cluster.submit(str(cluster.recipe("high1")), str(cluster.recipe("high2")), "--priority", "high", "--json")
    assert [len(v) for v in ids.values()] == [2, 2, 2]
    priority_of = {i: p for p, group in ids.items() for i in group}

    server = HTTPServer(("127.0.0.1", 0), Pushgateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    gateway = f"http://127.0.0.1:{server.server_port}"
    cluster.start_worker("w1", "--max-tasks-per-child", "2", "--metrics-file", str(cluster.root / "w1.prom"))
    cluster.start_worker("w2", "--pushgateway", gateway, "--metrics-file", str(cluster.root / "w2.prom"))
    cluster.wait_ready("w1")
    cluster.wait_ready("w2")
    try:
        states = cluster.wait_done(list(priority_of))
    finally:
        server.shutdown()
    assert {s["state"] for s in states.values()} == {"SUCCESS"}, states
    results = {i: cluster.result(i) for i in priority_of}

    # every output is a complete video, nothing half-written is left beside them
    local = sorted(p.name for p in cluster.out.iterdir())
    assert local == sorted(f"{n}.{ext}" for n in ("high1", "high2", "normal1", "low1", "low2") for ext in ("mp4", "report.json"))
    for job_id, res in results.items():
        if res["output"].startswith("s3://"):
            continue
        assert_video(Path(res["output"]), res["video_seconds"])

    # the S3 job: private object, presigned URL in its report fetches the same bytes
    from vmsg.store import s3_store

    s3 = s3_store()
    s3_id = ids["normal"][1]
    video = s3.download(f"s3://{BUCKET}/out/normal2.mp4", cluster.root / "dl" / "normal2.mp4")
    assert_video(video, results[s3_id]["video_seconds"])
    report = json.loads(s3.download(f"s3://{BUCKET}/out/normal2.report.json", cluster.root / "dl" / "r.json").read_text())
    assert httpx.get(report["outputs"]["video"]["presigned_url"]).content == video.read_bytes()
    assert states[s3_id]["presigned_url"] == report["outputs"]["video"]["presigned_url"]
    assert "presigned_url" not in results[s3_id], "a presigned URL must not go into the logged Celery result"
    grants = s3.client.get_object_acl(Bucket=BUCKET, Key="out/normal2.mp4")["Grants"]
    assert not [g for g in grants if "AllUsers" in g["Grantee"].get("URI", "")]

    # both workers worked; jobs were taken from the queue high first, then normal, then low
    assert {r["worker"] for r in results.values()} == {"w1@test", "w2@test"}
    received = received_times(cluster)
    order = [priority_of[i] for i in sorted(priority_of, key=received.get)]
    assert sorted(order, key=PRIORITY_RANK.get) == order, order

    # models loaded once per process: one preload per pool process, reused by its later jobs
    by_pid: dict[int, list[dict]] = {}
    for r in results.values():
        by_pid.setdefault(r["pid"], []).append(r)
    assert any(len(v) > 1 for v in by_pid.values()), "no process ran two jobs"
    for pid, runs in by_pid.items():
        assert len({r["engines_loaded"] for r in runs}) == 1, runs
    preloads = sum(p.read_text().count("preloaded segment engine mediapipe") for p in cluster.logs.values())
    assert preloads >= len(by_pid)
    assert max(len(v) for r in [by_pid] for v in r.values() if v[0]["worker"] == "w1@test") <= 2, "w1 must recycle after 2"

    # metrics: each worker's textfile counts its own jobs; w2 pushed the same to the gateway
    from prometheus_client.parser import text_string_to_metric_families

    def samples(text: str) -> dict:
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for fam in text_string_to_metric_families(text) for s in fam.samples}

    for name in ("w1", "w2"):
        done = sum(1 for r in results.values() if r["worker"] == f"{name}@test")
        figures = samples((cluster.root / f"{name}.prom").read_text())
        assert figures[("vmsg_jobs_total", (("status", "done"),))] == done
        assert figures[("vmsg_stage_seconds_count", (("stage", "render"),))] == done
        assert figures[("vmsg_queue_depth", (("priority", "low"), ("queue", "vmsg")))] == 0
    pushes = [p for p in Pushgateway.pushes if unquote(p[1]) == "/metrics/job/vmsg/instance/w2@test"]
    assert pushes and pushes[-1][0] == "PUT"
    w2_done = sum(1 for r in results.values() if r["worker"] == "w2@test")
    assert samples(pushes[-1][2])[("vmsg_jobs_total", (("status", "done"),))] == w2_done

    # no secret in any worker log: not the AWS secret key, not a presigned signature
    for log in cluster.logs.values():
        text = log.read_text(errors="replace")
        assert S3_ENV["AWS_SECRET_ACCESS_KEY"] not in text and "X-Amz-Signature" not in text

    # the CLI shows the same
    proc = cluster.vmsg("jobs", "status", ids["high"][0], "--broker", cluster.broker)
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout and "100%" in proc.stdout and "high1" in proc.stdout

    # and so does the job ledger the submitter and both workers wrote (one SQLite file on this machine)
    from vmsg.ledger import open_ledger

    ledger = open_ledger(str(cluster.root / "home" / "ledger.sqlite"))
    records = {i: ledger.get(i) for i in priority_of}
    assert {r.status for r in records.values()} == {"done"}, records
    assert {r.worker for r in records.values()} == {"w1@test", "w2@test"}
    assert records[ids["high"][0]].name == "high1" and records[s3_id].output == f"s3://{BUCKET}/out/normal2.mp4"


def test_failed_job_shows_its_error_and_is_not_retried(cluster):
    image = cluster.root / "corrupt.png"
    image.write_bytes(b"\x89PNG but not really an image")
    [job_id] = cluster.submit(str(cluster.recipe("corrupt", image=str(image))))
    final = cluster.wait_done([job_id], timeout=120)[job_id]
    assert final["state"] == "FAILURE", final
    assert f"image {image}: not an image file" in final["error"]
    assert not (cluster.out / "corrupt.mp4").exists()
    proc = cluster.vmsg("jobs", "status", job_id, "--broker", cluster.broker, "--wait", "5")
    assert proc.returncode == 1 and "FAILURE" in proc.stdout and "not an image file" in proc.stdout
    logs = "".join(p.read_text(errors="replace") for p in cluster.logs.values())
    assert f"[{job_id}] retry" not in logs


def test_worker_killed_mid_job_is_redone_by_the_other(cluster):
    for name in ("w1", "w2"):
        if name not in cluster.workers:
            cluster.start_worker(name)
            cluster.wait_ready(name)
    [job_id] = cluster.submit(str(cluster.recipe("killed", text=LONG)))
    s = wait_running(cluster, job_id)
    victim = s["worker"].split("@")[0]
    os.killpg(cluster.workers[victim].pid, signal.SIGKILL)
    cluster.workers[victim].wait(10)
    killed_at = time.monotonic()
    final = cluster.wait_done([job_id], timeout=150)[job_id]
    assert final["state"] == "SUCCESS", final
    result = cluster.result(job_id)
    assert result["worker"] != f"{victim}@test"
    out = cluster.out / "killed.mp4"
    assert_video(out, result["video_seconds"])
    assert not [p for p in cluster.out.iterdir() if ".part" in p.name], list(cluster.out.iterdir())
    successes = sum(p.read_text(errors="replace").count(f"[{job_id}] succeeded") for p in cluster.logs.values())
    assert successes == 1
    assert time.monotonic() - killed_at < 120
    del cluster.workers[victim]


def test_pool_process_killed_job_goes_straight_back(cluster):
    """The OOM-killer case: only the process running the job dies; its worker requeues the job at once."""
    if not cluster.workers:
        cluster.start_worker("w3")
        cluster.wait_ready("w3")
    [job_id] = cluster.submit(str(cluster.recipe("oom", text=LONG)))
    s = wait_running(cluster, job_id)
    os.kill(s["pid"], signal.SIGKILL)
    final = cluster.wait_done([job_id], timeout=60)[job_id]
    assert final["state"] == "SUCCESS", final
    result = cluster.result(job_id)
    assert result["pid"] != s["pid"]
    assert_video(cluster.out / "oom.mp4", result["video_seconds"])
    assert not [p for p in cluster.out.iterdir() if ".part" in p.name]
    logs = "".join(p.read_text(errors="replace") for p in cluster.logs.values())
    assert "WorkerLostError" in logs and logs.count(f"[{job_id}] succeeded") == 1


def test_redis_restart_workers_reconnect(cluster):
    if not cluster.workers:
        cluster.start_worker("w3")
        cluster.wait_ready("w3")
    stop(cluster.redis)
    time.sleep(2)
    cluster.redis = start_redis(cluster.redis_port, cluster.root)
    time.sleep(1)
    [job_id] = cluster.submit(str(cluster.recipe("after_restart")))
    final = cluster.wait_done([job_id], timeout=120)[job_id]
    assert final["state"] == "SUCCESS", final
    assert_video(cluster.out / "after_restart.mp4", cluster.result(job_id)["video_seconds"])


def test_submit_with_redis_down_exits_75(tmp_path, astronaut_png):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"image: {astronaut_png}\ntext: {SHORT}\noutput: {tmp_path / 'o.mp4'}\n", encoding="utf-8")
    broker = f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0"
    proc = subprocess.run([sys.executable, "-m", "vmsg", "submit", str(recipe), "--broker", broker], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 75, proc.stderr
    assert "unreachable" in proc.stderr and "nothing was submitted" in proc.stderr
    assert "hunter2-secret" not in proc.stderr + proc.stdout
    assert proc.stdout == ""
