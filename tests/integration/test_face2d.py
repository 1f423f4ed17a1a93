"""face2d on a real photo with real synthesized speech: the file, determinism, bad input, the CLI."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, fixture_file
from vmsg.errors import InputError
from vmsg.media.ffmpeg import probe
from vmsg.media.image import read_image
from vmsg.stages.render import MAX_AUDIO_SECONDS, RenderOptions, render
from vmsg.types import Soundtrack

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def speech():
    from vmsg.backends.tts.openjtalk import OpenJTalkEngine

    return OpenJTalkEngine().synthesize(text="こんにちは。よろしくお願いします。", voice=None, speed=1.0)


@pytest.fixture(scope="module")
def track(speech) -> Soundtrack:
    return Soundtrack(speech.samples, speech.sample_rate, speech.timeline, speech.timeline_source)


@pytest.fixture(scope="module")
def astronaut(astronaut_png) -> np.ndarray:
    return read_image(astronaut_png)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fps", [25, 30])
def test_face2d_writes_h264_aac_faststart_of_the_audio_length(tmp_path, astronaut, track, fps) -> None:
    out = tmp_path / "a.mp4"
    facts = render(astronaut, track, out, RenderOptions(engine="face2d", fps=fps))
    info = probe(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert audio["codec_name"] == "aac"
    assert video["r_frame_rate"] == f"{fps}/1"
    assert abs(float(video["duration"]) - track.duration) <= 0.1
    assert abs(float(info["format"]["duration"]) - track.duration) <= 0.1
    assert int(video["width"]) % 2 == 0 and int(video["height"]) % 2 == 0
    data = out.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # faststart: the index comes first
    assert facts["engine"] == "face2d" and facts["mouth_driver"] == "timeline"
    assert list(tmp_path.iterdir()) == [out]  # no temporary left behind


def test_same_seed_same_video_and_another_seed_differs(tmp_path, astronaut, track) -> None:
    paths = [tmp_path / f"{i}.mp4" for i in range(3)]
    for path, seed in zip(paths, (3, 3, 4)):
        render(astronaut, track, path, RenderOptions(engine="face2d", seed=seed, preset="ultrafast"))
    assert _sha(paths[0]) == _sha(paths[1])
    assert _sha(paths[0]) != _sha(paths[2])


def test_audio_without_timeline_drives_the_mouth_from_the_audio(tmp_path, astronaut, speech) -> None:
    plain = Soundtrack(speech.samples, speech.sample_rate)
    facts = render(astronaut, plain, tmp_path / "b.mp4", RenderOptions(engine="face2d", size=512))
    assert facts["mouth_driver"] == "audio"


def test_no_face_is_an_input_error_and_writes_nothing(tmp_path, track) -> None:
    background = read_image(fixture_file("images/background01.png"))
    with pytest.raises(InputError, match="no face found"):
        render(background, track, tmp_path / "c.mp4", RenderOptions(engine="face2d"))
    assert list(tmp_path.iterdir()) == []


def test_a_failure_mid_render_leaves_nothing_under_the_output_name(tmp_path, astronaut, track, monkeypatch) -> None:
    from vmsg.face.mouth import MouthWarper

    calls = {"n": 0}
    original = MouthWarper.render

    def failing(self, opening, spread):
        calls["n"] += 1
        if calls["n"] == 40:
            raise RuntimeError("disk gone")
        return original(self, opening, spread)

    monkeypatch.setattr(MouthWarper, "render", failing)
    with pytest.raises(RuntimeError, match="disk gone"):
        render(astronaut, track, tmp_path / "half.mp4", RenderOptions(engine="face2d"))
    assert list(tmp_path.iterdir()) == []


def test_face_smaller_than_64_px_is_refused(tmp_path, astronaut, track) -> None:
    with pytest.raises(InputError, match="under the minimum of 64 px"):
        render(astronaut, track, tmp_path / "d.mp4", RenderOptions(engine="face2d", size=256))


def test_several_people_uses_the_largest_face() -> None:
    from vmsg.face.landmarks import _detector_boxes, find_face

    group = read_image(fixture_file("images/example01.png"))
    face = find_face(group)
    boxes = _detector_boxes(group)
    assert len(boxes) >= 2
    x, y, w, h = boxes[0]
    centre = face.points.mean(axis=0)
    assert x <= centre[0] <= x + w and y <= centre[1] <= y + h


def test_profile_faces_are_refused(astronaut) -> None:
    """Turning the real mesh of a frontal face by 70 degrees about the vertical axis reads as profile."""
    from vmsg.face.landmarks import Face, find_face

    face = find_face(astronaut)
    assert abs(face.yaw()) < 0.2
    pts3 = np.column_stack([face.points, face.depth])
    centre = pts3.mean(axis=0)
    a = np.deg2rad(70)
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    turned = (pts3 - centre) @ rot.T + centre
    assert abs(Face(turned[:, :2], turned[:, 2]).yaw()) > 0.75


def test_audio_over_the_limit_is_refused(tmp_path, astronaut) -> None:
    rate = 8000
    long = Soundtrack(np.zeros(int((MAX_AUDIO_SECONDS + 1) * rate), np.float32), rate)
    with pytest.raises(InputError, match="render limit"):
        render(astronaut, long, tmp_path / "e.mp4", RenderOptions(engine="face2d"))
    assert list(tmp_path.iterdir()) == []


def _vmsg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsg", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_file_mode_renders_and_scores(tmp_path, astronaut_png, speech) -> None:
    from vmsg.timeline_io import write_speech

    wav = tmp_path / "voice.wav"
    write_speech(wav, speech)
    out = tmp_path / "out.mp4"
    done = _vmsg("render", "--image", str(astronaut_png), "--audio", str(wav), "-o", str(out), "--engine", "face2d")
    assert done.returncode == 0, done.stderr
    scored = _vmsg("render", "--score", str(out), "--image", str(astronaut_png))
    assert scored.returncode == 0, scored.stderr
    assert '"passed": true' in scored.stdout


def test_cli_no_face_exits_2_naming_the_image(tmp_path, speech) -> None:
    from vmsg.timeline_io import write_speech

    wav = tmp_path / "voice.wav"
    write_speech(wav, speech)
    background = fixture_file("images/background02.png")
    out = tmp_path / "x.mp4"
    done = _vmsg("render", "--image", str(background), "--audio", str(wav), "-o", str(out), "--engine", "face2d")
    assert done.returncode == 2
    assert str(background) in done.stderr and "no face found" in done.stderr
    assert not out.exists()


def test_unwritable_output_is_refused_before_any_work(tmp_path, astronaut_png, speech) -> None:
    from vmsg.timeline_io import write_speech

    wav = tmp_path / "voice.wav"
    write_speech(wav, speech)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    done = _vmsg("render", "--image", str(astronaut_png), "--audio", str(wav), "-o", str(blocker / "o.mp4"),
                 "--engine", "face2d")
    assert done.returncode == 2 and "cannot create its folder" in done.stderr


def test_cli_score_exits_1_when_the_mouth_does_not_follow_the_voice(tmp_path, astronaut_png, speech) -> None:
    from vmsg.timeline_io import write_speech

    wav = tmp_path / "voice.wav"
    write_speech(wav, speech)
    still = tmp_path / "still.mp4"
    assert _vmsg("render", "--image", str(astronaut_png), "--audio", str(wav), "-o", str(still),
                 "--engine", "still").returncode == 0
    scored = _vmsg("render", "--score", str(still))
    assert scored.returncode == 1
    assert "FAIL (correlation" in scored.stderr
