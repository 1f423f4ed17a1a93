"""A whole recipe with its background work (synthesis, the later stages' warm-up, face2d finding
the face early): every progress event still arrives on the caller's thread, in stage order."""

from __future__ import annotations

import threading

import pytest

from vmsg.pipeline import run_recipe
from vmsg.recipe import validate_recipe

pytestmark = [pytest.mark.integration]


def test_events_arrive_on_the_callers_thread(tmp_path, astronaut_png) -> None:
    recipe = validate_recipe({"image": str(astronaut_png), "text": "こんにちは。", "output": str(tmp_path / "a.mp4"),
                              "voice": {"engine": "openjtalk"}, "render": {"engine": "face2d", "size": 384}},
                             source="test")
    seen: list[tuple[str, str, int]] = []
    report = run_recipe(recipe, on_event=lambda e: seen.append((e.stage, e.status, threading.get_ident())))
    assert {ident for _, _, ident in seen} == {threading.get_ident()}
    done = [stage for stage, status, _ in seen if status == "done"]
    assert set(done) == {"segment", "synth", "enhance", "mix", "render"}
    assert done.index("render") == len(done) - 1
    assert report.status == "done" and (tmp_path / "a.mp4").stat().st_size > 0
