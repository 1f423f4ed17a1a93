"""The S3 content cache against moto's S3 server on 127.0.0.1: a re-render on a machine
whose local cache folder is empty (every stage from S3), then the same from the local copy.

    python scripts/bench.py cache_s3            # a 10-second message at 512 px (face2d)
    python scripts/bench.py cache_s3 --quick    # a short message at 256 px (still)

Target (issue 7): a re-render of an unchanged recipe recomputes nothing, <= 0.3 s. Loopback
moto has no network latency: on real S3 add one round trip per entry (the whole-video entry
is the only one read when the recipe is unchanged) plus the transfer of the mp4.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

SENTENCE = "本日はお忙しいところ、私たちの式に来てくださってありがとうございます。今後ともよろしくお願いします。"


def _recipe(folder: Path, quick: bool):
    from vmsg.recipe import validate_recipe

    render = {"engine": "still", "size": 256} if quick else {"size": 512, "fps": 25}
    text = "キャッシュのベンチマークです。" if quick else f"キャッシュのベンチマークです。{SENTENCE}"
    return validate_recipe({"image": str(ROOT / "assets" / "portraits" / "astronaut.png"), "text": text,
                            "output": str(folder / "out.mp4"), "voice": {"engine": "openjtalk"}, "render": render},
                           source="bench")


def run(quick: bool = False) -> list[dict]:
    from tests.scale_servers import S3_ENV, moto_s3

    saved = {k: os.environ.get(k) for k in (*S3_ENV, "VMSG_S3_ENDPOINT_URL")}
    os.environ.update(S3_ENV)
    try:
        with tempfile.TemporaryDirectory(prefix="vmsg-bench-s3cache-") as tmp, moto_s3() as url:
            os.environ["VMSG_S3_ENDPOINT_URL"] = url
            return _measure(Path(tmp), quick)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _measure(folder: Path, quick: bool) -> list[dict]:
    from vmsg.cache import open_cache
    from vmsg.pipeline import run_recipe
    from vmsg.store import S3Store

    S3Store().client.create_bucket(Bucket="vmsg-bench")
    url = "s3://vmsg-bench/cache"
    recipe = _recipe(folder, quick)
    first = open_cache(url, local_dir=folder / "machine1")
    first.check()
    t0 = time.perf_counter()
    report = run_recipe(recipe, cache=first)
    cold = time.perf_counter() - t0
    stats = first.stats()
    Path(recipe.output).unlink()

    second = open_cache(url, local_dir=folder / "machine2")
    t0 = time.perf_counter()
    second.check()
    hit = run_recipe(recipe, cache=second)
    from_s3 = time.perf_counter() - t0
    assert {s.detail.get("cache") for s in hit.stages} == {"hit"}, hit.stages
    Path(recipe.output).unlink()
    t0 = time.perf_counter()
    run_recipe(recipe, cache=second)
    local = time.perf_counter() - t0

    changed = recipe.model_copy(update={"text": recipe.text + "もうひとこと。", "output": str(folder / "changed.mp4")})
    third = open_cache(url, local_dir=folder / "machine3")
    t0 = time.perf_counter()
    partly = run_recipe(changed, cache=third)
    new_text = time.perf_counter() - t0
    segment = next(s for s in partly.stages if s.stage == "segment")
    seconds = report.outputs["video"]["seconds"]
    note = f"{seconds:.1f} s message, {recipe.render.size} px {recipe.render.engine}, openjtalk; moto on loopback"
    return [
        {"name": "first render, cache cold (stores every stage and the video in S3)", "seconds": round(cold, 2),
         "rtf": round(cold / seconds, 3), "note": f"{note}; {stats.entries} entries, {stats.bytes / 1e6:.1f} MB"},
        {"name": "re-render on another machine, empty local folder (all from S3, incl. check())",
         "seconds": round(from_s3, 3), "target": "<= 0.3 s", "note": note},
        {"name": "re-render again, from the local copy", "seconds": round(local, 3), "target": "<= 0.3 s",
         "note": note},
        {"name": f"changed text on a third machine (segment from S3: {segment.detail.get('cache')})",
         "seconds": round(new_text, 2), "note": note},
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
