"""Several people in one photo: face2d animates the person the user selected, and only them.

Judged from the rendered frames alone: per person, the mean absolute difference between each
frame and the source photo inside the lower third of their face box (the box comes from the
independent face detector run on the source photo, not from the renderer).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, fixture_file
from vmsg.media.image import read_image

pytestmark = [pytest.mark.quality, pytest.mark.slow]


@pytest.fixture(scope="module")
def group():
    path = fixture_file("images/example01.png")
    return path, read_image(path)


@pytest.fixture(scope="module")
def faces(group):
    """The five faces of the source photo, left to right (x, y, w, h)."""
    from vmsg.face.landmarks import _detector_boxes

    boxes = sorted(_detector_boxes(group[1]))
    assert len(boxes) == 5
    return boxes


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    from vmsg.backends.tts.openjtalk import OpenJTalkEngine
    from vmsg.timeline_io import write_speech

    speech = OpenJTalkEngine().synthesize(text="こんにちは。よろしくお願いします。", voice=None, speed=1.0)
    return write_speech(tmp_path_factory.mktemp("voice") / "voice.wav", speech)


def _vmsg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsg", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _frames(path, size: int) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size, size, 3)


def _mouth_change(frames: np.ndarray, source: np.ndarray, box) -> np.ndarray:
    """Per frame: mean |frame - source| over the lower third of the face box (the mouth and chin)."""
    x, y, w, h = box
    region = (slice(y + 2 * h // 3, y + h), slice(x + w // 4, x + 3 * w // 4))
    moved = frames[:, region[0], region[1]].astype(np.float32) - source[region].astype(np.float32)
    return np.abs(moved).mean(axis=(1, 2, 3))


@pytest.mark.parametrize("pick", ["index", "point"])
def test_the_selected_person_talks_and_the_others_stay_still(tmp_path, group, faces, voice, pick) -> None:
    path, source = group
    assert source.shape[:2] == (1024, 1024)
    # Person 3 is not the largest face (that is person 2); person 0 is the smallest.
    target = 3 if pick == "index" else 0
    x, y, w, h = faces[target]
    flag = ["--index", "3"] if pick == "index" else ["--point", f"{x + w // 2},{y + h // 2}"]
    out = tmp_path / "group.mp4"
    done = _vmsg("render", "--image", str(path), "--audio", str(voice), "-o", str(out), "--engine", "face2d",
                 "--size", "1024", *flag)
    assert done.returncode == 0, done.stderr
    frames = _frames(out, 1024)
    change = {i: _mouth_change(frames, source, box) for i, box in enumerate(faces)}
    talking = change[target]
    assert np.percentile(talking, 90) > 15.0  # the mouth opens well beyond compression noise
    assert talking.std() > 3.0  # and it moves: open and closed in turn
    for i, other in change.items():
        if i != target:
            assert other.max() < 6.0, f"person {i} changed by {other.max():.1f} (selected {target})"
            assert other.std() < talking.std() / 10


def test_a_person_index_out_of_range_exits_2_and_writes_nothing(tmp_path, group, voice) -> None:
    out = tmp_path / "none.mp4"
    done = _vmsg("render", "--image", str(group[0]), "--audio", str(voice), "-o", str(out), "--index", "7")
    assert done.returncode == 2
    assert "person index 7 is out of range: 5 people found" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_recipe_animates_the_person_segment_selected(tmp_path, group, faces) -> None:
    """The recipe path: segment's matte travels to the renderer. The photo itself as the background keeps
    every bystander in the composite, so only the matte can tell the renderer whose face to move."""
    from vmsg.pipeline import run_recipe
    from vmsg.recipe import validate_recipe

    path, _ = group
    out = tmp_path / "group.mp4"
    recipe = validate_recipe(
        {"image": str(path), "text": "こんにちは。よろしくお願いします。", "output": str(out),
         "segment": {"select": "index", "index": 1, "background": str(path)},
         "voice": {"engine": "openjtalk"}, "render": {"engine": "face2d", "size": 1024}},
        source="test",
    )
    run_recipe(recipe)
    frames = _frames(out, 1024)
    still = np.median(frames[::4], axis=0).astype(np.uint8)  # what does not move is its own median
    change = {i: _mouth_change(frames, still, box) for i, box in enumerate(faces)}
    assert np.percentile(change[1], 90) > 8.0, change[1].max()
    for i in (0, 2, 3, 4):
        assert change[i].max() < 4.0, f"person {i} changed by {change[i].max():.1f}"
