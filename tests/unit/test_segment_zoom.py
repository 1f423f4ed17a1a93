"""Zoomed mattes: a crop shrunk before the model lands where the full-size crop does, and the
multi-width matte is the mean of the single-width ones (generated scene, a fake model)."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.backends.segment.zoom import _Photo, crop_square, zoomed_matte
from vmsg.types import PersonBox


class BlobModel:
    """Stands in for a 256² portrait model: the red channel seen at 256², scaled back to the input size."""

    crop_side = 512

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def matte(self, *, image: np.ndarray) -> np.ndarray:
        import cv2

        self.sizes.append(image.shape[:2])
        seen = cv2.resize(image[..., 0], (256, 256), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        return cv2.resize(seen, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)


@pytest.fixture(scope="module")
def scene():
    """A 1024×768 photo with a red 'person' (head and body) reaching the bottom edge."""
    import cv2

    image = np.zeros((768, 1024, 3), np.uint8)
    image[..., 1] = 90
    cv2.circle(image, (430, 170), 60, (255, 90, 0), -1)
    cv2.ellipse(image, (430, 560), (170, 330), 0, 0, 360, (255, 90, 0), -1)
    image = cv2.GaussianBlur(image, (0, 0), 2)
    person = PersonBox(260, 110, 600, 768, score=0.9, face=(380, 110, 480, 230))
    return image, person


def _full_size(model, image, x0, y0, side):
    model.crop_side = None
    try:
        return _Photo(model, image).crop_matte(x0, y0, side)
    finally:
        model.crop_side = 512


def test_shrunk_crop_lands_where_the_full_size_crop_does(scene):
    image, person = scene
    model = BlobModel()
    x0, y0, side = crop_square(person, 10.0)  # 1200 px: larger than the photo, reaching past three edges
    assert side > 512 and x0 < 0 and y0 < 0
    shrunk = _Photo(model, image).crop_matte(x0, y0, side)
    assert max(model.sizes) == (512, 512)  # the model never saw the 1200² crop
    full = _full_size(model, image, x0, y0, side)
    assert shrunk.shape == full.shape == (768, min(1024, x0 + side))
    a, b = shrunk >= 0.5, full >= 0.5
    assert (a & b).sum() / (a | b).sum() > 0.995
    assert np.abs(shrunk - full).mean() < 0.01
    # the edge of the person sits in the same column in both: one photo pixel at most
    row = 560
    assert abs(int(np.argmax(a[row])) - int(np.argmax(b[row]))) <= 1


def test_three_widths_are_the_mean_of_one_width_each(scene):
    image, person = scene
    model = BlobModel()
    mean = zoomed_matte(model, image, [person], (6.0, 8.0, 10.0))
    # The widest crop reaches the bottom edge, so the narrower ones take the legs from it: three
    # model runs on shrunk crops, no whole-frame run.
    assert len(model.sizes) == 3 and max(model.sizes) == (512, 512)
    singles = [zoomed_matte(model, image, [person], (w,)) for w in (6.0, 8.0, 10.0)]
    x0, y0, side = crop_square(person, 6.0)
    inside = (slice(max(0, y0), y0 + side), slice(max(0, x0), x0 + side))  # covered by all three crops
    np.testing.assert_allclose(mean[inside], np.mean(singles, axis=0)[inside], atol=1e-5)
    assert y0 + side < 700
    assert mean[560, 430] > 0.9 and mean[700, 430] > 0.9  # the body, and the legs below the narrow crop
    assert mean[700, 950] < 0.1  # the background
