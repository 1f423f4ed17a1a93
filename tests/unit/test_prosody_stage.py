"""prosody: pitch (formants kept), speed (pitch kept), energy, intonation, pauses,
emotion presets and the native/post split, measured on the output."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from tests.unit._audio_signals import assert_timeline_matches, energy_in, speech_like
from vmsg.backends.prosody.world import load_pyworld
from vmsg.media.audio import true_peak_dbtp
from vmsg.stages.prosody import EMOTIONS, ProsodyOptions, prosody, split_native

load_pyworld()  # vmsg.media.pitch imports pyworld, which needs the pkg_resources stand-in

from vmsg.media.pitch import f0_contour, median_f0  # noqa: E402


@pytest.fixture(scope="module")
def voice():
    return speech_like()


def semitones(after: np.ndarray, before: np.ndarray, rate: int) -> float:
    return 12 * np.log2(median_f0(after, rate) / median_f0(before, rate))


@pytest.mark.parametrize("shift", [-5.0, 4.0])
def test_pitch_shift_is_measured_within_a_fifth_of_a_semitone(voice, shift):
    out = prosody(voice, ProsodyOptions(pitch=shift))
    assert abs(semitones(out.samples, voice.samples, voice.sample_rate) - shift) <= 0.2
    assert abs(out.duration - voice.duration) < 0.01
    assert_timeline_matches(out)


def test_pitch_shift_keeps_formants(voice):
    """A chipmunk shift moves the spectral centroid by the pitch ratio; ours moves
    it by less than a third of that (the formants stay where they were)."""
    from scipy.signal import welch

    def centroid(x: np.ndarray) -> float:
        f, p = welch(x, voice.sample_rate, nperseg=2048)
        return float((f * p).sum() / p.sum())

    out = prosody(voice, ProsodyOptions(pitch=7.0))
    moved = abs(np.log(centroid(out.samples) / centroid(voice.samples)))
    assert moved < 0.35 * np.log(2 ** (7 / 12))
    # Downward, Rubber Band's R2 engine keeps the formants only in part; the world engine keeps them.
    down = prosody(voice, ProsodyOptions(pitch=-7.0, engine="world"))
    assert abs(np.log(centroid(down.samples) / centroid(voice.samples))) < 0.35 * np.log(2 ** (7 / 12))
    assert abs(semitones(down.samples, voice.samples, voice.sample_rate) + 7.0) <= 0.2


@pytest.mark.parametrize("speed", [0.8, 1.5])
def test_speed_changes_duration_within_two_percent_and_keeps_pitch(voice, speed):
    out = prosody(voice, ProsodyOptions(speed=speed))
    assert abs(out.duration - voice.duration / speed) <= 0.02 * voice.duration / speed
    assert abs(semitones(out.samples, voice.samples, voice.sample_rate)) <= 0.2
    assert_timeline_matches(out)


def test_energy_scales_level_and_the_limiter_holds_true_peak(voice):
    louder = prosody(voice, ProsodyOptions(energy=1.5))
    softer = prosody(voice, ProsodyOptions(energy=0.5))
    rate = voice.sample_rate
    assert true_peak_dbtp(louder.samples, rate) <= -1.0
    a = voice.timeline[1]
    assert energy_in(softer.samples, rate, a.start, a.end) == pytest.approx(energy_in(voice.samples, rate, a.start, a.end) - 6.02, abs=0.1)
    # One loud word (peak 0.9) among quiet ones: a limiter holds the loud word under the
    # ceiling and still gives the quiet words the full +3.5 dB (a plain gain would not).
    loud_word = voice.timeline[1]
    hot_samples = voice.samples.copy()
    a0, a1 = int(loud_word.start * rate), int(loud_word.end * rate)
    hot_samples[a0:a1] *= np.float32(3.0)
    limited = prosody(voice.with_audio(hot_samples), ProsodyOptions(energy=1.5))
    assert true_peak_dbtp(limited.samples, rate) <= -1.0
    quiet = voice.timeline[5]
    gained = energy_in(limited.samples, rate, quiet.start, quiet.end) - energy_in(hot_samples, rate, quiet.start, quiet.end)
    assert gained == pytest.approx(20 * np.log10(1.5), abs=0.1)


def test_intonation_scales_the_f0_contour_around_its_mean(voice):
    rate = voice.sample_rate

    def spread(x: np.ndarray) -> float:
        """10th to 90th percentile of F0 in semitones (robust to the odd octave error)."""
        f0 = f0_contour(x, rate)
        low, high = np.percentile(12 * np.log2(f0[f0 > 0]), [10, 90])
        return float(high - low)

    wide = prosody(voice, ProsodyOptions(intonation=1.8))
    flat = prosody(voice, ProsodyOptions(intonation=0.3))
    base = spread(voice.samples)
    assert spread(wide.samples) == pytest.approx(1.8 * base, rel=0.2)
    assert spread(flat.samples) == pytest.approx(0.3 * base, rel=0.2)
    assert abs(semitones(wide.samples, voice.samples, rate)) < 0.5
    assert true_peak_dbtp(wide.samples, rate) <= -1.0
    assert_timeline_matches(wide)


def test_pauses_are_set_at_commas_and_sentence_ends_and_the_timeline_follows():
    voice = speech_like(words=4, text="あ、い。う、え。")
    out = prosody(voice, ProsodyOptions(comma_pause=0.5, sentence_pause=1.0))
    pauses = [p for p in out.timeline if p.symbol == "pau"]
    assert [round(p.duration, 3) for p in pauses] == [0.5, 1.0, 0.5]
    spoken_before = [round(p.duration, 3) for p in voice.timeline if p.symbol == "a"]
    spoken_after = [round(p.duration, 3) for p in out.timeline if p.symbol == "a"]
    assert spoken_before == spoken_after
    assert out.duration == pytest.approx(voice.duration + 0.2 * 2 + 0.7, abs=0.002)
    assert_timeline_matches(out)
    shorter = prosody(voice, ProsodyOptions(comma_pause=0.1, sentence_pause=0.1))
    assert all(abs(p.duration - 0.1) < 0.002 for p in shorter.timeline if p.symbol == "pau")
    assert_timeline_matches(shorter)


def test_pauses_without_matching_punctuation_count_as_commas():
    voice = speech_like(words=3)
    out = prosody(voice, ProsodyOptions(comma_pause=0.6, sentence_pause=2.0))
    assert [round(p.duration, 3) for p in out.timeline if p.symbol == "pau"] == [0.6, 0.6]


def test_emotion_presets_are_applied_on_top_and_clamped():
    happy = ProsodyOptions(emotion="happy").effective()
    assert happy == pytest.approx({k: v for k, v in EMOTIONS["happy"].items()})
    sad_fast = ProsodyOptions(emotion="sad", speed=2.0, pitch=-12.0).effective()
    assert sad_fast["speed"] == pytest.approx(1.8) and sad_fast["pitch"] == -12.0
    assert ProsodyOptions(emotion="angry", energy=1.5).effective()["energy"] == 1.5
    assert not ProsodyOptions(emotion="sad").is_neutral
    assert ProsodyOptions().is_neutral


def test_emotion_preset_changes_the_measured_prosody(voice):
    out = prosody(voice, ProsodyOptions(emotion="sad"))
    assert out.duration == pytest.approx(voice.duration / 0.9, rel=0.02)
    assert semitones(out.samples, voice.samples, voice.sample_rate) == pytest.approx(-1.5, abs=0.4)
    assert out.meta["prosody_path"] == {"pitch": "post", "speed": "post", "energy": "post", "intonation": "post"}


def test_native_split_gives_openjtalk_speed_and_pitch_and_keeps_the_rest_for_post():
    native, rest, used = split_native(ProsodyOptions(pitch=2.0, speed=1.2, energy=1.3), "openjtalk", synth_speed=1.5)
    assert native == {"speed": pytest.approx(1.8), "half_tone": 2.0}
    assert rest.pitch == 0.0 and rest.speed == 1.0 and rest.energy == 1.3
    assert used == {"pitch": "native", "speed": "native", "energy": "post"}
    native, rest, used = split_native(ProsodyOptions(speed=1.5), "openjtalk", synth_speed=1.5)
    assert native == {} and rest.speed == 1.5 and used == {"speed": "post"}  # 2.25 is out of the engine's range
    native, rest, used = split_native(ProsodyOptions(pitch=2.0, path="post"), "openjtalk")
    assert native == {} and used == {"pitch": "post"}
    native, _, used = split_native(ProsodyOptions(pitch=2.0), "kokoro")
    assert native == {} and used == {"pitch": "post"}


@pytest.mark.parametrize("field,value", [("pitch", 12.5), ("speed", 0.4), ("energy", 1.6), ("intonation", -0.1),
                                         ("emotion", "bored"), ("comma_pause", -1.0)])
def test_out_of_range_values_are_refused(field, value):
    with pytest.raises(ValidationError):
        ProsodyOptions(**{field: value})


def test_nan_speech_is_refused(voice):
    from vmsg.errors import InputError

    bad = voice.samples.copy()
    bad[3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        prosody(voice.with_audio(bad), ProsodyOptions(speed=1.1))


def test_long_speech_is_stretched_in_parallel_pieces_and_the_timeline_follows():
    """Over 16 s the audio is cut at quiet points and stretched piece by piece."""
    long = speech_like(words=34)
    assert long.duration > 20.0
    out = prosody(long, ProsodyOptions(speed=1.3))
    assert out.duration == pytest.approx(long.duration / 1.3, rel=0.02)
    assert_timeline_matches(out)
