"""OpenJTalk's timeline from the HTS duration model: exact against the rendering at every speed, and on the audio."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.backends.tts.hts_durations import load_duration_model
from vmsg.backends.tts.openjtalk import RATE, OpenJTalkEngine

pytestmark = pytest.mark.integration
TEXT = "本日はお忙しい中、お集まりいただき、誠にありがとうございます。"


@pytest.fixture(scope="module")
def engine() -> OpenJTalkEngine:
    assert load_duration_model() is not None, "pyopenjtalk's hts_engine C API should be reachable"
    return OpenJTalkEngine(device="cpu")


def loud_frames(samples: np.ndarray, db: float = -40.0) -> np.ndarray:
    hop = RATE // 200
    n = len(samples) // hop
    return 20 * np.log10(np.abs(samples[: n * hop]).reshape(n, hop).max(axis=1) + 1e-9) > db


def test_duration_model_equals_synthesising_each_label_alone_at_speed_one(engine) -> None:
    labels = engine._labels(TEXT)
    fast = load_duration_model().sample_counts(labels, 1.0)
    assert fast.tolist() == engine.label_sample_counts(labels, speed=1.0)


@pytest.mark.parametrize("speed", [0.7, 1.0, 1.3])
def test_timeline_adds_up_to_the_rendering_and_pauses_sit_in_its_silences(engine, speed) -> None:
    speech = engine.synthesize(text=TEXT, voice=None, speed=speed)
    assert round(speech.timeline[-1].end * RATE) == len(speech.samples), "timeline length = audio length, exactly"
    loud = loud_frames(speech.samples)
    pauses = [p for p in speech.timeline if p.symbol == "pau"]
    assert len(pauses) == 2
    for p in pauses:
        a = b = int((p.start + p.end) / 2 * 200)
        while a > 0 and not loud[a - 1]:
            a -= 1
        while b < len(loud) and not loud[b]:
            b += 1
        assert a / 200 <= p.start + 0.005 and p.end - 0.005 <= b / 200, f"pause {p} is silent in the audio"
        assert abs((a + b) / 400 - (p.start + p.end) / 2) <= 0.020, "the silence is centred on the pause within 20 ms"


def test_without_the_c_api_each_label_is_timed_alone(engine, monkeypatch) -> None:
    import vmsg.backends.tts.hts_durations as hts

    fast = engine.phoneme_timeline(TEXT)
    monkeypatch.setattr(hts, "load_duration_model", lambda: None)
    slow = engine.phoneme_timeline(TEXT)
    assert [p.symbol for p in slow] == [p.symbol for p in fast]
    assert np.allclose([p.end for p in slow], [p.end for p in fast], atol=1e-9)
