"""onnxruntime sessions made one way for every ONNX engine: quiet logs, the device's providers,
the process's thread count without busy-waiting, and a clear ModelError when the file is missing or
not an ONNX graph."""

from __future__ import annotations

from pathlib import Path

from vmsg.device import onnx_providers
from vmsg.errors import BackendError, ModelError
from vmsg.threads import threads


def session_options(intra_threads: int | None = None):
    """SessionOptions every vmsg engine starts from: warnings about graph initialisers not shown
    (severity 3), `intra_threads` (default vmsg.threads) intra-op threads, and no spinning. After each
    run onnxruntime's idle threads otherwise busy-wait for the next one, and the single-threaded work
    between runs (crop preparation, resizing, refinement) or the other jobs of a batch lose that CPU:
    the segment matte spent 1.5× the CPU time with spinning, for no shorter wall time (docs/segment.md)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = intra_threads or threads()
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return opts


def onnx_session(path: Path | str, *, device: str = "auto", what: str = "model"):
    """An InferenceSession for `path` with `session_options`."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise BackendError(f"{what} needs the onnxruntime package", hint="pip install vmsg") from exc
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{what}: model file {path} not found", hint="run `vmsg models pull <name>`")
    providers = onnx_providers(device)
    opts = session_options()
    try:
        return ort.InferenceSession(str(path), opts, providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise ModelError(f"{what}: {path} is not a loadable ONNX model ({str(exc).splitlines()[0][:200]})") from exc
