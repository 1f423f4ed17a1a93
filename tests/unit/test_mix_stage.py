"""mix: loudness, true peak, ducking depth, click-free loops, presets and bad input, measured on the output."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit._audio_signals import speech_like
from vmsg.backends.mix.broadcast import BroadcastMixer, loop_to_length
from vmsg.errors import InputError
from vmsg.media.audio import true_peak_dbtp, write_audio
from vmsg.media.dynamics import loudness
from vmsg.stages.mix import MixOptions, load_music, mix
from vmsg.types import Phoneme, Speech

RATE = 48000


def band_voice(rate: int = 24000) -> Speech:
    """'Speech' that lives above 1.5 kHz: 1 s talk, 3 s pause, 2 s talk, with its timeline."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(5)
    sos = butter(6, [1500, 4000], btype="bandpass", fs=rate, output="sos")
    talk = lambda s: (sosfilt(sos, rng.standard_normal(int(s * rate))) * 0.3).astype(np.float32)  # noqa: E731
    silence = lambda s: np.zeros(int(s * rate), np.float32)  # noqa: E731
    parts = [("sil", silence(0.5)), ("a", talk(1.0)), ("pau", silence(3.0)), ("a", talk(2.0)), ("sil", silence(0.5))]
    timeline, t = [], 0.0
    for symbol, x in parts:
        timeline.append(Phoneme(symbol, t, t + len(x) / rate))
        t += len(x) / rate
    return Speech(np.concatenate([x for _, x in parts]), rate, tuple(timeline), "engine")


def low_music(seconds: float, rate: int = 44100) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    left = 0.3 * np.sin(2 * np.pi * 200 * t) + 0.2 * np.sin(2 * np.pi * 310 * t)
    return np.stack([left, 0.9 * left], axis=1).astype(np.float32)


def low_band_db(x: np.ndarray, start: float, end: float) -> float:
    from scipy.signal import butter, sosfiltfilt

    mono = x.mean(axis=1) if x.ndim == 2 else x
    low = sosfiltfilt(butter(6, 500, fs=RATE, output="sos"), mono)[int(start * RATE) : int(end * RATE)]
    return 20 * np.log10(np.sqrt(np.mean(low**2)) + 1e-12)


@pytest.fixture(scope="module")
def music_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("music") / "tones.wav"
    write_audio(path, low_music(20.0), 44100)
    return path


@pytest.mark.parametrize("preset,target", [("podcast", -16.0), ("streaming-video", -14.0)])
def test_loudness_and_true_peak_meet_the_preset(music_file, preset, target):
    track = mix(band_voice(), MixOptions(bgm=str(music_file), preset=preset))
    assert loudness(track.samples, RATE) == pytest.approx(target, abs=0.5)
    assert true_peak_dbtp(track.samples, RATE) <= -1.0
    assert track.samples.shape[1] == 2 and track.sample_rate == RATE


def test_music_ducks_at_least_10_db_under_speech(music_file):
    voice = band_voice()
    track = mix(voice, MixOptions(bgm=str(music_file), fade_in=0, fade_out=0))
    lead = track.meta["voice_offset"]
    under_talk = low_band_db(track.samples, lead + 0.7, lead + 1.4)  # inside the first 1 s of talk
    in_pause = low_band_db(track.samples, lead + 2.3, lead + 4.1)  # the pause, past the 400 ms release
    assert in_pause - under_talk >= 10.0
    undocked = mix(voice, MixOptions(bgm=str(music_file), fade_in=0, fade_out=0, duck=False))
    assert abs(low_band_db(undocked.samples, lead + 0.7, lead + 1.4) - low_band_db(undocked.samples, lead + 2.3, lead + 4.1)) < 1.0


def test_ducking_from_the_energy_detector_without_a_timeline(music_file):
    voice = band_voice()
    track = mix(Speech(voice.samples, voice.sample_rate), MixOptions(bgm=str(music_file), fade_in=0, fade_out=0))
    lead = track.meta["voice_offset"]
    assert low_band_db(track.samples, lead + 2.3, lead + 4.1) - low_band_db(track.samples, lead + 0.7, lead + 1.4) >= 10.0


def test_loop_points_have_no_click():
    rate = 8000
    t = np.arange(int(1.3 * rate)) / rate
    music = (0.4 * np.sin(2 * np.pi * 97.3 * t) + 0.3 * np.sin(2 * np.pi * 151.1 * t)).astype(np.float32)
    bound = float(np.max(np.abs(np.diff(music))))
    naive = np.tile(music, 5)
    assert np.max(np.abs(np.diff(naive))) > 3 * bound  # the material has a real seam to hide
    looped = loop_to_length(music, 5 * len(music), int(0.3 * rate))
    assert len(looped) == 5 * len(music)
    # an equal-power joint may swell by up to 3 dB, a click is a step many times the normal slope
    assert np.max(np.abs(np.diff(looped))) <= 1.5 * bound


def test_stereo_file_loops_through_the_mixer_without_clicks(tmp_path):
    rate = 22050
    t = np.arange(int(1.5 * rate)) / rate
    mono = 0.5 * np.sin(2 * np.pi * 123.4 * t)
    path = tmp_path / "short.wav"
    write_audio(path, np.stack([mono, -mono], axis=1), rate)
    voice = speech_like(rate=16000)
    options = MixOptions(bgm=str(path), duck=False, fade_in=0, fade_out=0)
    _, bed, _, _ = BroadcastMixer().stems(voice=voice, music=load_music(str(path))[:2], options=options)
    steps = np.abs(np.diff(bed, axis=0)).max()
    expected = 2 * np.pi * 123.4 / RATE * np.abs(bed).max()  # the steepest slope of that sine at 48 kHz
    assert steps <= 1.1 * expected


def test_voice_only_mix_keeps_the_timeline_shifted_by_the_lead_in():
    voice = speech_like(rate=22050)
    track = mix(voice, MixOptions(lead_in=0.5, tail=1.0))
    assert track.duration == pytest.approx(voice.duration + 1.5, abs=0.001)
    assert track.timeline[0] == Phoneme("sil", 0.0, 0.5)
    assert track.timeline[1].start == pytest.approx(voice.timeline[0].start + 0.5)
    assert loudness(track.samples, RATE) == pytest.approx(-16.0, abs=0.5)


def test_library_track_by_id():
    track = mix(speech_like(), MixOptions(bgm="calm_piano"))
    assert loudness(track.samples, RATE) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(track.samples, RATE) <= -1.0


def test_bad_music_is_refused_with_a_clear_message(tmp_path):
    voice = speech_like()
    short = tmp_path / "short.wav"
    write_audio(short, np.full(8000, 0.1, np.float32), 16000)
    with pytest.raises(InputError, match="shorter than 1 s"):
        mix(voice, MixOptions(bgm=str(short)))
    silent = tmp_path / "silent.wav"
    write_audio(silent, np.zeros(48000, np.float32), 16000)
    with pytest.raises(InputError, match="silent"):
        mix(voice, MixOptions(bgm=str(silent)))
    corrupt = tmp_path / "corrupt.mp3"
    corrupt.write_bytes(b"not an mp3 at all" * 100)
    with pytest.raises(InputError, match="not a readable audio file"):
        mix(voice, MixOptions(bgm=str(corrupt)))
    with pytest.raises(InputError, match="library ids: .*calm_piano"):
        mix(voice, MixOptions(bgm="no_such_track"))
    with pytest.raises(InputError, match="file not found"):
        mix(voice, MixOptions(bgm="missing/music.mp3"))


def test_nan_voice_is_refused():
    voice = speech_like()
    bad = voice.samples.copy()
    bad[10] = np.inf
    with pytest.raises(InputError, match="NaN or infinite"):
        mix(voice.with_audio(bad))


def test_silent_voice_gives_music_only_or_a_clear_error(music_file):
    silent = Speech(np.zeros(24000 * 3, np.float32), 24000)
    with pytest.raises(InputError, match="silent and there is no music"):
        mix(silent)
    track = mix(silent, MixOptions(bgm=str(music_file)))
    assert loudness(track.samples, RATE) == pytest.approx(-16.0, abs=0.5)


def test_loops_keep_the_beat():
    """A 3.3 s beat (a hit every 0.5 s) looped to 12 s: the hits stay 0.5 s apart
    across the joints, because the loop jumps back at a point where the pattern repeats."""
    from scipy.signal import find_peaks

    from vmsg.backends.mix.broadcast import loop_point
    from vmsg.media.dynamics import frame_rms_db

    rate = 8000
    t = np.arange(int(3.3 * rate)) / rate
    hits = np.exp(-((t % 0.5) / 0.03)) * np.sin(2 * np.pi * 300 * t)
    music = (0.5 * hits + 0.05 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    cut = loop_point(music, rate)
    assert cut % int(0.5 * rate) < 0.02 * rate or cut % int(0.5 * rate) > 0.48 * rate
    looped = loop_to_length(music[: cut + int(0.1 * rate)], 12 * rate, int(0.1 * rate))
    env, _ = frame_rms_db(looped, rate)
    peaks, _ = find_peaks(env, height=env.max() - 10, distance=20)
    gaps = np.diff(peaks) * 0.01
    assert np.all(np.abs(gaps - 0.5) < 0.03), gaps


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("with_music", [True, False])
def test_mono_bus_output_measures_on_target_with_pyloudnorm(tmp_path, channels, with_music):
    """Mono music (the library's) and voice only are mixed on a mono bus; the delivered
    file, measured by pyloudnorm as 1 or 2 channels, is still on target and identical per channel."""
    import pyloudnorm

    path = tmp_path / "mono.wav"
    write_audio(path, low_music(8.0)[:, 0], 44100)
    track = mix(band_voice(), MixOptions(bgm=str(path) if with_music else None, channels=channels, preset="streaming-video"))
    assert pyloudnorm.Meter(RATE).integrated_loudness(track.samples.astype(np.float64)) == pytest.approx(-14.0, abs=0.5)
    assert true_peak_dbtp(track.samples, RATE) <= -1.0
    if channels == 2:
        assert track.samples.shape[1] == 2 and np.array_equal(track.samples[:, 0], track.samples[:, 1])
    else:
        assert track.samples.ndim == 1
