"""`vmsg prosody | enhance | mix | bgm` through the real CLI entry point (CliRunner):
outputs measured, bad input gives exit code 2, a message and no output file."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from tests.unit._audio_signals import speech_like
from vmsg.cli.app import main
from vmsg.media.audio import read_audio, true_peak_dbtp
from vmsg.media.dynamics import loudness
from vmsg.media.ffmpeg import probe
from vmsg.timeline_io import read_timeline, write_speech


class _Vmsg:
    """CliRunner drives click commands; this one runs vmsg's own entry point, so the
    error → exit-code mapping of vmsg.cli.app.main is what gets tested."""

    name = "vmsg"

    def main(self, args=(), prog_name=None, **_):
        main(list(args))


def run(*args: str):
    return CliRunner().invoke(_Vmsg(), [str(a) for a in args])


@pytest.fixture(scope="module")
def voice_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "voice.wav"
    write_speech(path, speech_like(rate=22050))
    return path


def test_prosody_writes_audio_and_a_matching_timeline(voice_wav, tmp_path):
    out = tmp_path / "fast.wav"
    result = run("prosody", voice_wav, "-o", out, "--speed", "1.25", "--quiet")
    assert result.exit_code == 0, result.output
    x, rate = read_audio(out)
    src, _ = read_audio(voice_wav)
    assert len(x) / rate == pytest.approx(len(src) / rate / 1.25, rel=0.02)
    timeline, _ = read_timeline(out)
    assert timeline[-1].end == pytest.approx(len(x) / rate, abs=0.01)


def test_enhance_writes_normalised_audio(voice_wav, tmp_path):
    out = tmp_path / "clean.wav"
    result = run("enhance", voice_wav, "-o", out, "-q")
    assert result.exit_code == 0, result.output
    x, rate = read_audio(out)
    assert loudness(x, rate) == pytest.approx(-16.0, abs=0.5)
    assert read_timeline(out)[0][-1].end == pytest.approx(len(x) / rate, abs=0.01)


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".m4a"])
def test_mix_with_library_music_in_each_format(voice_wav, tmp_path, suffix):
    out = tmp_path / f"mixed{suffix}"
    result = run("mix", voice_wav, "-o", out, "--bgm", "calm_piano", "--preset", "streaming-video", "-q")
    assert result.exit_code == 0, result.output
    x, rate = read_audio(out, mono=False)
    assert loudness(x, rate) == pytest.approx(-14.0, abs=0.5)
    if suffix == ".wav":
        assert true_peak_dbtp(x, rate) <= -0.95  # 16-bit rounding on top of the -1 dBTP ceiling


def test_mix_adds_music_to_an_existing_video(tmp_path):
    video = tmp_path / "talk.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=4",
                    "-f", "lavfi", "-i", "sine=frequency=220:duration=4", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(video)], check=True)
    out = tmp_path / "with_music.mp4"
    result = run("mix", "--video", video, "--bgm", "calm_piano", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    src, dst = probe(video), probe(out)
    v_src = next(s for s in src["streams"] if s["codec_type"] == "video")
    v_dst = next(s for s in dst["streams"] if s["codec_type"] == "video")
    assert v_dst["codec_name"] == v_src["codec_name"] and v_dst["nb_frames"] == v_src["nb_frames"]
    assert any(s["codec_type"] == "audio" for s in dst["streams"])
    assert float(dst["format"]["duration"]) == pytest.approx(float(src["format"]["duration"]), abs=0.1)
    assert not list(tmp_path.glob(".*"))  # no temporary left behind


def test_bgm_lists_the_library():
    result = run("bgm", "--mood", "calm")
    assert result.exit_code == 0 and "calm_piano" in result.output and "upbeat_pop" not in result.output


def _fails(result, fragment: str) -> None:
    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_out_of_range_value_is_a_usage_error(voice_wav, tmp_path):
    out = tmp_path / "x.wav"
    _fails(run("prosody", voice_wav, "-o", out, "--pitch", "20"), "--pitch")
    _fails(run("mix", voice_wav, "-o", out, "--duck-depth-db", "80"), "--duck_depth_db")
    assert not out.exists()


def test_bad_files_are_refused_and_nothing_is_written(voice_wav, tmp_path):
    out = tmp_path / "x.wav"
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF....WAVEfmt garbage" * 10)
    _fails(run("prosody", corrupt, "-o", out, "--speed", "1.1"), "not a readable audio file")
    nan = tmp_path / "nan.wav"
    data = np.zeros(16000, np.float32)
    data[5] = np.nan
    sf.write(nan, data, 16000, subtype="FLOAT")
    _fails(run("enhance", nan, "-o", out), "NaN")
    short = tmp_path / "short.wav"
    sf.write(short, np.full(4000, 0.2, np.float32), 8000)
    _fails(run("mix", voice_wav, "-o", out, "--bgm", short), "shorter than 1 s")
    _fails(run("mix", voice_wav, "-o", out, "--bgm", "nope"), "library ids")
    _fails(run("mix", "-o", out), "either a SPEECH file or --video")
    _fails(run("mix", voice_wav, "-o", tmp_path / "x.aiff"), "unsupported audio format")
    assert not out.exists() and not list(tmp_path.glob(".*part*"))


def test_any_rate_and_channel_count_is_accepted(tmp_path):
    """A 3-channel 11.025 kHz voice and 5-channel 32 kHz music: mixed down, resampled, mixed."""
    voice = tmp_path / "v.wav"
    rng = np.random.default_rng(0)
    t = np.arange(11025 * 3) / 11025
    v = (0.3 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype(np.float32)
    sf.write(voice, np.stack([v, v, v], axis=1), 11025)
    music = tmp_path / "m.wav"
    sf.write(music, (rng.standard_normal((32000 * 2, 5)) * 0.05).astype(np.float32), 32000)
    out = tmp_path / "out.wav"
    result = run("mix", voice, "-o", out, "--bgm", music, "-q")
    assert result.exit_code == 0, result.output
    info = sf.info(out)
    assert info.samplerate == 48000 and info.channels == 2
    x, rate = read_audio(out, mono=False)
    assert loudness(x, rate) == pytest.approx(-16.0, abs=0.5)


def test_long_mix_to_ogg_is_written(tmp_path):
    """70 s of stereo Vorbis in one libsndfile write crashes the process; written in blocks it works."""
    voice = tmp_path / "long.wav"
    long = speech_like(rate=16000, words=90)
    assert long.duration > 60
    write_speech(voice, long)
    out = tmp_path / "long.ogg"
    result = run("mix", voice, "-o", out, "--bgm", "calm_piano", "-q")
    assert result.exit_code == 0, result.output
    x, rate = read_audio(out, mono=False)
    assert len(x) / rate == pytest.approx(long.duration + 0.9, abs=0.05)


def test_video_without_sound_gets_the_music_alone(tmp_path):
    video = tmp_path / "mute.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=3",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)], check=True)
    out = tmp_path / "scored.mp4"
    result = run("mix", "--video", video, "--bgm", "upbeat_pop", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    x, rate = read_audio(out, mono=False)
    assert len(x) / rate == pytest.approx(3.0, abs=0.1)
    assert loudness(x, rate) == pytest.approx(-16.0, abs=1.0)  # AAC at 3 s: a looser check than on wav
    _fails(run("mix", "--video", video, "-o", tmp_path / "silent.mp4"), "is silent and there is no music")
