"""Segment each detected person in a square crop around them, then merge the crops.

Portrait models see the photo at a fixed small size (256² for the selfie model), so a person who
fills a third of the frame is matted from a few dozen pixels, and sofas or lamps nearby are taken
for them. A crop centred on the person's face, about eight face-heights wide, gives the model
the framing it was trained on. On the quality set this lifts mean IoU from about 0.77 to 0.94.

The model's answer swings with the framing (one crop eight face heights wide scores 0.939 on the
quality set, seven or nine wide 0.931 and 0.911, single cases move by up to 0.1), so an engine
may name several widths (`zoom_scales`; MediaPipe: 6, 8 and 10) whose mattes are averaged,
the narrower ones weighted a little more (width_weights): 0.951 (docs/segment.md). Engines that
name none keep the single crop. All widths share the crop's top edge, so an engine may set
`zoom_above` to have a raised arm that reaches it filled from one crop placed higher.

An engine with a small fixed input may set `crop_side`: a larger crop is then cut from a halved
copy of the photo (the smallest one still at least that size, so nothing aliases) and scaled to
it, and the matte is scaled back. A crop ten face heights wide is often larger than the photo;
padding and matting it at full size cost several times the model's own run. MediaPipe gets 512²
crops (twice its 256² input: at 256² or 384² single cases moved by up to 0.035 IoU). An engine
that reads only every n-th pixel of such a crop (MediaPipe's warp at exactly 2:1) sets
`crop_step`, and only those pixels are sampled. An engine with `mattes` (a batch) gets every crop
of every width, and the whole frame where the legs need it, in one call.

The crops' mattes are placed and combined on a grid at most GRID_SIDE (512) on its long side, each
warped there at its exact sub-pixel place, and the result is scaled to the photo once, bicubically.
At 1024² the full-size grid scaled three mattes far past the photo's edges (a portrait's widest
crop is about 2000²) and took every maximum and weighted sum on four times the pixels; the grid
makes the default matte about a fifth faster. A 256² model's matte holds no detail a 512² grid
loses: quality set 0.9507 → 0.9508, held-out set 0.9342 → 0.9339 (with a bilinear final scaling
0.9504 and 0.9335; with the crops rounded to whole grid pixels 0.9485).
"""

from __future__ import annotations

import numpy as np

from vmsg.types import PersonBox

FACES_WIDE = 8.0
HEADROOM = 1.5  # face heights above the face's top edge


def crop_square(person: PersonBox, faces_wide: float = FACES_WIDE, headroom: float = HEADROOM) -> tuple[int, int, int]:
    """(x0, y0, side) of the crop for one person, possibly reaching beyond the photo."""
    if person.face:
        fx0, fy0, fx1, fy1 = person.face
        fh = max(1, fy1 - fy0)
        side = int(faces_wide * fh)
        return int((fx0 + fx1) / 2 - side / 2), int(fy0 - headroom * fh), side
    bw, bh = person.x1 - person.x0, person.y1 - person.y0
    side = int(1.15 * max(bw, bh))
    return int((person.x0 + person.x1) / 2 - side / 2), int(person.y0 - 0.075 * bh), side


FACE_COVER = 0.3
"""A face whose box the matte covers less than this (on average) belongs to nobody: dropped."""


def face_covered(alpha: np.ndarray, face: tuple[int, int, int, int], offset: tuple[int, int] = (0, 0)) -> bool:
    fx0, fy0, fx1, fy1 = (face[0] - offset[0], face[1] - offset[1], face[2] - offset[0], face[3] - offset[1])
    region = alpha[max(0, fy0) : max(0, fy1), max(0, fx0) : max(0, fx1)]
    return region.size > 0 and float(region.mean()) >= FACE_COVER


def zoomed_matte(engine, image: np.ndarray, people: list[PersonBox],
                 scales: tuple[float, ...] | None = None, *, grid_side: int | None = None) -> np.ndarray:
    """Weighted mean (width_weights) over crop widths (`scales` in face heights; default the engine's
    `zoom_scales`, else one width of FACES_WIDE) of the single-width zoomed matte, then the fill above
    the crops where the engine asks for it (`zoom_above`).

    Each width gives a whole-frame estimate (max over people of their crop's matte); averaging
    them cancels much of the model's sensitivity to framing. Below a crop (the legs of a standing
    person) the widest crop's estimate fills in, so the whole-frame matte is run only when the
    widest crop, too, ends above the bottom edge. The mattes are combined on a grid of at most
    `grid_side` (default GRID_SIDE) pixels and scaled to the photo once (module docstring).
    """
    scales = scales or tuple(getattr(engine, "zoom_scales", (FACES_WIDE,)))
    photo = _Photo(engine, image, grid_side or GRID_SIDE)
    scales = tuple(sorted(scales, reverse=True))
    widest_crops = _crops(people, scales[0], image.shape[:2])
    photo.prefetch([box for faces_wide in scales for _, box in _crops(people, faces_wide, image.shape[:2])],
                   whole=any(y0 + side < image.shape[0] for _, (_, y0, side) in widest_crops))
    widest = _zoomed_once(photo, people, scales[0])
    if len(scales) == 1:
        alpha = widest
    else:
        weights = width_weights(scales)
        alpha = widest * weights[0]
        for faces_wide, weight in zip(scales[1:], weights[1:]):
            once = _zoomed_once(photo, people, faces_wide, legs=widest)
            once *= weight  # in place: no full-frame temporaries
            alpha += once
    if getattr(engine, "zoom_above", False):
        _fill_above(photo, people, alpha, scales)
    if photo.on_photo:
        return alpha
    import cv2

    alpha = cv2.resize(alpha, image.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    cv2.threshold(alpha, 1.0, 1.0, cv2.THRESH_TRUNC, dst=alpha)  # into [0, 1] again: 3× faster than np.clip
    cv2.threshold(alpha, 0.0, 0.0, cv2.THRESH_TOZERO, dst=alpha)
    return alpha


GRID_SIDE = 512
"""Long side of the grid the crops' mattes are combined on (module docstring)."""


ABOVE_FACES_WIDE, ABOVE_HEADROOM = 8.0, 4.0
"""The crop that looks above a person: 8 face heights wide, its top 4 face heights above the face's."""


def width_weights(scales: tuple[float, ...]) -> np.ndarray:
    """Weights (summing to 1) of the crop widths' mattes: proportional to 1/sqrt(width), so the narrower
    crops, which show the model the person at a higher resolution, count a little more (quality set
    0.950 -> 0.951, held-out set 0.932 -> 0.934 against the plain mean; docs/segment.md)."""
    w = 1.0 / np.sqrt(np.asarray(scales, np.float64))
    return (w / w.sum()).astype(np.float32)


def _fill_above(photo: _Photo, people: list[PersonBox], alpha: np.ndarray, scales: tuple[float, ...]) -> None:
    """Raised hands and arms reach above every crop (all widths share the top, HEADROOM above the face),
    where the alpha would stay 0. For each person whose matte reaches the top edge of their crops within
    the columns of a crop placed higher, that crop fills the rows above that no crop covers (in place).
    Columns one such crop has filled do not call for another (a group's raised fists: one run, not five).
    """
    h, w = alpha.shape
    covered: np.ndarray | None = None
    done = np.zeros(w, bool)
    for person in people:
        if not person.face:
            continue
        wx0, wy0, wside = crop_square(person, max(scales))
        top = photo.grid_square(wx0, wy0, wside)[1]
        ux0, uy0, uside = crop_square(person, ABOVE_FACES_WIDE, ABOVE_HEADROOM)
        ucx0, ucy0, ucx1, _ = photo.grid_square(ux0, uy0, uside)
        if wy0 <= 0 or top <= ucy0 or ucx1 <= ucx0 or uside < 16:
            continue  # the crops start at the photo's top: nothing above them
        if not ((alpha[top, ucx0:ucx1] >= 0.5) & ~done[ucx0:ucx1]).any():
            continue  # nothing new reaches the crops' top edge here
        if covered is None:  # built only when some arm reaches the top (most photos: never)
            covered = np.zeros((h, w), bool)
            for someone in people:
                for faces_wide in scales:
                    gx0, gy0, gx1, gy1 = photo.grid_square(*crop_square(someone, faces_wide))
                    covered[gy0:gy1, gx0:gx1] = True
        part = photo.crop_matte(ux0, uy0, uside)[: top - ucy0]
        region = alpha[ucy0:top, ucx0:ucx1]
        np.maximum(region, part, out=region, where=~covered[ucy0:top, ucx0:ucx1])
        done[ucx0:ucx1] = True


class _Photo:
    """The photo with what its crops share, computed once: halved copies, the whole-frame matte, and
    the crops' mattes, which an engine with `mattes` (a batch) computes in one call (`prefetch`).
    Crops are cut from the photo; their mattes are placed on the grid (`grid_shape`, at most
    `grid_side` on its long side; the photo's own size when it is no larger)."""

    def __init__(self, engine, image: np.ndarray, grid_side: int = GRID_SIDE) -> None:
        self.engine, self.image = engine, image
        self.levels = [image]
        self._mattes: dict[tuple[int, int, int] | str, np.ndarray] = {}
        h, w = image.shape[:2]
        s = min(1.0, grid_side / max(h, w))
        self.grid_shape = (max(1, round(h * s)), max(1, round(w * s)))
        self.ky, self.kx = self.grid_shape[0] / h, self.grid_shape[1] / w

    @property
    def on_photo(self) -> bool:
        """The grid is the photo itself (a photo no larger than the grid)."""
        return self.grid_shape == self.image.shape[:2]

    def grid_rect(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        """(gx0, gy0, gx1, gy1): the grid pixels whose centres fall inside the photo's rectangle, clipped
        to the grid (the half-pixel convention of cv2.resize, which scales the grid back)."""
        import math

        gh, gw = self.grid_shape
        to_grid = lambda v, k, n: min(n, max(0, math.ceil(v * k - 0.5)))  # noqa: E731
        return to_grid(x0, self.kx, gw), to_grid(y0, self.ky, gh), to_grid(x1, self.kx, gw), to_grid(y1, self.ky, gh)

    def grid_square(self, x0: int, y0: int, side: int) -> tuple[int, int, int, int]:
        return self.grid_rect(x0, y0, x0 + side, y0 + side)

    def _run(self, images: list[np.ndarray], sizes: list[tuple[int, int] | None]) -> list[np.ndarray]:
        """The engine's mattes of `images` at `sizes` (None: any size; crop_matte scales the part it
        needs): one batch when the engine has `mattes`."""
        import cv2

        batch = getattr(self.engine, "mattes", None)
        if batch is not None:
            return batch(images, sizes)
        out = []
        for image, size in zip(images, sizes):
            matte = self.engine.matte(image=image)
            if size is not None and matte.shape != size:
                matte = cv2.resize(matte, size[::-1], interpolation=cv2.INTER_LINEAR)
            out.append(matte)
        return out

    def prefetch(self, boxes: list[tuple[int, int, int]], whole: bool = False) -> None:
        """Matte the crops `boxes` (x0, y0, side), and the whole frame when `whole`, in one engine call."""
        keys: list = [box for box in dict.fromkeys(boxes) if box not in self._mattes]
        inputs = [self._crop_input(*box) for box in keys]
        sizes: list = [None] * len(keys)
        if whole and "whole" not in self._mattes:
            keys.append("whole")
            inputs.append(self.image)
            sizes.append(self.grid_shape)
        for key, matte in zip(keys, self._run(inputs, sizes)):
            self._mattes[key] = matte.astype(np.float32, copy=False)

    def whole(self) -> np.ndarray:
        self.prefetch([], whole=True)
        return self._mattes["whole"]

    def level(self, k: float) -> np.ndarray:
        """The smallest halved copy still at least `k` of the photo's size (bilinear from it does not alias)."""
        import cv2

        while 0.5 ** len(self.levels) >= k and min(self.levels[-1].shape[:2]) >= 32:
            prev = self.levels[-1]
            self.levels.append(cv2.resize(prev, ((prev.shape[1] + 1) // 2, (prev.shape[0] + 1) // 2),
                                          interpolation=cv2.INTER_AREA))
        for level in reversed(self.levels):
            if level.shape[1] >= k * self.image.shape[1]:
                return level
        return self.image

    def _crop_input(self, x0: int, y0: int, side: int) -> np.ndarray:
        """The square crop (x0, y0, side) as the engine sees it: outside the photo it repeats the edge;
        at `engine.crop_side` when the engine has one and the crop is larger (module docstring)."""
        import cv2

        image, h, w = self.image, *self.image.shape[:2]
        work = getattr(self.engine, "crop_side", None)
        if not work or side <= work:
            cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
            crop = cv2.copyMakeBorder(image[cy0:cy1, cx0:cx1], cy0 - y0, y0 + side - cy1, cx0 - x0, x0 + side - cx1,
                                      cv2.BORDER_REPLICATE)
            return np.ascontiguousarray(crop)
        source = self.level(work / side)
        sx = source.shape[1] / w
        lx0, ly0, lside = round(x0 * sx), round(y0 * source.shape[0] / h), max(1, round(side * sx))  # within a photo pixel
        step = getattr(self.engine, "crop_step", 1)
        if step > 1:
            # Only every step-th pixel of the work² crop: the same half-pixel bilinear samples
            # cv2.resize would give them (within two grey levels: fixed-point coordinates), read from `source`.
            s = lside / work
            grid = np.float32([[step * s, 0, 0.5 * s - 0.5 + lx0], [0, step * s, 0.5 * s - 0.5 + ly0]])
            return cv2.warpAffine(source, grid, (work // step, work // step), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE)
        lx1, ly1 = lx0 + lside, ly0 + lside
        sh, sw = source.shape[:2]
        part = source[max(0, ly0) : min(sh, ly1), max(0, lx0) : min(sw, lx1)]
        crop = cv2.copyMakeBorder(part, max(0, -ly0), max(0, ly1 - sh), max(0, -lx0), max(0, lx1 - sw),
                                  cv2.BORDER_REPLICATE)
        return cv2.resize(crop, (work, work), interpolation=cv2.INTER_LINEAR)  # at most 2:1 here; INTER_AREA costs 5×

    def crop_matte(self, x0: int, y0: int, side: int) -> np.ndarray:
        """The engine's matte of the square crop (x0, y0, side) on the grid, for the part inside the photo only."""
        import cv2

        self.prefetch([(x0, y0, side)])
        matte = self._mattes[(x0, y0, side)]
        gx0, gy0, gx1, gy1 = self.grid_square(x0, y0, side)
        if self.on_photo:
            if matte.shape[0] != side:
                matte = cv2.resize(matte, (side, side), interpolation=cv2.INTER_LINEAR)  # faster than warping the part
            return matte[gy0 - y0 : gy1 - y0, gx0 - x0 : gx1 - x0]
        m = matte.shape[0] / side  # grid pixel centre -> photo -> crop -> matte coordinates:
        grid = np.float32([[m / self.kx, 0, ((gx0 + 0.5) / self.kx - x0) * m - 0.5],
                           [0, m / self.ky, ((gy0 + 0.5) / self.ky - y0) * m - 0.5]])
        return cv2.warpAffine(matte, grid, (gx1 - gx0, gy1 - gy0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)


def _crops(people: list[PersonBox], faces_wide: float, shape: tuple[int, int]) -> list[tuple[PersonBox, tuple[int, int, int]]]:
    """Each person with their crop (x0, y0, side) at this width, for the crops large enough and inside the photo."""
    h, w = shape
    out = []
    for person in people:
        x0, y0, side = crop_square(person, faces_wide)
        if side >= 16 and min(w, x0 + side) > max(0, x0) and min(h, y0 + side) > max(0, y0):
            out.append((person, (x0, y0, side)))
    return out


def _zoomed_once(photo: _Photo, people: list[PersonBox], faces_wide: float,
                 legs: np.ndarray | None = None) -> np.ndarray:
    """Max over people of the engine's matte of their crop, placed on the grid.

    A standing person is taller than their crop: below each crop, within its columns, `legs`
    (default: the whole-frame matte, one more inference) supplies the rest. Elsewhere the alpha is 0.
    """
    h, w = photo.grid_shape
    alpha = np.zeros((h, w), np.float32)
    below = []
    for person, box in _crops(people, faces_wide, photo.image.shape[:2]):
        cx0, cy0, cx1, cy1 = photo.grid_square(*box)
        part = photo.crop_matte(*box)
        if person.face and not face_covered(part, photo.grid_rect(*person.face), (cx0, cy0)):
            continue  # the model sees nobody at this "face": a false detection, its crop adds nothing
        np.maximum(alpha[cy0:cy1, cx0:cx1], part, out=alpha[cy0:cy1, cx0:cx1])
        if cy1 < h:
            below.append((slice(cy1, h), slice(cx0, cx1)))
    if below:
        legs = photo.whole() if legs is None else legs
        for region in below:  # max is idempotent: overlapping regions need no union mask
            np.maximum(alpha[region], legs[region], out=alpha[region])
    return alpha
