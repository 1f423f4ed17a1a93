"""Blinks, head motion and breathing: small, seeded, so a render is reproducible.

Blinks close the upper lid over the eye by stretching the skin between brow and
lid downwards (the eye itself stays put, as under a real lid). Head motion is a
rigid sway of the head region about the neck, feathered into the surroundings,
with a slow vertical bob at a breathing rate.
"""

from __future__ import annotations

import numpy as np

from vmsg.face.landmarks import CHIN, EYES, FACE_OVAL, FOREHEAD, Face


def blink_curve(n_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Lid closure per frame in [0, 1]: a blink every 2-6 s lasting about 0.2 s."""
    closure = np.zeros(n_frames)
    t = rng.uniform(0.8, 2.5)
    duration = n_frames / fps
    while t < duration:
        length = rng.uniform(0.16, 0.26)
        frames = np.arange(int(t * fps), min(n_frames, int((t + length) * fps) + 1))
        phase = (frames / fps - t) / length
        closure[frames] = np.maximum(closure[frames], np.sin(np.pi * np.clip(phase, 0, 1)) ** 0.7)
        t += length + rng.uniform(2.0, 6.0)
    return closure


def sway_curves(n_frames: int, fps: float, rng: np.random.Generator, amount: float) -> np.ndarray:
    """(angle in degrees, dx, dy in units of interocular distance) per frame: sums of slow sines."""
    t = np.arange(n_frames) / fps
    out = np.zeros((n_frames, 3))
    for k, (amp, lo, hi) in enumerate(((0.6, 0.05, 0.25), (0.005, 0.04, 0.2), (0.004, 0.05, 0.2))):
        for _ in range(3):
            f, phase = rng.uniform(lo, hi), rng.uniform(0, 2 * np.pi)
            out[:, k] += amp / 3.0 * np.sin(2 * np.pi * f * t + phase)
    breath_rate = rng.uniform(0.2, 0.28)
    out[:, 2] += 0.005 * np.sin(2 * np.pi * breath_rate * t + rng.uniform(0, 2 * np.pi))
    return out * amount


class EyeBlinker:
    """Per-eye regions and maps; `apply(frame_region, closure)` draws the lids."""

    def __init__(self, face: Face, frame_shape: tuple[int, int]) -> None:
        self.across, self.down = face.axes()
        self.eyes = []
        h, w = frame_shape
        for spec in EYES.values():
            upper, lower = face.points[list(spec["upper"])], face.points[list(spec["lower"])]
            centre = 0.5 * (face.points[spec["upper"][0]] + face.points[spec["upper"][-1]])

            def local(p):
                d = p - centre
                return np.stack([d @ self.across, d @ self.down], axis=1)

            lu, ll = local(upper), local(lower)
            half = 0.5 * float(np.ptp(lu[:, 0]))
            height = float(max(np.max(np.interp(lu[:, 0], *_sorted(ll)) - lu[:, 1]), 1.0))
            brow = float(lu[:, 1].min()) - 1.6 * max(height, 0.25 * half)
            r = 1.35 * half
            corners = np.array([centre + a * self.across + b * self.down for a in (-r, r) for b in (brow, 0.9 * half)])
            x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int), 0)
            x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int), (w, h))
            ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            dx, dy = xs - centre[0], ys - centre[1]
            U, V = dx * self.across[0] + dy * self.across[1], dx * self.down[0] + dy * self.down[1]
            s_u = np.interp(U, *_sorted(lu)).astype(np.float32)
            s_l = np.maximum(np.interp(U, *_sorted(ll)), s_u).astype(np.float32)
            lateral = np.clip((r - np.abs(U)) / (0.25 * half), 0.0, 1.0)
            self.eyes.append({"box": (int(x0), int(y0), int(x1), int(y1)), "X": xs - x0, "Y": ys - y0, "V": V,
                              "s_u": s_u, "s_l": s_l, "brow": brow, "lateral": lateral.astype(np.float32)})

    def apply(self, frame: np.ndarray, closure: float, origin: tuple[int, int] = (0, 0)) -> None:
        """Close the lids by `closure` in place; `origin` is where `frame` sits in the full frame."""
        import cv2

        if closure <= 0.01:
            return
        for eye in self.eyes:
            x0, y0, x1, y1 = eye["box"]
            x0, x1, y0, y1 = x0 - origin[0], x1 - origin[0], y0 - origin[1], y1 - origin[1]
            src = frame[y0:y1, x0:x1].copy()
            lid = eye["s_u"] + closure * 0.95 * (eye["s_l"] - eye["s_u"])
            V, brow = eye["V"], eye["brow"]
            scale = (eye["s_u"] - brow) / np.maximum(lid - brow, 1e-3)
            src_v = np.where((V > brow) & (V < lid), brow + (V - brow) * scale, V)
            shift = (V - src_v) * eye["lateral"]
            map_x = eye["X"] - shift * self.down[0]
            map_y = eye["Y"] - shift * self.down[1]
            frame[y0:y1, x0:x1] = cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _sorted(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(points[:, 0])
    return points[order, 0], points[order, 1]


MIN_WEIGHT = 0.01


class HeadSway:
    """A rigid motion of the head region about the neck, feathered to nothing at the region's edge."""

    def __init__(self, face: Face, frame_shape: tuple[int, int]) -> None:
        import cv2

        h, w = frame_shape
        pts = face.points
        oval = pts[list(FACE_OVAL)]
        fw, fh = face.width, face.height
        x0, y0 = np.floor(oval.min(0) - (0.45 * fw, 0.55 * fh)).astype(int)
        x1, y1 = np.ceil(oval.max(0) + (0.45 * fw, 0.45 * fh)).astype(int)
        x0, y0 = max(0, x0 - x0 % 2), max(0, y0 - y0 % 2)
        x1, y1 = min(w - w % 2, x1 + x1 % 2), min(h - h % 2, y1 + y1 % 2)
        self.box = (int(x0), int(y0), int(x1), int(y1))
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        hull = cv2.convexHull((oval - (x0, y0)).astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 255)
        grow = max(3, int(0.25 * fw)) | 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
        weight = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 0.12 * fw)
        edge = np.ones_like(weight)
        ramp = max(2, int(0.1 * min(weight.shape)))
        lin = np.linspace(0.0, 1.0, ramp, dtype=np.float32)
        edge[:ramp] *= lin[:, None]
        edge[-ramp:] *= lin[::-1, None]
        edge[:, :ramp] *= lin[None, :]
        edge[:, -ramp:] *= lin[None, ::-1]
        weight = weight * edge
        # Where the weight is under 1 % the head moves by under 0.02 px: leave those pixels out of the per-frame remap.
        ys, xs = np.nonzero(weight > MIN_WEIGHT)
        if len(ys):
            cy0, cx0 = ys.min() - ys.min() % 2, xs.min() - xs.min() % 2
            cy1, cx1 = min(ys.max() + 1 + (ys.max() + 1) % 2, y1 - y0), min(xs.max() + 1 + (xs.max() + 1) % 2, x1 - x0)
            weight = weight[cy0:cy1, cx0:cx1]
            x0, y0, x1, y1 = x0 + cx0, y0 + cy0, x0 + cx1, y0 + cy1
            self.box = (int(x0), int(y0), int(x1), int(y1))
        self.weight = weight
        ys, xs = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
        pivot = pts[CHIN] + 0.35 * (pts[CHIN] - pts[FOREHEAD]) - (x0, y0)
        wpx, wpy = self.weight * (xs - pivot[0]), self.weight * (ys - pivot[1])
        # maps = basis @ coefficients: one matrix product per frame gives cv2.remap's interleaved (x, y) map
        self.basis = np.stack([xs, ys, wpx, wpy, self.weight * face.interocular], axis=-1).reshape(-1, 5)
        self.shape = xs.shape

    def maps(self, angle_deg: float, dx: float, dy: float) -> tuple[np.ndarray, None]:
        """Inverse map for cv2.remap (interleaved x, y; no second map): where each output pixel comes from."""
        a = np.deg2rad(angle_deg)
        c, s = np.cos(a) - 1.0, np.sin(a)
        coef = np.array([[1.0, 0.0], [0.0, 1.0], [-c, -s], [s, -c], [-dx, -dy]], np.float32)
        return (self.basis @ coef).reshape(*self.shape, 2), None
