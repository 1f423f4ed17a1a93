"""Fallback chains and the circuit breaker over real engines: the did engine against a local server
implementing D-ID's published API (not the real service), still, openjtalk, and engines registered
here that fail on purpose."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np
import pytest

from tests.integration.did_fake import FakeDid
from vmsg.backends.render import RENDERERS
from vmsg.backends.tts import SPEECH_ENGINES
from vmsg.errors import BackendError, InputError, TemporaryError
from vmsg.fallback import BREAKER
from vmsg.media.ffmpeg import probe
from vmsg.media.image import read_image
from vmsg.pipeline import run_recipe
from vmsg.recipe import validate_recipe
from vmsg.report import report_path_for
from vmsg.stages.render import RenderOptions, render
from vmsg.stages.synth import SynthOptions, synth
from vmsg.types import Soundtrack

pytestmark = pytest.mark.integration

KEY = "ZmFsbGJhY2tAZXhhbXBsZS5jb20:fallback-Secret-9931"


class NoFaceRenderer:
    """Stands in for a landmark engine that finds no face in this image."""

    name: ClassVar[str] = "noface"
    version = "test"
    calls = 0

    def __init__(self, *, device: str = "auto") -> None:
        pass

    def render(self, *, image: np.ndarray, soundtrack: Soundtrack, output, options: Any) -> dict[str, Any]:
        type(self).calls += 1
        output.write_bytes(b"half a video")  # must never reach the final name
        raise InputError("image: no face found (face detection)")


class DownSpeechEngine:
    """Stands in for an HTTP TTS engine whose server is down."""

    name: ClassVar[str] = "down"
    version = "test"

    def __init__(self, *, device: str = "auto") -> None:
        pass

    def voices(self) -> list[str]:
        return ["x"]

    def synthesize(self, *, text: str, voice: str | None, speed: float):
        raise TemporaryError("speech engine at http://127.0.0.1:9 does not answer")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    fake = FakeDid(KEY, tmp_path_factory.mktemp("did")).start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def fresh(server, monkeypatch):
    server.reset("ok")
    monkeypatch.setenv("VMSG_DID_API_KEY", KEY)
    monkeypatch.setitem(RENDERERS._entries, "noface", f"{__name__}:NoFaceRenderer")
    monkeypatch.setitem(SPEECH_ENGINES._entries, "down", f"{__name__}:DownSpeechEngine")
    RENDERERS._instances.clear()
    BREAKER.reset()
    yield
    BREAKER.reset()


@pytest.fixture(scope="module")
def portrait(astronaut_png):
    return read_image(astronaut_png)


def tone(seconds: float = 1.5, rate: int = 24000) -> Soundtrack:
    t = np.arange(int(seconds * rate)) / rate
    return Soundtrack((0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), rate)


def did_options(server, **extra) -> dict:
    return {"base_url": server.url, "poll_interval_s": 0.1, "poll_max_interval_s": 0.3, "retries": 1, **extra}


@pytest.mark.slow
def test_out_of_credits_falls_back_to_still_and_the_report_says_why(server, astronaut_png, tmp_path):
    server.reset("402")
    recipe = validate_recipe(
        {"image": str(astronaut_png), "text": "こんにちは。", "output": str(tmp_path / "hello.mp4"),
         "voice": {"engine": "openjtalk"},
         "render": {"fallback": ["did", "still"], "size": 256, "did": did_options(server)}},
        source="test",
    )
    report = run_recipe(recipe)

    info = probe(tmp_path / "hello.mp4")
    assert {s["codec_name"] for s in info["streams"]} == {"h264", "aac"}
    assert float(info["format"]["duration"]) == pytest.approx(report.outputs["video"]["seconds"], abs=0.15)
    saved = json.loads(report_path_for(tmp_path / "hello.mp4").read_text(encoding="utf-8"))
    stage = next(s for s in saved["stages"] if s["stage"] == "render")
    assert stage["engine"] == "still"
    did, still = stage["detail"]["attempts"]
    assert did["engine"] == "did" and did["status"] == "failed" and "out of credits" in did["reason"]
    assert still == {"engine": "still", "status": "used", "seconds": still["seconds"]}
    assert server.calls["POST /talks"] == 1
    text = report_path_for(tmp_path / "hello.mp4").read_text(encoding="utf-8")
    assert KEY not in text and "fallback-Secret" not in text


def test_breaker_opens_and_did_is_not_called_again_in_the_batch(server, portrait, tmp_path):
    server.reset("402")
    options = RenderOptions(fallback=["did", "still"], size=256, breaker={"threshold": 2, "cooldown_s": 600},
                            did=did_options(server))
    results = [render(portrait, tone(), tmp_path / f"job{i}.mp4", options) for i in range(5)]

    assert all((tmp_path / f"job{i}.mp4").is_file() for i in range(5))
    assert [r["engine"] for r in results] == ["still"] * 5
    assert server.calls["POST /talks"] == 2 and server.calls["POST /images"] == 2  # counted on the server
    assert [r["attempts"][0]["status"] for r in results] == ["failed", "failed", "skipped", "skipped", "skipped"]
    assert "circuit open after 2 consecutive failures" in results[-1]["attempts"][0]["reason"]


def test_no_face_hands_over_nothing_half_written_and_no_breaker(server, portrait, tmp_path):
    NoFaceRenderer.calls = 0
    options = RenderOptions(engine="noface", fallback=["did", "still"], size=256, breaker={"threshold": 1},
                            did=did_options(server))
    for i in range(2):
        facts = render(portrait, tone(1.0), tmp_path / f"n{i}.mp4", options)
        assert facts["engine"] == "did"
        assert facts["attempts"][0] == {"engine": "noface", "status": "failed", "error": "InputError",
                                        "reason": "image: no face found (face detection)",
                                        "seconds": facts["attempts"][0]["seconds"]}
    assert NoFaceRenderer.calls == 2  # threshold 1, yet an input problem never opens the circuit
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n0.mp4", "n1.mp4"]


def test_every_engine_failing_writes_a_failed_report_with_reasons(server, astronaut_png, tmp_path):
    server.reset("402")
    recipe = validate_recipe(
        {"image": str(astronaut_png), "text": "はい。", "output": str(tmp_path / "x.mp4"),
         "voice": {"engine": "openjtalk"},
         "render": {"engine": "noface", "fallback": ["did"], "size": 256, "did": did_options(server)}},
        source="test",
    )
    with pytest.raises(BackendError) as caught:
        run_recipe(recipe)
    message = str(caught.value)
    assert "noface: image: no face found" in message and "did: D-ID account is out of credits" in message
    assert not (tmp_path / "x.mp4").exists()
    saved = json.loads(report_path_for(tmp_path / "x.mp4").read_text(encoding="utf-8"))
    assert saved["status"] == "failed"
    failed = saved["stages"][-1]
    assert failed["stage"] == "render" and [a["engine"] for a in failed["detail"]["attempts"]] == ["noface", "did"]


def test_voice_fallback_uses_the_next_engine_and_says_why():
    speech = synth("こんにちは。", SynthOptions(fallback=["down", "openjtalk"], voice="x"))
    assert speech.meta["engine"] == "openjtalk" and speech.duration > 0.3 and speech.timeline
    down, used = speech.meta["attempts"]
    assert (down["engine"], down["status"], down["error"]) == ("down", "failed", "TemporaryError")
    assert "does not answer" in down["reason"] and used["engine"] == "openjtalk"


def test_voice_chain_all_down_is_temporary():
    with pytest.raises(TemporaryError, match="does not answer"):
        synth("こんにちは。", SynthOptions(engine="down"))
