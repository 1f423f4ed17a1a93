"""Throughput of Celery workers on a local redis-server: one worker, then two.

Each job is a 10-second Japanese message rendered at 512 px from one shared portrait
(openjtalk voice, still renderer by default; VMSG_BENCH_VOICE=kokoro for the default voice).
Worker start-up and model loading are excluded (--preload); the clock runs from the first
submit to the last job done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEXT_10S = "こんにちは。今日は良い天気ですね。明日もよろしくお願いします。皆さんのおかげで、今年もとても楽しい一年になりました。"
"""About 11 s of speech with openjtalk."""
TARGET = "scaling 1→2 workers; batch target ≥ 0.2 videos/s"


def _run(workers: int, jobs: int, text: str, size: int, root: Path) -> dict:
    from tests.scale_servers import free_port, start_redis, stop
    from vmsg.recipe import validate_recipe
    from vmsg.worker.app import make_celery
    from vmsg.worker.status import job_status
    from vmsg.worker.submit import Job, submit_jobs

    voice = os.environ.get("VMSG_BENCH_VOICE", "openjtalk")
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    redis = start_redis(port, root)
    procs = []
    try:
        for i in range(workers):
            log = root / f"w{workers}-{i}.log"
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "vmsg", "worker", "--broker", broker, "--name", f"bench{i}@local",
                 "--preload", "segment=mediapipe", "--preload", f"voice={voice}", "--loglevel", "INFO"],
                cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True))
        app = make_celery(broker)
        _wait_preloaded([root / f"w{workers}-{i}.log" for i in range(workers)])
        portrait = ROOT / "assets" / "portraits" / "astronaut.png"
        batch = [Job(f"j{i}", validate_recipe({"image": str(portrait), "text": text, "output": str(root / f"w{workers}" / f"j{i}.mp4"),
                                                 "voice": {"engine": voice}, "render": {"engine": "still", "size": size}},
                                                source="bench"), "bench") for i in range(jobs)]
        started = time.perf_counter()
        ids = [i for i, _ in submit_jobs(app, batch)]
        while not all((s := job_status(app, i))["done"] for i in ids):
            time.sleep(0.2)
        seconds = time.perf_counter() - started
        failed = [i for i in ids if job_status(app, i)["state"] != "SUCCESS"]
        video = sum(app.AsyncResult(i).result.get("video_seconds", 0) for i in ids if i not in failed)
        return {"name": f"{workers} worker(s), {jobs} jobs", "seconds": round(seconds, 2),
                "per_item_ms": round(1000 * seconds / jobs), "rtf": round(seconds / max(video, 1e-9), 3),
                "videos_per_s": round(jobs / seconds, 3), "target": TARGET,
                "note": f"{jobs / seconds:.3f} videos/s, {video / jobs:.1f} s videos at {size} px, voice {voice}"
                        + (f", {len(failed)} FAILED" if failed else "")}
    finally:
        for p in procs:
            stop(p, signal.SIGTERM, timeout=20)
        stop(redis)


def _wait_preloaded(logs: list[Path], timeout: float = 180) -> None:
    """Until every worker's pool process has loaded its models (the log says 'preloaded voice engine')."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(log.exists() and "preloaded voice engine" in log.read_text(errors="replace") for log in logs):
            return
        time.sleep(0.2)
    raise TimeoutError("workers did not start: " + " | ".join(log.read_text(errors="replace")[-500:] for log in logs))


def run(quick: bool) -> list[dict]:
    jobs, text, size = (4, "こんにちは。今日は良い天気ですね。", 256) if quick else (8, TEXT_10S, 512)
    rows = []
    with tempfile.TemporaryDirectory(prefix="vmsg-bench-workers-") as tmp:
        for workers in (1, 2):
            folder = Path(tmp) / f"r{workers}"
            folder.mkdir()
            rows.append(_run(workers, jobs, text, size, folder))
    if len(rows) == 2 and rows[0]["seconds"]:
        rows.append({"name": "speed-up 1→2 workers", "seconds": rows[1]["seconds"],
                     "note": f"x{rows[0]['seconds'] / rows[1]['seconds']:.2f} on {os.cpu_count()} CPUs",
                     "target": "≈ x2 with ≥ 2 free cores"})
    return rows


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), ensure_ascii=False, indent=2))
