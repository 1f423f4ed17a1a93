"""MediaPipe selfie segmentation: the model ships inside the mediapipe wheel (0.10.21).

`general` (256×256) suits portraits; `landscape` (144×256) is faster on wide frames.

The model runs through onnxruntime, translated from the wheel's .tflite at first use
(vmsg/backends/tflite_onnx.py; the optimised graph is kept with the other optimised models,
vmsg/onnx_cache.py). MediaPipe's own graph takes one image per call on one thread; the zoomed
matte asks for 3–18 crops per photo, which here go through the model in batches, on every core. The
pre- and post-processing are MediaPipe's (a perspective warp of the uint8 image to the model's
size, values in [0, 1]; the mask scaled back bilinearly), so the mattes equal MediaPipe's
graph's to 1e-4 (tests/integration/test_selfie_onnx.py).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import ClassVar

import numpy as np

from vmsg.backends.mediapipe_util import quiet_native_logs
from vmsg.device import require_cpu_only
from vmsg.errors import BackendError

__all__ = ["MediapipeSegmenter", "quiet_native_logs", "selfie_model_path"]

CONVERTER_VERSION = "tflite-onnx-1"
"""Part of the optimised graph's cache key: bump when vmsg/backends/tflite_onnx.py changes its output."""

BATCH = 4
"""Images per model call: on the 2-core bench machine 4 run at 3.2–3.6 ms an image, 16 at 4.0–4.1 ms
(larger batches leave the caches), 1 at 4.3 ms."""

MODELS = {"general": "selfie_segmentation.tflite", "landscape": "selfie_segmentation_landscape.tflite"}


def selfie_model_path(model: str = "general") -> Path:
    """The .tflite inside the installed mediapipe wheel (found without importing mediapipe)."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("segment engine mediapipe needs the mediapipe package (its wheel ships the model)",
                           hint="pip install vmsg")
    path = Path(next(iter(spec.submodule_search_locations))) / "modules" / "selfie_segmentation" / MODELS[model]
    if not path.is_file():
        raise BackendError(f"segment engine mediapipe: {path} is missing from the mediapipe wheel",
                           hint="reinstall mediapipe==0.10.21")
    return path


class MediapipeSegmenter:
    name: ClassVar[str] = "mediapipe"
    crop_side: ClassVar[int] = 512  # crops larger than this are shrunk first (zoom.py); model input is 256²
    crop_step: ClassVar[int] = 2  # of a 512² crop the 256² warp reads every other pixel: zoom.py samples only those
    zoom_scales: ClassVar[tuple[float, ...]] = (6.0, 8.0, 10.0)  # crop widths averaged (zoom.py)
    zoom_above: ClassVar[bool] = True  # one more crop above a person whose matte reaches their crops' top (zoom.py)

    def __init__(self, *, device: str = "auto", model: str = "general", model_path: str | None = None) -> None:
        from importlib.metadata import version

        from vmsg.backends.onnx_util import session_options
        from vmsg.backends.tflite_onnx import tflite_to_onnx
        from vmsg.onnx_cache import cached_session

        require_cpu_only(device, self.name)
        if model not in MODELS:
            raise BackendError(f"segment engine mediapipe: unknown model {model!r}; valid: {', '.join(MODELS)}")
        source = Path(model_path) if model_path else selfie_model_path(model)
        self._session = cached_session(source, CONVERTER_VERSION, lambda: tflite_to_onnx(source), session_options(),
                                       ["CPUExecutionProvider"])
        _, self._h, self._w, _ = self._session.get_inputs()[0].shape
        self.version = f"mediapipe-{version('mediapipe')}-selfie-{model}-ort"

    def _tensor(self, image: np.ndarray) -> np.ndarray:
        """MediaPipe's ImageToTensor on the CPU: the image's corners mapped onto the model's by a
        perspective warp of the uint8 pixels (not a half-pixel resize; at an exact 2:1 that is every
        other pixel, taken directly), then scaled to [0, 1] (in `mattes`)."""
        import cv2

        h, w = image.shape[:2]
        if (h, w) == (self._h, self._w):
            return image
        if (h, w) == (2 * self._h, 2 * self._w):
            return image[::2, ::2]
        src = np.float32([[0, h], [0, 0], [w, 0], [w, h]])
        dst = np.float32([[0, self._h], [0, 0], [self._w, 0], [self._w, self._h]])
        return cv2.warpPerspective(np.ascontiguousarray(image), cv2.getPerspectiveTransform(src, dst),
                                   (self._w, self._h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    def mattes(self, images: list[np.ndarray], sizes: list[tuple[int, int] | None] | None = None) -> list[np.ndarray]:
        """One float32 matte in [0, 1] per image, from batched model calls (BATCH images each): at that image's size,
        or at `sizes[i]` (h, w) when given, or at the model's own size where `sizes[i]` is None
        (for a caller that scales only the part it needs)."""
        import cv2

        if not images:
            return []
        chunks = []
        for start in range(0, len(images), BATCH):
            batch = np.stack([self._tensor(image) for image in images[start : start + BATCH]]).astype(np.float32)
            batch *= 1.0 / 255.0
            chunks.append(self._session.run(None, {"image": batch})[0][..., 0])  # a sigmoid: already within [0, 1]
        masks = np.concatenate(chunks)
        out = []
        for i, (image, mask) in enumerate(zip(images, masks)):
            size = sizes[i] if sizes else image.shape[:2]
            h, w = mask.shape if size is None else size
            out.append(mask if (h, w) == mask.shape else cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR))
        return out

    def matte(self, *, image: np.ndarray) -> np.ndarray:
        return self.mattes([image])[0]

    def close(self) -> None:
        self._session = None
