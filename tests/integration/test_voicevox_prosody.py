"""Native prosody on VOICEVOX: speed, pitch, intonation, level and pauses set in the AudioQuery, measured in the
audio of the local fake engine (tests/fakes/voicevox_server.py), which applies those fields as the engine does."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.fakes.voicevox_server import FakeVoicevox
from tests.integration.test_voicevox import check_timeline_matches_audio
from vmsg.stages.prosody import ProsodyOptions, split_native
from vmsg.stages.synth import SynthOptions, synth

pytest.importorskip("httpx")
pytestmark = pytest.mark.integration
TEXT = "こんにちは、今日はいい天気ですね。また明日お会いしましょう。"
VOICED = frozenset("aiueoN")


@pytest.fixture(scope="module")
def server():
    with FakeVoicevox() as srv:
        yield srv


@pytest.fixture(scope="module")
def plain(server):
    return synth(TEXT, SynthOptions(engine="voicevox", voicevox={"url": server.url}))


def render(server, prosody: ProsodyOptions):
    native, rest, used = split_native(prosody, "voicevox")
    speed = native.pop("speed", 1.0)
    speech = synth(TEXT, SynthOptions(engine="voicevox", speed=speed, voicevox={"url": server.url}), native=native)
    return speech, rest, used


def vowel_f0(speech) -> np.ndarray:
    """The frequency of the tone in each voiced vowel (FFT peak of its inner part, zero-padded)."""
    out = []
    for p in speech.timeline:
        if p.symbol not in VOICED or p.duration < 0.04:
            continue
        a, b = int((p.start + 0.012) * speech.sample_rate), int((p.end - 0.012) * speech.sample_rate)
        seg = speech.samples[a:b] * np.hanning(b - a)
        spec = np.abs(np.fft.rfft(seg, 1 << 17))
        out.append(np.argmax(spec) * speech.sample_rate / (1 << 17))
    return np.array(out)


def vowel_rms(speech) -> float:
    rate = speech.sample_rate
    parts = [speech.samples[int((p.start + 0.012) * rate) : int((p.end - 0.012) * rate)]
             for p in speech.timeline if p.symbol in VOICED and p.duration > 0.03]
    return float(np.sqrt(np.mean(np.concatenate(parts).astype(np.float64) ** 2)))


def silent_runs(speech) -> list[float]:
    """Seconds of each run of consecutive silence phonemes, edges included."""
    runs, current = [], 0.0
    for p in speech.timeline:
        if p.is_silence:
            current += p.duration
        elif current:
            runs.append(current)
            current = 0.0
    return runs + [current]


def test_every_field_goes_native_within_the_engine_ranges() -> None:
    native, rest, used = split_native(ProsodyOptions(pitch=3, speed=1.2, intonation=1.5, energy=0.8, comma_pause=0.6,
                                                     sentence_pause=0.8), "voicevox")
    assert native == {"pitch": 3.0, "speed": 1.2, "intonation": 1.5, "energy": 0.8, "comma_pause": 0.6,
                      "sentence_pause": 0.8}
    assert rest.is_neutral and set(used.values()) == {"native"} and len(used) == 6
    native, rest, used = split_native(ProsodyOptions(pitch=10, energy=1.3), "voicevox")
    assert native == {} and used == {"pitch": "post", "energy": "post"}, "beyond pitchScale ±0.15 / could clip"
    assert rest.pitch == 10 and rest.energy == 1.3


def test_pitch_moves_every_vowel_by_the_semitones_asked_and_keeps_the_timeline(server, plain) -> None:
    shifted, _, used = render(server, ProsodyOptions(pitch=3.0))
    assert used == {"pitch": "native"} and shifted.duration == pytest.approx(plain.duration, abs=0.011)
    semitones = 12 * np.log2(vowel_f0(shifted) / vowel_f0(plain))
    assert len(semitones) >= 15 and np.abs(semitones - 3.0).max() < 0.15
    check_timeline_matches_audio(shifted)


def test_intonation_scales_the_contour_around_its_mean(server, plain) -> None:
    lively, _, _ = render(server, ProsodyOptions(intonation=1.5))
    a, b = np.log(vowel_f0(plain)), np.log(vowel_f0(lively))
    assert np.std(b) / np.std(a) == pytest.approx(1.5, abs=0.05)
    assert abs(np.mean(b) - np.mean(a)) < 0.02


def test_speed_level_and_pauses_are_what_was_asked(server, plain) -> None:
    speech, rest, used = render(server, ProsodyOptions(speed=1.25, energy=0.8, comma_pause=0.6, sentence_pause=0.8))
    assert rest.is_neutral and set(used.values()) == {"native"}
    voiced = [p for p in speech.timeline if p.symbol in VOICED]
    base = [p for p in plain.timeline if p.symbol in VOICED]
    assert sum(p.duration for p in voiced) == pytest.approx(sum(p.duration for p in base) / 1.25, rel=0.03)
    assert vowel_rms(speech) / vowel_rms(plain) == pytest.approx(0.8, abs=0.02)
    comma, sentence = silent_runs(speech)[1:-1]
    assert comma == pytest.approx(0.6, abs=0.011) and sentence == pytest.approx(0.8, abs=0.011)
    check_timeline_matches_audio(speech)
    assert server.queries[-1]["pauseLength"] == pytest.approx(0.6 * 1.25)


@pytest.mark.slow
def test_recipe_report_says_voicevox_applied_prosody_natively(tmp_path, astronaut_png, server) -> None:
    from vmsg.pipeline import run_recipe
    from vmsg.recipe import validate_recipe

    recipe = validate_recipe({
        "image": str(astronaut_png), "text": "はい、わかりました。", "output": str(tmp_path / "out.mp4"),
        "voice": {"engine": "voicevox", "voicevox": {"url": server.url}},
        "prosody": {"pitch": 2, "speed": 1.1, "energy": 0.9, "comma_pause": 0.5},
        "render": {"engine": "still", "size": 256},
    }, source="test")
    run_recipe(recipe)
    stages = {s["stage"]: s for s in json.loads((tmp_path / "out.report.json").read_text())["stages"]}
    assert stages["prosody"]["engine"] == "native:voicevox"
    assert stages["prosody"]["detail"]["prosody_path"] == {"pitch": "native", "speed": "native", "energy": "native",
                                                           "comma_pause": "native"}
    assert server.queries[-1]["speedScale"] == pytest.approx(1.1) and server.queries[-1]["volumeScale"] == 0.9
