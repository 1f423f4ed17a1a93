"""End-to-end render of a ~10-second message on the offline defaults.

Figures: a cold CLI run (a fresh process, as `vmsg render` from cron), a warm
in-process run (models loaded, as a batch worker), and `vmsg --help` latency.
Target (foundation issue): render time ≤ the message's length on a 2-core CPU.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEXT = ("本日はお忙しいところ、お時間をいただきありがとうございます。"
        "新しいプロジェクトについて、簡単にご説明します。どうぞよろしくお願いいたします。")
SHORT_TEXT = "こんにちは。今日はよろしくお願いします。"


def write_recipe(folder: Path, text: str) -> Path:
    recipe = folder / "bench.yaml"
    recipe.write_text(
        f"image: {ROOT / 'assets/portraits/astronaut.png'}\ntext: {text}\noutput: {folder / 'bench.mp4'}\n",
        encoding="utf-8")
    return recipe


def run(quick: bool) -> list[dict]:
    text = SHORT_TEXT if quick else TEXT
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recipe = write_recipe(folder, text)

        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vmsg", "--help"], cwd=ROOT, check=True, capture_output=True)
        rows.append({"name": "vmsg --help", "seconds": time.perf_counter() - started, "target": "< 0.5 s"})

        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vmsg", "render", str(recipe), "-q", "--no-cache", "--no-ledger"], cwd=ROOT,
                       check=True)
        cold = time.perf_counter() - started
        report = json.loads((folder / "bench.report.json").read_text())
        media = report["outputs"]["video"]["seconds"]
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append({"name": f"render cold CLI, {media:.1f} s video", "seconds": cold, "rtf": cold / media,
                     "peak_rss_mb": rss, "target": "rtf ≤ 1.0"})
        for stage in report["stages"]:
            rows.append({"name": f"  cold: {stage['stage']} ({stage['engine']})", "seconds": stage["seconds"]})

        sys.path.insert(0, str(ROOT))
        from vmsg.pipeline import run_recipe
        from vmsg.recipe import load_recipe

        loaded = load_recipe(recipe)
        run_recipe(loaded)
        started = time.perf_counter()
        report = run_recipe(loaded)
        warm = time.perf_counter() - started
        rows.append({"name": f"render warm (models loaded), {media:.1f} s video", "seconds": warm, "rtf": warm / media,
                     "target": "rtf ≤ 1.0"})
        for stage in report.stages:
            rows.append({"name": f"  warm: {stage.stage} ({stage.engine})", "seconds": stage.seconds})
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
