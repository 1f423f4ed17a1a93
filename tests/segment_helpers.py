"""Helpers for the segment tests: fixture people composited onto fixture backgrounds with exact alpha."""

from __future__ import annotations

import numpy as np

from tests.conftest import fixture_file


def load_rgba(name: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(fixture_file(f"images/{name}.png")).convert("RGBA"))


def load_rgb(name: str) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(fixture_file(f"images/{name}.png")).convert("RGB"))


def composite_people(background: np.ndarray, placements: list[tuple[np.ndarray, float, float, float]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Paste RGBA people onto `background`: (rgba, scale, centre-x fraction, bottom fraction) each.

    Returns the photo and one exact alpha per person (later people stand in front).
    """
    import cv2

    h, w = background.shape[:2]
    photo = background.astype(np.float32)
    alphas = []
    for rgba, scale, fx, fb in placements:
        ph, pw = max(1, round(rgba.shape[0] * scale)), max(1, round(rgba.shape[1] * scale))
        person = cv2.resize(rgba, (pw, ph), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC).astype(np.float32)
        left, top = round(fx * w - pw / 2), round(fb * h - ph)
        a = np.zeros((h, w), np.float32)
        rgb = np.zeros((h, w, 3), np.float32)
        y0, x0, y1, x1 = max(0, top), max(0, left), min(h, top + ph), min(w, left + pw)
        a[y0:y1, x0:x1] = person[y0 - top : y1 - top, x0 - left : x1 - left, 3] / 255.0
        rgb[y0:y1, x0:x1] = person[y0 - top : y1 - top, x0 - left : x1 - left, :3]
        photo = rgb * a[..., None] + photo * (1 - a[..., None])
        alphas = [prev * (1 - a) for prev in alphas] + [a]
    return np.clip(photo + 0.5, 0, 255).astype(np.uint8), alphas


def on_background(person: str, background: str, scale: float = 1.0, fx: float = 0.5, fb: float = 1.0):
    import cv2

    rgba = load_rgba(person)
    bg = load_rgb(background)
    bg = cv2.resize(bg, (rgba.shape[1], rgba.shape[0]), interpolation=cv2.INTER_AREA)
    photo, alphas = composite_people(bg, [(rgba, scale, fx, fb)])
    return photo, alphas[0]


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    p, t = pred >= 0.5, truth >= 0.5
    return float((p & t).sum() / max(1, (p | t).sum()))


def sad(pred: np.ndarray, truth: np.ndarray, where: np.ndarray | None = None) -> float:
    d = np.abs(pred.astype(np.float64) - truth)
    return float((d[where] if where is not None else d).sum() / 1000.0)


def mse(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(((pred.astype(np.float64) - truth) ** 2).mean())


def framed_case(people: list[tuple[str, float, float]], background: str, frame: int = 1024, fb: float = 1.0):
    """The quality-test photo: `background` scaled to `frame` px on its long side, with each
    (person, height share of the frame, centre-x) standing on the bottom edge (the fixture people are
    cut at the waist); widths capped at 95 % of the frame so nobody is cut at the sides.

    Returns the photo and the exact alpha of everyone together.
    """
    import cv2

    bg = load_rgb(background)
    s = frame / max(bg.shape[:2])
    bg = cv2.resize(bg, (round(bg.shape[1] * s), round(bg.shape[0] * s)), interpolation=cv2.INTER_AREA)
    placements = []
    for person, height, fx in people:
        rgba = load_rgba(person)
        scale = min(height * bg.shape[0] / rgba.shape[0], 0.95 * bg.shape[1] / rgba.shape[1])
        half = rgba.shape[1] * scale / 2 / bg.shape[1]
        placements.append((rgba, scale, min(max(fx, half), 1 - half), fb))
    photo, alphas = composite_people(bg, placements)
    return photo, np.sum(alphas, axis=0, dtype=np.float32)
