"""Box helpers shared by the detectors: non-maximum suppression and a body box from a face."""

from __future__ import annotations

import numpy as np

from vmsg.types import PersonBox


def iou_matrix(a: np.ndarray, b: np.ndarray, *, over_min: bool = False) -> np.ndarray:
    """IoU of every box in `a` (N×4, x0 y0 x1 y1) with every box in `b` (M×4).

    With `over_min`, intersection over the smaller box: a box that holds another box whole
    scores 1 (two faces never nest, so for faces that is a duplicate or a false merge).
    """
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    if over_min:
        return inter / np.maximum(np.minimum(area(a)[:, None], area(b)[None, :]), 1e-9)
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, *, over_min: bool = False) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first."""
    order = list(np.argsort(-scores))
    keep: list[int] = []
    while order:
        i = order.pop(0)
        keep.append(int(i))
        if order:
            ious = iou_matrix(boxes[[i]], boxes[order], over_min=over_min)[0]
            order = [j for j, v in zip(order, ious) if v < threshold]
    return keep


def person_from_face(face: tuple[float, float, float, float], score: float, width: int, height: int) -> PersonBox:
    """A body box estimated from a face box (head and shoulders down to the frame's bottom edge).

    The stage replaces it with the box of the person's own matte once the image is segmented.
    """
    x0, y0, x1, y1 = face
    fw, fh = x1 - x0, y1 - y0
    body = (x0 - 1.3 * fw, y0 - 0.7 * fh, x1 + 1.3 * fw, y0 + 8.0 * fh)
    return PersonBox(*clip_box(body, width, height), score=float(score), face=clip_box(face, width, height))


def clip_box(box, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (int(max(0, min(width, round(x0)))), int(max(0, min(height, round(y0)))),
            int(max(0, min(width, round(x1)))), int(max(0, min(height, round(y1)))))


def faces_to_people(faces: np.ndarray, scores: np.ndarray, width: int, height: int, *, overlap: float = 0.4) -> list[PersonBox]:
    if len(faces) == 0:
        return []
    keep = nms(faces, scores, overlap, over_min=True)
    return [person_from_face(tuple(faces[i]), float(scores[i]), width, height) for i in keep]
