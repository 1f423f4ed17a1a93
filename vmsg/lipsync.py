"""Measured lip-sync of a rendered video, independent of the renderer.

Face landmarks are found again on the decoded frames (MediaPipe face mesh in
tracking mode), the mouth opening per frame is the inner-lip gap divided by the
distance between the outer eye corners, and it is compared with the speech
envelope of the video's own audio track:

- correlation: Pearson's r between opening and envelope at the best lag within
  ±MAX_LAG frames; passes when r ≥ 0.6 and the best lag is within ±1 frame;
- silences: in every silence longer than 300 ms, the mouth must be closed in
  ≥ 90 % of the frames;
- identity: mean absolute difference (0-255) between each frame and the source
  image, outside the mouth-and-jaw region.
The audio track is assumed to be mostly voice; with loud music, pass the voice
alone as `reference_audio`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vmsg.errors import InputError

MIN_CORRELATION = 0.6
MAX_BEST_LAG = 1
MAX_LAG = 5
MIN_SILENCE_S = 0.3
MIN_CLOSED_FRACTION = 0.9
CLOSED_OPENING = 0.05
"""Inner-lip gap / eye-corner distance under which the mouth counts as closed."""
MAX_IDENTITY_MAD = 6.0
SILENCE_DB = 40.0
"""A frame is silent when its level is this far under the loud (95th percentile) frames."""
SCORE_SIDE = 720


@dataclass
class LipSyncScore:
    frames: int
    fps: float
    correlation: float
    best_lag_frames: int
    silence_frames: int
    closed_in_silence: float | None
    identity_mad: float | None
    face_found_fraction: float
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def checks(self) -> dict[str, bool]:
        out = {
            "correlation": self.correlation >= MIN_CORRELATION,
            "lag": abs(self.best_lag_frames) <= MAX_BEST_LAG,
            "silence": self.closed_in_silence is None or self.closed_in_silence >= MIN_CLOSED_FRACTION,
        }
        if self.identity_mad is not None:
            out["identity"] = self.identity_mad <= MAX_IDENTITY_MAD
        return out

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "checks": self.checks, "passed": self.passed}


def mouth_opening(points: np.ndarray) -> float:
    """Mean inner-lip gap at three places across the mouth, over the outer eye-corner distance."""
    iod = float(np.linalg.norm(points[33] - points[263]))
    gaps = [np.linalg.norm(points[a] - points[b]) for a, b in ((82, 87), (13, 14), (312, 317))]
    return float(np.mean(gaps)) / max(iod, 1e-6)


def speech_envelope(samples: np.ndarray, rate: int, fps: float, n_frames: int) -> np.ndarray:
    """RMS per video frame of the speech band (80 Hz - 4 kHz)."""
    from scipy.signal import butter, sosfiltfilt

    from vmsg.face.visemes import frame_rms

    sos = butter(4, [80.0, min(4000.0, 0.45 * rate)], btype="band", fs=rate, output="sos")
    band = sosfiltfilt(sos, samples.astype(np.float64)) if len(samples) > 30 else samples
    return frame_rms(band, rate, fps, n_frames)


def best_lag_correlation(a: np.ndarray, b: np.ndarray, max_lag: int = MAX_LAG) -> tuple[float, int]:
    """(r, lag) maximising Pearson's r of a[t] against b[t - lag]; lag > 0 means `a` trails `b`."""
    best = (-1.0, 0)
    for lag in range(-max_lag, max_lag + 1):
        x, y = (a[lag:], b[: len(b) - lag]) if lag >= 0 else (a[:lag], b[-lag:])
        if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
            continue
        r = float(np.corrcoef(x, y)[0, 1])
        if r > best[0] or (r == best[0] and abs(lag) < abs(best[1])):
            best = (r, lag)
    return best


def silent_runs(envelope: np.ndarray, fps: float) -> list[tuple[int, int]]:
    """[start, end) frame ranges of silences longer than MIN_SILENCE_S."""
    db = 20.0 * np.log10(np.maximum(envelope, 1e-9))
    loud = np.percentile(db, 95)
    quiet = db < loud - SILENCE_DB
    runs, start = [], None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) / fps > MIN_SILENCE_S:
                runs.append((start, i))
            start = None
    return runs


def _region_mask(face_points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """True outside the mouth-and-jaw region: below the nose, inside the jaw line, grown by a margin."""
    import cv2

    from vmsg.face.landmarks import JAW

    jaw = face_points[list(JAW)]
    nose_line = face_points[[205, 2, 425]]
    poly = np.vstack([jaw, nose_line[::-1]]).astype(np.int32)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [cv2.convexHull(poly)], 255)
    iod = float(np.linalg.norm(face_points[33] - face_points[263]))
    grow = max(3, int(0.35 * iod)) | 1
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    return mask == 0


def score_video(video: Path | str, *, source_image: np.ndarray | None = None,
                reference_audio: tuple[np.ndarray, int] | None = None) -> LipSyncScore:
    """Measure lip-sync (and identity, when the source image is given) of a rendered video."""
    import cv2

    from vmsg.face.landmarks import FaceTracker, find_face
    from vmsg.media.image import fit_even
    from vmsg.media.video import decode_audio, decode_frames

    video = Path(video)
    if not video.is_file():
        raise InputError(f"video {video}: file not found")
    frames, w, h, fps, (vw, vh) = decode_frames(video, max_side=SCORE_SIDE)
    source = keep = None
    if source_image is not None:
        fitted = fit_even(source_image, max(vw, vh))  # the renderers' own scaling, so only rendering differs
        if fitted.shape[:2] != (h, w):
            fitted = cv2.resize(fitted, (w, h), interpolation=cv2.INTER_AREA)
        keep = _region_mask(find_face(fitted, what="source image").points, (h, w))
        source = fitted.astype(np.int16)
    tracker = FaceTracker()
    openings, mads = [], []
    try:
        for i, frame in enumerate(frames):
            found = tracker(frame)
            openings.append(np.nan if found is None else mouth_opening(found.points))
            if source is not None and i % 2 == 0:
                mads.append(float(np.abs(frame.astype(np.int16) - source)[keep].mean()))
    finally:
        tracker.close()
        frames.close()
    if not openings:
        raise InputError(f"video {video}: no frames could be decoded")
    opening = np.array(openings)
    found_fraction = float(np.mean(~np.isnan(opening)))
    if found_fraction < 0.5:
        raise InputError(f"video {video}: a face was found in only {found_fraction:.0%} of the frames")
    opening = np.where(np.isnan(opening), np.nanmedian(opening), opening)
    if reference_audio is not None:
        samples, rate = reference_audio
        samples = samples.mean(axis=1) if samples.ndim == 2 else samples
    else:
        rate = 16000
        samples = decode_audio(video, rate)
    envelope = speech_envelope(samples, rate, fps, len(opening))
    r, lag = best_lag_correlation(opening, envelope)
    runs = silent_runs(envelope, fps)
    inside = np.concatenate([opening[a:b] for a, b in runs]) if runs else np.array([])
    closed = float(np.mean(inside < CLOSED_OPENING)) if len(inside) else None
    return LipSyncScore(
        frames=len(opening), fps=round(fps, 3), correlation=round(r, 4), best_lag_frames=lag,
        silence_frames=int(len(inside)), closed_in_silence=None if closed is None else round(closed, 4),
        identity_mad=round(float(np.mean(mads)), 3) if mads else None, face_found_fraction=round(found_fraction, 4),
        thresholds={"min_correlation": MIN_CORRELATION, "max_best_lag": MAX_BEST_LAG,
                    "min_closed_in_silence": MIN_CLOSED_FRACTION, "closed_opening": CLOSED_OPENING,
                    "max_identity_mad": MAX_IDENTITY_MAD, "min_silence_s": MIN_SILENCE_S},
    )
