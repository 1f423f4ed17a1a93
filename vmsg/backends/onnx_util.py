"""onnxruntime sessions made one way for every ONNX engine: quiet logs, the device's providers,
and a clear ModelError when the file is missing or not an ONNX graph."""

from __future__ import annotations

from pathlib import Path

from vmsg.device import onnx_providers
from vmsg.errors import BackendError, ModelError
from vmsg.threads import threads


def onnx_session(path: Path | str, *, device: str = "auto", what: str = "model"):
    """An InferenceSession for `path`; warnings about graph initialisers are not shown (severity 3)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise BackendError(f"{what} needs the onnxruntime package", hint="pip install vmsg") from exc
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{what}: model file {path} not found", hint="run `vmsg models pull <name>`")
    providers = onnx_providers(device)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads()
    opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), opts, providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise ModelError(f"{what}: {path} is not a loadable ONNX model ({str(exc).splitlines()[0][:200]})") from exc
