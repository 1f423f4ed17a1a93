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
        return np.clip(result.segmentation_mask.astype(np.float32), 0.0, 1.0)

    def close(self) -> None:
        self._model.close()
