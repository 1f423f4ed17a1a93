"""The openvoice engines: the HTTP client against a local server on 127.0.0.1 that
implements the contract in docs/clone.md, and the V2 converter loader on a
checkpoint with the official architecture and keys (random weights: the real
checkpoint is not available offline)."""

from __future__ import annotations

import io
import json
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vmsg.errors import BackendError, ModelError, TemporaryError
from vmsg.media.audio import resample
from vmsg.types import Phoneme, Speech

CONFIG = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "models" / "openvoice_v2_converter_config.json"


class FakeOpenVoice(BaseHTTPRequestHandler):
    """POST /convert: parse the multipart body, answer the source at 22.05 kHz, half as loud."""

    mode = "ok"
    failures_left = 0
    seen: list[dict] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        parts = {}
        for part in message.iter_parts():
            parts.setdefault(part.get_param("name", header="content-disposition"), []).append(part.get_payload(decode=True))
        cls = type(self)
        cls.seen.append({"path": self.path, "references": len(parts.get("reference", [])), "tau": parts["tau"][0].decode()})
        if cls.failures_left > 0:
            cls.failures_left -= 1
            return self._answer(503, b"busy", "text/plain")
        if cls.mode == "bad":
            return self._answer(400, json.dumps({"detail": "reference too short"}).encode(), "application/json")
        source, rate = sf.read(io.BytesIO(parts["source"][0]), dtype="float32")
        out = resample(source, rate, 22050) * 0.5
        if cls.mode == "short":
            out = out[: len(out) // 2]
        buf = io.BytesIO()
        sf.write(buf, out, 22050, format="WAV", subtype="FLOAT")
        self._answer(200, buf.getvalue(), "audio/wav")

    def _answer(self, status: int, payload: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenVoice)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(autouse=True)
def reset():
    FakeOpenVoice.mode, FakeOpenVoice.failures_left = "ok", 0
    FakeOpenVoice.seen.clear()


def _speech(seconds: float = 1.5, rate: int = 24000) -> Speech:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.4 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    return Speech(samples, rate, (Phoneme("a", 0.1, 0.5), Phoneme("i", 0.5, 1.2)), "engine")


def _refs(n: int = 2) -> list:
    return [((0.3 * np.sin(2 * np.pi * (150 + 20 * i) * np.arange(16000 * 3) / 16000)).astype(np.float32), 16000) for i in range(n)]


def _engine(url: str, **kw):
    from vmsg.backends.clone.openvoice import OpenVoiceHTTPConverter

    return OpenVoiceHTTPConverter(url=url, timeout=60, backoff=0.01, **kw)


def test_convert_sends_the_contract_and_keeps_length_and_timeline(server):
    speech = _speech()
    out = _engine(server, tau=0.4).convert(speech=speech, references=_refs(3))
    assert FakeOpenVoice.seen == [{"path": "/convert", "references": 3, "tau": "0.4"}]
    assert len(out.samples) == len(speech.samples) and out.sample_rate == speech.sample_rate
    assert out.timeline == speech.timeline
    mid = slice(2000, -2000)
    np.testing.assert_allclose(out.samples[mid], 0.5 * speech.samples[mid], atol=0.02)


def test_server_errors_are_retried(server):
    FakeOpenVoice.failures_left = 2
    out = _engine(server).convert(speech=_speech(), references=_refs(1))
    assert len(FakeOpenVoice.seen) == 3 and len(out.samples) == len(_speech().samples)


def test_persistent_failure_is_a_temporary_error_naming_the_url(server):
    FakeOpenVoice.failures_left = 10
    with pytest.raises(TemporaryError, match=server.replace(".", r"\.")) as info:
        _engine(server).convert(speech=_speech(), references=_refs(1))
    assert info.value.exit_code == 75 and len(FakeOpenVoice.seen) == 3


def test_refusal_is_not_retried_and_says_why(server):
    FakeOpenVoice.mode = "bad"
    with pytest.raises(BackendError, match="HTTP 400 reference too short"):
        _engine(server).convert(speech=_speech(), references=_refs(1))
    assert len(FakeOpenVoice.seen) == 1


def test_a_service_that_changes_the_timing_is_refused(server):
    FakeOpenVoice.mode = "short"
    with pytest.raises(BackendError, match="must keep the timing"):
        _engine(server).convert(speech=_speech(), references=_refs(1))


def test_closed_port_fails_fast_with_temporary_error():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    with pytest.raises(TemporaryError, match=f"127.0.0.1:{port}.*not answering"):
        _engine(f"http://127.0.0.1:{port}").convert(speech=_speech(), references=_refs(1))
    assert time.perf_counter() - started < 5


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A checkpoint built like the official one: {'model': state_dict} of the V2 converter."""
    torch = pytest.importorskip("torch")
    if not CONFIG.is_file():
        pytest.skip(f"fixture {CONFIG} not found")
    from vmsg.backends.clone.openvoice_net import ToneColorConverter

    cfg = json.loads(CONFIG.read_text())
    torch.manual_seed(0)
    model = ToneColorConverter(spec_channels=cfg["data"]["filter_length"] // 2 + 1, **cfg["model"])
    folder = tmp_path_factory.mktemp("openvoice_v2")
    (folder / "config.json").write_text(CONFIG.read_text())
    torch.save({"model": model.state_dict(), "iteration": 1}, folder / "checkpoint.pth")
    return folder, model


@pytest.mark.slow
def test_v2_converter_loads_strictly_and_converts_with_the_same_length(checkpoint):
    import torch

    from vmsg.backends.clone.openvoice_local import OpenVoiceLocalConverter

    folder, reference_model = checkpoint
    params = sum(v.numel() for v in reference_model.state_dict().values())
    assert params * 4 == pytest.approx(131_320_490, rel=0.002), "parameter bytes must match the official checkpoint size"
    engine = OpenVoiceLocalConverter(device="cpu", model_dir=str(folder), verify=False)
    for key, value in reference_model.state_dict().items():
        assert torch.equal(engine.model.state_dict()[key], value), key
    speech = _speech(1.0, 22050)
    out = engine.convert(speech=speech, references=_refs(1))
    assert len(out.samples) == len(speech.samples) and np.isfinite(out.samples).all()
    assert out.timeline == speech.timeline


def test_checkpoint_that_is_not_the_official_file_is_refused(checkpoint):
    from vmsg.backends.clone.openvoice_local import load_converter

    folder, _ = checkpoint
    with pytest.raises(ModelError, match=r"bytes, expected 131,320,490"):
        load_converter(folder / "config.json", folder / "checkpoint.pth")
    with pytest.raises(ModelError, match="file not found"):
        load_converter(folder / "config.json", folder / "missing.pth", verify=False)


def test_checkpoint_with_other_keys_is_refused(checkpoint, tmp_path):
    import torch

    from vmsg.backends.clone.openvoice_local import load_converter

    folder, model = checkpoint
    state = dict(model.state_dict())
    state.pop("dec.conv_post.weight")
    torch.save({"model": state}, tmp_path / "broken.pth")
    with pytest.raises(ModelError, match="does not fit the V2 converter.*dec.conv_post.weight"):
        load_converter(folder / "config.json", tmp_path / "broken.pth", verify=False)
