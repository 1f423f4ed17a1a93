"""Several people in one photo: split the matte into one region per detected person, and pick one.

Each detected person gets a seed inside the matte (their face and the torso below it, or the
core of their body box); a watershed on the photo grows the seeds until they meet, so the cut
between two people who touch follows the colour edge between them. Pixels of the soft fringe
belong to the nearest region, and the cut itself is feathered by a pixel or two.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from vmsg.errors import InputError
from vmsg.types import PersonBox

STRATEGIES = ("largest", "center", "index", "point", "all")


def order_people(people: list[PersonBox]) -> list[PersonBox]:
    """Left to right by box centre: the order `index N` and `--list` use (0-based)."""
    return sorted(people, key=lambda p: (p.x0 + p.x1) / 2)


def _seed(person: PersonBox, shape: tuple[int, int]) -> list[tuple[slice, slice]]:
    """Seed regions: the face and a narrow column down the body axis below it (or the box's axis)."""
    h, w = shape
    if person.face:
        fx0, fy0, fx1, fy1 = person.face
        fw, fh = fx1 - fx0, fy1 - fy0
        cx = (fx0 + fx1) / 2
        return [(slice(int(fy0 + 0.2 * fh), int(fy1)), slice(int(fx0 + 0.2 * fw), int(fx1 - 0.2 * fw))),
                (slice(int(fy1), min(h, int(fy1 + 6.5 * fh))), slice(int(cx - 0.15 * fw), int(cx + 0.15 * fw) + 1))]
    bw, bh = person.x1 - person.x0, person.y1 - person.y0
    cx = (person.x0 + person.x1) / 2
    return [(slice(int(person.y0 + 0.1 * bh), int(person.y0 + 0.9 * bh)), slice(int(cx - 0.06 * bw), int(cx + 0.06 * bw) + 1))]


def label_people(image: np.ndarray, alpha: np.ndarray, people: list[PersonBox]) -> np.ndarray:
    """Int32 map: k+1 where person k (in the given order) owns the pixel, 0 for background."""
    import cv2

    h, w = alpha.shape
    hard = (alpha >= 0.5).astype(np.uint8)
    markers = np.zeros((h, w), np.int32)
    k = max(3, round(0.01 * max(h, w)))
    markers[cv2.dilate(hard, np.ones((2 * k + 1, 2 * k + 1), np.uint8)) == 0] = 1
    owner = np.zeros((h, w), np.int32)
    inside = hard.astype(bool)
    for i, person in enumerate(people):
        for ys, xs in _seed(person, (h, w)):  # each seed rectangle in place: no full-frame temporaries
            (y0, y1, _), (x0, x1, _) = ys.indices(h), xs.indices(w)
            if y1 <= y0 or x1 <= x0:
                continue
            own, seed = owner[y0:y1, x0:x1], inside[y0:y1, x0:x1]
            taken = seed & (own > 0) & (own != i + 2)
            own[seed & (own == 0)] = i + 2
            own[taken] = -1
    markers[owner > 1] = owner[owner > 1]
    if not (markers > 1).any():
        return np.zeros((h, w), np.int32)
    # Outside the dilated matte every pixel is already a background marker: flood only its bounding
    # box (plus a frame, which watershed overwrites with -1): the same labels, cheaper when the people are small.
    bx, by, bw, bh = cv2.boundingRect((markers != 1).astype(np.uint8))
    x0, y0, x1, y1 = max(0, bx - 2), max(0, by - 2), min(w, bx + bw + 2), min(h, by + bh + 2)
    box = markers[y0:y1, x0:x1].copy()
    cv2.watershed(np.ascontiguousarray(image[y0:y1, x0:x1, ::-1]), box)
    labels = np.zeros((h, w), np.int32)
    labels[y0:y1, x0:x1] = np.where(box > 1, box - 1, 0)
    labels[hard == 0] = 0
    return labels


def instance_alpha(alpha: np.ndarray, labels: np.ndarray, index: int, *, feather: float = 1.5) -> np.ndarray:
    """Alpha of person `index` alone: their region and the fringe nearest to it, others removed."""
    import cv2

    mine = labels == index + 1
    others = (labels > 0) & ~mine
    if not others.any():
        return alpha.copy()
    d_mine = cv2.distanceTransform((~mine).astype(np.uint8), cv2.DIST_L2, 3)
    d_other = cv2.distanceTransform((~others).astype(np.uint8), cv2.DIST_L2, 3)
    own = (d_mine <= d_other).astype(np.float32)
    if feather > 0:
        own = cv2.GaussianBlur(own, (0, 0), feather)
    return alpha * own


def boxes_from_labels(people: list[PersonBox], labels: np.ndarray) -> list[PersonBox]:
    """Each person's box replaced by the box of their own region (when they have one)."""
    import cv2

    out = []
    for i, p in enumerate(people):
        x, y, w, h = cv2.boundingRect((labels == i + 1).astype(np.uint8))
        out.append(replace(p, x0=x, y0=y, x1=x + w, y1=y + h) if w and h else p)
    return out


def choose(people: list[PersonBox], labels: np.ndarray | None, strategy: str, *, shape: tuple[int, int],
           index: int | None = None, point: tuple[int, int] | None = None, source: str = "image") -> int:
    """Index (into `people`, left-to-right order) of the subject for `strategy`."""
    if not people:
        raise InputError(f"{source}: no person found")
    h, w = shape
    if strategy == "index":
        if index is None or not 0 <= index < len(people):
            raise InputError(f"{source}: person index {index} is out of range: {len(people)} "
                             f"{'person' if len(people) == 1 else 'people'} found (valid: 0–{len(people) - 1})",
                             hint="`vmsg segment IMAGE --list` shows them")
        return index
    if strategy == "largest":
        if labels is not None:
            counts = np.bincount(labels.ravel(), minlength=len(people) + 1)[1:]
            if counts.any():
                return int(np.argmax(counts))
        return int(np.argmax([p.area for p in people]))
    if strategy == "center":
        cx, cy = w / 2, h / 2
        return int(np.argmin([((p.x0 + p.x1) / 2 - cx) ** 2 + ((p.y0 + p.y1) / 2 - cy) ** 2 for p in people]))
    if strategy == "point":
        if point is None:
            raise InputError("select point needs a point x,y")
        x, y = point
        if not (0 <= x < w and 0 <= y < h):
            raise InputError(f"{source}: point {x},{y} lies outside the {w}x{h} image")
        if labels is not None and labels[y, x] > 0:
            return int(labels[y, x]) - 1
        inside = [i for i, p in enumerate(people) if p.x0 <= x < p.x1 and p.y0 <= y < p.y1]
        if inside:
            return min(inside, key=lambda i: people[i].area)
        raise InputError(f"{source}: no person at point {x},{y}", hint="`vmsg segment IMAGE --list` shows where people are")
    raise InputError(f"unknown selection {strategy!r}; valid: {', '.join(STRATEGIES)}")
