"""write_image: PNG outputs are lossless (every pixel and the alpha read back unchanged) in the
mode a viewer expects, and written atomically."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vmsg.media.image import write_image


def _photo_like(channels: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:96, 0:128]
    base = np.stack([(x * 2) % 256, (y * 3) % 256, (x + y) % 256, (x * y) % 256][:channels], -1)
    return np.clip(base + rng.integers(-20, 20, base.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("channels,mode", [(3, "RGB"), (4, "RGBA")])
def test_png_round_trips_every_pixel(tmp_path, channels, mode):
    pixels = _photo_like(channels)
    path = write_image(tmp_path / "out.png", pixels)
    with Image.open(path) as img:
        assert img.mode == mode
        assert np.array_equal(np.asarray(img), pixels)
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temporary file left


def test_float_alpha_png_is_the_rounded_matte(tmp_path):
    alpha = np.linspace(0.0, 1.0, 96 * 128, dtype=np.float32).reshape(96, 128)
    with Image.open(write_image(tmp_path / "a.png", alpha)) as img:
        assert img.mode == "L"
        assert np.array_equal(np.asarray(img), np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8))


def test_png_matches_pillow_pixels_and_stays_compressed(tmp_path):
    pixels = _photo_like(4)
    pixels[:, :64, 3] = 0  # a flat transparent half, as in a cut-out
    write_image(tmp_path / "fast.png", pixels)
    Image.fromarray(pixels).save(tmp_path / "pil.png")
    with Image.open(tmp_path / "fast.png") as a, Image.open(tmp_path / "pil.png") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert (tmp_path / "fast.png").stat().st_size < pixels.nbytes


def test_png_of_a_view_writes_the_view(tmp_path):
    pixels = _photo_like(3)
    view = pixels[10:70:2, ::-1, ::-1]  # strided crop, mirrored, channels reversed
    with Image.open(write_image(tmp_path / "v.png", view)) as img:
        assert np.array_equal(np.asarray(img), view)
