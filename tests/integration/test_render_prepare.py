"""face2d's `prepare` (the pipeline finds the face while synthesis runs): the same video as
without it, the face found once, and errors still reported by `render`."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

import vmsg.face.landmarks as landmarks
from vmsg.backends.render import RENDERERS
from vmsg.errors import InputError
from vmsg.media.image import read_image
from vmsg.stages.render import RenderOptions, prepare, render
from vmsg.types import Soundtrack

pytestmark = [pytest.mark.integration]

OPTIONS = RenderOptions(engine="face2d", size=384)


@pytest.fixture(scope="module")
def track() -> Soundtrack:
    from vmsg.backends.tts.openjtalk import OpenJTalkEngine

    s = OpenJTalkEngine().synthesize(text="こんにちは。", voice=None, speed=1.0)
    return Soundtrack(s.samples, s.sample_rate, s.timeline, s.timeline_source)


@pytest.fixture
def counted(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = landmarks.find_face

    def find_face(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(landmarks, "find_face", find_face)
    return calls


def test_a_prepared_face_is_reused_and_the_video_is_the_same(tmp_path, astronaut_png, track, counted) -> None:
    image = read_image(astronaut_png)
    render(image, track, tmp_path / "plain.mp4", OPTIONS)
    assert len(counted) == 1
    subject = np.zeros(image.shape[:2], np.float32)
    subject[:, image.shape[1] // 4 : 3 * image.shape[1] // 4] = 1.0
    prepare(image, OPTIONS, subject=subject)  # returns at once, the face is found in the background
    render(image, track, tmp_path / "prepared.mp4", OPTIONS, subject=subject)
    assert len(counted) == 2  # found once, in prepare
    render(image, track, tmp_path / "again.mp4", OPTIONS, subject=subject)
    assert len(counted) == 3  # an entry serves one render: nothing lingers in a batch worker
    digests = {hashlib.sha256((tmp_path / n).read_bytes()).hexdigest() for n in ("plain.mp4", "prepared.mp4", "again.mp4")}
    assert len(digests) == 1


def test_a_copy_of_the_image_is_not_taken_for_the_prepared_one(tmp_path, astronaut_png, track, counted) -> None:
    image = read_image(astronaut_png)
    prepare(image, OPTIONS)
    render(image.copy(), track, tmp_path / "copy.mp4", OPTIONS)
    assert len(counted) == 2
    RENDERERS.instance("face2d", device="auto")._prepared.clear()


def test_no_face_is_reported_by_render_not_by_prepare(tmp_path, track) -> None:
    blank = np.full((300, 300, 3), 128, np.uint8)
    prepare(blank, OPTIONS)  # nothing raised: the render stage reports it, with its run report
    with pytest.raises(InputError, match="no face"):
        render(blank, track, tmp_path / "blank.mp4", OPTIONS)
    assert not (tmp_path / "blank.mp4").exists()
