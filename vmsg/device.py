"""Which compute device a backend uses. Asking for `cuda` where it is not
available is an error, never a silent CPU run."""

from __future__ import annotations

from typing import Literal

from vmsg.errors import BackendError, InputError

Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def onnx_providers(device: str) -> list[str]:
    """onnxruntime execution providers for `device`; raises when `cuda` cannot be honoured."""
    if device not in DEVICES:
        raise InputError(f"device {device!r} is not one of {', '.join(DEVICES)}")
    if device == "cpu":
        return ["CPUExecutionProvider"]
    import onnxruntime as ort

    available = ort.get_available_providers()
    has_cuda = "CUDAExecutionProvider" in available
    if device == "cuda" and not has_cuda:
        raise BackendError(
            "device cuda was asked for, but onnxruntime has no CUDAExecutionProvider "
            f"(available: {', '.join(available)})",
            hint="install the gpu extra (pip install 'vmsg[gpu]') on a machine with CUDA, or use --device cpu",
        )
    if has_cuda:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def require_cpu_only(device: str, engine: str) -> str:
    """For engines that only run on the CPU: `cuda` is refused with a clear message."""
    if device not in DEVICES:
        raise InputError(f"device {device!r} is not one of {', '.join(DEVICES)}")
    if device == "cuda":
        raise BackendError(f"engine {engine} runs on the CPU only; --device cuda cannot be honoured")
    return "cpu"
