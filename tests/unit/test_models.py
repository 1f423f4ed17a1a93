"""The model registry: pull over HTTP from a real server on 127.0.0.1, sha256 checks, verify, CLI."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import fixture_file
from vmsg import models
from vmsg.errors import ModelError, VmsgError


@pytest.fixture
def served(tmp_path):
    """A plain HTTP file server on 127.0.0.1 serving tmp_path/www."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def models_home(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("VMSG_MODEL_MIRROR", raising=False)
    return tmp_path / "models"


def test_every_entry_names_files_with_sha256_licence_and_source():
    for e in models.MODELS.values():
        assert e.licence and e.source and e.verified
        if e.bundled:
            continue
        assert e.files
        for f in e.files:
            assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0
            assert f.size > 0
            assert f.url is None or f.url.startswith("https://")


def test_pull_over_http_installs_the_file_and_verify_passes(served, models_home):
    root, base = served
    (root / "sinet_portrait.onnx").write_bytes(fixture_file("models/sinet_portrait.onnx").read_bytes())
    paths = models.pull("sinet-portrait", url=f"{base}/sinet_portrait.onnx")
    assert paths == [models_home / "sinet-portrait" / "sinet_portrait.onnx"]
    assert hashlib.sha256(paths[0].read_bytes()).hexdigest() == models.MODELS["sinet-portrait"].files[0].sha256
    assert models.model_path("sinet-portrait") == paths[0]
    assert [r["status"] for r in models.verify("sinet-portrait")] == ["ok"]


def test_mirror_variable_serves_every_file(served, models_home, monkeypatch):
    root, base = served
    (root / "yunet_face.onnx").write_bytes(fixture_file("models/yunet_face.onnx").read_bytes())
    monkeypatch.setenv("VMSG_MODEL_MIRROR", base)
    assert models.pull("yunet-face")[0].is_file()


def test_a_file_with_the_wrong_sha256_is_refused_and_nothing_is_installed(served, models_home):
    root, base = served
    good = fixture_file("models/sinet_portrait.onnx").read_bytes()
    (root / "bad.onnx").write_bytes(good[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="sha256"):
        models.pull("sinet-portrait", url=f"{base}/bad.onnx")
    folder = models_home / "sinet-portrait"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_http_404_is_a_model_error(served):
    _, base = served
    with pytest.raises(ModelError, match="HTTP 404"):
        models.pull("u2netp", url=f"{base}/missing.onnx")


def test_missing_weights_name_the_pull_command():
    with pytest.raises(ModelError) as info:
        models.model_path("u2netp")
    assert "vmsg models pull u2netp" in str(info.value)


def _run(args):
    from vmsg.cli.app import app

    result = CliRunner().invoke(app, args)
    code = result.exception.exit_code if isinstance(result.exception, VmsgError) else result.exit_code
    return code, result.output


def test_cli_list_pull_verify(served, models_home):
    root, base = served
    (root / "yolox_nano.onnx").write_bytes(fixture_file("models/yolox_nano.onnx").read_bytes())
    code, out = _run(["models", "list"])
    assert code == 0 and "birefnet-general" in out and "modnet" in out
    code, _ = _run(["models", "pull", "yolox-nano", "--url", f"{base}/yolox_nano.onnx", "-q"])
    assert code == 0 and (models_home / "yolox-nano" / "yolox_nano.onnx").is_file()
    code, out = _run(["models", "verify", "yolox-nano"])
    assert code == 0 and '"ok"' in out
    Path(models_home / "yolox-nano" / "yolox_nano.onnx").write_bytes(b"x" * models.MODELS["yolox-nano"].files[0].size)
    code, out = _run(["models", "verify", "yolox-nano"])
    assert code == 1 and '"sha256"' in out
    code, _ = _run(["models", "pull", "no-such-model"])
    assert code == 2
