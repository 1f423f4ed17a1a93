"""The frame pipe to ffmpeg and the decoders the scorer uses, on tiny generated videos."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.errors import BackendError
from vmsg.media.ffmpeg import probe
from vmsg.media.video import FramePipe, decode_audio, decode_frames
from vmsg.stages.render import RenderOptions

W, H, FPS, RATE = 64, 48, 25, 16000


def _yuv(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_frames_and_audio_round_trip(tmp_path) -> None:
    out = tmp_path / "v.mp4"
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    with FramePipe(out, width=W, height=H, fps=FPS, samples=_tone(1.2), sample_rate=RATE,
                   options=RenderOptions(crf=10)) as pipe:
        for i in range(30):
            pipe.write(_yuv(np.full((H, W, 3), colours[i // 10], np.uint8)))
    info = probe(out)
    kinds = {s["codec_type"]: s for s in info["streams"]}
    assert kinds["video"]["codec_name"] == "h264" and kinds["audio"]["codec_name"] == "aac"
    frames, w, h, fps, original = decode_frames(out)
    got = list(frames)
    assert (w, h, original) == (W, H, (W, H)) and fps == FPS and len(got) == 30
    for i, colour in ((5, colours[0]), (15, colours[1]), (25, colours[2])):
        assert np.abs(got[i].reshape(-1, 3).mean(0) - colour).max() < 6
    audio = decode_audio(out, RATE)
    assert abs(len(audio) / RATE - 1.2) < 0.05
    assert 0.15 < np.sqrt(np.mean(audio[RATE // 4 : RATE] ** 2)) < 0.25  # 0.3 amplitude sine: rms 0.21


def test_decode_frames_scales_down_to_even_sizes(tmp_path) -> None:
    out = tmp_path / "v.mp4"
    with FramePipe(out, width=W, height=H, fps=FPS, samples=_tone(0.4), sample_rate=RATE, options=RenderOptions()) as pipe:
        for _ in range(10):
            pipe.write(_yuv(np.zeros((H, W, 3), np.uint8)))
    frames, w, h, _, original = decode_frames(out, max_side=40)
    assert (w, h) == (40, 30) and original == (W, H)
    assert next(frames).shape == (30, 40, 3)
    frames.close()


def test_ffmpeg_failure_is_a_backend_error_with_its_message(tmp_path) -> None:
    out = tmp_path / "missing-folder" / "v.mp4"
    with pytest.raises(BackendError, match="ffmpeg failed"):
        with FramePipe(out, width=W, height=H, fps=FPS, samples=_tone(0.4), sample_rate=RATE,
                       options=RenderOptions()) as pipe:
            for _ in range(200):
                pipe.write(_yuv(np.zeros((H, W, 3), np.uint8)))
    assert not out.exists()


def test_an_error_inside_the_block_is_not_masked_by_ffmpeg(tmp_path) -> None:
    out = tmp_path / "v.mp4"
    with pytest.raises(ZeroDivisionError):
        with FramePipe(out, width=W, height=H, fps=FPS, samples=_tone(0.4), sample_rate=RATE,
                       options=RenderOptions()) as pipe:
            pipe.write(_yuv(np.zeros((H, W, 3), np.uint8)))
            1 / 0  # noqa: B018
