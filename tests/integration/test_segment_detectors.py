"""Person/face detectors on the five-person fixture: every engine finds all five, left to right."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fixture_file
from tests.segment_helpers import on_background
from vmsg.backends.detect import DETECTORS
from vmsg.backends.detect.boxes import nms
from vmsg.backends.segment.instances import order_people
from vmsg.errors import InputError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def five():
    photo, alpha = on_background("example01", "background01")
    return photo, alpha


def _detector(name):
    paths = {"yolox": "models/yolox_nano.onnx", "yunet": "models/yunet_face.onnx"}
    kwargs = {"model_path": str(fixture_file(paths[name]))} if name in paths else {}
    return DETECTORS.create(name, **kwargs)


@pytest.mark.parametrize("name", ["mediapipe", "yolox", "yunet"])
def test_all_five_people_found(five, name):
    photo, alpha = five
    people = order_people(_detector(name).detect(image=photo))
    assert len(people) == 5
    centres = [((p.x0 + p.x1) / 2, (p.y0 + p.y1) / 2) for p in people]
    assert all(b[0] - a[0] > 40 for a, b in zip(centres, centres[1:]))  # distinct, ordered
    for p in people:
        assert 0.3 < p.score <= 1.0
        box = alpha[p.y0 : p.y1, p.x0 : p.x1]
        assert box.mean() > 0.2  # each box sits on a real person
        if p.face:  # the face box lies on the person, in the top part of the picture
            fx0, fy0, fx1, fy1 = p.face
            assert alpha[fy0:fy1, fx0:fx1].mean() > 0.6 and fy1 < 0.45 * photo.shape[0]


def test_nms_drops_duplicates_and_merged_faces():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 0, 30, 10], [0, 0, 30, 12]], np.float32)
    scores = np.array([0.9, 0.8, 0.85, 0.5], np.float32)
    assert sorted(nms(boxes, scores, 0.5)) == [0, 2, 3]
    assert sorted(nms(boxes, scores, 0.4, over_min=True)) == [0, 2]


def test_unknown_detector_lists_the_valid_ones():
    with pytest.raises(InputError, match="mediapipe, yolox, yunet"):
        DETECTORS.check("retinaface")


@pytest.mark.parametrize("name", ["mediapipe", "yolox", "yunet"])
def test_every_detector_keeps_the_contract(name):
    from vmsg.backends.protocols import Detector

    detector = _detector(name)
    assert isinstance(detector, Detector) and detector.version
    assert detector.detect(image=np.full((240, 320, 3), 127, np.uint8)) == []  # a blank wall has nobody


def _faces(found):
    return [(p.face, round(p.score, 4)) for p in order_people(found)]


def test_mediapipe_tiles_on_several_threads_find_what_one_thread_finds(five):
    photo, _ = five
    detector = _detector("mediapipe")
    threaded = detector.detect(image=photo)
    assert len(detector._full) >= 2  # the group photo was tiled, on more than one graph
    detector._threads = 1
    assert _faces(detector.detect(image=photo)) == _faces(threaded)
    assert len(threaded) == 5
