"""Zoomed mattes: a crop shrunk before the model lands where the full-size crop does, and the
multi-width matte is the mean of the single-width ones (generated scene, a fake model)."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.backends.segment.zoom import _Photo, crop_square, width_weights, zoomed_matte
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
        return _Photo(model, image, grid_side=max(image.shape)).crop_matte(x0, y0, side)
    finally:
        model.crop_side = 512


def test_shrunk_crop_lands_where_the_full_size_crop_does(scene):
    image, person = scene
    model = BlobModel()
    x0, y0, side = crop_square(person, 10.0)  # 1200 px: larger than the photo, reaching past three edges
    assert side > 512 and x0 < 0 and y0 < 0
    shrunk = _Photo(model, image, grid_side=max(image.shape)).crop_matte(x0, y0, side)  # placed on the photo itself
    assert max(model.sizes) == (512, 512)  # the model never saw the 1200² crop
    full = _full_size(model, image, x0, y0, side)
    assert shrunk.shape == full.shape == (768, min(1024, x0 + side))
    a, b = shrunk >= 0.5, full >= 0.5
    assert (a & b).sum() / (a | b).sum() > 0.995
    assert np.abs(shrunk - full).mean() < 0.01
    # the edge of the person sits in the same column in both: one photo pixel at most
    row = 560
    assert abs(int(np.argmax(a[row])) - int(np.argmax(b[row]))) <= 1


def test_three_widths_are_the_weighted_mean_of_one_width_each(scene):
    image, person = scene
    model = BlobModel()
    mean = zoomed_matte(model, image, [person], (6.0, 8.0, 10.0))
    # The widest crop reaches the bottom edge, so the narrower ones take the legs from it: three
    # model runs on shrunk crops, no whole-frame run.
    assert len(model.sizes) == 3 and max(model.sizes) == (512, 512)
    singles = [zoomed_matte(model, image, [person], (w,)) for w in (6.0, 8.0, 10.0)]
    x0, y0, side = crop_square(person, 6.0)
    # covered by all three crops (4 px in: the bicubic scaling from the half-size grid reaches 2 grid pixels)
    inside = (slice(max(0, y0) + 4, y0 + side - 4), slice(max(0, x0) + 4, x0 + side - 4))
    weights = width_weights((10.0, 8.0, 6.0))
    assert abs(weights.sum() - 1) < 1e-6 and weights[0] < weights[1] < weights[2]  # narrower crops count more
    expected = np.tensordot(weights, np.stack(singles[::-1]), axes=1)
    np.testing.assert_allclose(mean[inside], expected[inside], atol=2e-3)  # 1e-5 but where the bicubic scaling clips at 0 or 1
    assert y0 + side < 700
    assert mean[560, 430] > 0.9 and mean[700, 430] > 0.9  # the body, and the legs below the narrow crop
    assert mean[700, 950] < 0.1  # the background


class AboveBlobModel(BlobModel):
    zoom_above = True


def _raised_arm(arm: bool) -> tuple[np.ndarray, PersonBox]:
    """A 1024² photo, a red person whose face is low enough that their crops start at y=300; with `arm`,
    an arm raised from the shoulder to y=120, far above that."""
    import cv2

    image = np.zeros((1024, 1024, 3), np.uint8)
    image[..., 1] = 90
    cv2.circle(image, (500, 500), 50, (255, 90, 0), -1)
    cv2.ellipse(image, (500, 850), (150, 280), 0, 0, 360, (255, 90, 0), -1)
    if arm:
        cv2.rectangle(image, (600, 120), (640, 640), (255, 90, 0), -1)
    return cv2.GaussianBlur(image, (0, 0), 2), PersonBox(350, 120, 650, 1024, score=0.9, face=(450, 450, 550, 550))


def test_a_raised_arm_above_every_crop_is_filled_from_a_higher_crop():
    image, person = _raised_arm(arm=True)
    assert crop_square(person, 10.0)[1] == 300  # every width's crop starts 1.5 face heights above the face
    plain = zoomed_matte(BlobModel(), image, [person])
    model = AboveBlobModel()
    above = zoomed_matte(model, image, [person])
    assert plain[200, 620] == 0.0 and above[200, 620] > 0.9  # the raised forearm
    assert above[200, 300] < 0.1 and above[200, 900] < 0.1  # the background beside it stays out
    # inside the crops nothing changes (past the reach of the bicubic scaling from the grid: 4 px)
    np.testing.assert_array_equal(above[304:], plain[304:])
    assert len(model.sizes) == 2  # (one width: the crop, then the one above it)


def test_no_extra_crop_when_nothing_reaches_the_top_of_the_crops():
    image, person = _raised_arm(arm=False)
    model = AboveBlobModel()
    above = zoomed_matte(model, image, [person])
    np.testing.assert_array_equal(above, zoomed_matte(BlobModel(), image, [person]))
    assert len(model.sizes) == 1


class SteppedModel(BlobModel):
    """A model that, like MediaPipe's at exactly 2:1, reads every other pixel of a 512² crop (crop_step)."""

    crop_step = 2

    def see(self, image: np.ndarray) -> np.ndarray:
        import cv2

        self.sizes.append(image.shape[:2])
        if image.shape[:2] == (512, 512):
            image = image[::2, ::2]
        elif image.shape[:2] != (256, 256):
            image = cv2.resize(image, (256, 256), interpolation=cv2.INTER_LINEAR)
        return image[..., 0].astype(np.float32) / 255.0

    def matte(self, *, image: np.ndarray) -> np.ndarray:
        import cv2

        return cv2.resize(self.see(image), image.shape[1::-1], interpolation=cv2.INTER_LINEAR)


class BatchBlobModel(SteppedModel):
    """The same model with a batch entry point (`mattes`, as the MediaPipe engine has)."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def mattes(self, images, sizes=None):
        import cv2

        self.batches.append(len(images))
        out = []
        for i, image in enumerate(images):
            seen = self.see(image)
            size = (sizes[i] if sizes else image.shape[:2]) or seen.shape
            out.append(cv2.resize(seen, size[::-1], interpolation=cv2.INTER_LINEAR))
        return out


def test_crop_step_samples_the_pixels_a_resized_crop_would_give(scene):
    import cv2

    image, person = scene
    x0, y0, side = crop_square(person, 10.0)
    stepped = _Photo(BatchBlobModel(), image)._crop_input(x0, y0, side)
    assert stepped.shape == (256, 256, 3)
    resized = _Photo(BlobModel(), image)._crop_input(x0, y0, side)  # the 512² crop, every pixel
    assert resized.shape == (512, 512, 3)
    diff = np.abs(stepped.astype(int) - resized[::2, ::2].astype(int))
    assert diff.max() <= 2 and diff.mean() < 0.05  # fixed-point rounding only; 4× fewer pixels sampled
    assert cv2.absdiff(stepped, resized[1::2, 1::2]).mean() > 10 * diff.mean()  # and it is those pixels, not others


def test_all_crops_of_all_widths_go_to_the_engine_in_one_batch(scene):
    image, person = scene
    other = PersonBox(700, 200, 900, 600, score=0.8, face=(760, 200, 830, 270))
    batched = BatchBlobModel()
    alpha = zoomed_matte(batched, image, [person, other], (6.0, 8.0, 10.0))
    assert [b for b in batched.batches if b] == [6]  # 2 people × 3 widths in one call, nothing after it
    one_by_one = SteppedModel()
    reference = zoomed_matte(one_by_one, image, [person, other], (6.0, 8.0, 10.0))
    assert len(one_by_one.sizes) == 6 and alpha.max() > 0.9
    assert np.abs(alpha - reference).max() < 1e-6  # batching changes nothing


def test_the_half_size_grid_gives_the_matte_of_the_full_size_one(scene):
    """Placing and combining the crops' mattes on a 512 grid, then scaling once, moves the matte's
    edge by less than a pixel and stays within [0, 1] (bicubic scaling could overshoot)."""
    import cv2

    image, person = scene
    other = PersonBox(700, 200, 900, 600, score=0.8, face=(760, 200, 830, 270))
    scales = (6.0, 8.0, 10.0)
    fine = BatchBlobModel()
    fine_alpha = zoomed_matte(fine, image, [person, other], scales, grid_side=max(image.shape))
    grid_alpha = zoomed_matte(BatchBlobModel(), image, [person, other], scales)
    assert grid_alpha.shape == fine_alpha.shape == image.shape[:2]
    assert grid_alpha.min() >= 0.0 and grid_alpha.max() <= 1.0
    a, b = grid_alpha >= 0.5, fine_alpha >= 0.5
    assert (a & b).sum() / (a | b).sum() > 0.995
    edge = cv2.dilate(a.astype(np.uint8), np.ones((3, 3), np.uint8)) != cv2.erode(b.astype(np.uint8), np.ones((3, 3), np.uint8))
    assert (a ^ b).sum() < 0.1 * edge.sum()  # where they differ, it is at the edge, by less than a pixel
    assert np.abs(grid_alpha - fine_alpha).mean() < 0.005
