"""Soft mattes from coarse masks.

1. Trimap band: pixels within `band` of the coarse 0.5 contour are unknown; the rest is kept
   as hard foreground / background.
2. Inside the band, a guided filter (He et al.) steered by the photo itself gives fractional
   alpha that follows real edges and hair. It runs at a reduced size ("fast guided filter"):
   the linear coefficients are computed small and applied at full resolution.
3. Foreground colour: blur-fusion estimation (Forte & Pitié 2021) replaces the colour of
   partly transparent pixels with the subject's own colour, so no halo of the old background
   is carried onto the new one. `pymatting` (estimate_foreground_ml) is the slower alternative.
"""

from __future__ import annotations

import numpy as np


def edge_band(mask: np.ndarray, radius: int) -> np.ndarray:
    """Pixels within `radius` (chessboard distance) of the boundary of a binary mask."""
    import cv2

    k = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)  # square kernels erode/dilate separably (fast)
    m = mask.astype(np.uint8)
    return cv2.dilate(m, k) != cv2.erode(m, k)


def _flat_coords(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat index, y, x) of the non-zero pixels of a 2-D mask, row-major. Flat indices let the callers
    gather and scatter pixels with `take`/`put`, several times faster than (ys, xs) fancy indexing."""
    flat = np.flatnonzero(mask)
    ys, xs = np.divmod(flat, mask.shape[1])
    return flat, ys, xs


def band_radius(shape: tuple[int, ...], fraction: float) -> int:
    return max(2, round(fraction * max(shape[:2])))


def _small(x: np.ndarray, side: int) -> np.ndarray:
    """`x` scaled so its longer side is at most `side`: pyramid halvings, then one linear step (fast, little aliasing)."""
    import cv2

    while max(x.shape[:2]) >= 2 * side:
        x = cv2.pyrDown(x)
    h, w = x.shape[:2]
    s = min(1.0, side / max(h, w))
    return x if s == 1.0 else cv2.resize(x, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_LINEAR)


def _sample(small: np.ndarray, ys: np.ndarray, xs: np.ndarray, full_shape: tuple[int, int]) -> np.ndarray:
    """Bilinear samples of a small map at full-resolution pixel centres (ys, xs): N×C."""
    import cv2

    sh, sw = small.shape[:2]
    h, w = full_shape
    n = len(xs)
    cols = 4096  # remap wants both sides of its maps below 32767
    rows = -(-n // cols)
    map_x = np.zeros(rows * cols, np.float32)
    map_y = np.zeros(rows * cols, np.float32)
    map_x[:n] = (xs + 0.5) * (sw / w) - 0.5
    map_y[:n] = (ys + 0.5) * (sh / h) - 0.5
    out = cv2.remap(small, map_x.reshape(rows, cols), map_y.reshape(rows, cols), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(rows * cols, -1)[:n]


def guided_coefficients(guide: np.ndarray, src: np.ndarray, radius: int, eps: float, work_side: int = 256):
    """Colour guided filter (He et al.): the smoothed linear coefficients (a: h×w×3, b: h×w) at `work_side`.

    The output at any full-resolution pixel is a·I + b with a, b sampled there (He & Sun's fast
    guided filter), so the cost hardly grows with the photo's resolution. The per-pixel 3×3
    covariance is inverted in closed form (cofactors), far cheaper than a batched solve; the
    local means of all products go through one many-channel box filter.
    """
    import cv2

    h, w = src.shape
    I = _small(guide, work_side).astype(np.float32) * np.float32(1 / 255.0)
    p = _small(src.astype(np.float32, copy=False), work_side)
    r = max(1, round(radius * I.shape[1] / w))
    box = lambda x: cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)  # noqa: E731
    R, G, B = cv2.split(I)  # contiguous planes: every product and mean below is a cheap 2-D pass
    mr, mg, mb, mp = box(R), box(G), box(B), box(p)
    e = np.float32(eps)
    c0, c1, c2 = box(R * p) - mr * mp, box(G * p) - mg * mp, box(B * p) - mb * mp
    rr, rg, rb = box(R * R) - mr * mr + e, box(R * G) - mr * mg, box(R * B) - mr * mb
    gg, gb, bb = box(G * G) - mg * mg + e, box(G * B) - mg * mb, box(B * B) - mb * mb + e
    i0, i1, i2 = gg * bb - gb * gb, gb * rb - rg * bb, rg * gb - gg * rb
    i3, i4, i5 = rr * bb - rb * rb, rg * rb - rr * gb, rr * gg - rg * rg
    det = rr * i0 + rg * i1 + rb * i2
    a0 = (i0 * c0 + i1 * c1 + i2 * c2) / det
    a1 = (i1 * c0 + i3 * c1 + i4 * c2) / det
    a2 = (i2 * c0 + i4 * c1 + i5 * c2) / det
    b = mp - a0 * mr - a1 * mg - a2 * mb
    return cv2.merge([box(a0), box(a1), box(a2)]), box(b)


def fast_guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float, work_side: int = 256) -> np.ndarray:
    """The guided filter's output over the whole frame (refine_alpha only evaluates the edge band)."""
    import cv2

    h, w = src.shape
    a, b = guided_coefficients(guide, src, radius, eps, work_side)
    mean_a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
    mean_b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    return (guide.astype(np.float32) / 255.0 * mean_a).sum(-1) + mean_b


def refine_alpha(image: np.ndarray, coarse: np.ndarray, *, band: float = 0.006, eps: float = 3e-5) -> np.ndarray:
    """Hard inside/outside, guided-filter alpha in the edge band (evaluated only there)."""
    hard = coarse >= 0.5
    alpha = hard.astype(np.float32)
    radius = band_radius(coarse.shape, band)
    flat, ys, xs = _flat_coords(edge_band(hard, radius))
    if len(flat) == 0:
        return alpha
    import cv2

    a, b = guided_coefficients(image, alpha, radius, eps)
    ab = _sample(cv2.merge([a, b]), ys, xs, hard.shape)  # one bilinear pass for a and b together
    colour = np.ascontiguousarray(image).reshape(-1, 3).take(flat, axis=0).astype(np.float32)
    soft = np.einsum("ij,ij->i", colour, ab[:, :3]) * np.float32(1 / 255.0) + ab[:, 3]
    alpha.reshape(-1)[flat] = np.clip(soft, 0.0, 1.0)
    return alpha


_TINY = float(np.nextafter(np.float32(0), np.float32(1)))
_BELOW_OPAQUE = float(np.nextafter(np.float32(0.98), np.float32(0)))
FOREGROUND_SIDE = 256
"""Blur fusion runs at this size: the colour it corrects only matters in the thin partly transparent band."""


def estimate_foreground(image: np.ndarray, alpha: np.ndarray, method: str = "blur_fusion") -> np.ndarray:
    """Straight foreground colour (uint8) for `image` with matte `alpha`."""
    if method == "none":
        return image
    if method == "ml":
        try:
            from pymatting import estimate_foreground_ml
        except ImportError as exc:
            from vmsg.errors import BackendError

            raise BackendError("foreground 'ml' needs the PyMatting package", hint="pip install 'vmsg[matting]'") from exc

        fg = estimate_foreground_ml(image.astype(np.float64) / 255.0, alpha.astype(np.float64))
        return np.clip(fg * 255.0 + 0.5, 0, 255).astype(np.uint8)
    import cv2

    h, w = alpha.shape
    a32 = np.ascontiguousarray(alpha, np.float32)
    flat, ys, xs = _flat_coords(cv2.inRange(a32, _TINY, _BELOW_OPAQUE))  # 0 < alpha < 0.98: only these change colour
    out = np.ascontiguousarray(image).copy()
    if len(flat):
        small_img = _small(image, FOREGROUND_SIDE).astype(np.float32) * np.float32(1 / 255.0)
        small_fg = _blur_fusion(small_img, _small(a32, FOREGROUND_SIDE))
        out.reshape(-1, 3)[flat] = np.clip(_sample(small_fg, ys, xs, (h, w)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def _blur_fusion(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blur-fusion foreground estimation, two passes (large then small kernel), at the given size."""
    side = max(image.shape[:2])
    big, small = max(3, round(side * 90 / 1024)), max(3, round(side * 6 / 1024))
    F, B = image, image
    for r in (big, small):
        F, B = _blur_fusion_step(image, F, B, alpha, r)
    return np.clip(F, 0.0, 1.0)


def _blur_fusion_step(image, F, B, alpha, r):
    """One blur-fusion pass; the same arithmetic, in place where it can be (fewer full-size temporaries)."""
    import cv2

    a = alpha[..., None]
    na = 1 - a
    blur = lambda x: cv2.blur(x, (r, r))  # noqa: E731
    blurred_a = blur(alpha)[..., None]
    blurred_F = blur(F * a)
    blurred_F /= blurred_a + 1e-5
    blurred_B = blur(B * na)
    blurred_B /= (1.0 - blurred_a) + 1e-5
    F = image - a * blurred_F
    F -= na * blurred_B
    F *= a
    F += blurred_F
    return np.clip(F, 0, 1, out=F), blurred_B
