"""face2d: an offline talking head from one photo, no neural weights beyond the
face mesh bundled in mediapipe.

Landmarks are found once; each frame then only warps the mouth and jaw (two
remaps on a small region), the eyelids when blinking, and sways the head
region; the rest of the frame is the photo, converted to yuv420p once. Mouth
shapes come from the phoneme timeline when there is one, else from the audio
level. Same inputs and seed, same video.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vmsg.device import require_cpu_only
from vmsg.types import Soundtrack

log = logging.getLogger(__name__)
MAX_CACHED_SHAPES = 256
MAX_PREPARED = 4


def _union(*boxes: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return x0 - x0 % 2, y0 - y0 % 2, x1 + x1 % 2, y1 + y1 % 2


def _mask_u8(mask: np.ndarray) -> np.ndarray:
    if mask.dtype == np.uint8:
        return mask
    return (np.clip(mask.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


class YuvFrame:
    """A yuv420p frame buffer whose even-aligned regions are replaced from RGB."""

    def __init__(self, rgb: np.ndarray) -> None:
        import cv2

        self.h, self.w = rgb.shape[:2]
        self.base = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420).reshape(-1)
        self.buf = self.base.copy()
        n = self.h * self.w
        self.y = self.buf[:n].reshape(self.h, self.w)
        self.u = self.buf[n : n + n // 4].reshape(self.h // 2, self.w // 2)
        self.v = self.buf[n + n // 4 :].reshape(self.h // 2, self.w // 2)

    def put(self, region: np.ndarray, x0: int, y0: int) -> None:
        import cv2

        h, w = region.shape[:2]
        yuv = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_RGB2YUV_I420).reshape(-1)
        n = h * w
        self.y[y0 : y0 + h, x0 : x0 + w] = yuv[:n].reshape(h, w)
        self.u[y0 // 2 : (y0 + h) // 2, x0 // 2 : (x0 + w) // 2] = yuv[n : n + n // 4].reshape(h // 2, w // 2)
        self.v[y0 // 2 : (y0 + h) // 2, x0 // 2 : (x0 + w) // 2] = yuv[n + n // 4 :].reshape(h // 2, w // 2)


class Face2DRenderer:
    name: ClassVar[str] = "face2d"
    version = "face2d-2"  # 2: mouth shapes to 1/1024, head sway cropped to where it moves
    takes_subject: ClassVar[bool] = True

    def __init__(self, *, device: str = "auto") -> None:
        require_cpu_only(device, self.name)
        try:
            import cv2  # noqa: F401
        except ImportError as exc:
            from vmsg.errors import BackendError

            raise BackendError("render engine face2d needs OpenCV (opencv-contrib-python)", hint="pip install vmsg") from exc
        self._lock = threading.Lock()
        self._prepared: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray | None, Future]] = {}

    def prepare(self, *, image: np.ndarray, options: Any, subject: np.ndarray | None = None) -> None:
        """Start finding the face in `image` in the background and return at once (the pipeline calls
        this while synthesis runs): landmarks and the face mesh's start-up leave the critical path.

        `render` of the very same arrays waits for that result instead of finding the face again
        (registered before this returns, so even an immediate `render` finds it); a failure here is
        not raised, `render` finds the face itself and reports it.
        """
        key = (id(image), id(subject), int(options.size))
        future: Future = Future()
        with self._lock:
            if key in self._prepared:
                return
            while len(self._prepared) >= MAX_PREPARED:  # prepared but never rendered (synthesis failed)
                self._prepared.pop(next(iter(self._prepared)))
            # the arrays are kept with the key: their ids cannot be reused while the entry lives
            self._prepared[key] = (image, subject, future)

        def find() -> None:
            try:
                future.set_result(self._find_face(image, options.size, subject))
            except BaseException as exc:  # noqa: BLE001 - render finds the face again and raises it there
                future.set_exception(exc)

        threading.Thread(target=find, name="vmsg-face2d-prepare", daemon=True).start()

    def _prepared_face(self, image: np.ndarray, size: int, subject: np.ndarray | None):
        with self._lock:
            entry = self._prepared.pop((id(image), id(subject), int(size)), None)
        if entry is None or entry[0] is not image or entry[1] is not subject:
            return None
        try:
            face = entry[2].result()
        except Exception:  # noqa: BLE001 - found again by the caller, which raises it with its message
            return None
        log.debug("face2d: the face was found ahead of render")
        return face

    @staticmethod
    def _find_face(image: np.ndarray, size: int, subject: np.ndarray | None, base: np.ndarray | None = None):
        """The face to animate in `image` fitted to `size` (`base`, when already made), within the subject's matte."""
        from vmsg.face.landmarks import find_face
        from vmsg.media.image import fit_even

        if base is None:
            base = np.ascontiguousarray(fit_even(image, size))
        within = None if subject is None else fit_even(_mask_u8(subject), size).astype(np.float32) / 255.0
        return find_face(base, what="subject image at render size", within=within)

    def render(self, *, image: np.ndarray, soundtrack: Soundtrack, output: Path, options: Any,
               subject: np.ndarray | None = None) -> dict[str, Any]:
        """`subject` (HxW like `image`, >= 0.5 on the selected person) picks whose face talks."""
        import cv2

        from vmsg.face.motion import EyeBlinker, HeadSway, blink_curve, sway_curves
        from vmsg.face.mouth import MouthWarper
        from vmsg.face.visemes import mouth_track
        from vmsg.media.image import fit_even
        from vmsg.media.video import FramePipe

        started = time.perf_counter()
        base = np.ascontiguousarray(fit_even(image, options.size))
        h, w = base.shape[:2]
        face = self._prepared_face(image, options.size, subject)
        if face is None:
            face = self._find_face(image, options.size, subject, base=base)
        fps = int(options.fps)
        n_frames = max(1, int(round(soundtrack.duration * fps)))
        opening, spread, driver = mouth_track(soundtrack, fps, n_frames)
        opening = np.clip(opening * options.expressiveness, 0.0, 1.0)
        rng = np.random.default_rng(options.seed)
        closure = blink_curve(n_frames, fps, rng) if options.blinks else np.zeros(n_frames)
        sway = sway_curves(n_frames, fps, rng, options.motion)

        mouth = MouthWarper(base, face)
        eyes = EyeBlinker(face, (h, w))
        head = HeadSway(face, (h, w)) if options.motion > 0 else None
        boxes = [mouth.box, *(e["box"] for e in eyes.eyes)] + ([head.box] if head else [])
        x0, y0, x1, y1 = _union(*boxes)
        x1, y1 = min(x1, w), min(y1, h)
        region_base = base[y0:y1, x0:x1]
        mx0, my0, mx1, my1 = mouth.box
        if head:
            hx0, hy0, hx1, hy1 = head.box
        frame = YuvFrame(base)
        prepared = time.perf_counter() - started
        with FramePipe(output, width=w, height=h, fps=fps, samples=soundtrack.samples,
                       sample_rate=soundtrack.sample_rate, options=options) as pipe:
            shapes: dict[tuple[int, int], np.ndarray] = {}
            drawn = 0
            for i in range(n_frames):
                region = region_base.copy()
                # shapes repeat (closed lips in every pause): draw each once, to 1/1024 of the range (< 0.01 px)
                key = (round(float(opening[i]) * 1024), round(float(spread[i]) * 1024))
                patch = shapes.get(key)
                if patch is None:
                    patch = mouth.render(key[0] / 1024, key[1] / 1024)
                    drawn += 1
                    if len(shapes) < MAX_CACHED_SHAPES:
                        shapes[key] = patch
                region[my0 - y0 : my1 - y0, mx0 - x0 : mx1 - x0] = patch
                eyes.apply(region, float(closure[i]), origin=(x0, y0))
                if head is not None:
                    sub = region[hy0 - y0 : hy1 - y0, hx0 - x0 : hx1 - x0]
                    sub[:] = cv2.remap(sub, *head.maps(*sway[i]), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                frame.put(region, x0, y0)
                pipe.write(frame.buf)
        seconds = time.perf_counter() - started
        log.info("face2d: %d frames %dx%d in %.2f s (%.0f frames/s)", n_frames, w, h, seconds, n_frames / max(seconds, 1e-9))
        return {
            "width": w, "height": h, "fps": fps, "frames": n_frames, "mouth_driver": driver,
            "face_box": [round(float(v)) for v in (*face.points.min(0), *face.points.max(0))],
            "seconds_prepare": round(prepared, 3), "mouth_shapes_drawn": drawn,
            "frames_per_second": round(n_frames / max(seconds, 1e-9), 1),
            "seed": options.seed,
        }
