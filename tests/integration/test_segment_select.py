"""Several people: every selection strategy picks the right person, and the matte holds that person only.

Ground truth for the five-person fixture comes from an independent detector (YuNet faces):
the chosen person's matte must cover their own face and none of the other four.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, fixture_file
from tests.segment_helpers import composite_people, iou, load_rgb, load_rgba, on_background
from vmsg.errors import BackendError, InputError
from vmsg.stages.segment import SegmentOptions, segment

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def five():
    from vmsg.backends.detect.yunet import YunetFaceDetector

    photo, _ = on_background("example01", "background03")
    faces, _ = YunetFaceDetector(model_path=str(fixture_file("models/yunet_face.onnx"))).faces(photo)
    from vmsg.backends.detect.boxes import nms

    faces = faces[nms(faces, np.ones(len(faces)), 0.3)]
    centres = sorted(((int((f[0] + f[2]) / 2), int((f[1] + f[3]) / 2)) for f in faces))
    assert len(centres) == 5
    return photo, centres


def covered(alpha, centres):
    return [i for i, (x, y) in enumerate(centres) if alpha[y - 3 : y + 4, x - 3 : x + 4].mean() > 0.5]


@pytest.mark.parametrize("index", range(5))
def test_index_picks_that_person_alone(five, index):
    photo, centres = five
    cut = segment(photo, SegmentOptions(select="index", index=index))
    assert cut.meta["people"] == 5 and cut.meta["selected"] == index
    assert covered(cut.alpha, centres) == [index]


def test_center_and_point(five):
    photo, centres = five
    assert covered(segment(photo, SegmentOptions(select="center")).alpha, centres) == [2]
    x, y = centres[3]
    assert covered(segment(photo, SegmentOptions(select="point", point=(x, y + 40))).alpha, centres) == [3]


def test_all_keeps_everyone_and_largest_keeps_one(five):
    photo, centres = five
    assert covered(segment(photo, SegmentOptions(select="all")).alpha, centres) == [0, 1, 2, 3, 4]
    assert len(covered(segment(photo, SegmentOptions()).alpha, centres)) == 1


def test_index_out_of_range_names_the_count(five):
    with pytest.raises(InputError, match=r"index 7 is out of range: 5 people found \(valid: 0–4\)"):
        segment(five[0], SegmentOptions(select="index", index=7))


@pytest.fixture(scope="module")
def pair():
    import cv2

    bg = cv2.resize(load_rgb("background01"), (1280, 720), interpolation=cv2.INTER_AREA)
    photo, (big, small) = composite_people(bg, [(load_rgba("example03"), 0.62, 0.32, 1.0), (load_rgba("example02"), 0.55, 0.75, 1.0)])
    return photo, big, small


def test_largest_and_separation_against_exact_mattes(pair):
    photo, big, small = pair
    cut = segment(photo, SegmentOptions(select="largest"))
    assert cut.meta["people"] == 2
    assert iou(cut.alpha, big) > 0.85
    assert (cut.alpha * (small > 0.5)).sum() < 0.05 * (small > 0.5).sum()
    other = segment(photo, SegmentOptions(select="index", index=1))
    assert iou(other.alpha, small) > 0.75


def test_crop_keeps_the_subject_with_a_margin(pair):
    photo, big, _ = pair
    cut = segment(photo, SegmentOptions(crop=True, margin=0.1))
    h, w = cut.alpha.shape
    assert h < photo.shape[0] or w < photo.shape[1]
    assert cut.composite.shape[:2] == (h, w) and cut.rgb.shape[:2] == (h, w)
    assert np.isclose(cut.alpha.sum(), segment(photo, SegmentOptions()).alpha.sum(), rtol=0.02)


def test_cuda_is_refused_clearly():
    with pytest.raises(BackendError, match="cuda"):
        segment(np.zeros((64, 64, 3), np.uint8), SegmentOptions(device="cuda"))


def test_mediapipe_start_up_lines_do_not_reach_stderr():
    code = (
        "import time, numpy as np\n"
        "from vmsg.stages.segment import segment, SegmentOptions\n"
        "from vmsg.backends.segment import SEGMENTERS\n"
        "from vmsg.backends.detect import DETECTORS\n"
        "SEGMENTERS.instance('mediapipe', device='auto'); DETECTORS.instance('mediapipe', device='auto')\n"
        "time.sleep(1.5)\n"  # the graph threads log asynchronously after construction
        "img = np.zeros((256, 256, 3), np.uint8)\n"
        "segment(img, SegmentOptions(allow_empty=True))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


@pytest.mark.parametrize("detector,weights", [("yolox", "models/yolox_nano.onnx"), ("yunet", "models/yunet_face.onnx")])
def test_onnx_detectors_drive_the_selection_too(five, detector, weights):
    photo, centres = five
    for index in (1, 3):
        options = SegmentOptions(detector=detector, detector_model=str(fixture_file(weights)), select="index", index=index)
        cut = segment(photo, options)
        assert cut.meta["people"] == 5 and covered(cut.alpha, centres) == [index]
