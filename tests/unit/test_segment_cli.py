"""`vmsg segment` on good and bad inputs, through the real CLI: exit codes, messages, and that
nothing is written when a photo is refused."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from vmsg.errors import VmsgError


def run(*args: str) -> tuple[int, str]:
    from vmsg.cli.app import app

    result = CliRunner().invoke(app, ["segment", *map(str, args)])
    if isinstance(result.exception, VmsgError):
        return result.exception.exit_code, str(result.exception)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def portrait(astronaut_png) -> np.ndarray:
    return np.asarray(Image.open(astronaut_png).convert("RGB"))


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width × height (no pixel data needed to be refused)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))  # noqa: E731
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


def refused(tmp_path: Path, image: Path, *extra: str, match: str) -> None:
    out = tmp_path / "out" / "cut.png"
    code, message = run(image, "-o", out, "--alpha", tmp_path / "out" / "a.png", *extra)
    assert code == 2, message
    assert match in message and str(image) in message
    assert not out.exists() and not (tmp_path / "out" / "a.png").exists()
    assert not any(p.name.endswith(".png") for p in (tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


def test_not_an_image(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("hello")
    refused(tmp_path, bad, match="not an image")


def test_truncated(tmp_path, astronaut_png):
    bad = tmp_path / "cut_short.png"
    bad.write_bytes(astronaut_png.read_bytes()[:5000])
    refused(tmp_path, bad, match="truncated")


def test_zero_size(tmp_path):
    refused(tmp_path, png_header_only(tmp_path / "empty.png", 0, 0), match="not an image file")  # PIL refuses 0×0 at open


def test_over_the_pixel_limit(tmp_path):
    refused(tmp_path, png_header_only(tmp_path / "bomb.png", 20000, 20000), match="over the limit")


def test_no_person_fails_unless_allowed(tmp_path):
    grey = tmp_path / "wall.png"
    Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(grey)
    refused(tmp_path, grey, match="no person found")
    code, _ = run(grey, "-o", tmp_path / "empty.png", "--allow-empty", "-q")
    assert code == 0
    assert np.asarray(Image.open(tmp_path / "empty.png"))[..., 3].max() == 0


def test_index_beyond_the_people_found(tmp_path, astronaut_png):
    refused(tmp_path, astronaut_png, "--index", "3", match="out of range: 1 person found")


def test_missing_file(tmp_path):
    refused(tmp_path, tmp_path / "nope.jpg", match="file not found")


@pytest.mark.parametrize("mode", ["L", "CMYK", "I;16", "RGBA", "P"])
def test_other_pixel_formats_are_cut_out(tmp_path, portrait, mode):
    src = Image.fromarray(portrait)
    if mode == "I;16":
        img = Image.fromarray((np.asarray(src.convert("L")).astype(np.uint16) * 257))
        assert img.mode in ("I;16", "I")
    elif mode == "RGBA":
        img = src.convert("RGBA")
    else:
        img = src.convert(mode)
    path = tmp_path / ("in.jpg" if mode == "CMYK" else "in.png")
    img.save(path)
    out = tmp_path / "cut.png"
    code, message = run(path, "-o", out, "-q")
    assert code == 0, message
    cut = np.asarray(Image.open(out))
    assert cut.shape == (*portrait.shape[:2], 4) and cut[..., 3].mean() > 40


def test_exif_rotation_is_applied(tmp_path, portrait):
    h, w = 256, 200  # not square, so a missed rotation shows in the output size
    img = Image.fromarray(portrait).resize((w, h))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "rotated.jpg"
    img.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif.tobytes())  # stored sideways
    out = tmp_path / "cut.png"
    code, message = run(path, "-o", out, "-q")
    assert code == 0, message
    assert Image.open(out).size == (w, h)


def test_outputs_and_list(tmp_path, astronaut_png):
    import json

    code, out = run(astronaut_png, "--list")
    assert code == 0
    record = json.loads(out.strip().splitlines()[-1])
    assert len(record["people"]) == 1 and record["people"][0]["face"]
    code, message = run(astronaut_png, "-o", tmp_path / "cut.png", "--alpha", tmp_path / "a.png",
                        "--composite", tmp_path / "c.jpg", "--background", "office_soft", "--natural", "-q")
    assert code == 0, message
    assert Image.open(tmp_path / "cut.png").mode == "RGBA"
    assert Image.open(tmp_path / "a.png").mode == "L"
    assert Image.open(tmp_path / "c.jpg").size == Image.open(astronaut_png).size


def test_batch_keeps_going_and_reports_failures(tmp_path, astronaut_png):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(astronaut_png.read_bytes())
    (folder / "c.png").write_text("not an image")
    code, message = run(folder, "-o", tmp_path / "out", "-q")
    assert code == 2 and "1 of 3 photos failed" in message
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    code, _ = run(str(folder / "[ab].png"), "-o", tmp_path / "glob", "-q")
    assert code == 0 and len(list((tmp_path / "glob").iterdir())) == 2


def test_usage_errors(tmp_path, astronaut_png):
    assert run(astronaut_png)[0] == 2  # nothing to write
    assert run(astronaut_png, "-o", tmp_path / "x.png", "--select", "sideways")[0] == 2
    code, message = run(astronaut_png, "-o", tmp_path / "x.png", "--background", "no_such_place")
    assert code == 2 and "not a colour" in message and not (tmp_path / "x.png").exists()


def test_quality_fast_and_best_cut_out_the_same_person(tmp_path, astronaut_png):
    for quality in ("fast", "best"):
        code, message = run(astronaut_png, "--alpha", tmp_path / f"{quality}.png", "--quality", quality, "-q")
        assert code == 0, message
    fast, best = (np.asarray(Image.open(tmp_path / f"{q}.png")) >= 128 for q in ("fast", "best"))
    assert (fast & best).sum() / (fast | best).sum() > 0.9
    code, message = run(astronaut_png, "-o", tmp_path / "x.png", "--quality", "perfect")
    assert code == 2 and "quality" in message and not (tmp_path / "x.png").exists()
