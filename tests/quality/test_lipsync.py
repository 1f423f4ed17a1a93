"""Measured lip-sync of face2d on real people with real synthesized speech.

The scorer re-detects the face on the decoded frames (independently of the
renderer) and compares mouth opening with the video's own audio. The still
renderer and a deliberately shifted voice are negative controls: the scorer must
fail them, so a pass means something.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fixture_file
from vmsg.lipsync import MAX_IDENTITY_MAD, score_video
from vmsg.media.image import read_image
from vmsg.stages.render import RenderOptions, render
from vmsg.types import Soundtrack

pytestmark = [pytest.mark.quality, pytest.mark.slow]

TEXT = "こんにちは。今日は、みんなで新しいプロジェクトを始めます。よろしくお願いします。"


def _track(engine: str) -> Soundtrack:
    from vmsg.stages.synth import SynthOptions, synth

    speech = synth(TEXT, SynthOptions(engine=engine))
    return Soundtrack(speech.samples, speech.sample_rate, speech.timeline, speech.timeline_source)


@pytest.fixture(scope="module")
def openjtalk() -> Soundtrack:
    return _track("openjtalk")


def _composite(name: str) -> np.ndarray:
    """A fixture person (exact alpha) composited onto a fixture background, as the segment stage would."""
    from PIL import Image

    person = Image.open(fixture_file(f"images/{name}.png")).convert("RGBA")
    background = Image.open(fixture_file("images/background01.png")).convert("RGBA").resize(person.size)
    background.alpha_composite(person)
    return np.asarray(background.convert("RGB")).copy()


def _subjects(astronaut_png) -> dict[str, np.ndarray]:
    return {"astronaut": read_image(astronaut_png), "example02": _composite("example02"),
            "example03": _composite("example03")}


def _assert_good(score, still_mad: float | None = None) -> None:
    assert score.face_found_fraction > 0.95
    assert score.correlation >= 0.6, score.as_dict()
    assert abs(score.best_lag_frames) <= 1, score.as_dict()
    assert score.silence_frames >= 20  # the text has pauses: the silence check really ran
    assert score.closed_in_silence >= 0.9, score.as_dict()
    assert score.identity_mad is not None and score.identity_mad <= MAX_IDENTITY_MAD, score.as_dict()
    if still_mad is not None:  # only the encoder touches the still video: face2d may add little beyond it
        assert score.identity_mad <= still_mad + 1.0, (score.identity_mad, still_mad)


@pytest.mark.parametrize("subject", ["astronaut", "example02", "example03"])
def test_face2d_lip_sync_on_real_people(tmp_path, astronaut_png, openjtalk, subject) -> None:
    image = _subjects(astronaut_png)[subject]
    out = tmp_path / f"{subject}.mp4"
    render(image, openjtalk, out, RenderOptions(engine="face2d"))
    still_mad = None
    if subject == "astronaut":  # negative control (once): the still engine's mouth does not move
        still = tmp_path / "still.mp4"
        render(image, openjtalk, still, RenderOptions(engine="still"))
        still_score = score_video(still, source_image=image)
        assert not still_score.checks["correlation"]
        still_mad = still_score.identity_mad
    _assert_good(score_video(out, source_image=image), still_mad=still_mad)


def test_face2d_lip_sync_with_kokoro_speech(tmp_path, astronaut_png) -> None:
    image = read_image(astronaut_png)
    out = tmp_path / "kokoro.mp4"
    facts = render(image, _track("kokoro"), out, RenderOptions(engine="face2d", fps=30))
    assert facts["fps"] == 30
    score = score_video(out, source_image=image)
    assert score.fps == 30
    assert score.correlation >= 0.6 and abs(score.best_lag_frames) <= 1, score.as_dict()
    assert score.closed_in_silence is None or score.closed_in_silence >= 0.9, score.as_dict()


def test_scorer_catches_a_voice_out_of_sync(tmp_path, astronaut_png, openjtalk) -> None:
    image = read_image(astronaut_png)
    out = tmp_path / "sync.mp4"
    render(image, openjtalk, out, RenderOptions(engine="face2d"))
    delay = int(0.2 * openjtalk.sample_rate)  # 5 frames at 25 fps
    late = np.concatenate([np.zeros(delay, np.float32), openjtalk.samples[:-delay]])
    score = score_video(out, reference_audio=(late, openjtalk.sample_rate))
    assert not score.passed
    assert score.best_lag_frames <= -4 or score.correlation < 0.6, score.as_dict()


def test_scorer_catches_a_different_person(tmp_path, astronaut_png, openjtalk) -> None:
    out = tmp_path / "other.mp4"
    render(_composite("example03"), openjtalk, out, RenderOptions(engine="still", size=512))
    assert score_video(out, source_image=read_image(astronaut_png)).identity_mad > MAX_IDENTITY_MAD
