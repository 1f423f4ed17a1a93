"""Open, close and shape the mouth of one photo by warping a small region.

Everything is measured in face coordinates: u across the mouth, v down the face.
The upper lip (above the inner upper-lip line) and the lower lip with the jaw
(below the inner lower-lip line) are moved apart by separate displacement
fields that are linear in the opening, so each frame costs two cv2.remap calls
on a small region. The gap between the lips shows the photo's own teeth, held
by the lip they belong to, over a dark cavity; a photo taken with the mouth open
is closed by lifting the lower lip onto the upper one.
"""

from __future__ import annotations

import numpy as np

from vmsg.face.landmarks import CHIN, LOWER_INNER, LOWER_OUTER, UPPER_INNER, UPPER_OUTER, Face

MAX_GAP = 0.25
"""Inner-lip gap for a wide 'a', as a fraction of the distance between the outer eye corners."""
SPREAD = 0.10
"""Change of mouth width at full spread or rounding."""
CAVITY = np.array([70, 28, 32], np.float32)
TONGUE = np.array([150, 62, 70], np.float32)
TEETH = np.array([226, 222, 212], np.float32)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _curve(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(points[:, 0])
    return points[order, 0], points[order, 1]


class MouthWarper:
    """Precomputed fields for one face; `render(opening, spread)` returns the warped region."""

    def __init__(self, base: np.ndarray, face: Face) -> None:
        import cv2  # noqa: F401 - fail here, not per frame, when OpenCV is missing

        pts = face.points
        self.across, self.down = face.axes()
        centre = 0.5 * (pts[78] + pts[308])
        self.centre = centre
        iod = face.interocular

        def local(idx) -> np.ndarray:
            d = pts[list(idx)] - centre
            return np.stack([d @ self.across, d @ self.down], axis=1)

        up_u, up_v = _curve(local(UPPER_INNER))
        lo_u, lo_v = _curve(local(LOWER_INNER))
        outer = np.vstack([local(UPPER_OUTER), local(LOWER_OUTER)])
        hw = max(0.5 * (up_u[-1] - up_u[0]), 0.15 * iod)
        hw_outer = max(0.5 * np.ptp(outer[:, 0]), hw)
        v_top_lip = float(outer[:, 1].min())
        v_chin = float((pts[CHIN] - centre) @ self.down)
        v_nose = float((pts[2] - centre) @ self.down)
        jaw_hw = 0.5 * float(abs((pts[454] - pts[234]) @ self.across))
        self.max_gap = MAX_GAP * iod

        # Region of interest, in image pixels, covering every point that can move.
        u_r = min(jaw_hw * 1.05, hw_outer * 2.6)
        v0, v1 = v_nose - 0.15 * (v_chin - v_nose), v_chin + 0.45 * (v_chin - v_top_lip)
        corners = np.array([centre + a * self.across + b * self.down for a in (-u_r, u_r) for b in (v0, v1)])
        h, w = base.shape[:2]
        x0, y0 = np.floor(corners.min(0)).astype(int)
        x1, y1 = np.ceil(corners.max(0)).astype(int)
        x0, y0 = max(0, x0 - x0 % 2), max(0, y0 - y0 % 2)
        x1, y1 = min(w, x1 + x1 % 2), min(h, y1 + y1 % 2)
        self.box = (int(x0), int(y0), int(x1), int(y1))
        self.src = np.ascontiguousarray(base[y0:y1, x0:x1])

        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dx, dy = xs - centre[0], ys - centre[1]
        U = dx * self.across[0] + dy * self.across[1]
        V = dx * self.down[0] + dy * self.down[1]
        self.X, self.Y, self.V = xs - x0, ys - y0, V.astype(np.float32)
        self.s_up = np.interp(U, up_u, up_v).astype(np.float32)
        self.s_lo = np.maximum(np.interp(U, lo_u, lo_v), self.s_up).astype(np.float32)
        self.mid = 0.5 * (self.s_up + self.s_lo)
        prof = np.sqrt(np.clip(1.0 - (U / hw) ** 2, 0.0, 1.0)).astype(np.float32)
        self.prof = prof
        g0 = self.s_lo - self.s_up
        self.g0_centre = float(np.interp(0.0, lo_u, lo_v) - np.interp(0.0, up_u, up_v))

        taper_u = _smoothstep((u_r - np.abs(U)) / (0.25 * u_r))
        taper = taper_u * _smoothstep((v1 - V) / (0.2 * (v1 - v0))) * _smoothstep((V - v0) / (0.2 * (v1 - v0)))
        seam_c = 0.5 * (float(np.interp(0.0, up_u, up_v)) + float(np.interp(0.0, lo_u, lo_v)))
        b = _smoothstep((V - self.s_lo) / (0.6 * max(v_chin - seam_c, 1.0)))
        spread_hw = hw_outer + (0.85 * jaw_hw - hw_outer) * b
        jaw_u = _smoothstep((1.5 * spread_hw - np.abs(U)) / (0.6 * spread_hw))
        below_chin = _smoothstep((v_chin + 0.4 * (v_chin - seam_c) - V) / (0.4 * (v_chin - seam_c) + 1.0))
        fv = below_chin * taper
        # lower lip + jaw: displacement (pixels, down the face) = opening * b1 + b0
        self.b1 = (((1.0 - b) * prof + b * 0.9 * jaw_u) * self.max_gap * 0.88 * fv).astype(np.float32)
        self.b0 = (-((1.0 - b) * g0 + b * 0.5 * self.g0_centre * jaw_u) * fv).astype(np.float32)
        up_fade = _smoothstep((V - v_nose) / max(seam_c - v_nose, 1.0))
        self.c1 = (prof * up_fade * self.max_gap * 0.12 * taper).astype(np.float32)
        lip_band = np.exp(-((V - seam_c) / (1.2 * max(v_chin - seam_c, 1.0) * 0.5)) ** 2)
        self.w1 = (U * SPREAD * np.exp(-(U / (1.8 * hw_outer)) ** 2) * lip_band * taper).astype(np.float32)
        self.teeth = self.g0_centre < 0.06 * iod  # no teeth in the photo: draw a hint of them
        self._prepare_band()

    def _prepare_band(self) -> None:
        """Outside a narrow band around the lips each pixel is plainly upper or lower: only the band is blended."""
        upper = self.V + self.c1 < self.s_up - 1.0
        lower = self.V - self.b0 - np.maximum(self.b1, 0.0) > self.s_lo + 1.0
        self.split = upper[..., None]
        self.basis = np.stack([self.X, self.Y, self.b1, self.b0, self.c1, self.w1], axis=-1).reshape(-1, 6)
        rows, cols = np.nonzero(~(upper | lower))
        if len(rows) == 0:
            self.band = (slice(0, 0), slice(0, 0))
        else:
            self.band = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))

    def render(self, opening: float, spread: float) -> np.ndarray:
        """The region at `self.box` for an opening in [0, 1] and a spread in [-1, 1] (uint8 RGB)."""
        import cv2

        ax, dn = self.across, self.down
        o, sp = float(opening), float(spread)
        # columns of self.basis: X, Y, b1, b0, c1, w1 (see _prepare_band)
        lo_coef = np.array([[1, 0], [0, 1], [-o * dn[0], -o * dn[1]], [-dn[0], -dn[1]], [0, 0],
                            [-sp * ax[0], -sp * ax[1]]], np.float32)
        up_coef = np.array([[1, 0], [0, 1], [0, 0], [0, 0], [o * dn[0], o * dn[1]], [-sp * ax[0], -sp * ax[1]]],
                           np.float32)
        shape = (*self.V.shape, 2)
        lo = cv2.remap(self.src, (self.basis @ lo_coef).reshape(shape), None, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
        up = cv2.remap(self.src, (self.basis @ up_coef).reshape(shape), None, cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
        out = np.where(self.split, up, lo)
        band = self.band
        V, s_up, s_lo = self.V[band], self.s_up[band], self.s_lo[band]
        dlo = o * self.b1[band] + self.b0[band]
        dup = o * self.c1[band]
        upf, lof = up[band].astype(np.float32), lo[band].astype(np.float32)
        v_up, v_lo = V + dup, V - dlo
        a_up = np.clip(s_up - v_up + 0.5, 0.0, 1.0)[..., None]
        a_lo = np.clip(v_lo - s_lo + 0.5, 0.0, 1.0)[..., None]
        # beyond the mouth corners the lips only meet: no sliver of the cavity may show along the seam
        a_lo = np.where(self.prof[band][..., None] > 0.0, a_lo, 1.0 - a_up)
        a_up = np.minimum(a_up, 1.0 - a_lo)  # where the lips overlap the lower one is in front
        gap = 1.0 - a_lo - a_up
        mixed = a_lo * lof + a_up * upf
        if float(gap.max(initial=0.0)) >= 1e-3:
            mixed += gap * self._interior(upf, lof, v_up, v_lo, dlo, dup, band)
        out[band] = (mixed + 0.5).astype(np.uint8)
        return out

    def _interior(self, up, lo, v_up, v_lo, dlo, dup, band) -> np.ndarray:
        """Inside the open mouth: the photo's teeth moving with their lip, else a dark cavity and tongue."""
        V, prof, mid = self.V[band], self.prof[band], self.mid[band]
        top = self.s_up[band] - dup
        bottom = self.s_lo[band] + dlo
        t = np.clip((V - top) / np.maximum(bottom - top, 1.0), 0.0, 1.0)
        shade = (0.55 + 0.45 * prof)[..., None]
        cavity = CAVITY + (TONGUE - CAVITY) * (0.7 * _smoothstep((t - 0.55) / 0.45))[..., None]
        cavity = cavity * shade * (0.7 + 0.3 * t)[..., None]  # the shadow of the upper lip and teeth
        if self.teeth:
            depth = (V - top) / max(self.max_gap, 1.0)
            teeth = (np.clip((0.16 * prof - depth) * self.max_gap, 0.0, 1.0) * (depth >= -0.02))[..., None]
            cavity = teeth * TEETH * (0.6 + 0.4 * shade) + (1.0 - teeth) * cavity
        i_up = np.clip(mid - v_up + 0.5, 0.0, 1.0)[..., None]
        i_lo = np.clip(v_lo - mid + 0.5, 0.0, 1.0)[..., None]
        return i_up * up + (1.0 - i_up) * (i_lo * lo + (1.0 - i_lo) * cavity)
