"""The selfie model translated from MediaPipe's .tflite to ONNX (vmsg/backends/tflite_onnx.py) gives
MediaPipe's own mattes, in a batch as one by one; a model it cannot translate is refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import fixture_file
from vmsg.errors import ModelError


def _photo() -> np.ndarray:
    fg = np.asarray(Image.open(fixture_file("images/example02.png")).convert("RGBA")).astype(np.float32)
    bg = np.asarray(Image.open(fixture_file("images/background01.png")).convert("RGB").resize(fg.shape[1::-1]))
    a = fg[..., 3:] / 255.0
    return (fg[..., :3] * a + bg * (1 - a)).astype(np.uint8)


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    import os

    from vmsg.backends.mediapipe_util import import_mediapipe
    from vmsg.backends.segment.mediapipe import MediapipeSegmenter

    os.environ["VMSG_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    try:
        ours = MediapipeSegmenter()
    finally:
        del os.environ["VMSG_CACHE_DIR"]
    mp = import_mediapipe("test")
    reference = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
    yield ours, reference
    reference.close()


@pytest.mark.parametrize("side", [256, 300, 512, 777])
def test_mattes_equal_mediapipes_own_graph(engines, side):
    import cv2

    ours, reference = engines
    photo = _photo()
    h, w = photo.shape[:2]
    crop = np.ascontiguousarray(cv2.resize(photo[: min(h, w), : min(h, w)], (side, side), interpolation=cv2.INTER_AREA))
    expected = reference.process(crop).segmentation_mask
    got = ours.matte(image=crop)
    assert got.shape == (side, side)
    assert np.abs(got - expected).max() < 2e-3
    assert (expected >= 0.5).mean() > 0.1  # a person is in view: the comparison is not of two empty masks


def test_the_landscape_model_too(tmp_path, monkeypatch):
    from vmsg.backends.mediapipe_util import import_mediapipe
    from vmsg.backends.segment.mediapipe import MediapipeSegmenter

    monkeypatch.setenv("VMSG_CACHE_DIR", str(tmp_path))
    ours = MediapipeSegmenter(model="landscape")
    photo = np.ascontiguousarray(_photo()[:360, :640])
    with import_mediapipe("test").solutions.selfie_segmentation.SelfieSegmentation(model_selection=1) as reference:
        expected = reference.process(photo).segmentation_mask
    got = ours.matte(image=photo)
    assert np.abs(got - expected).max() < 2e-3
    assert (expected >= 0.5).mean() > 0.1  # a person is in view: the comparison is not of two empty masks


def test_batch_equals_one_by_one_and_scales_to_the_asked_size(engines):
    ours, _ = engines
    photo = _photo()
    crops = [np.ascontiguousarray(photo[:400, :400]), np.ascontiguousarray(photo[100:612, 50:562]), photo,
             np.ascontiguousarray(photo[::2, ::2]), np.ascontiguousarray(photo[50:350, 20:320]),
             np.ascontiguousarray(photo[200:456, 100:356])]  # more than one batch (BATCH = 4)
    single = [ours.matte(image=c) for c in crops]
    batch = ours.mattes(crops)
    for a, b in zip(single, batch):
        assert a.shape == b.shape and np.abs(a - b).max() < 1e-5
    resized = ours.mattes(crops[:1], [(123, 321)])[0]
    assert resized.shape == (123, 321) and 0.0 <= resized.min() and resized.max() <= 1.0


def test_an_operator_outside_the_translated_set_is_refused_by_name():
    from vmsg.backends.segment.mediapipe import selfie_model_path
    from vmsg.backends.tflite_onnx import tflite_to_onnx

    detector = selfie_model_path().parents[1] / "face_detection" / "face_detection_full_range_sparse.tflite"
    with pytest.raises(ModelError, match="DENSIFY"):
        tflite_to_onnx(detector)


def test_a_missing_model_file_is_a_model_error(tmp_path):
    from vmsg.backends.tflite_onnx import tflite_to_onnx

    with pytest.raises(ModelError, match="cannot be read"):
        tflite_to_onnx(tmp_path / "none.tflite")
