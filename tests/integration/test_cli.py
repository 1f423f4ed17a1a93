"""The CLI on files: exit codes, messages, nothing left under an output name."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from vmsg.cli.app import app, main

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str):
    """Invoke through main() so errors map to exit codes exactly as in a shell."""
    import io
    from contextlib import redirect_stderr

    err = io.StringIO()
    code = 0
    with redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, err.getvalue()


def test_version_and_help():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("vmsg ")
    result = runner.invoke(app, ["--help"])
    for name in ("segment", "synth", "clone", "prosody", "mix", "render", "doctor"):
        assert name in result.stdout


def test_help_imports_nothing_heavy():
    code = ("import sys, vmsg.cli.app as a\n"
            "a.app(['--help'], standalone_mode=False)\n"
            "heavy = [m for m in ('numpy', 'scipy', 'onnxruntime', 'mediapipe', 'torch', 'cv2', 'pydantic') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert "HEAVY []" in out, out


def test_synth_writes_audio_and_timeline(tmp_path):
    out = tmp_path / "hello.wav"
    code, err = run("synth", "こんにちは", "-o", str(out), "--engine", "openjtalk")
    assert code == 0, err
    timeline = json.loads((tmp_path / "hello.timeline.json").read_text())
    assert timeline["source"] == "engine" and timeline["phonemes"][0][0] == "sil"


@pytest.mark.parametrize(
    "args, message",
    [
        (["synth", "", "--engine", "openjtalk"], "text is empty"),
        (["synth", "！？", "--engine", "openjtalk"], "nothing pronounceable"),
        (["synth", "あ" * 2001, "--engine", "openjtalk"], "limit is 2000"),
        (["synth", "こんにちは", "--engine", "espeak"], "unknown synth engine 'espeak'; valid engines: kokoro, openjtalk"),
        (["synth", "こんにちは", "--engine", "openjtalk", "--voice", "nobody"], "unknown openjtalk voice 'nobody'"),
        (["synth", "こんにちは", "--engine", "openjtalk", "--speed", "9"], "--speed: Input should be less than or equal to 2"),
    ],
)
def test_synth_bad_input(tmp_path, args, message):
    out = tmp_path / "x.wav"
    code, err = run(*args, "-o", str(out))
    assert code == 2, err
    assert message in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_unwritable_output_is_refused_before_work(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, err = run("synth", "こんにちは", "--engine", "openjtalk", "-o", str(blocker / "x.wav"))
    assert code == 2 and "cannot create its folder" in err


def test_segment_cli_and_bad_images(tmp_path, astronaut_png):
    out = tmp_path / "cut.png"
    code, err = run("segment", str(astronaut_png), "-o", str(out), "--alpha", str(tmp_path / "a.png"))
    assert code == 0, err
    rgba = np.asarray(Image.open(out))
    assert rgba.shape[2] == 4 and 0.2 < (rgba[..., 3] > 127).mean() < 0.9

    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(astronaut_png.read_bytes()[:3000])
    sky = tmp_path / "sky.png"
    Image.new("RGB", (200, 200), (90, 140, 220)).save(sky)
    for image, message in [(tmp_path / "missing.png", "file not found"), (corrupt, "corrupt or truncated"),
                           (sky, "no person found")]:
        target = tmp_path / "never.png"
        code, err = run("segment", str(image), "-o", str(target))
        assert code == 2, err
        assert message in err and str(image) in err
        assert not target.exists()


def test_render_recipe_typo_exits_2_with_line(tmp_path, astronaut_png):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"image: {astronaut_png}\ntext: こんにちは\nrendr:\n  engine: still\n", encoding="utf-8")
    code, err = run("render", str(recipe))
    assert code == 2
    assert f"{recipe}:3: rendr: unknown field 'rendr'" in err


def test_render_recipe_missing_image_exits_2(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("image: nobody.png\ntext: こんにちは\noutput: out.mp4\n", encoding="utf-8")
    code, err = run("render", str(recipe))
    assert code == 2 and "nobody.png: file not found" in err
    assert not (tmp_path / "out.mp4").exists()


def test_doctor_passes_here():
    code, err = run("doctor", "--json")
    assert code == 0, err


def test_doctor_checks_configured_http_engines(tmp_path, monkeypatch, astronaut_png):
    import socket

    from tests.fakes.voicevox_server import FakeVoicevox

    with FakeVoicevox() as server:
        monkeypatch.setenv("VMSG_VOICEVOX_URL", server.url)
        code, err = run("doctor", "--json")
        assert code == 0, err
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("VMSG_VOICEVOX_URL", dead)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"image: {astronaut_png}\ntext: こんにちは\nclone:\n  engine: openvoice\n  openvoice_url: {dead}\n",
                      encoding="utf-8")
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        code, err = run("doctor", "--json", "--recipe", str(recipe))
    assert code == 1
    checks = {c["name"]: c for c in json.loads(out.getvalue())}
    assert not checks["voicevox engine"]["ok"] and dead in checks["voicevox engine"]["detail"]
    assert not checks["openvoice service"]["ok"]
