"""segment: find the people in a photo, cut the chosen one out with a soft matte, and put them
on a clean or natural background."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from vmsg.errors import InputError
from vmsg.media.image import read_image
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.types import Cutout, PersonBox

MIN_PERSON_FRACTION = 0.01
"""A matte covering less than this share of the image counts as 'no person found'."""


def _pair(value, kind):
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 2:
            raise ValueError(f"expected 'x,y', got {value!r}")
        return tuple(kind(p) for p in parts)
    return value


class SegmentOptions(StageOptions):
    engine: str = Field("mediapipe", description="segmentation engine: mediapipe, birefnet, u2net, u2netp, modnet, sinet")
    model: str | None = Field(None, description="ONNX weights file for an ONNX engine (default: the registry's pulled file)")
    detector: str = Field("mediapipe", description="person/face detector: mediapipe, yolox, yunet")
    detector_model: str | None = Field(None, description="ONNX weights file for an ONNX detector")
    select: Literal["largest", "center", "index", "point", "all"] = "largest"
    index: int | None = Field(None, ge=0, description="person number for select=index (0 = leftmost)")
    point: tuple[int, int] | None = Field(None, description="x,y pixel on the person for select=point")
    crop: bool = Field(False, description="crop the outputs to the subject plus a margin")
    margin: float = Field(0.15, ge=0.0, le=2.0, description="crop margin as a share of the subject's box size")
    zoom: bool = Field(True, description="segment each detected person in a crop around them (better for small subjects)")
    refine: bool = Field(True, description="soft matte: guided-filter edge band")
    quality: Literal["best", "fast"] = Field(
        "best", description="best: coarse matte averaged over three crop widths per person (engines that support it); "
                            "fast: one crop per person, about a third of the matte time")
    foreground: Literal["blur_fusion", "ml", "none"] = Field("blur_fusion", description="foreground colour estimation")
    background: str = Field("#eef1f5", description="'#rrggbb', 'r,g,b', 'blur', a library id (office_soft) or an image path")
    natural: bool = Field(False, description="match the subject's brightness and colour temperature to the background")
    scale: float = Field(1.0, gt=0.05, le=4.0, description="subject size on the background, relative to the photo")
    place: tuple[float, float] | None = Field(None, description="x,y (fractions 0–1) where the subject's feet/bottom centre go")
    allow_empty: bool = False
    device: DeviceName = "auto"

    _pair_point = field_validator("point", mode="before")(lambda v: _pair(v, int))
    _pair_place = field_validator("place", mode="before")(lambda v: _pair(v, float))

    @field_validator("engine", "detector")
    @classmethod
    def _known_engine(cls, value: str, info):
        from vmsg.backends.detect import DETECTORS
        from vmsg.backends.segment import SEGMENTERS

        registry = SEGMENTERS if info.field_name == "engine" else DETECTORS
        if value not in registry:
            raise ValueError(f"unknown {info.field_name} {value!r}; valid: {', '.join(registry.names())}")
        return value

    @model_validator(mode="after")
    def _needs(self):
        if self.select == "index" and self.index is None:
            raise ValueError("select 'index' needs index")
        if self.select == "point" and self.point is None:
            raise ValueError("select 'point' needs point x,y")
        if self.place is not None and not all(0.0 <= v <= 1.0 for v in self.place):
            raise ValueError("place must be fractions between 0 and 1")
        return self


def _engine(options: SegmentOptions):
    from vmsg.backends.segment import SEGMENTERS

    kwargs = {"device": options.device}
    if options.model:
        kwargs["model_path"] = options.model
    return SEGMENTERS.instance(SEGMENTERS.check(options.engine), **kwargs)


def _detector(options: SegmentOptions):
    from vmsg.backends.detect import DETECTORS

    kwargs = {"device": options.device}
    if options.detector_model:
        kwargs["model_path"] = options.detector_model
    return DETECTORS.instance(DETECTORS.check(options.detector), **kwargs)


def detect_people(image: np.ndarray, options: SegmentOptions | None = None, *, alpha: np.ndarray | None = None,
                  found: list[PersonBox] | None = None):
    """People left to right, each box taken from their own part of the matte; and the label map."""
    import cv2

    from vmsg.backends.segment.instances import boxes_from_labels, label_people, order_people
    from vmsg.backends.segment.zoom import face_covered

    options = options or SegmentOptions()
    people = order_people(found if found is not None else _detector(options).detect(image=image))
    if alpha is None:
        alpha = _matte(image, people, options)
    people = [p for p in people if p.face is None or face_covered(alpha, p.face)]
    if not people and (alpha >= 0.5).mean() >= MIN_PERSON_FRACTION:
        x, y, bw, bh = cv2.boundingRect((alpha >= 0.5).astype(np.uint8))  # no visible face: the matte is the person
        people = [PersonBox(x, y, x + bw, y + bh, score=float(alpha[alpha >= 0.5].mean()))]
    labels = label_people(image, alpha, people) if len(people) > 1 else None
    if labels is not None and labels.any():
        people = boxes_from_labels(people, labels)
    elif len(people) == 1 and (alpha >= 0.5).any():
        people = boxes_from_labels(people, (alpha >= 0.5).astype(np.int32))
    return people, labels


def _matte(image: np.ndarray, people: list[PersonBox], options: SegmentOptions) -> np.ndarray:
    """The coarse matte: per-person crops when people were found and zoom is on, else the whole frame."""
    from vmsg.backends.segment.zoom import FACES_WIDE, zoomed_matte

    engine = _engine(options)
    if options.zoom and people:
        return zoomed_matte(engine, image, people, None if options.quality == "best" else (FACES_WIDE,))
    return engine.matte(image=image)


def segment(image: np.ndarray, options: SegmentOptions | None = None, *, source: str = "image") -> Cutout:
    """Matte the chosen person in `image` (uint8 RGB) and composite them onto `options.background`."""
    from vmsg.backends.segment.compose import background_for, composite_over, match_light, place
    from vmsg.backends.segment.instances import choose, instance_alpha
    from vmsg.backends.segment.refine import estimate_foreground, refine_alpha

    options = options or SegmentOptions()
    engine = _engine(options)
    found = _detector(options).detect(image=image)
    coarse = _matte(image, found, options)
    alpha = refine_alpha(image, coarse) if options.refine else coarse
    people, labels = detect_people(image, options, alpha=alpha, found=found)
    coverage = float((alpha >= 0.5).mean())
    selected: int | None = None
    if not people or coverage < MIN_PERSON_FRACTION:
        if not options.allow_empty:
            raise InputError(f"{source}: no person found (matte covers {coverage:.1%} of the image)",
                             hint="use --allow-empty to write an empty matte instead")
        alpha = np.zeros_like(alpha)
    elif options.select != "all":
        selected = choose(people, labels, options.select, shape=alpha.shape, index=options.index,
                          point=options.point, source=source)
        if len(people) > 1 and labels is not None:
            alpha = instance_alpha(alpha, labels, selected)
    rgb = estimate_foreground(image, alpha, options.foreground) if alpha.any() else image
    frame = image
    if options.crop and alpha.any():
        box = crop_box(alpha, options.margin)
        (x0, y0, x1, y1) = box
        rgb, alpha, frame = rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1], image[y0:y1, x0:x1]
        people = [replace(p, x0=p.x0 - x0, y0=p.y0 - y0, x1=p.x1 - x0, y1=p.y1 - y0,
                          face=None if p.face is None else (p.face[0] - x0, p.face[1] - y0, p.face[2] - x0, p.face[3] - y0))
                  for p in people]
    moved = options.scale != 1.0 or options.place is not None
    hole = alpha if moved and options.background == "blur" else None
    rgb, alpha = place(rgb, alpha, scale=options.scale, anchor=options.place)
    background = background_for(frame, options.background, hole=hole)
    subject = match_light(rgb, alpha, background) if options.natural else rgb
    composite = composite_over(subject, alpha, background)
    meta = {"engine": options.engine, "engine_version": engine.version, "coverage": coverage,
            "detector": options.detector, "people": len(people), "selected": selected}
    return Cutout(np.ascontiguousarray(rgb), alpha.astype(np.float32), composite, tuple(people), meta)


def crop_box(alpha: np.ndarray, margin: float) -> tuple[int, int, int, int]:
    """Box of the subject (alpha > 0.02) grown by `margin` × its size, clipped to the frame."""
    import cv2

    h, w = alpha.shape
    x0, y0, bw, bh = cv2.boundingRect((alpha > 0.02).astype(np.uint8))
    x1, y1 = x0 + bw, y0 + bh
    mx, my = round((x1 - x0) * margin), round((y1 - y0) * margin)
    return max(0, x0 - mx), max(0, y0 - my), min(w, x1 + mx), min(h, y1 + my)


def segment_file(path: Path | str, options: SegmentOptions | None = None) -> Cutout:
    return segment(read_image(path), options, source=f"image {path}")


def list_people(path: Path | str, options: SegmentOptions | None = None) -> list[dict]:
    """The people in a photo as plain dicts (index, box, score, face), left to right."""
    image = read_image(path)
    options = options or SegmentOptions()
    found = _detector(options).detect(image=image)
    coarse = _matte(image, found, options)
    people, labels = detect_people(image, options, alpha=coarse, found=found)
    if labels is not None:
        counts = np.bincount(labels.ravel(), minlength=len(people) + 1)[1:]
    else:
        counts = [int((coarse >= 0.5).sum())] * len(people)
    return [{"index": i, "box": [p.x0, p.y0, p.x1, p.y1], "score": round(p.score, 3),
             "face": list(p.face) if p.face else None, "pixels": int(counts[i])} for i, p in enumerate(people)]


# Kept for callers of the foundation API.
from vmsg.backends.segment.compose import background_for, composite_over, cover  # noqa: E402,F401


def subject_mask(image: np.ndarray, options: SegmentOptions, *, source: str = "image") -> tuple[np.ndarray, dict]:
    """A mask (HxW float, 1 on the chosen person's face box, else their box) for `options.select`, without matting.

    For renderers given a photo of several people directly (`vmsg render --image … --index N`):
    the detector and the same selection rules as `segment`, at the cost of one detection.
    """
    from vmsg.backends.segment.instances import choose, order_people

    people = order_people(_detector(options).detect(image=image))
    strategy = "largest" if options.select == "all" else options.select
    chosen = people[choose(people, None, strategy, shape=image.shape[:2], index=options.index, point=options.point,
                           source=source)]
    x0, y0, x1, y1 = chosen.face if chosen.face is not None else (chosen.x0, chosen.y0, chosen.x1, chosen.y1)
    mask = np.zeros(image.shape[:2], np.float32)
    mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 1.0
    facts = {"people": len(people), "selected": people.index(chosen),
             "box": [chosen.x0, chosen.y0, chosen.x1, chosen.y1]}
    return mask, facts
