"""Matte quality on the fixture people composited onto the fixture backgrounds at several scales
and positions (the RGBA alpha is exact ground truth). Prints IoU, SAD and MSE per case and the
mean; the figures are reported in docs/segment.md."""

from __future__ import annotations

import numpy as np
import pytest

from tests.segment_helpers import framed_case, iou, mse, sad
from vmsg.backends.segment.refine import band_radius, edge_band
from vmsg.stages.segment import SegmentOptions, segment

pytestmark = [pytest.mark.quality, pytest.mark.slow]

CASES = [
    # person, background, height (share of the frame's height), centre-x, bottom (fractions of the frame).
    # The fixture people are cut at the waist, so they stand on the frame's bottom edge as in a real
    # photo; the width is capped so nobody is cut at the sides.
    ("example01", "background01", 0.8, 0.5, 1.0),
    ("example02", "background01", 0.7, 0.5, 1.0),
    ("example03", "background01", 0.9, 0.35, 1.0),
    ("example03", "background02", 0.5, 0.5, 1.0),
    ("example02", "background02", 0.3, 0.5, 1.0),
    ("example01", "background02", 0.5, 0.5, 1.0),
    ("example03", "background03", 0.4, 0.6, 1.0),
    ("example02", "background03", 0.25, 0.45, 1.0),
]
FRAME = 1024


def _case(person, background, height, fx, fb):
    return framed_case([(person, height, fx)], background, FRAME, fb)


@pytest.fixture(scope="module")
def scores():
    rows = []
    for case in CASES:
        photo, truth = _case(*case)
        raw = segment(photo, SegmentOptions(refine=False, select="all", quality="best")).alpha
        refined = segment(photo, SegmentOptions(select="all", quality="best")).alpha
        fast = segment(photo, SegmentOptions(select="all", quality="fast")).alpha
        band = edge_band(truth >= 0.5, band_radius(truth.shape, 0.012))
        rows.append({"case": "/".join(map(str, case)), "iou": iou(refined, truth), "sad": sad(refined, truth),
                     "mse": mse(refined, truth), "iou_raw": iou(raw, truth), "iou_fast": iou(fast, truth),
                     "band_sad_raw": sad(raw, truth, band), "band_sad": sad(refined, truth, band)})
    print("\ncase                                   IoU    SAD(k)  MSE     IoU raw  IoU fast  band SAD raw→refined")
    for r in rows:
        print(f"{r['case']:<38} {r['iou']:.3f}  {r['sad']:6.1f}  {r['mse']:.4f}  {r['iou_raw']:.3f}    {r['iou_fast']:.3f}     "
              f"{r['band_sad_raw']:.1f} → {r['band_sad']:.1f}")
    print(f"mean IoU {np.mean([r['iou'] for r in rows]):.4f} (raw {np.mean([r['iou_raw'] for r in rows]):.3f}, "
          f"fast {np.mean([r['iou_fast'] for r in rows]):.3f}), "
          f"mean SAD {np.mean([r['sad'] for r in rows]):.1f}k, mean MSE {np.mean([r['mse'] for r in rows]):.4f}")
    return rows


def test_mean_iou_of_the_default_engine(scores):
    # The target is 0.95; the bundled selfie model, three crop widths weighted by
    # 1/sqrt(width) and the fill above the crops, measured 0.9508 here (worst case 0.891; see
    # docs/segment.md; the held-out set is test_segment_holdout.py). The floor sits 0.002 under that
    # figure, room for another CPU's float rounding in MediaPipe; the code before scored 0.9489.
    assert np.mean([r["iou"] for r in scores]) >= 0.949
    assert min(r["iou"] for r in scores) >= 0.88


def test_three_crop_widths_beat_one_without_losing_a_case(scores):
    # quality=best (default) against quality=fast (one crop per person): measured 0.951 vs 0.939,
    # no case lower by more than 0.005.
    best, fast = np.array([r["iou"] for r in scores]), np.array([r["iou_fast"] for r in scores])
    assert best.mean() >= fast.mean() + 0.01
    assert (best >= fast - 0.01).all(), list(zip(best.round(3), fast.round(3)))
    assert fast.mean() >= 0.93


def test_refinement_lowers_sad_in_the_edge_band(scores):
    assert sum(r["band_sad"] for r in scores) < 0.97 * sum(r["band_sad_raw"] for r in scores)
    assert all(r["band_sad"] < r["band_sad_raw"] for r in scores)


def test_refinement_does_not_lower_iou(scores):
    assert np.mean([r["iou"] for r in scores]) >= np.mean([r["iou_raw"] for r in scores])
