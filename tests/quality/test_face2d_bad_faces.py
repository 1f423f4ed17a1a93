"""A real face in profile and a real face under 64 px: a clear refusal (exit 2, nothing written)
or the configured fallback.

The photo is skimage's `camera()` (a photographer seen from the side at his camera, CC0, shipped
with scikit-image): at its own 512 px the face is about 58 px wide; scaled up 2x it is 130 px
wide and in full profile.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT
from vmsg.errors import InputError
from vmsg.stages.render import RenderOptions, render
from vmsg.types import Soundtrack

pytestmark = [pytest.mark.quality, pytest.mark.slow]


@pytest.fixture(scope="module")
def photographer(tmp_path_factory):
    """(native 512 px, 2x) PNG paths of the side-on photographer."""
    import cv2
    import skimage.data

    from vmsg.media.image import write_image

    gray = skimage.data.camera()
    rgb = np.dstack([gray] * 3)
    folder = tmp_path_factory.mktemp("camera")
    native, large = folder / "camera.png", folder / "camera_2x.png"
    write_image(native, rgb)
    write_image(large, cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC))
    return native, large


@pytest.fixture(scope="module")
def speech():
    from vmsg.backends.tts.openjtalk import OpenJTalkEngine

    return OpenJTalkEngine().synthesize(text="こんにちは。", voice=None, speed=1.0)


@pytest.fixture(scope="module")
def voice(tmp_path_factory, speech):
    from vmsg.timeline_io import write_speech

    return write_speech(tmp_path_factory.mktemp("voice") / "voice.wav", speech)


def _vmsg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsg", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("which, message", [(1, "turned to the side"), (0, "under the minimum of 64 px")])
def test_cli_refuses_a_real_profile_or_small_face_with_exit_2_and_no_file(tmp_path, photographer, voice, which,
                                                                           message):
    image = photographer[which]
    out = tmp_path / "talk.mp4"
    done = _vmsg("render", "--image", str(image), "--audio", str(voice), "-o", str(out), "--engine", "face2d",
                 "--size", "1024")
    assert done.returncode == 2, done.stderr
    assert str(image) in done.stderr and message in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_profile_face_hands_over_to_the_configured_fallback(tmp_path, photographer, speech):
    from vmsg.media.image import read_image

    track = Soundtrack(speech.samples, speech.sample_rate, speech.timeline, speech.timeline_source)
    out = tmp_path / "talk.mp4"
    facts = render(read_image(photographer[1]), track, out, RenderOptions(fallback=["face2d", "still"], size=1024))
    assert facts["engine"] == "still"
    face2d = facts["attempts"][0]
    assert face2d["engine"] == "face2d" and face2d["status"] != "used" and "turned to the side" in face2d["reason"]
    assert list(tmp_path.iterdir()) == [out] and out.stat().st_size > 0


def test_profile_face_without_fallback_raises_and_writes_nothing(tmp_path, photographer, speech):
    from vmsg.media.image import read_image

    track = Soundtrack(speech.samples, speech.sample_rate, speech.timeline, speech.timeline_source)
    with pytest.raises(InputError, match="turned to the side"):
        render(read_image(photographer[1]), track, tmp_path / "talk.mp4", RenderOptions(engine="face2d", size=1024))
    assert list(tmp_path.iterdir()) == []
