"""MediaPipe selfie segmentation: the model ships inside the mediapipe wheel (0.10.21).

`general` (256×256) suits portraits; `landscape` (144×256) is faster on wide frames.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from vmsg.backends.mediapipe_util import QuietFirstRun, import_mediapipe, quiet_native_logs
from vmsg.device import require_cpu_only

__all__ = ["MediapipeSegmenter", "quiet_native_logs"]


class MediapipeSegmenter:
    name: ClassVar[str] = "mediapipe"
    crop_side: ClassVar[int] = 512  # crops larger than this are shrunk first (zoom.py); model input is 256²
    zoom_scales: ClassVar[tuple[float, ...]] = (6.0, 8.0, 10.0)  # crop widths averaged (zoom.py)
    zoom_above: ClassVar[bool] = True  # one more crop above a person whose matte reaches their crops' top (zoom.py)

    def __init__(self, *, device: str = "auto", model: str = "general", model_path: str | None = None) -> None:
        require_cpu_only(device, self.name)
        mp = import_mediapipe(self.name)
        self.version = f"mediapipe-{mp.__version__}-selfie-{model}"
        selection = 0 if model == "general" else 1
        self._model = QuietFirstRun(lambda: mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=selection))

    def matte(self, *, image: np.ndarray) -> np.ndarray:
        result = self._model.process(np.ascontiguousarray(image))
        if result.segmentation_mask is None:
            return np.zeros(image.shape[:2], np.float32)
        mask = np.array(result.segmentation_mask, dtype=np.float32)  # own copy, clipped in place (np.clip: 8× slower)
        np.maximum(mask, 0.0, out=mask)
        return np.minimum(mask, 1.0, out=mask)

    def close(self) -> None:
        self._model.close()
