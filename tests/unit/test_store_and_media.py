"""Atomic writes and input checks for images and audio."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from vmsg.errors import InputError
from vmsg.media import image as img
from vmsg.media.audio import integrated_lufs, normalize_loudness, read_audio, true_peak_dbtp, write_audio
from vmsg.store import atomic_path, check_writable


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_old_file_until_success(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"new")
            raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_is_an_input_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(InputError, match="not writable"):
        check_writable(locked / "x.mp4")


def test_output_that_is_a_folder(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        check_writable(tmp_path)


@pytest.mark.parametrize("mode", ["L", "CMYK", "I;16", "RGBA", "P", "LA"])
def test_any_image_mode_becomes_rgb(tmp_path, mode):
    path = tmp_path / f"x.{'tiff' if mode in ('CMYK', 'I;16') else 'png'}"
    Image.new(mode, (20, 10)).save(path)
    pixels = img.read_image(path)
    assert pixels.shape == (10, 20, 3) and pixels.dtype == np.uint8


def test_exif_rotation_is_applied(tmp_path):
    path = tmp_path / "rot.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    Image.new("RGB", (40, 20), (200, 10, 10)).save(path, exif=exif)
    assert img.read_image(path).shape == (40, 20, 3)


def test_bad_images(tmp_path, monkeypatch):
    not_image = tmp_path / "a.png"
    not_image.write_text("hello")
    with pytest.raises(InputError, match="not an image"):
        img.read_image(not_image)
    good = tmp_path / "b.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(good)
    truncated = tmp_path / "c.png"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(InputError, match="corrupt or truncated"):
        img.read_image(truncated)
    with pytest.raises(InputError, match="file not found"):
        img.read_image(tmp_path / "missing.png")
    monkeypatch.setattr(img, "MAX_PIXELS", 100)
    with pytest.raises(InputError, match="over the limit"):
        img.read_image(good)


def test_audio_round_trip_and_checks(tmp_path):
    rate = 22050
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)).astype(np.float32)
    for suffix in (".wav", ".flac", ".mp3", ".m4a"):
        path = write_audio(tmp_path / f"t{suffix}", tone, rate)
        back, back_rate = read_audio(path)
        assert abs(len(back) / back_rate - 1.0) < 0.08, suffix
    with pytest.raises(InputError, match="unsupported audio format"):
        write_audio(tmp_path / "t.xyz", tone, rate)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(InputError, match="not a readable audio file"):
        read_audio(bad)


def test_loudness_normalisation_hits_target_and_peak():
    rate = 48000
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(rate * 5) * 0.05).astype(np.float32)
    out = normalize_loudness(noise, rate, target_lufs=-16.0, true_peak_db=-1.0)
    assert true_peak_dbtp(out, rate) <= -1.0 + 0.05
    quiet_tone = (0.01 * np.sin(2 * np.pi * 440 * np.arange(rate * 5) / rate)).astype(np.float32)
    assert abs(integrated_lufs(normalize_loudness(quiet_tone, rate, target_lufs=-16.0, true_peak_db=-1.0), rate) + 16.0) < 0.2
