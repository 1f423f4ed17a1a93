"""The first clone and prosody engines on real speech."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fixture_file
from vmsg.media.audio import read_audio
from vmsg.media.pitch import median_f0
from vmsg.stages.clone import CloneOptions, clone
from vmsg.stages.prosody import ProsodyOptions, prosody
from vmsg.stages.synth import SynthOptions, synth


@pytest.fixture(scope="module")
def speech():
    return synth("今日は新しいプロジェクトについてご説明します。", SynthOptions(engine="openjtalk"))


def semitones(a: float, b: float) -> float:
    return 12 * np.log2(a / b)


def speech_from(clip: str):
    from vmsg.types import Speech

    samples, rate = read_audio(fixture_file(clip))
    return Speech(samples, rate)


@pytest.mark.parametrize(
    "source, reference",
    [
        ("audio/ja/common_voice_ja_38852485_16k.wav", "audio/ja/common_voice_ja_38833628_16k.wav"),  # 249 → 149 Hz
        ("audio/ja/common_voice_ja_38853932_16k.wav", "audio/ja/common_voice_ja_38864552_16k.wav"),  # 105 → 175 Hz
    ],
)
def test_pitchmatch_moves_a_real_speaker_to_another(source, reference):
    voice = speech_from(source)
    ref_path = fixture_file(reference)
    ref, rate = read_audio(ref_path)
    target = median_f0(ref, rate)
    out = clone(voice, CloneOptions(engine="pitchmatch", references=[str(ref_path)]))
    after = median_f0(out.samples, out.sample_rate)
    assert abs(semitones(after, target)) < 1.0, f"{median_f0(voice.samples, voice.sample_rate):.0f} Hz → {after:.0f} Hz, reference {target:.0f} Hz"
    assert len(out.samples) == len(voice.samples)


def test_pitchmatch_keeps_the_timeline_and_clamps_at_an_octave(speech):
    ref_path = fixture_file("audio/ja/common_voice_ja_38853932_16k.wav")  # a low male voice, ~20 st under mei
    before = median_f0(speech.samples, speech.sample_rate)
    out = clone(speech, CloneOptions(engine="pitchmatch", references=[str(ref_path)]))
    assert out.timeline == speech.timeline and len(out.samples) == len(speech.samples)
    assert out.meta["clone_shift_semitones"] == -12.0
    assert semitones(median_f0(out.samples, out.sample_rate), before) == pytest.approx(-12.0, abs=0.5)


def test_clone_refuses_short_and_silent_references(tmp_path, speech):
    import soundfile as sf

    from vmsg.errors import InputError

    sf.write(tmp_path / "short.wav", np.zeros(16000, np.float32) + 0.1, 16000)
    sf.write(tmp_path / "silent.wav", np.zeros(16000 * 4, np.float32), 16000)
    with pytest.raises(InputError, match="too short"):
        clone(speech, CloneOptions(references=[str(tmp_path / "short.wav")]))
    with pytest.raises(InputError, match="silent"):
        clone(speech, CloneOptions(references=[str(tmp_path / "silent.wav")]))
    with pytest.raises(InputError, match="at most 5"):
        clone(speech, CloneOptions(references=[str(tmp_path / "silent.wav")] * 6))


def test_prosody_pitch_and_speed_are_what_was_asked(speech):
    out = prosody(speech, ProsodyOptions(pitch=3.0, speed=1.25))
    assert out.duration == pytest.approx(speech.duration / 1.25, rel=0.02)
    shift = semitones(median_f0(out.samples, out.sample_rate), median_f0(speech.samples, speech.sample_rate))
    assert shift == pytest.approx(3.0, abs=0.3)
    assert out.timeline[-1].end == pytest.approx(out.duration, abs=0.01)
