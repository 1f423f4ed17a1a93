"""Each first engine on real input."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fixture_file
from vmsg.media.audio import rms_dbfs
from vmsg.media.image import read_image, read_rgba
from vmsg.stages.segment import SegmentOptions, segment
from vmsg.stages.synth import SynthOptions, synth

TEXT = "こんにちは。今日はいい天気ですね。"


def check_timeline(speech):
    tl = speech.timeline
    assert tl, "no timeline"
    assert all(p.end >= p.start for p in tl)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(tl, tl[1:])), "timeline not monotonic"
    assert tl[-1].end == pytest.approx(speech.duration, abs=0.05)
    vowels = {"a", "i", "u", "e", "o"}
    assert sum(p.symbol in vowels for p in tl) >= 10


def test_openjtalk_timeline_is_exact():
    speech = synth(TEXT, SynthOptions(engine="openjtalk"))
    assert speech.sample_rate == 48000 and speech.timeline_source == "engine"
    assert speech.timeline[-1].end == pytest.approx(speech.duration, abs=1e-3)
    check_timeline(speech)
    # the silence the timeline names is silent, the vowels are voiced
    rate = speech.sample_rate
    first = speech.timeline[0]
    assert first.symbol == "sil"
    assert rms_dbfs(speech.samples[: int(first.end * rate * 0.8)]) < -40
    vowel = next(p for p in speech.timeline if p.symbol in "aiueo" and p.duration > 0.05)
    assert rms_dbfs(speech.samples[int(vowel.start * rate) : int(vowel.end * rate)]) > -30


@pytest.mark.slow
def test_kokoro_speaks_with_a_timeline():
    speech = synth(TEXT, SynthOptions(engine="kokoro", voice="jf_alpha"))
    assert speech.sample_rate == 24000
    assert 1.5 < speech.duration < 6.0
    assert rms_dbfs(speech.samples) > -35
    check_timeline(speech)


@pytest.mark.slow
def test_kokoro_voices_differ():
    a = synth("こんにちは", SynthOptions(engine="kokoro", voice="jf_alpha"))
    b = synth("こんにちは", SynthOptions(engine="kokoro", voice="jm_kumo"))
    from vmsg.media.pitch import median_f0

    assert median_f0(a.samples, a.sample_rate) > median_f0(b.samples, b.sample_rate) * 1.3  # female vs male voice


def test_mediapipe_matte_against_ground_truth():
    rgba = read_rgba(fixture_file("images/composite_example_mask.png"))
    truth = rgba[..., :3].mean(axis=2) > 127
    image = read_image(fixture_file("images/composite_example.png"))
    cut = segment(image, SegmentOptions(background="#00ff00"))
    pred = cut.alpha > 0.5
    iou = (pred & truth).sum() / (pred | truth).sum()
    assert iou > 0.85, f"IoU {iou:.3f}"
    # the composite takes the new background where the matte is empty
    far = (cut.alpha < 0.01)
    assert np.abs(cut.composite[far].astype(int) - [0, 255, 0]).max() <= 3


def test_photo_without_person_is_refused():
    from vmsg.errors import InputError

    sky = np.zeros((256, 256, 3), np.uint8)
    sky[:] = (90, 140, 220)
    with pytest.raises(InputError, match="no person found"):
        segment(sky, SegmentOptions())
