"""Putting the subject on a new background: colour, image file, library id, or a blurred copy of
the photo; scaled and placed; optionally matched in brightness and colour temperature ("natural")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vmsg.errors import InputError
from vmsg.media.image import parse_color, read_image


def is_colour(spec: str) -> bool:
    value = spec.strip().lstrip("#")
    return spec.startswith("#") or ("," in spec and all(p.strip().isdigit() for p in value.split(","))) or (
        len(value) == 6 and all(c in "0123456789abcdefABCDEF" for c in value) and not Path(spec).exists())


def background_for(image: np.ndarray, spec: str, *, hole: np.ndarray | None = None) -> np.ndarray:
    """A background the size of `image` from a colour, 'blur', a library id, or an image file.

    For 'blur' with a `hole` (the subject's old place, when the subject was moved or scaled) the
    blur is a normalised convolution that ignores the hole, so the old subject does not show.
    """
    from vmsg.backends.segment.library import load_library

    h, w = image.shape[:2]
    if spec == "blur":
        import cv2

        sigma = max(4.0, max(h, w) / 60)
        if hole is None:
            return cv2.GaussianBlur(image, (0, 0), sigma)
        k = max(3, round(sigma / 2)) | 1
        gone = cv2.dilate((hole > 0.02).astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        keep = (~gone).astype(np.float32)
        source = image.astype(np.float32)
        fill = np.zeros_like(source)
        filled = np.zeros((h, w), bool)
        for s in (sigma * 2, sigma * 6, sigma * 18):  # wider passes fill what a narrow one cannot reach
            num = cv2.GaussianBlur(source * keep[..., None], (0, 0), s)
            den = cv2.GaussianBlur(keep, (0, 0), s)
            take = gone & ~filled & (den > 1e-3)
            fill[take] = num[take] / den[take][:, None]
            filled |= take
        source[gone] = fill[gone]
        return np.clip(cv2.GaussianBlur(source, (0, 0), sigma) + 0.5, 0, 255).astype(np.uint8)
    if is_colour(spec):
        return cv2_merge_fill(parse_color(spec), h, w)
    library = load_library()
    if spec in library:
        return cover(read_image(library[spec]["path"], what=f"library background {spec}"), w, h)
    path = Path(spec)
    if not path.is_file():
        ids = ", ".join(list(library)[:8])
        raise InputError(f"background {spec!r}: not a colour, 'blur', a library id or an image file",
                         hint=f"library ids include {ids}; `vmsg segment --backgrounds` lists them all" if ids else None)
    return cover(read_image(path, what="background"), w, h)


def cv2_merge_fill(colour: tuple[int, int, int], h: int, w: int) -> np.ndarray:
    """An h×w×3 uint8 image of one colour (planes merged by OpenCV: ~10× faster than a broadcast copy)."""
    import cv2

    return cv2.merge([np.full((h, w), c, np.uint8) for c in colour])


def cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale and centre-crop `image` to fill width × height (CSS 'cover')."""
    import cv2

    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(image, size, interpolation=interp)
    y0, x0 = (size[1] - height) // 2, (size[0] - width) // 2
    return np.ascontiguousarray(scaled[y0 : y0 + height, x0 : x0 + width])


def composite_over(foreground: np.ndarray, alpha: np.ndarray, background: np.ndarray) -> np.ndarray:
    """foreground × alpha + background × (1 − alpha), rounded to uint8 (OpenCV's blend: one pass, no temporaries)."""
    import cv2

    a = np.ascontiguousarray(alpha, np.float32)
    fg = np.ascontiguousarray(foreground, np.uint8)
    bg = np.ascontiguousarray(background, np.uint8)
    return cv2.blendLinear(fg, bg, a, 1.0 - a)


def place(rgb: np.ndarray, alpha: np.ndarray, *, scale: float, anchor: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Scale the subject and move it so its bottom centre sits at `anchor` (fractions of the frame).

    Without an anchor the subject keeps its own bottom centre. The frame size is unchanged.
    """
    import cv2

    if scale == 1.0 and anchor is None:
        return rgb, alpha
    h, w = alpha.shape
    x0, y0, bw, bh = cv2.boundingRect((alpha > 0.01).astype(np.uint8))
    if bw == 0 or bh == 0:
        return rgb, alpha
    x1, y1 = x0 + bw, y0 + bh
    sub_rgb, sub_a = rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
    nw, nh = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    sub_rgb = cv2.resize(sub_rgb, (nw, nh), interpolation=interp)
    sub_a = np.clip(cv2.resize(sub_a, (nw, nh), interpolation=interp), 0, 1)
    bx, by = ((x0 + x1) / 2, y1) if anchor is None else (anchor[0] * w, anchor[1] * h)
    left, top = round(bx - nw / 2), round(by - nh)
    out_rgb = np.zeros_like(rgb)
    out_a = np.zeros_like(alpha)
    dx0, dy0 = max(0, left), max(0, top)
    dx1, dy1 = min(w, left + nw), min(h, top + nh)
    if dx1 > dx0 and dy1 > dy0:
        out_rgb[dy0:dy1, dx0:dx1] = sub_rgb[dy0 - top : dy1 - top, dx0 - left : dx1 - left]
        out_a[dy0:dy1, dx0:dx1] = sub_a[dy0 - top : dy1 - top, dx0 - left : dx1 - left]
    return out_rgb, out_a


def match_light(rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray, *, strength: float = 0.5,
                colour_strength: float = 0.5) -> np.ndarray:
    """Move the subject's brightness and colour balance part of the way toward the background's.

    In linear light: one luminance gain, (scene / subject)^strength, and a per-channel colour
    balance gain on the chromaticity ratios. Full matching would make a person as dark as a
    night scene; half-way keeps them readable while removing the cut-and-paste look.
    """
    weight = alpha > 0.5
    if weight.sum() < 16:
        return rgb
    lin = lambda x: (x.astype(np.float32) / 255.0) ** 2.2  # noqa: E731
    luma = np.array([0.2126, 0.7152, 0.0722], np.float32)
    subject = lin(rgb)[weight].mean(0) + 1e-4
    scene = lin(background).reshape(-1, 3).mean(0) + 1e-4
    y_subject, y_scene = float(subject @ luma), float(scene @ luma)
    gain = np.clip((y_scene / y_subject) ** strength, 0.35, 2.5)
    balance = np.clip(((scene / y_scene) / (subject / y_subject)) ** colour_strength, 0.6, 1.6)
    balance /= float(balance @ luma)  # colour balance alone keeps luminance
    out = lin(rgb) * (gain * balance).astype(np.float32)
    return np.clip(out ** (1 / 2.2) * 255.0 + 0.5, 0, 255).astype(np.uint8)
