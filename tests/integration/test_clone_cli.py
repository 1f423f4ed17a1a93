"""`vmsg clone …` on the real reference clips: profiles, conversion, scoring, bad input.

Runs the real analysis (resemblyzer, WORLD). Profiles are made with
--no-voice-choice here (no Kokoro); the measured voice choice is covered by the
quality test.
"""

from __future__ import annotations

import json
import shutil
import socket

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from tests.conftest import fixture_file
from vmsg.cli.app import app
from vmsg.errors import VmsgError

CLIPS = ["common_voice_ja_38833628_16k.wav", "common_voice_ja_38853932_16k.wav"]
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    """Invoke the app; a VmsgError maps to its exit code and message exactly as vmsg.cli.app.main does."""
    result = runner.invoke(app, list(args))
    if isinstance(result.exception, VmsgError):
        return result.exception.exit_code, result.stdout, str(result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.output


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("vmsg_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("VMSG_HOME", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def clips() -> list:
    return [fixture_file(f"audio/ja/{name}") for name in CLIPS]


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """A real OpenJTalk rendering with its timeline, as `vmsg synth` writes it."""
    out = tmp_path_factory.mktemp("speech") / "src.wav"
    code, _, err = run("synth", "今日はいい天気ですね。", "-o", str(out), "--engine", "openjtalk")
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def anna(home, clips):
    code, _, err = run("clone", "create", "anna", str(clips[0]), "--no-voice-choice")
    assert code == 0, err
    return home


def _files(folder) -> list:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_create_list_show(anna, clips):
    code, out, _ = run("clone", "list")
    rows = json.loads(out)
    assert code == 0 and [r["name"] for r in rows] == ["anna"] and rows[0]["clips"] == 1
    code, out, _ = run("clone", "show", "anna")
    facts = json.loads(out)
    data, rate = sf.read(clips[0], dtype="float32")
    from vmsg.profiles import clip_digest

    assert facts["clips"][0]["sha256"] == clip_digest(data, rate)
    assert 90 < facts["f0"]["median_hz"] < 300
    assert 0.5 < facts["self_similarity"] <= 1.0


def test_same_audio_under_other_names_and_formats_is_the_same_profile(anna, clips, tmp_path):
    renamed = tmp_path / "totally_different_name.wav"
    shutil.copy(clips[0], renamed)
    code, _, err = run("clone", "create", "anna2", str(renamed), "--no-voice-choice")
    assert code == 0, err
    a = json.loads(run("clone", "show", "anna")[1])
    b = json.loads(run("clone", "show", "anna2")[1])
    assert a["id"] == b["id"] and a["created"] == b["created"], "the same clips must not be analysed again"
    assert sorted(b["names"]) == ["anna", "anna2"]
    code, _, err = run("clone", "delete", "anna2")
    assert code == 0 and json.loads(run("clone", "show", "anna")[1])["id"] == a["id"]


def test_any_format_and_rate_and_several_clips(home, clips, tmp_path):
    data, rate = sf.read(clips[1], dtype="float32")
    from vmsg.media.audio import resample, write_audio

    flac = write_audio(tmp_path / "ref.flac", resample(data, rate, 44100), 44100)
    code, _, err = run("clone", "create", "duo", str(clips[0]), str(flac), "--no-voice-choice")
    assert code == 0, err
    shown = json.loads(run("clone", "show", "duo")[1])
    assert [c["rate"] for c in shown["clips"]] == [16000, 44100] and shown["seconds"] > 10
    assert run("clone", "delete", "duo")[0] == 0
    assert run("clone", "show", "duo")[0] == 2


def _write(path, samples, rate=16000):
    sf.write(path, samples, rate)
    return str(path)


@pytest.mark.parametrize("case", ["short", "silent", "clipped", "six"])
def test_bad_reference_clips_exit_2_name_the_file_and_write_nothing(tmp_path, clips, monkeypatch, case):
    monkeypatch.setenv("VMSG_HOME", str(tmp_path / "home"))
    data, rate = sf.read(clips[0], dtype="float32")
    if case == "short":
        args, expect = [_write(tmp_path / "short.wav", data[: 2 * rate])], r"short\.wav: 2\.0 s is too short"
    elif case == "silent":
        args, expect = [_write(tmp_path / "quiet.wav", np.zeros(4 * rate, np.float32))], r"quiet\.wav: silent"
    elif case == "clipped":
        args, expect = [_write(tmp_path / "loud.wav", np.clip(data * 8, -1, 1))], r"loud\.wav: clipped"
    else:
        args, expect = [str(clips[0])] * 6, "at most 5 reference clips, got 6"
    code, _, message = run("clone", "create", "bad", *args, "--no-voice-choice")
    assert code == 2
    assert __import__("re").search(expect, message), message
    assert not (tmp_path / "home").exists() or _files(tmp_path / "home") == []


def test_convert_with_profile_keeps_length_and_timeline(anna, speech, tmp_path):
    out = tmp_path / "conv.wav"
    code, _, err = run("clone", "convert", str(speech), "--profile", "anna", "-o", str(out))
    assert code == 0, err
    src, rate = sf.read(speech, dtype="float32")
    conv, conv_rate = sf.read(out, dtype="float32")
    assert conv_rate == rate and len(conv) == len(src)
    assert (tmp_path / "conv.timeline.json").read_text() == speech.with_name("src.timeline.json").read_text()
    from vmsg.media.pitch import median_f0
    from vmsg.profiles import ProfileStore

    target = ProfileStore().load("anna").f0["median_hz"]
    assert abs(np.log2(median_f0(conv, rate) / target)) < abs(np.log2(median_f0(src, rate) / target)), \
        "the pitch must move toward the reference speaker"


def test_convert_with_ref_clips_still_works(speech, clips, tmp_path):
    out = tmp_path / "conv_ref.wav"
    code, _, err = run("clone", "convert", str(speech), "--ref", str(clips[1]), "-o", str(out), "--engine", "pitchmatch")
    assert code == 0, err
    assert len(sf.read(out)[0]) == len(sf.read(speech)[0])


def test_unknown_profile_exits_2_and_writes_nothing(anna, speech, tmp_path):
    out = tmp_path / "never.wav"
    code, _, message = run("clone", "convert", str(speech), "--profile", "nobody", "-o", str(out))
    assert code == 2 and "unknown voice profile 'nobody'" in message and "anna" in message
    assert not out.exists()
    assert run("synth", "こんにちは", "-o", str(out), "--engine", "openjtalk", "--profile", "nobody")[0] == 2
    assert not out.exists()


def test_openvoice_url_not_answering_exits_75_naming_the_url(anna, speech, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    out = tmp_path / "ov.wav"
    code, _, message = run("clone", "convert", str(speech), "--profile", "anna", "--engine", "openvoice",
                           "--openvoice-url", url, "--timeout", "2", "-o", str(out))
    assert code == 75 and url in message and "not answering" in message
    assert not out.exists() and _files(tmp_path) == []


def test_synth_with_profile_keeps_the_engine_timeline(anna, tmp_path):
    plain, cloned = tmp_path / "plain.wav", tmp_path / "cloned.wav"
    assert run("synth", "おはようございます。", "-o", str(plain), "--engine", "openjtalk")[0] == 0
    code, _, err = run("synth", "おはようございます。", "-o", str(cloned), "--engine", "openjtalk", "--profile", "anna")
    assert code == 0, err
    assert len(sf.read(plain)[0]) == len(sf.read(cloned)[0])
    assert json.loads((tmp_path / "plain.timeline.json").read_text()) == json.loads((tmp_path / "cloned.timeline.json").read_text())


def test_score_ranks_the_real_speaker_above_a_synthetic_voice(anna, clips, speech):
    code, out, err = run("clone", "score", str(clips[0]), "--profile", "anna", "--baseline", str(speech))
    assert code == 0, err
    own = json.loads(out)
    other = json.loads(run("clone", "score", str(speech), "--profile", "anna", "--baseline", str(speech))[1])
    assert own["similarity"] > other["similarity"] + 0.1
    assert own["normalised"] > 0.5 and abs(other["normalised"]) < 1e-6
