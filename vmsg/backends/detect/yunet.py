"""YuNet face detector from its ONNX export (2023mar layout: cls/obj/bbox/kps per stride 8/16/32).

Input BGR float, any size that is a multiple of 32: the image is scaled so its longer side is
640 and padded at the bottom/right. Score = sqrt(cls × obj), as in OpenCV's FaceDetectorYN.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from vmsg.backends.detect.boxes import faces_to_people
from vmsg.backends.onnx_util import onnx_session
from vmsg.types import PersonBox

STRIDES = (8, 16, 32)


class YunetFaceDetector:
    name: ClassVar[str] = "yunet"
    long_side = 640

    def __init__(self, *, device: str = "auto", min_score: float = 0.6, model_path: str | None = None) -> None:
        from vmsg.models import ENGINE_MODELS, model_path as registered

        path = model_path or registered(ENGINE_MODELS[self.name])
        self._session = onnx_session(path, device=device, what="detector yunet")
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]
        self.min_score = min_score
        self.version = "yunet-2023mar-onnx"

    def faces(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face boxes (N×4, source pixels) and scores, before NMS."""
        import cv2

        h, w = image.shape[:2]
        r = min(1.0, self.long_side / max(h, w))
        rw, rh = max(1, round(w * r)), max(1, round(h * r))
        pw, ph = -(-rw // 32) * 32, -(-rh // 32) * 32
        canvas = np.zeros((ph, pw, 3), np.uint8)
        canvas[:rh, :rw] = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA)[..., ::-1]
        out = dict(zip(self._outputs, self._session.run(None, {self._input: canvas.transpose(2, 0, 1)[None].astype(np.float32)})))
        boxes, scores = [], []
        for s in STRIDES:
            cols, rows = pw // s, ph // s
            score = np.sqrt(np.clip(out[f"cls_{s}"][0, :, 0], 0, 1) * np.clip(out[f"obj_{s}"][0, :, 0], 0, 1))
            bbox = out[f"bbox_{s}"][0]
            ys, xs = np.divmod(np.arange(rows * cols), cols)
            cx, cy = (xs + bbox[:, 0]) * s, (ys + bbox[:, 1]) * s
            bw, bh = np.exp(bbox[:, 2]) * s, np.exp(bbox[:, 3]) * s
            keep = score >= self.min_score
            boxes.append(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1)[keep] / r)
            scores.append(score[keep])
        return np.concatenate(boxes).astype(np.float32), np.concatenate(scores).astype(np.float32)

    def detect(self, *, image: np.ndarray) -> list[PersonBox]:
        h, w = image.shape[:2]
        boxes, scores = self.faces(image)
        return faces_to_people(boxes, scores, w, h)
