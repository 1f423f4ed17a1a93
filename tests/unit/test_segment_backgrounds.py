"""The background library and composition: colour, image, blur, library id, placement, natural light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vmsg.assets import asset_dir
from vmsg.backends.segment.compose import background_for, composite_over, match_light, place
from vmsg.backends.segment.library import load_library
from vmsg.errors import InputError
from vmsg.stages.segment import SegmentOptions

LIBRARY_DIR = asset_dir("backgrounds")

ROOT = Path(__file__).resolve().parents[2]


def test_library_has_twenty_backgrounds_with_files_thumbs_and_sizes():
    from PIL import Image

    lib = load_library()
    assert len(lib) >= 20
    assert {e["category"] for e in lib.values()} >= {"professional", "casual"}
    for bg_id, e in lib.items():
        assert e["name"] and e["tags"]
        with Image.open(e["path"]) as img:
            assert list(img.size) == e["size"], bg_id
        with Image.open(e["thumb_path"]) as thumb:
            assert max(thumb.size) <= 256
    total = sum(p.stat().st_size for p in LIBRARY_DIR.rglob("*") if p.is_file())
    assert total < 6_000_000


def test_generator_is_deterministic(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_backgrounds.py"), "--only", "office_soft", "studio_blue",
                    "--out", str(tmp_path)], check=True, capture_output=True)
    for bg_id in ("office_soft", "studio_blue"):
        assert (tmp_path / f"{bg_id}.jpg").read_bytes() == (LIBRARY_DIR / f"{bg_id}.jpg").read_bytes()


@pytest.fixture(scope="module")
def photo():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)


def test_colour_library_image_and_blur_backgrounds(photo, tmp_path):
    from PIL import Image

    assert (background_for(photo, "#102030") == [16, 32, 48]).all()
    assert (background_for(photo, "1,2,3") == [1, 2, 3]).all()
    office = background_for(photo, "office_soft")
    assert office.shape == photo.shape and office.std() > 5
    path = tmp_path / "bg.png"
    Image.fromarray(np.full((30, 40, 3), 77, np.uint8)).save(path)
    assert (background_for(photo, str(path)) == 77).all()
    blurred = background_for(photo, "blur")
    assert blurred.shape == photo.shape and blurred.std() < 0.3 * photo.std()
    with pytest.raises(InputError, match="not a colour"):
        background_for(photo, "no_such_background")


def test_place_scales_and_moves_the_subject():
    rgb = np.zeros((100, 100, 3), np.uint8)
    alpha = np.zeros((100, 100), np.float32)
    alpha[40:80, 40:60] = 1
    new_rgb, new_alpha = place(rgb, alpha, scale=0.5, anchor=(0.25, 1.0))
    ys, xs = np.nonzero(new_alpha > 0.5)
    assert ys.max() == 99 and abs((xs.min() + xs.max()) / 2 - 25) <= 1
    assert abs((ys.max() - ys.min() + 1) - 20) <= 1 and abs((xs.max() - xs.min() + 1) - 10) <= 1


def test_natural_mode_moves_subject_light_toward_the_background():
    subject = np.full((50, 50, 3), (230, 200, 170), np.uint8)  # bright, warm
    alpha = np.ones((50, 50), np.float32)
    night = np.full((50, 50, 3), (30, 40, 80), np.uint8)  # dark, cool
    out = match_light(subject, alpha, night).astype(float)
    assert out.mean() < subject.mean() * 0.8
    assert out[..., 2].mean() / out[..., 0].mean() > 170 / 230 * 1.3  # bluer than before
    assert out.mean() > night.mean()  # still readable, not fully matched


def test_composite_blends_by_alpha():
    fg = np.full((2, 2, 3), 200, np.uint8)
    bg = np.zeros((2, 2, 3), np.uint8)
    alpha = np.array([[0, 0.5], [1, 0.25]], np.float32)
    out = composite_over(fg, alpha, bg)
    assert out[..., 0].tolist() == [[0, 100], [200, 50]]


def test_options_validate_selection_and_place():
    assert SegmentOptions(select="point", point="10,20").point == (10, 20)
    assert SegmentOptions(place="0.5,1").place == (0.5, 1.0)
    for bad in ({"select": "index"}, {"select": "point"}, {"place": "2,1"}, {"index": -1}, {"scale": 0}):
        with pytest.raises(ValueError):
            SegmentOptions(**bad)


def test_blur_background_hides_a_moved_subject():
    image = np.zeros((120, 160, 3), np.uint8)
    image[...] = (30, 60, 200)
    image[30:110, 60:100] = (250, 20, 20)  # the subject, about to be moved away
    hole = np.zeros((120, 160), np.float32)
    hole[30:110, 60:100] = 1.0
    plain = background_for(image, "blur")
    filled = background_for(image, "blur", hole=hole)
    assert plain[70, 80, 0] > 150  # an ordinary blur still shows the red subject
    assert abs(int(filled[70, 80, 0]) - 30) < 15 and abs(int(filled[70, 80, 2]) - 200) < 15
