"""Soft matte refinement and foreground colour on a generated scene with an exact matte."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.backends.segment.refine import band_radius, edge_band, estimate_foreground, refine_alpha


@pytest.fixture(scope="module")
def scene():
    """A textured red subject with a soft, wavy edge over a green/blue background; exact alpha."""
    import cv2

    rng = np.random.default_rng(1)
    h = w = 384
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt((x - 192) ** 2 + (y - 200) ** 2)
    edge = 120 + 10 * np.sin(np.arctan2(y - 200, x - 192) * 9)
    alpha = np.clip((edge - r) / 3.0 + 0.5, 0, 1).astype(np.float32)
    fg = np.dstack([200 + 20 * np.sin(x / 7), 60 + 10 * np.cos(y / 5), 50 + 0 * x]).astype(np.float32)
    bg = np.dstack([40 + 0 * x, 150 + 40 * np.sin(x / 23), 200 + 30 * np.cos(y / 17)]).astype(np.float32)
    bg += rng.normal(0, 3, bg.shape)
    image = np.clip(fg * alpha[..., None] + bg * (1 - alpha[..., None]), 0, 255).astype(np.uint8)
    # What a low-resolution model gives: the matte at 64² upsampled and smeared.
    coarse = cv2.resize(cv2.resize(alpha, (64, 64), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_LINEAR)
    coarse = cv2.GaussianBlur(coarse, (0, 0), 3)
    return image, alpha, coarse, fg.astype(np.uint8)


def test_refinement_lowers_sad_in_the_edge_band(scene):
    image, alpha, coarse, _ = scene
    band = edge_band(alpha >= 0.5, band_radius(alpha.shape, 0.02))
    refined = refine_alpha(image, coarse)
    raw_sad = np.abs(coarse - alpha)[band].sum()
    hard_sad = np.abs((coarse >= 0.5) - alpha)[band].sum()
    new_sad = np.abs(refined - alpha)[band].sum()
    assert new_sad < 0.8 * min(raw_sad, hard_sad), (new_sad, raw_sad, hard_sad)


def test_refined_alpha_is_fractional_at_the_edge_and_hard_elsewhere(scene):
    image, alpha, coarse, _ = scene
    refined = refine_alpha(image, coarse)
    assert refined.dtype == np.float32 and refined.min() >= 0 and refined.max() <= 1
    band = edge_band(coarse >= 0.5, band_radius(alpha.shape, 0.012))
    assert ((refined > 0.05) & (refined < 0.95))[band].mean() > 0.05
    assert set(np.unique(refined[~band])) <= {0.0, 1.0}


@pytest.mark.parametrize("method", ["blur_fusion", "ml"])
def test_foreground_estimation_removes_the_old_background_halo(scene, method):
    image, alpha, _, fg = scene
    est = estimate_foreground(image, alpha, method)
    white = np.full_like(image, 255, dtype=np.float32)
    a = alpha[..., None]
    truth = fg * a + white * (1 - a)
    naive = image * a + white * (1 - a)
    fixed = est * a + white * (1 - a)
    edge = (alpha > 0.05) & (alpha < 0.95)
    err_naive = np.abs(naive - truth)[edge].mean()
    err_fixed = np.abs(fixed - truth)[edge].mean()
    assert err_fixed < 0.6 * err_naive, (err_fixed, err_naive)
