"""MediaPipe selfie segmentation: the model ships inside the mediapipe wheel (0.10.21)."""

from __future__ import annotations

import os
from typing import ClassVar

import numpy as np

from vmsg.device import require_cpu_only
from vmsg.errors import BackendError


def quiet_native_logs() -> None:
    """Keep absl/TFLite start-up chatter off stderr (cron mails it otherwise); errors still show."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass


class MediapipeSegmenter:
    name: ClassVar[str] = "mediapipe"

    def __init__(self, *, device: str = "auto", model: str = "general") -> None:
        require_cpu_only(device, self.name)
        quiet_native_logs()
        try:
            import mediapipe as mp
        except ImportError as exc:
            raise BackendError("segment engine mediapipe needs the mediapipe package", hint="pip install vmsg") from exc
        self.version = f"mediapipe-{mp.__version__}-selfie-{model}"
        self._model = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0 if model == "general" else 1)

    def matte(self, *, image: np.ndarray) -> np.ndarray:
        result = self._model.process(np.ascontiguousarray(image))
        if result.segmentation_mask is None:
            return np.zeros(image.shape[:2], np.float32)
        return np.clip(result.segmentation_mask.astype(np.float32), 0.0, 1.0)

    def close(self) -> None:
        self._model.close()
