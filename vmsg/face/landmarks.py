"""Face landmarks with the MediaPipe face mesh bundled in the mediapipe wheel.

The mesh's own detector only finds faces that fill a good part of the frame, so
small faces (a person composited into a wide background, a group photo) are first
located with the full-range face detector and the mesh is run on a crop around the
largest one, or the largest one inside the selected person.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import numpy as np

from vmsg.errors import BackendError, InputError

# MediaPipe face-mesh indices (478 points with refine_landmarks).
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
JAW = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323, 454)
EYES = {
    "right": {"upper": (33, 246, 161, 160, 159, 158, 157, 173, 133), "lower": (33, 7, 163, 144, 145, 153, 154, 155, 133)},
    "left": {"upper": (362, 398, 384, 385, 386, 387, 388, 466, 263), "lower": (362, 382, 381, 380, 374, 373, 390, 249, 263)},
}
EYE_OUTER = (33, 263)
NOSE_TIP = 1
CHIN = 152
FOREHEAD = 10
MIN_FACE_PX = 64
MAX_YAW = 0.75
"""Nose offset between the cheeks (about sin(yaw)): 0.75 is roughly 50 degrees."""


@dataclass(frozen=True)
class Face:
    """478 landmarks in pixels (x, y) plus the mesh's relative depth z (same scale as x)."""

    points: np.ndarray
    depth: np.ndarray

    @property
    def width(self) -> float:
        return float(np.ptp(self.points[list(FACE_OVAL), 0]))

    @property
    def height(self) -> float:
        return float(np.ptp(self.points[list(FACE_OVAL), 1]))

    @property
    def interocular(self) -> float:
        return float(np.linalg.norm(self.points[EYE_OUTER[0]] - self.points[EYE_OUTER[1]]))

    @property
    def area(self) -> float:
        return self.width * self.height

    def axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors across the face (right eye → left eye in image) and down the face."""
        across = self.points[EYE_OUTER[1]] - self.points[EYE_OUTER[0]]
        across = across / max(np.linalg.norm(across), 1e-6)
        down = np.array([-across[1], across[0]])
        return across, down

    def yaw(self) -> float:
        """-1..1: 0 frontal, ±1 full profile (from the nose's place between the cheeks)."""
        across, _ = self.axes()
        nose = float(self.points[NOSE_TIP] @ across)
        right, left = float(self.points[234] @ across), float(self.points[454] @ across)
        span = max(left - right, 1e-6)
        return float(np.clip(2.0 * (nose - right) / span - 1.0, -1.0, 1.0))


@contextlib.contextmanager
def _native_stderr_muted():
    """MediaPipe's C++ side prints start-up warnings straight to fd 2; hide them while graphs start."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _mediapipe():
    from vmsg.backends.mediapipe_util import lean_mediapipe, quiet_native_logs

    quiet_native_logs()
    try:
        with _native_stderr_muted():
            return lean_mediapipe()
    except ImportError as exc:  # pragma: no cover - mediapipe is a core dependency
        raise BackendError("face landmarks need the mediapipe package", hint="pip install vmsg") from exc


def _mesh_faces(image: np.ndarray, max_faces: int) -> list[Face]:
    mp = _mediapipe()
    h, w = image.shape[:2]
    with _native_stderr_muted(), mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=max_faces, refine_landmarks=True, min_detection_confidence=0.5
    ) as mesh:
        result = mesh.process(np.ascontiguousarray(image))
    faces = []
    for found in result.multi_face_landmarks or []:
        arr = np.array([(p.x * w, p.y * h, p.z * w) for p in found.landmark], dtype=np.float64)
        faces.append(Face(arr[:, :2], arr[:, 2]))
    return faces


def _detector_boxes(image: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes from the full-range detector (finds small faces the mesh misses)."""
    mp = _mediapipe()
    h, w = image.shape[:2]
    with _native_stderr_muted(), mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5) as det:
        result = det.process(np.ascontiguousarray(image))
    boxes = []
    for d in result.detections or []:
        b = d.location_data.relative_bounding_box
        boxes.append((int(b.xmin * w), int(b.ymin * h), int(b.width * w), int(b.height * h)))
    return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)


def _inside(point: np.ndarray, within: np.ndarray | None) -> bool:
    if within is None:
        return True
    h, w = within.shape[:2]
    x, y = int(np.clip(point[0], 0, w - 1)), int(np.clip(point[1], 0, h - 1))
    return bool(within[y, x] >= 0.5)


def _centre(face: Face) -> np.ndarray:
    """Between the nose tip and the upper lip: inside the person's matte whatever the hair does."""
    return (face.points[NOSE_TIP] + face.points[13]) / 2.0


def _mesh_around(image: np.ndarray, box: tuple[int, int, int, int]) -> Face | None:
    """The mesh of the face in detector box `box` (x, y, w, h), run on an upscaled crop around it."""
    x, y, bw, bh = box
    side = int(max(bw, bh) * 2.2)
    cx, cy = x + bw // 2, y + bh // 2
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    crop = image[y0 : y0 + side, x0 : x0 + side]
    scale = 1.0 if max(crop.shape[:2]) >= 256 else 256.0 / max(crop.shape[:2])
    if scale != 1.0:
        import cv2

        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    # A crowded crop holds parts of the neighbours' faces too: keep the one the detector meant.
    found = [Face(f.points / scale + (x0, y0), f.depth / scale) for f in _mesh_faces(crop, max_faces=3)]
    found = [f for f in found if x <= _centre(f)[0] <= x + bw and y <= _centre(f)[1] <= y + bh]
    return min(found, key=lambda f: float(np.linalg.norm(_centre(f) - (cx, cy)))) if found else None


def find_face(image: np.ndarray, *, what: str = "image", within: np.ndarray | None = None) -> Face:
    """The face to animate in `image` (uint8 RGB), checked to be usable for animation.

    Without `within`, the largest face. `within` (HxW, >= 0.5 on the selected person: the
    segment stage's matte, or a box) restricts the choice to that person's face, so a group
    photo animates the person the user selected and leaves the others still.
    Raises InputError for no face, a face in profile, or a face under 64 px wide.
    """
    if within is not None and within.shape[:2] != image.shape[:2]:
        raise ValueError(f"subject mask {within.shape[:2]} does not match the image {image.shape[:2]}")
    faces = [f for f in _mesh_faces(image, max_faces=5) if _inside(_centre(f), within)]
    if not faces:
        boxes = [b for b in _detector_boxes(image) if _inside((b[0] + b[2] / 2, b[1] + b[3] * 0.6), within)]
        for box in boxes:
            face = _mesh_around(image, box)
            if face is not None and _inside(_centre(face), within):
                faces = [face]
                break
    if not faces:
        h, w = image.shape[:2]
        where = "inside the selected person" if within is not None else "found"
        raise InputError(f"{what} ({w}x{h}): no face {where}",
                         hint="use a photo with one clearly visible, frontal face")
    face = max(faces, key=lambda f: f.area)
    if face.width < MIN_FACE_PX:
        raise InputError(f"{what}: the face is {face.width:.0f} px wide, under the minimum of {MIN_FACE_PX} px",
                         hint="use a closer photo or a larger render size")
    if abs(face.yaw()) > MAX_YAW:
        raise InputError(f"{what}: the face is turned to the side (yaw {face.yaw():+.2f}); a frontal face is needed")
    return face


class FaceTracker:
    """Landmarks frame after frame (the mesh tracks between frames): for measuring videos.

    MediaPipe's graph threads print start-up warnings just after the first
    frames; fd 2 stays muted until the fourth frame (or close()).
    """

    def __init__(self) -> None:
        mp = _mediapipe()
        self._mute = _native_stderr_muted()
        self._mute.__enter__()
        self._mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1, refine_landmarks=True,
                                                     min_detection_confidence=0.5, min_tracking_confidence=0.5)
        self._calls = 0

    def _unmute(self) -> None:
        if self._mute is not None:
            mute, self._mute = self._mute, None
            mute.__exit__(None, None, None)

    def __call__(self, frame: np.ndarray) -> Face | None:
        h, w = frame.shape[:2]
        self._calls += 1
        if self._calls > 3:
            self._unmute()
        result = self._mesh.process(np.ascontiguousarray(frame))
        if not result.multi_face_landmarks:
            return None
        arr = np.array([(p.x * w, p.y * h, p.z * w) for p in result.multi_face_landmarks[0].landmark])
        return Face(arr[:, :2], arr[:, 2])

    def close(self) -> None:
        self._unmute()
        self._mesh.close()
