"""MediaPipe face detection (both models bundled in the mediapipe 0.10.21 wheel).

The full-range model finds small, distant faces (group photos); the short-range model finds
close-ups the full-range model can miss. Both run and their faces are merged by NMS. Each face
becomes a person whose box the stage later takes from that person's own matte.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from vmsg.backends.detect.boxes import faces_to_people
from vmsg.backends.mediapipe_util import QuietFirstRun, import_mediapipe
from vmsg.device import require_cpu_only
from vmsg.types import PersonBox


class MediapipeFaceDetector:
    name: ClassVar[str] = "mediapipe"

    def __init__(self, *, device: str = "auto", min_score: float = 0.5, model_path: str | None = None) -> None:
        require_cpu_only(device, self.name)
        mp = import_mediapipe(self.name)
        self.version = f"mediapipe-{mp.__version__}-face-detection"
        fd = mp.solutions.face_detection
        self._models = [QuietFirstRun(lambda sel=sel: fd.FaceDetection(model_selection=sel, min_detection_confidence=min_score))
                        for sel in (1, 0)]

    def detect(self, *, image: np.ndarray) -> list[PersonBox]:
        h, w = image.shape[:2]
        boxes, scores = [], []
        frame = np.ascontiguousarray(image)
        for model in self._models:
            for d in model.process(frame).detections or []:
                b = d.location_data.relative_bounding_box
                boxes.append((b.xmin * w, b.ymin * h, (b.xmin + b.width) * w, (b.ymin + b.height) * h))
                scores.append(d.score[0])
        return faces_to_people(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32), w, h)
