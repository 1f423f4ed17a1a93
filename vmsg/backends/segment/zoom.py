"""Segment each detected person in a square crop around them, then merge the crops.

Portrait models see the photo at a fixed small size (256² for the selfie model), so a person who
fills a third of the frame is matted from a few dozen pixels, and sofas or lamps nearby are taken
for them. A crop centred on the person's face, about eight face-heights wide, gives the model
the framing it was trained on. On the quality set this lifts mean IoU from about 0.77 to 0.94.

The model's answer swings with the framing (one crop eight face heights wide scores 0.94 on the
quality set, seven or nine wide 0.93 and 0.91, with single cases moving by ±0.1), so the
coarse matte is the mean of the mattes at three crop widths (6, 8 and 10 face heights): 0.950.
"""

from __future__ import annotations

import numpy as np

from vmsg.types import PersonBox

FACES_WIDE = 8.0
SCALES = (6.0, 8.0, 10.0)
"""Crop widths (face heights) whose mattes are averaged; (8.0,) is the single-crop matte."""
HEADROOM = 1.5  # face heights above the face's top edge


def crop_square(person: PersonBox, faces_wide: float = FACES_WIDE) -> tuple[int, int, int]:
    """(x0, y0, side) of the crop for one person, possibly reaching beyond the photo."""
    if person.face:
        fx0, fy0, fx1, fy1 = person.face
        fh = max(1, fy1 - fy0)
        side = int(faces_wide * fh)
        return int((fx0 + fx1) / 2 - side / 2), int(fy0 - HEADROOM * fh), side
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
                 scales: tuple[float, ...] = SCALES) -> np.ndarray:
    """Mean over crop widths (`scales`, in face heights) of the single-width zoomed matte.

    Each width gives a whole-frame estimate (max over people of their crop's matte, legs from
    the whole-frame matte); averaging them cancels much of the model's sensitivity to framing.
    The whole-frame matte is computed once and shared.
    """
    whole: list[np.ndarray] = []

    def whole_frame() -> np.ndarray:
        if not whole:
            whole.append(engine.matte(image=image).astype(np.float32, copy=False))
        return whole[0]

    alpha = _zoomed_once(engine, image, people, scales[0], whole_frame)
    for faces_wide in scales[1:]:
        alpha += _zoomed_once(engine, image, people, faces_wide, whole_frame)
    if len(scales) > 1:
        alpha /= len(scales)
    return alpha


def _zoomed_once(engine, image: np.ndarray, people: list[PersonBox], faces_wide: float, whole_frame) -> np.ndarray:
    """Max over people of the engine's matte of their crop, placed back in the frame.

    A standing person is taller than their crop: below each crop, within its columns, the
    whole-frame matte supplies the legs (one more inference, only when a crop ends above the
    bottom edge). Elsewhere the alpha is 0.
    """
    import cv2

    h, w = image.shape[:2]
    alpha = np.zeros((h, w), np.float32)
    below = np.zeros((h, w), bool)
    for person in people:
        x0, y0, side = crop_square(person, faces_wide)
        if side < 16:
            continue
        cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        crop = cv2.copyMakeBorder(image[cy0:cy1, cx0:cx1], cy0 - y0, y0 + side - cy1, cx0 - x0, x0 + side - cx1,
                                  cv2.BORDER_REPLICATE)
        matte = engine.matte(image=np.ascontiguousarray(crop))
        if person.face and not face_covered(matte, person.face, (x0, y0)):
            continue  # the model sees nobody at this "face": a false detection, its crop adds nothing
        part = matte[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        np.maximum(alpha[cy0:cy1, cx0:cx1], part, out=alpha[cy0:cy1, cx0:cx1])
        if cy1 < h:
            below[cy1:, cx0:cx1] = True
    if below.any():
        np.maximum(alpha, whole_frame(), out=alpha, where=below)
    return alpha
