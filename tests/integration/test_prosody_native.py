"""The native prosody path: OpenJTalk applies speed and pitch while synthesising,
and the run report says which path each value took."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vmsg.backends.prosody.world import load_pyworld
from vmsg.stages.prosody import ProsodyOptions, split_native
from vmsg.stages.synth import SynthOptions, synth

TEXT = "こんにちは、今日はいい天気ですね。"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def plain():
    return synth(TEXT, SynthOptions(engine="openjtalk"))


def test_openjtalk_native_speed_is_measured(plain):
    native, rest, used = split_native(ProsodyOptions(speed=1.2), "openjtalk")
    faster = synth(TEXT, SynthOptions(engine="openjtalk", speed=native.pop("speed")), native=native)
    assert used == {"speed": "native"} and rest.is_neutral
    assert faster.duration == pytest.approx(plain.duration / 1.2, rel=0.02)
    assert faster.timeline[-1].end == pytest.approx(faster.duration, abs=0.01)


def test_openjtalk_native_pitch_is_measured_frame_by_frame(plain):
    load_pyworld()
    from vmsg.media.pitch import f0_contour

    native, _, used = split_native(ProsodyOptions(pitch=3.0), "openjtalk")
    shifted = synth(TEXT, SynthOptions(engine="openjtalk"), native=native)
    assert used == {"pitch": "native"} and shifted.duration == pytest.approx(plain.duration, abs=0.01)
    a, b = f0_contour(plain.samples, plain.sample_rate), f0_contour(shifted.samples, shifted.sample_rate)
    n = min(len(a), len(b))
    both = (a[:n] > 0) & (b[:n] > 0)
    assert np.median(12 * np.log2(b[:n][both] / a[:n][both])) == pytest.approx(3.0, abs=0.2)


@pytest.mark.slow
def test_recipe_report_names_the_prosody_path(tmp_path, astronaut_png):
    from vmsg.pipeline import run_recipe
    from vmsg.recipe import validate_recipe

    recipe = validate_recipe({
        "image": str(astronaut_png), "text": TEXT, "output": str(tmp_path / "out.mp4"),
        "voice": {"engine": "openjtalk"}, "prosody": {"pitch": 2, "speed": 1.1, "energy": 1.2},
        "mix": {"bgm": "calm_piano"}, "render": {"engine": "still", "size": 256},
    }, source="test")
    run_recipe(recipe)
    report = json.loads((tmp_path / "out.report.json").read_text())
    stages = {s["stage"]: s for s in report["stages"]}
    assert stages["prosody"]["detail"]["prosody_path"] == {"pitch": "native", "speed": "native", "energy": "post"}
    assert "enhance" in stages and report["inputs"]["bgm"]["spec"] == "calm_piano"
