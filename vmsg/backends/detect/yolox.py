"""YOLOX (COCO) person detector from an ONNX export: letterbox to 416², BGR 0–255, pad 114,
decode grid-relative boxes at strides 8/16/32; score = objectness × person-class score."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from vmsg.backends.detect.boxes import clip_box, nms
from vmsg.backends.onnx_util import onnx_session
from vmsg.types import PersonBox

STRIDES = (8, 16, 32)


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """RGB image → 1×3×size×size float BGR tensor, resized at the top-left and padded with 114."""
    import cv2

    h, w = image.shape[:2]
    r = min(size / h, size / w)
    resized = cv2.resize(image, (max(1, round(w * r)), max(1, round(h * r))), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((size, size, 3), 114, np.uint8)
    canvas[: resized.shape[0], : resized.shape[1]] = resized[..., ::-1]
    return canvas.transpose(2, 0, 1)[None].astype(np.float32), r


def decode(raw: np.ndarray, size: int) -> np.ndarray:
    """N×85 grid-relative predictions → N×85 with x0 y0 x1 y1 in input pixels."""
    grids, strides = [], []
    for s in STRIDES:
        n = size // s
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grids.append(np.stack([xs.ravel(), ys.ravel()], 1))
        strides.append(np.full((n * n, 1), s))
    grid = np.concatenate(grids).astype(np.float32)
    stride = np.concatenate(strides).astype(np.float32)
    out = raw.copy()
    centre = (raw[:, :2] + grid) * stride
    half = np.exp(raw[:, 2:4]) * stride / 2
    out[:, :2], out[:, 2:4] = centre - half, centre + half
    return out


class YoloxPersonDetector:
    name: ClassVar[str] = "yolox"
    size = 416

    def __init__(self, *, device: str = "auto", min_score: float = 0.35, model_path: str | None = None) -> None:
        from vmsg.models import ENGINE_MODELS, model_path as registered

        path = model_path or registered(ENGINE_MODELS[self.name])
        self._session = onnx_session(path, device=device, what="detector yolox")
        self._input = self._session.get_inputs()[0].name
        self.min_score = min_score
        self.version = "yolox-nano-onnx"

    def detect(self, *, image: np.ndarray) -> list[PersonBox]:
        h, w = image.shape[:2]
        tensor, r = letterbox(image, self.size)
        raw = self._session.run(None, {self._input: tensor})[0][0]
        if raw.shape[0] != sum((self.size // s) ** 2 for s in STRIDES):
            raise ValueError(f"yolox: unexpected output shape {raw.shape}")
        pred = decode(raw, self.size)
        scores = pred[:, 4] * pred[:, 5]
        idx = np.nonzero(scores >= self.min_score)[0]
        boxes = pred[idx, :4] / r
        keep = nms(boxes, scores[idx], 0.45)
        return [PersonBox(*clip_box(boxes[k], w, h), score=float(scores[idx][k])) for k in keep]
