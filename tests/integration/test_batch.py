"""Batches on one machine, end to end with real engines (openjtalk, mediapipe, still render, ffmpeg)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_run import run_cli
from tests.integration._servers import free_port, tiny_tmpfs
from vmsg.ledger import open_ledger
from vmsg.media.ffmpeg import probe

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PORTRAIT = ROOT / "assets" / "portraits" / "astronaut.png"
TEMPLATE = f"""image: {PORTRAIT}
text: テンプレート
output: out/x.mp4
voice:
  engine: openjtalk
render:
  engine: still
  size: 256
  preset: ultrafast
mix:
  lead_in: 0.1
  tail: 0.1
"""


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Private cache, ledger and lock folders; the template recipe."""
    for name, sub in (("VMSG_CACHE_DIR", "cache"), ("VMSG_HOME", "home"), ("VMSG_LOCK_DIR", "locks")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.delenv("VMSG_CACHE_URL", raising=False)
    monkeypatch.delenv("VMSG_LEDGER_URL", raising=False)
    (tmp_path / "tpl.yaml").write_text(TEMPLATE, encoding="utf-8")
    return tmp_path


def cli(capsys, *argv: str) -> tuple[int, list[dict], str]:
    """Run `vmsg …` in this process (engines stay loaded between tests); exit code, JSON lines, stderr."""
    code, _, err = run_cli(capsys, *argv)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return code, lines, err


def write_csv(path: Path, rows: list[tuple[str, ...]], header: str = "name,text") -> Path:
    path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def assert_valid_video(path: Path, seconds: float | None = None) -> None:
    info = probe(path)
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == ["audio", "video"], f"{path}: streams {kinds}"
    duration = float(info["format"]["duration"])
    assert duration > 0.3
    if seconds is not None:
        assert abs(duration - seconds) < 0.15, f"{path}: {duration:.2f} s, report says {seconds:.2f} s"


def blank_image(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (256, 256), (30, 200, 40)).save(path)
    return path


def test_batch_renders_every_row_then_a_rerun_skips_them(env, capsys):
    batch = write_csv(env / "m.csv", [("hello", "こんにちは。"), ("thanks", "ありがとうございます。"), ("bye", "さようなら。")])
    code, lines, err = cli(capsys, "batch", str(batch), "-t", str(env / "tpl.yaml"))
    assert code == 0, err
    report = json.loads((env / "out" / "m.batch-report.json").read_text())
    assert report["counts"] == {"done": 3, "skipped": 0, "failed": 0} and report["exit_code"] == 0
    for job in report["jobs"]:
        assert job["status"] == "done" and job["error"] is None
        assert job["engines"]["segment"].startswith("mediapipe-") and job["engines"]["synth"].startswith("pyopenjtalk")
        assert {s["stage"] for s in job["stages"]} == {"segment", "synth", "enhance", "mix", "render"}
        run = json.loads((env / "out" / f"{job['name']}.report.json").read_text())
        assert_valid_video(Path(job["output"]), run["outputs"]["video"]["seconds"])
    segment_cache = [s["cache"] for job in report["jobs"] for s in job["stages"] if s["stage"] == "segment"]
    assert segment_cache == ["miss", "hit", "hit"], "the shared portrait is segmented once"
    assert {e["status"] for e in lines if e.get("event") == "job"} == {"done"}
    assert any(e.get("event") == "stage" and e["stage"] == "synth" for e in lines), "JSON progress lines on a non-TTY"
    ledger = open_ledger()
    assert sorted(r.name for r in ledger.list(status="done")) == ["bye", "hello", "thanks"]

    code, lines, err = cli(capsys, "batch", str(batch), "-t", str(env / "tpl.yaml"))
    assert code == 0, err
    assert [e["status"] for e in lines if e.get("event") == "job"] == ["skipped"] * 3
    code, _, _ = cli(capsys, "jobs", "show", ledger.list(status="skipped")[0].id)
    assert code == 0


def test_one_failing_job_does_not_stop_the_others(env, capsys):
    blank = blank_image(env / "blank.png")
    batch = write_csv(env / "m.csv", [("ok1", "いち。", ""), ("empty", "に。", str(blank)), ("ok2", "さん。", "")],
                      header="name,text,image")
    code, lines, err = cli(capsys, "batch", str(batch), "-t", str(env / "tpl.yaml"), "--no-cache")
    assert code == 1, err
    report = json.loads((env / "out" / "m.batch-report.json").read_text())
    status = {j["name"]: j for j in report["jobs"]}
    assert status["ok1"]["status"] == status["ok2"]["status"] == "done"
    assert status["empty"]["status"] == "failed" and "no person found" in status["empty"]["error"]
    assert status["empty"]["error_kind"] == "InputError"
    assert not (env / "out" / "empty.mp4").exists()
    assert_valid_video(env / "out" / "ok2.mp4")
    assert "1 failed" in err
    assert open_ledger().list(status="failed")[0].name == "empty"


def test_bad_input_is_exit_2_and_nothing_runs(env, capsys):
    batch = write_csv(env / "m.csv", [("a", "あ。", "same.mp4", ""), ("b", "い。", "same.mp4", ""),
                                      ("c", "う。", "", str(env / "missing.png"))], header="name,text,output,image")
    code, _, err = cli(capsys, "batch", str(batch), "-t", str(env / "tpl.yaml"))
    assert code == 2
    assert "m.csv:3 (b): output" in err and "is also written by" in err and "m.csv:2 (a)" in err
    assert "m.csv:4 (c): image" in err and "missing.png: file not found" in err
    assert "nothing was run" in err
    assert not list(env.rglob("*.mp4"))

    write_csv(env / "bad.csv", [("a", "x", "extra")])
    code, _, err = cli(capsys, "batch", str(env / "bad.csv"), "-t", str(env / "tpl.yaml"))
    assert code == 2 and "line 2: 3 field(s), the header has 2" in err


def test_a_second_run_of_the_same_batch_exits_75(env, capsys):
    from vmsg.locks import exclusive

    batch = write_csv(env / "m.csv", [("a", "あ。")])
    with exclusive(batch):
        code, _, err = cli(capsys, "batch", str(batch), "-t", str(env / "tpl.yaml"))
    assert code == 75 and "is already running" in err and f"pid {os.getpid()}" in err
    assert not list(env.rglob("*.mp4"))


def test_redis_cache_down_is_exit_75_before_any_work(env, capsys):
    batch = write_csv(env / "m.csv", [("a", "あ。")])
    code, _, err = cli(capsys, "batch", str(batch), "-t", str(env / "tpl.yaml"), "--cache-url", f"redis://127.0.0.1:{free_port()}/0")
    assert code == 75 and "Redis is unreachable" in err
    assert not list(env.rglob("*.mp4"))


def test_full_disk_is_a_temporary_failure_and_leaves_no_partial_video(env, capsys):
    batch = write_csv(env / "m.csv", [("a", "こんにちは、今日はとても良い天気ですね。"), ("b", "ありがとうございました。")])
    with tiny_tmpfs(env / "disk", "48k") as disk:
        code, _, err = cli(capsys, "batch", str(batch), "-t", str(env / "tpl.yaml"), "--out-dir", str(disk), "--no-cache",
                           "--report", str(env / "report.json"))
        leftovers = sorted(p.name for p in disk.iterdir())
        for video in disk.glob("*.mp4"):
            assert_valid_video(video)  # a video whose report could not be written is whole (and redone next run)
    assert code == 75, err
    report = json.loads((env / "report.json").read_text())
    assert all(j["status"] == "failed" and "is full" in j["error"] for j in report["jobs"])
    assert "free some space and run the batch again" in err
    assert not [n for n in leftovers if ".part" in n], leftovers


def test_render_many_recipes_and_a_changed_text_reuses_the_segmentation(env, capsys):
    recipes = []
    for name, text in (("one", "ひとつめ。"), ("two", "ふたつめ。")):
        path = env / f"{name}.yaml"
        path.write_text(TEMPLATE.replace("テンプレート", text).replace("out/x.mp4", f"out/{name}.mp4"), encoding="utf-8")
        recipes.append(str(path))
    code, _, err = cli(capsys, "render", *recipes)
    assert code == 0, err
    runs = [json.loads((env / "out" / f"{n}.report.json").read_text()) for n in ("one", "two")]
    cache = [{s["stage"]: s["detail"]["cache"] for s in r["stages"]} for r in runs]
    assert cache[0] == {"segment": "miss", "synth": "miss", "enhance": "miss", "mix": "miss", "render": "miss"}
    assert cache[1]["segment"] == "hit" and cache[1]["synth"] == "miss"
    before = (env / "out" / "one.mp4").read_bytes()
    (env / "out" / "one.mp4").unlink()
    code, _, err = cli(capsys, "render", recipes[0])
    assert code == 0, err
    again = json.loads((env / "out" / "one.report.json").read_text())
    assert {s["detail"]["cache"] for s in again["stages"]} == {"hit"}, "an unchanged recipe recomputes nothing"
    assert (env / "out" / "one.mp4").read_bytes() == before
    code, lines, err = cli(capsys, "render", recipes[0], "--resume")
    assert code == 0 and lines[-1]["status"] == "skipped"


@pytest.mark.slow
def test_kill_9_mid_batch_loses_nothing(env):
    """A real batch process (2 workers) killed with SIGKILL; the rerun finishes the rest and every output is whole."""
    rows = [(f"m{i}", text) for i, text in enumerate(["おはようございます。", "こんにちは。", "こんばんは。", "おやすみなさい。",
                                                      "いってきます。", "ただいま。"])]
    batch = write_csv(env / "m.csv", rows)
    cmd = [sys.executable, "-m", "vmsg", "batch", str(batch), "-t", str(env / "tpl.yaml"), "--jobs", "2", "--no-cache"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    out = env / "out"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(out.glob("m*.mp4"))) < 1:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    finished = sorted(out.glob("m*.mp4"))
    assert 1 <= len(finished) < len(rows), "killed mid-batch"
    for path in finished:
        assert_valid_video(path)
    time.sleep(0.5)
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    # Native libraries (TFLite) write to the same stderr without Python's buffering: find the JSON inside each line.
    events = [json.loads(m.group(0)) for m in re.finditer(r'\{"event": "job".*\}', rerun.stderr)]
    skipped = {e["name"] for e in events if e["status"] == "skipped"}
    assert {p.stem for p in finished} <= skipped
    done = {e["name"] for e in events if e["status"] == "done"}
    assert done == {n for n, _ in rows} - skipped, (finished, events, rerun.stderr[-3000:])
    for name, _ in rows:
        run = json.loads((out / f"{name}.report.json").read_text())
        assert_valid_video(out / f"{name}.mp4", run["outputs"]["video"]["seconds"])
    assert not [p.name for p in out.iterdir() if ".part" in p.name], "stale temporary files are cleaned on rerun"
    interrupted = open_ledger().list(status="interrupted")
    assert len(interrupted) >= len(rows) - len(finished), "the killed run's unfinished jobs are marked interrupted"
    assert all(r.batch.startswith("m.csv-") for r in interrupted)


def test_cron_script_turns_a_busy_batch_into_a_logged_retry(env, tmp_path):
    from vmsg.locks import exclusive

    batch = write_csv(env / "m.csv", [("a", "あ。")])
    wrapper = tmp_path / "vmsg"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m vmsg "$@"\n')
    wrapper.chmod(0o755)
    environ = {**os.environ, "VMSG": str(wrapper), "VMSG_LOG_DIR": str(tmp_path / "logs"),
               "VMSG_OUT_DIR": str(tmp_path / "videos"), "PYTHONPATH": str(ROOT)}
    with exclusive(batch):
        proc = subprocess.run(["sh", str(ROOT / "scripts" / "cron_example.sh"), str(batch), str(env / "tpl.yaml")],
                              cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    log = next((tmp_path / "logs").glob("m-*.log")).read_text()
    assert "is already running" in log and "temporary failure" in log and "will retry" in log
    assert not list((tmp_path / "videos").glob("*.mp4"))
