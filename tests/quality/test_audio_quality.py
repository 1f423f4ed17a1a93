"""Prosody and mixing measured on real audio: Common Voice Japanese speech (CC0)
and TAD's lofi tracks (CC0) from the shared fixtures."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import fixture_file
from vmsg.backends.mix.broadcast import BroadcastMixer
from vmsg.backends.prosody.world import load_pyworld
from vmsg.media.audio import read_audio, true_peak_dbtp
from vmsg.media.dynamics import energy_vad, loudness
from vmsg.stages.enhance import enhance
from vmsg.stages.mix import MixOptions, load_music, mix
from vmsg.stages.prosody import ProsodyOptions, prosody
from vmsg.types import Speech

pytestmark = pytest.mark.quality
RATE = 48000


@pytest.fixture(scope="module")
def real_voice() -> Speech:
    samples, rate = read_audio(fixture_file("audio/ja/common_voice_ja_38853932_16k.wav"))
    return Speech(samples, rate)


@pytest.mark.parametrize("music", ["music/lofi_cat_caffe.mp3", "music/lofi_florist.mp3"])
def test_real_music_mix_meets_loudness_peak_and_ducking(real_voice, music):
    path = fixture_file(music)
    gap = np.zeros(int(2.5 * real_voice.sample_rate), np.float32)  # two sentences with a long pause between
    voice = enhance(real_voice.with_audio(np.concatenate([real_voice.samples, gap, real_voice.samples])))
    options = MixOptions(bgm=str(path))
    track = mix(voice, options)
    assert loudness(track.samples, RATE) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(track.samples, RATE) <= -1.0
    # The music stem under speech vs in the speech-free parts, speech found by the energy detector.
    samples, rate, _ = load_music(str(path))
    _, bed, active, _ = BroadcastMixer().stems(voice=voice, music=(samples, rate), options=options.model_copy(
        update={"fade_in": 0.0, "fade_out": 0.0}))
    hop = RATE // 100
    frames = len(bed) // hop
    level = 10 * np.log10(np.mean(bed[: frames * hop].reshape(frames, hop, 2) ** 2, axis=(1, 2)) + 1e-12)
    active = active[:frames]
    from scipy.ndimage import binary_erosion

    core_speech = binary_erosion(active, iterations=5)  # 50 ms inside each side: past the attack
    core_free = binary_erosion(~active, iterations=45, border_value=1)  # 450 ms past the release
    assert core_speech.sum() > 100 and core_free.sum() > 20
    assert np.mean(level[core_free]) - np.mean(level[core_speech]) >= 10.0


def test_real_music_loops_without_clicks(real_voice):
    samples, rate, _ = load_music(str(fixture_file("music/lofi_florist.mp3")))
    music = samples[: rate * 3]  # a 3 s excerpt must loop for the whole message
    options = MixOptions(duck=False, fade_in=0.0, fade_out=0.0)
    _, bed, _, _ = BroadcastMixer().stems(voice=real_voice, music=(music, rate), options=options)
    from vmsg.media.audio import resample

    source = resample(music, rate, RATE)
    inside = np.abs(np.diff(source, axis=0)).max()
    looped_steps = np.abs(np.diff(bed, axis=0)).max()
    assert len(bed) > 2 * len(source)  # it really looped, more than once
    assert looped_steps <= 1.5 * inside * float(np.abs(bed).max() / np.abs(source).max())


def test_real_speech_pitch_and_speed(real_voice):
    """Pitch measured frame by frame (same times, frames voiced in both): the median
    of all voiced frames would also move with voicing decisions, not only with F0."""
    load_pyworld()
    from vmsg.media.pitch import f0_contour, median_f0

    rate = real_voice.sample_rate
    before = f0_contour(real_voice.samples, rate)
    for shift in (-3.0, 3.0, 7.0):
        after = f0_contour(prosody(real_voice, ProsodyOptions(pitch=shift)).samples, rate)
        n = min(len(before), len(after))
        both = (before[:n] > 0) & (after[:n] > 0)
        assert both.sum() > 200
        assert np.median(12 * np.log2(after[:n][both] / before[:n][both])) == pytest.approx(shift, abs=0.2)
    base = median_f0(real_voice.samples, rate)
    fast = prosody(real_voice, ProsodyOptions(speed=1.3))
    assert fast.duration == pytest.approx(real_voice.duration / 1.3, rel=0.02)
    assert abs(12 * np.log2(median_f0(fast.samples, rate) / base)) <= 0.2
    # the voice-activity pattern is stretched, not shifted: speech still covers the same share of the clip
    share = lambda s: energy_vad(s.samples, rate).mean()  # noqa: E731
    assert share(fast) == pytest.approx(share(real_voice), abs=0.08)
