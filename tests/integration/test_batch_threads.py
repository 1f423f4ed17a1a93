"""Each batch worker process gets its share of the CPUs' threads: onnxruntime sessions, torch and
OpenBLAS in a real spawned pool process (`vmsg.batch.worker_pool`, the one `vmsg batch --jobs N` uses)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def probe(folder: str) -> dict:
    """Runs in a pool process: what its libraries were actually set to."""
    import os
    import sys

    numpy_before = "numpy" in sys.modules
    import onnx
    import torch
    from threadpoolctl import threadpool_info

    from vmsg.backends.onnx_util import onnx_session

    graph = onnx.helper.make_graph([onnx.helper.make_node("Relu", ["x"], ["y"])], "relu",
                                   [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
                                   [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    path = os.path.join(folder, f"relu-{os.getpid()}.onnx")
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 13)]), path)
    session = onnx_session(path, device="cpu")
    return {"pid": os.getpid(), "numpy_before": numpy_before,
            "onnx": session.get_session_options().intra_op_num_threads, "torch": torch.get_num_threads(),
            "blas": sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})}


def run_probes(tmp_path, workers: int) -> list[dict]:
    from vmsg.batch import worker_pool

    with worker_pool(workers) as pool:
        return [f.result(timeout=120) for f in [pool.submit(probe, str(tmp_path)) for _ in range(workers)]]


def test_two_batch_workers_each_get_half_the_cpus(tmp_path, monkeypatch):
    pytest.importorskip("threadpoolctl")
    from vmsg.threads import cpus

    monkeypatch.delenv("VMSG_THREADS", raising=False)
    if cpus() < 2:
        pytest.skip("needs at least 2 CPUs to tell a share from all of them")
    expected = cpus() // 2
    for facts in run_probes(tmp_path, 2):
        assert not facts["numpy_before"], "numpy loaded before the thread limits were set"
        assert facts["onnx"] == expected and facts["torch"] == expected, facts
        assert facts["blas"] in ([], [expected]), facts


def test_explicit_vmsg_threads_wins(tmp_path, monkeypatch):
    from vmsg.threads import cpus

    if cpus() < 2:
        pytest.skip("needs at least 2 CPUs to tell 1 thread from all of them")
    monkeypatch.setenv("VMSG_THREADS", "1")  # one worker alone would otherwise take every CPU
    [facts] = run_probes(tmp_path, 1)
    assert facts["onnx"] == 1 and facts["torch"] == 1, facts
