"""MediaPipe face detection (both models bundled in the mediapipe 0.10.21 wheel).

The full-range model sees the photo at 192², so in a group photo a face can shrink to a dozen
pixels and be missed. When the first pass finds no face or only small ones, the photo is also
searched in overlapping tiles (half the size, quarter steps); a face cut by a tile's inner edge
is ignored there (it is whole in a neighbouring tile). The short-range model adds close-ups.
All faces are merged by NMS; each face becomes a person whose box the stage later takes from
that person's own matte.

A MediaPipe graph runs one image at a time on one thread (and releases the GIL), so the two
first-pass models and the nine tiles run on a few graphs at once, one per thread the process
may use (vmsg/threads.py): on 2 cores a group photo's detection takes about 0.6 of the time.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import numpy as np

from vmsg.backends.detect.boxes import faces_to_people
from vmsg.backends.mediapipe_util import QuietFirstRun, import_mediapipe
from vmsg.device import require_cpu_only
from vmsg.types import PersonBox

SMALL_FACE = 0.12
"""Tile the photo when the widest face found is narrower than this share of the photo's width."""


class MediapipeFaceDetector:
    name: ClassVar[str] = "mediapipe"

    def __init__(self, *, device: str = "auto", min_score: float = 0.5, model_path: str | None = None) -> None:
        require_cpu_only(device, self.name)
        mp = import_mediapipe(self.name)
        self.version = f"mediapipe-{mp.__version__}-face-detection"
        from vmsg.threads import threads

        fd = mp.solutions.face_detection
        self._new_full = lambda: QuietFirstRun(lambda: fd.FaceDetection(model_selection=1, min_detection_confidence=min_score))
        self._full = [self._new_full()]  # more are made when a photo is first tiled
        self._short = QuietFirstRun(lambda: fd.FaceDetection(model_selection=0, min_detection_confidence=min_score))
        self._threads = threads()
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="vmsg-faces")  # threads start on first use
        self._grow = threading.Lock()

    def _map(self, calls: list[tuple]) -> list:
        """Results of `self._run(*call)` for each call, on the thread pool when the process may use several CPUs."""
        if self._threads < 2:
            return [self._run(*call) for call in calls]
        return [f.result() for f in [self._pool.submit(self._run, *call) for call in calls]]

    def _full_graphs(self) -> list:
        with self._grow:
            while len(self._full) < self._threads:
                self._full.append(self._new_full())
        return self._full

    @staticmethod
    def _run(model, image: np.ndarray, x0: int, y0: int, full: tuple[int, int]) -> list[tuple[tuple, float]]:
        th, tw = image.shape[:2]
        h, w = full
        found = []
        for d in model.process(np.ascontiguousarray(image)).detections or []:
            b = d.location_data.relative_bounding_box
            box = (x0 + b.xmin * tw, y0 + b.ymin * th, x0 + (b.xmin + b.width) * tw, y0 + (b.ymin + b.height) * th)
            cut = ((x0 > 0 and box[0] <= x0 + 2) or (y0 > 0 and box[1] <= y0 + 2)
                   or (x0 + tw < w and box[2] >= x0 + tw - 2) or (y0 + th < h and box[3] >= y0 + th - 2))
            if not cut:
                found.append((box, d.score[0]))
        return found

    def detect(self, *, image: np.ndarray) -> list[PersonBox]:
        h, w = image.shape[:2]
        found = sum(self._map([(self._full[0], image, 0, 0, (h, w)), (self._short, image, 0, 0, (h, w))]), [])
        widest = max((b[2] - b[0] for b, _ in found), default=0.0)
        if widest < SMALL_FACE * w and min(h, w) >= 256:
            th, tw = h // 2, w // 2
            graphs = self._full_graphs()
            corners = [(x0, y0) for y0 in (0, h // 4, h - th) for x0 in (0, w // 4, w - tw)]
            found += sum(self._map([(graphs[i % len(graphs)], image[y0 : y0 + th, x0 : x0 + tw], x0, y0, (h, w))
                                    for i, (x0, y0) in enumerate(corners)]), [])
        boxes = np.array([b for b, _ in found], np.float32).reshape(-1, 4)
        scores = np.array([s for _, s in found], np.float32)
        return faces_to_people(boxes, scores, w, h)
