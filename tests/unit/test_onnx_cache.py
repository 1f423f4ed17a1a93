"""The optimised-graph cache: same outputs, reused by the next process, never fatal (real YOLOX-nano weights)."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import fixture_file
from tests.scale_servers import ROOT

ort = pytest.importorskip("onnxruntime")


def _options():
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 1
    return options


def _run(session) -> np.ndarray:
    inp = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    return session.run(None, {inp.name: x})[0]


@pytest.fixture()
def model():
    return fixture_file("models/yolox_nano.onnx")


def test_saved_graph_gives_the_same_outputs_and_is_reused(tmp_path, model):
    from vmsg.onnx_cache import SUBDIR, cached_session

    built: list[int] = []

    def build() -> bytes:
        built.append(1)
        return model.read_bytes()

    plain = ort.InferenceSession(model.read_bytes(), sess_options=_options(), providers=["CPUExecutionProvider"])
    first = cached_session(model, "plain", build, _options(), ["CPUExecutionProvider"], cache_dir=tmp_path)
    saved = list((tmp_path / SUBDIR).iterdir())
    assert len(saved) == 1 and saved[0].suffix == ".onnx" and not saved[0].name.startswith(".")
    second = cached_session(model, "plain", build, _options(), ["CPUExecutionProvider"], cache_dir=tmp_path)
    assert len(built) == 1  # the second session came from the saved graph
    np.testing.assert_array_equal(_run(first), _run(plain))
    np.testing.assert_array_equal(_run(second), _run(plain))
    # another edit of the same model is another entry
    cached_session(model, "other", build, _options(), ["CPUExecutionProvider"], cache_dir=tmp_path)
    assert len(list((tmp_path / SUBDIR).iterdir())) == 2


def test_a_damaged_copy_is_rebuilt_with_a_warning(tmp_path, model, caplog):
    from vmsg.onnx_cache import SUBDIR, cached_session

    cached_session(model, "plain", model.read_bytes, _options(), ["CPUExecutionProvider"], cache_dir=tmp_path)
    [saved] = (tmp_path / SUBDIR).iterdir()
    saved.write_bytes(saved.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING, logger="vmsg.onnx_cache"):
        session = cached_session(model, "plain", model.read_bytes, _options(), ["CPUExecutionProvider"], cache_dir=tmp_path)
    assert "unusable" in caplog.text
    assert _run(session).shape[0] == 1
    assert saved.stat().st_size > 1000  # written again, whole


def test_an_unwritable_cache_only_costs_the_optimisation(tmp_path, model, caplog):
    from vmsg.onnx_cache import cached_session

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="vmsg.onnx_cache"):
        session = cached_session(model, "plain", model.read_bytes, _options(), ["CPUExecutionProvider"], cache_dir=blocked)
    assert "not kept" in caplog.text
    assert _run(session).shape[0] == 1


def test_onnxruntime_warns_nothing_on_stderr_when_saving(tmp_path, model):
    code = ("from pathlib import Path; import onnxruntime as ort; from vmsg.onnx_cache import cached_session;"
            "o = ort.SessionOptions(); o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL;"
            f"p = Path({str(model)!r}); cached_session(p, 'plain', p.read_bytes, o, ['CPUExecutionProvider'],"
            f" cache_dir=Path({str(tmp_path)!r}))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Serializing optimized model" not in proc.stderr and proc.stderr.strip() == "", proc.stderr


def test_cache_stats_and_prune_count_the_saved_graphs(tmp_path, model):
    import os

    from vmsg.cache import LocalCache
    from vmsg.onnx_cache import SUBDIR, cached_session

    cached_session(model, "plain", model.read_bytes, _options(), ["CPUExecutionProvider"], cache_dir=tmp_path)
    [saved] = (tmp_path / SUBDIR).iterdir()
    (tmp_path / SUBDIR / ".abc.1.part.onnx").write_bytes(b"half")  # a process killed while saving
    stats = LocalCache(tmp_path).stats()
    assert stats.entries == 1 and stats.bytes == saved.stat().st_size
    os.utime(saved, (1, 1))
    cached_session(model, "plain", model.read_bytes, _options(), ["CPUExecutionProvider"], cache_dir=tmp_path)
    assert saved.stat().st_mtime > 1  # a hit renews it
    assert LocalCache(tmp_path).prune(max_age_s=3600) == (0, 0)
    assert LocalCache(tmp_path).prune(max_bytes=0) == (1, stats.bytes)
    assert not saved.exists()
