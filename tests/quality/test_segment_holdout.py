"""Held-out matte quality: composites NOT in test_segment_quality.CASES (other heights, positions and
person/background pairs, plus two two-person photos), kept apart from the tuning set so a change
tuned on the quality set is checked on photos it was not tuned on (docs/segment.md reports both)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.segment_helpers import framed_case, iou
from vmsg.stages.segment import SegmentOptions, segment

pytestmark = [pytest.mark.quality, pytest.mark.slow]

HOLDOUT = [
    # ((person, height share of the frame, centre-x), ...), background. Heights above ~0.54 of a
    # portrait background are capped by the width (example01, example03) or ~0.31 (example02).
    ((("example01", 0.6, 0.4),), "background01"),
    ((("example01", 0.95, 0.55),), "background01"),
    ((("example01", 0.45, 0.65),), "background01"),
    ((("example01", 0.35, 0.4),), "background02"),
    ((("example01", 0.45, 0.55),), "background03"),
    ((("example01", 0.38, 0.4),), "background03"),
    ((("example02", 0.6, 0.4),), "background01"),
    ((("example02", 0.85, 0.55),), "background01"),
    ((("example02", 0.45, 0.7),), "background01"),
    ((("example02", 0.2, 0.4),), "background02"),
    ((("example02", 0.15, 0.65),), "background02"),
    ((("example02", 0.6, 0.5),), "background03"),
    ((("example03", 0.6, 0.55),), "background01"),
    ((("example03", 0.75, 0.7),), "background01"),
    ((("example03", 0.35, 0.4),), "background02"),
    ((("example03", 0.65, 0.55),), "background02"),
    ((("example03", 0.45, 0.3),), "background03"),
    ((("example03", 0.3, 0.7),), "background03"),
    ((("example02", 0.55, 0.3), ("example03", 0.65, 0.72)), "background01"),
    ((("example03", 0.45, 0.3), ("example02", 0.3, 0.7)), "background03"),
]
FRAME = 1024


def case_name(people, background) -> str:
    return "+".join(f"{p}@{h}/{x}" for p, h, x in people) + f" on {background}"


@pytest.fixture(scope="module")
def holdout_scores():
    rows = []
    for people, background in HOLDOUT:
        photo, truth = framed_case(list(people), background, FRAME)
        best = segment(photo, SegmentOptions(select="all", quality="best")).alpha
        rows.append({"case": case_name(people, background), "iou": iou(best, truth)})
    print("\nheld-out case                                          IoU best")
    for r in rows:
        print(f"{r['case']:<54} {r['iou']:.3f}")
    print(f"held-out mean IoU {np.mean([r['iou'] for r in rows]):.4f} over {len(rows)} composites")
    return rows


def test_held_out_mean_iou(holdout_scores):
    assert len(holdout_scores) >= 16
    # measured 0.934 (0.931 before the crop widths were weighted and the fill above the crops was
    # added), worst 0.720 (example02 in front of the trees: leaves beside her taken for her)
    assert np.mean([r["iou"] for r in holdout_scores]) >= 0.93
    assert min(r["iou"] for r in holdout_scores) >= 0.70
