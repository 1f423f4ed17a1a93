"""render: the composited subject and the soundtrack into an H.264/AAC mp4."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from vmsg.backends.render import RENDERERS
from vmsg.stages.options import BreakerOptions, DeviceName, StageOptions, primary_from_fallback
from vmsg.store import atomic_path, check_writable
from vmsg.types import Soundtrack

MAX_AUDIO_SECONDS = 600.0
X264_PARAMS_PATTERN = r"^([a-z0-9_\-]+=[A-Za-z0-9_.,\-]+(:[a-z0-9_\-]+=[A-Za-z0-9_.,\-]+)*)?$"
X264_TUNING = {"ultrafast": "cabac=1:deblock=1:rc-lookahead=10:mbtree=1"}
"""What vmsg adds to an x264 preset when `x264_params` is unset. ultrafast alone writes a talking head 6x
larger than veryfast; with CABAC, the deblocking filter and macroblock-tree rate control back it is smaller
than that and as sharp as veryfast at a third less encoder CPU (figures in docs/render.md)."""


def _check_url(value: str | None, *, schemes: tuple[str, ...], what: str) -> str | None:
    """https (or s3) only; plain http only to this machine (local test servers)."""
    if value is None:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    local_http = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not (parts.scheme in schemes and parts.netloc) and not local_http:
        raise ValueError(f"{what} must be an {' or '.join(s + '://' for s in schemes)} URL, got {value!r}")
    return value


class DidOptions(StageOptions):
    """The D-ID engine (https://docs.d-id.com, /talks). The API key is never an option: see docs/did.md."""

    base_url: str = Field("https://api.d-id.com", description="API root; the key comes from $VMSG_DID_API_KEY(_FILE)")
    image_url: str | None = Field(None, description="an https/s3 (presigned) URL of the image instead of uploading it")
    audio_url: str | None = Field(None, description="an https/s3 (presigned) URL of the audio instead of uploading it")
    stitch: bool = Field(True, description="paste the animated face back into the whole image")
    fluent: bool = False
    pad_audio: float = Field(0.0, ge=0.0, le=60.0, description="seconds of silence D-ID adds at the end")
    driver_url: str | None = Field(None, description="D-ID driver, e.g. bank://lively/")
    expression: Literal["neutral", "happy", "surprise", "serious"] | None = None
    expression_intensity: float = Field(1.0, ge=0.0, le=1.0)
    max_clips: int = Field(20, ge=0, description="cost guard: talks one process may create")
    max_seconds: float = Field(300.0, ge=0.0, description="cost guard: seconds of audio one process may send")
    timeout_s: float = Field(30.0, gt=0.0, le=600.0, description="per HTTP request")
    retries: int = Field(4, ge=0, le=10, description="retries of a request that hit 429, 5xx or a network error")
    poll_interval_s: float = Field(1.0, ge=0.05, le=60.0, description="first wait between status polls (grows x1.5)")
    poll_max_interval_s: float = Field(10.0, ge=0.05, le=300.0)
    poll_timeout_s: float = Field(600.0, gt=0.0, le=7200.0, description="give up waiting for a talk after this")

    @field_validator("base_url")
    @classmethod
    def _base(cls, v: str) -> str:
        return _check_url(v, schemes=("https",), what="render.did.base_url").rstrip("/")

    @field_validator("image_url", "audio_url")
    @classmethod
    def _presigned(cls, v: str | None, info) -> str | None:
        return _check_url(v, schemes=("https", "s3"), what=f"render.did.{info.field_name}")


class RenderOptions(StageOptions):
    engine: str = "face2d"
    fps: Literal[25, 30] = 25
    size: int = Field(720, ge=256, le=1920, description="longest side of the video in pixels")
    crf: int = Field(20, ge=0, le=51)
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = "ultrafast"
    x264_params: str | None = Field(None, pattern=X264_PARAMS_PATTERN,
                                    description="libx264 key=value:… over the preset; unset: X264_TUNING; '': none")
    audio_bitrate: str = "192k"
    device: DeviceName = "auto"
    # face2d: what moves besides the lips; the same seed gives the same video.
    seed: int = Field(0, ge=0, description="seed for blinks and head motion")
    blinks: bool = True
    motion: float = Field(1.0, ge=0.0, le=2.0, description="head motion and breathing, 0 = still head")
    expressiveness: float = Field(1.0, ge=0.3, le=1.5, description="how wide the mouth opens")
    fallback: list[str] = Field(default_factory=list, description="engines tried in turn when `engine` fails")
    breaker: BreakerOptions = Field(default_factory=BreakerOptions)
    did: DidOptions = Field(default_factory=DidOptions)

    _primary = model_validator(mode="before")(primary_from_fallback)

    def x264_settings(self) -> str:
        """The -x264-params string the local engines pass to ffmpeg ('' for none)."""
        return X264_TUNING.get(self.preset, "") if self.x264_params is None else self.x264_params


def render(image: np.ndarray, soundtrack: Soundtrack, output: Path | str, options: RenderOptions | None = None, *,
           atomic: bool = True, subject: np.ndarray | None = None) -> dict[str, Any]:
    """Render to `output`, trying `options.fallback` engines in turn; returns facts for the run report.

    `atomic=False` is for a caller that already writes to a temporary name and publishes it itself.
    `subject` (HxW like `image`, >= 0.5 on the selected person: the segment matte or a box) tells
    engines that animate a face (`takes_subject`) whose face to animate when several are visible.
    """
    from vmsg.errors import InputError
    from vmsg.fallback import engine_chain, run_chain

    options = options or RenderOptions()
    if soundtrack.duration > MAX_AUDIO_SECONDS:
        raise InputError(f"audio is {soundtrack.duration:.0f} s long; the render limit is {MAX_AUDIO_SECONDS:.0f} s")
    check_writable(Path(output))

    def attempt(name: str) -> dict[str, Any]:
        engine = RENDERERS.instance(RENDERERS.check(name), device=options.device)
        with atomic_path(output) if atomic else contextlib.nullcontext(Path(output)) as target:
            extra = {"subject": subject} if subject is not None and getattr(engine, "takes_subject", False) else {}
            facts = engine.render(image=image, soundtrack=soundtrack, output=target, options=options, **extra)
        return {"engine": name, "engine_version": engine.version, **facts}

    chain = engine_chain(options.engine, options.fallback)
    facts, attempts = run_chain("render", chain, attempt,
                                threshold=options.breaker.threshold, cooldown_s=options.breaker.cooldown_s)
    if len(chain) > 1:
        facts["attempts"] = [a.as_dict() for a in attempts]
    return facts


def prepare(image: np.ndarray, options: RenderOptions | None = None, *, subject: np.ndarray | None = None) -> None:
    """Let the primary engine start its per-image work (face landmarks) before the soundtrack exists.

    For a caller that knows the image early (the pipeline, while synthesis runs). Engines that have
    such work do it in the background and return at once; a later `render` with the same arrays
    reuses it. Engine errors are left for `render` to raise and report.
    """
    from vmsg.errors import VmsgError

    options = options or RenderOptions()
    with contextlib.suppress(VmsgError, ImportError, OSError):
        engine = RENDERERS.instance(RENDERERS.check(options.engine), device=options.device)
        if hasattr(engine, "prepare"):
            engine.prepare(image=image, options=options,
                           **({"subject": subject} if subject is not None and getattr(engine, "takes_subject", False) else {}))
