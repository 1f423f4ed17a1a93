"""segment: cut the person out of a photo and composite them onto a clean background."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import Field

from vmsg.backends.segment import SEGMENTERS
from vmsg.errors import InputError
from vmsg.media.image import parse_color, read_image
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.types import Cutout

MIN_PERSON_FRACTION = 0.01
"""A matte covering less than this share of the image counts as 'no person found'."""


class SegmentOptions(StageOptions):
    engine: str = "mediapipe"
    background: str = Field("#eef1f5", description="colour '#rrggbb', an image path, or 'blur'")
    allow_empty: bool = False
    device: DeviceName = "auto"


def segment(image: np.ndarray, options: SegmentOptions | None = None, *, source: str = "image") -> Cutout:
    """Matte the person in `image` (uint8 RGB) and composite onto `options.background`."""
    options = options or SegmentOptions()
    engine = SEGMENTERS.instance(SEGMENTERS.check(options.engine), device=options.device)
    alpha = engine.matte(image=image)
    coverage = float((alpha > 0.5).mean())
    if coverage < MIN_PERSON_FRACTION and not options.allow_empty:
        raise InputError(f"{source}: no person found (matte covers {coverage:.1%} of the image)", hint="use --allow-empty to keep going")
    background = background_for(image, options.background)
    composite = composite_over(image, alpha, background)
    return Cutout(image, alpha, composite, meta={"engine": options.engine, "engine_version": engine.version, "coverage": coverage})


def background_for(image: np.ndarray, spec: str) -> np.ndarray:
    """A background the size of `image` from a colour, an image file, or 'blur' (a blurred copy)."""
    h, w = image.shape[:2]
    if spec == "blur":
        from PIL import Image, ImageFilter

        radius = max(4, round(max(h, w) / 40))
        return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius)))
    if spec.startswith("#") or "," in spec:
        return np.broadcast_to(np.array(parse_color(spec), np.uint8), (h, w, 3)).copy()
    path = Path(spec)
    if not path.is_file():
        raise InputError(f"background {spec!r}: not a colour and no such image file")
    return cover(read_image(path, what="background"), w, h)


def cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale and centre-crop `image` to fill width × height (CSS 'cover')."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    scaled = np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))
    y0, x0 = (size[1] - height) // 2, (size[0] - width) // 2
    return scaled[y0 : y0 + height, x0 : x0 + width]


def composite_over(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    a = alpha[..., None].astype(np.float32)
    return np.clip(foreground * a + background * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)


def segment_file(path: Path | str, options: SegmentOptions | None = None) -> Cutout:
    return segment(read_image(path), options, source=f"image {path}")
