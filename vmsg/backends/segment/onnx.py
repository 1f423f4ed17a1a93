"""The ONNX segmentation family: one loader, one spec per published export.

Each spec states what the export expects and returns (as in the models' own demo code):
  birefnet  1024² RGB/255, ImageNet mean/std; output 0 = logits → sigmoid.
  u2net(p)  320² RGB/max, ImageNet mean/std; output 0 (d1) is already a probability → min-max.
  modnet    RGB (x/255 - 0.5)/0.5, short side 512, both sides multiples of 32; output = matte.
  sinet     320² BGR, ((x - mean)/std)/255 with the demo's BGR mean/std; 2-class logits → softmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from vmsg.backends.onnx_util import onnx_session

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Spec:
    size: int | None  # square input side; None = keep aspect (modnet)
    bgr: bool
    scale: str  # "unit" (/255), "max" (/max), "raw" (0–255)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    post: str  # "sigmoid", "minmax", "softmax1", "clip"
    divide_after: float = 1.0  # sinet divides by 255 after standardising


SPECS: dict[str, Spec] = {
    "birefnet": Spec(1024, False, "unit", IMAGENET_MEAN, IMAGENET_STD, "sigmoid"),
    "u2net": Spec(320, False, "max", IMAGENET_MEAN, IMAGENET_STD, "minmax"),
    "u2netp": Spec(320, False, "max", IMAGENET_MEAN, IMAGENET_STD, "minmax"),
    "modnet": Spec(None, False, "unit", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), "clip"),
    "sinet": Spec(320, True, "raw", (102.890434, 111.25247, 126.91212), (62.93292, 62.82138, 66.355705), "softmax1", 255.0),
}


def modnet_size(h: int, w: int, short: int = 512) -> tuple[int, int]:
    """MODNet's reference resize: short side 512, both sides rounded down to multiples of 32."""
    r = short / min(h, w)
    return max(32, int(h * r) // 32 * 32), max(32, int(w * r) // 32 * 32)


def preprocess(image: np.ndarray, spec: Spec) -> np.ndarray:
    """RGB uint8 HxWx3 → 1×3×h×w float32 as the export expects."""
    import cv2

    h, w = image.shape[:2]
    th, tw = (spec.size, spec.size) if spec.size else modnet_size(h, w)
    interp = cv2.INTER_AREA if th * tw < h * w else cv2.INTER_LINEAR
    x = cv2.resize(image, (tw, th), interpolation=interp).astype(np.float32)
    if spec.bgr:
        x = x[..., ::-1]
    if spec.scale == "unit":
        x = x / 255.0
    elif spec.scale == "max":
        x = x / max(float(x.max()), 1e-6)
    x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32) / spec.divide_after
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def postprocess(output: np.ndarray, spec: Spec, height: int, width: int) -> np.ndarray:
    """First output → alpha HxW float32 in [0, 1] at the source size."""
    import cv2

    out = np.asarray(output, np.float32)[0]
    if spec.post == "softmax1":
        e = np.exp(out - out.max(0, keepdims=True))
        prob = e[1] / e.sum(0)
    else:
        prob = out[0]
        if spec.post == "sigmoid":
            prob = 1.0 / (1.0 + np.exp(-prob))
        elif spec.post == "minmax":
            lo, hi = float(prob.min()), float(prob.max())
            prob = (prob - lo) / max(hi - lo, 1e-6)
    prob = cv2.resize(np.ascontiguousarray(prob, np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    return np.clip(prob, 0.0, 1.0)


class OnnxSegmenter:
    """Base of the family; subclasses only name their spec."""

    name: ClassVar[str] = "onnx"

    def __init__(self, *, device: str = "auto", model_path: str | None = None) -> None:
        from vmsg.models import ENGINE_MODELS, model_path as registered

        self.spec = SPECS[self.name]
        path = model_path or registered(ENGINE_MODELS[self.name])
        self._session = onnx_session(path, device=device, what=f"segment engine {self.name}")
        self._input = self._session.get_inputs()[0].name
        self.version = f"{self.name}-onnx"

    def matte(self, *, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        output = self._session.run(None, {self._input: preprocess(image, self.spec)})[0]
        return postprocess(output, self.spec, h, w)


class BiRefNetSegmenter(OnnxSegmenter):
    name: ClassVar[str] = "birefnet"


class U2NetSegmenter(OnnxSegmenter):
    name: ClassVar[str] = "u2net"


class U2NetPSegmenter(OnnxSegmenter):
    name: ClassVar[str] = "u2netp"


class MODNetSegmenter(OnnxSegmenter):
    name: ClassVar[str] = "modnet"


class SINetSegmenter(OnnxSegmenter):
    name: ClassVar[str] = "sinet"
