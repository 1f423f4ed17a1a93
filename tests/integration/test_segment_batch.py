"""A folder through `vmsg segment --jobs 2`: worker processes, each loading the models once."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from vmsg.errors import VmsgError

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_folder_with_two_workers(tmp_path, astronaut_png):
    from PIL import Image

    from vmsg.cli.app import app

    folder = tmp_path / "in"
    folder.mkdir()
    img = Image.open(astronaut_png).convert("RGB")
    for i in range(4):
        img.rotate(5 * i).save(folder / f"p{i}.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    result = CliRunner().invoke(app, ["segment", str(folder), "-o", str(tmp_path / "out"), "--alpha", str(tmp_path / "alpha"),
                                      "--jobs", "2", "-q"])
    assert isinstance(result.exception, VmsgError) and result.exception.exit_code == 2
    assert "1 of 5 photos failed" in str(result.exception)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"p{i}.png" for i in range(4)]
    assert sorted(p.name for p in (tmp_path / "alpha").iterdir()) == [f"p{i}_alpha.png" for i in range(4)]


def test_one_worker_keeps_order_and_writes_exact_pixels(tmp_path, astronaut_png):
    """The one-worker path writes each photo's outputs on a thread while the next is segmented:
    results stay in input order, a bad photo in the middle is reported, and every PNG holds exactly
    the pixels segment() produced (lossless)."""
    import numpy as np
    from PIL import Image

    from vmsg.stages.segment import SegmentOptions, segment_file
    from vmsg.stages.segment_batch import expand_inputs, plan, run_jobs

    folder = tmp_path / "in"
    folder.mkdir()
    img = Image.open(astronaut_png).convert("RGB").resize((256, 256))
    img.save(folder / "a.png")
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    img.rotate(8).save(folder / "c.png")
    jobs = plan(expand_inputs([str(folder)]), output=tmp_path / "out", composite=None, alpha=tmp_path / "alpha", single=False)
    seen = []
    results = run_jobs(jobs, SegmentOptions(), workers=1, on_result=lambda r: seen.append(r["image"]))
    assert [r["ok"] for r in results] == [True, False, True]
    assert seen == [str(folder / n) for n in ("a.png", "b.png", "c.png")]
    assert results[1]["exit_code"] == 2 and "b.png" in results[1]["error"]
    for name in ("a", "c"):
        cut = segment_file(folder / f"{name}.png", SegmentOptions())
        with Image.open(tmp_path / "out" / f"{name}.png") as rgba, Image.open(tmp_path / "alpha" / f"{name}_alpha.png") as alpha:
            assert rgba.mode == "RGBA" and np.array_equal(np.asarray(rgba), cut.rgba)
            assert np.array_equal(np.asarray(alpha), np.clip(cut.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8))
