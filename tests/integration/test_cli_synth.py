"""`vmsg synth` end to end in-process (vmsg.cli.app.main): exit codes, messages, and nothing half-written."""

from __future__ import annotations

import json
import socket

import pytest
import soundfile as sf

from tests.cli_run import run_cli
from vmsg.text import MAX_TEXT_CHARS

pytestmark = pytest.mark.integration


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_openjtalk_writes_audio_and_a_timeline_that_spans_it(tmp_path, capsys) -> None:
    out = tmp_path / "hello.wav"
    code, _, err = run_cli(capsys, "synth", "こんにちは。15:30に会いましょう。", "--engine", "openjtalk", "-o", str(out), "-q")
    assert code == 0, err
    audio, rate = sf.read(out)
    timeline = json.loads((tmp_path / "hello.timeline.json").read_text())
    assert timeline["source"] == "engine"
    assert abs(timeline["phonemes"][-1][2] - len(audio) / rate) < 0.002
    assert len(audio) / rate > 2.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "text is empty"),
        ("。。！？★", "nothing pronounceable"),
        ("안녕하세요", "cannot read: 녕 세 안 요 하"),
        ("あ" * (MAX_TEXT_CHARS + 1), f"the limit is {MAX_TEXT_CHARS}"),
    ],
)
def test_bad_text_exits_2_and_writes_nothing(tmp_path, capsys, text: str, message: str) -> None:
    out = tmp_path / "bad.wav"
    code, _, err = run_cli(capsys, "synth", text, "--engine", "openjtalk", "-o", str(out))
    assert code == 2
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_unreachable_voicevox_exits_75_naming_the_url(tmp_path, capsys) -> None:
    url = closed_port_url()
    out = tmp_path / "vv.wav"
    code, _, err = run_cli(capsys, "synth", "テストです。", "--engine", "voicevox", "--voicevox-url", url,
                       "--vv", "retries=0", "--vv", "timeout=2", "-o", str(out))
    assert code == 75
    assert url in err and "does not answer" in err
    assert list(tmp_path.iterdir()) == []


def test_bad_audio_query_field_is_a_usage_error(tmp_path, capsys) -> None:
    code, _, err = run_cli(capsys, "synth", "テスト", "--engine", "voicevox", "--vv", "pitchScale=3", "-o", str(tmp_path / "x.wav"))
    assert code == 2 and "pitchScale" in err
    code, _, err = run_cli(capsys, "synth", "テスト", "--engine", "voicevox", "--vv", "pitchScale", "-o", str(tmp_path / "x.wav"))
    assert code == 2 and "KEY=VALUE" in err


def test_list_voices_survives_an_unreachable_voicevox(capsys) -> None:
    url = closed_port_url()
    code, out, err = run_cli(capsys, "synth", "--list-voices", "--voicevox-url", url, "--vv", "retries=0")
    assert code == 0, err
    listing = json.loads(out)
    assert listing["voicevox"]["available"] is False and url in listing["voicevox"]["reason"]
    assert listing["kokoro"]["voices"] == ["jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"]
    assert listing["openjtalk"]["voices"] == ["mei_normal"]
