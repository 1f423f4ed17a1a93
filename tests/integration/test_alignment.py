"""DTW alignment error, measured where the truth is known.

The reference is an OpenJTalk rendering with its exact timeline. The target is the same rendering
re-synthesised with WORLD after a non-uniform time warp (every phoneme stretched by its own random
factor 0.7–1.4), a +4 semitone pitch shift and a 12 % formant shift (another voice, another rhythm);
the warp gives the target's true timeline. Linear scaling cannot follow such a rhythm; DTW must land
within 20 ms of the true boundaries on average.
"""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.align import align_timeline, boundary_error
from vmsg.types import Phoneme

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pw = pytest.importorskip("pyworld")

TEXTS = [
    "本日はお忙しい中お集まりいただき、誠にありがとうございます。",
    "来年もどうぞよろしくお願いいたします。",
    "お誕生日おめでとう。素敵な一年になりますように。",
]


def warp(samples, rate, timeline, rng, semitones=4.0, formant=1.12):
    """WORLD re-synthesis with each phoneme's frames resampled by a random factor; returns audio and true timeline."""
    from scipy.signal import resample_poly

    fs, period = 16000, 0.005
    x = resample_poly(samples.astype(np.float64), 1, rate // fs)
    f0, t = pw.dio(x, fs, frame_period=period * 1000)
    f0 = pw.stonemask(x, f0, t, fs)
    sp, ap = pw.cheaptrick(x, f0, t, fs), pw.d4c(x, f0, t, fs)
    n, idx, truth, pos = len(f0), [], [], 0
    for p in timeline:
        a, b = int(round(p.start / period)), min(n, int(round(p.end / period)))
        k = max(1, int(round((b - a) * rng.uniform(0.7, 1.4))))
        idx.extend(np.clip(np.floor(np.linspace(a, b, k, endpoint=False)).astype(int), 0, n - 1))
        truth.append(Phoneme(p.symbol, pos * period, (pos + k) * period))
        pos += k
    idx = np.array(idx)
    bins = sp.shape[1]
    src = np.clip(np.arange(bins) / formant, 0, bins - 1)
    spw = np.array([np.interp(src, np.arange(bins), row) for row in sp[idx]])
    y = pw.synthesize(np.ascontiguousarray(f0[idx] * 2 ** (semitones / 12)), spw, np.ascontiguousarray(ap[idx]),
                      fs, period * 1000)[: pos * int(fs * period)]
    return y.astype(np.float32), fs, tuple(truth)


@pytest.fixture(scope="module")
def cases():
    from vmsg.backends.tts.openjtalk import OpenJTalkEngine

    engine = OpenJTalkEngine(device="cpu")
    rng = np.random.default_rng(1)
    out = []
    for text in TEXTS:
        ref = engine.synthesize(text=text, voice=None, speed=1.0)
        out.append((ref, *warp(ref.samples, ref.sample_rate, ref.timeline, rng)))
    return out


def test_dtw_boundaries_within_20_ms_on_a_warped_other_voice(cases) -> None:
    dtw_errors, linear_errors = [], []
    for ref, y, fs, truth in cases:
        estimate = align_timeline((ref.samples, ref.sample_rate), ref.timeline, (y, fs))
        assert estimate[-1].end == pytest.approx(len(y) / fs)
        assert all(b.start >= a.start for a, b in zip(estimate, estimate[1:]))
        dtw_errors.append(boundary_error(estimate, truth))
        scale = (len(y) / fs) / ref.duration
        linear = tuple(Phoneme(p.symbol, p.start * scale, p.end * scale) for p in ref.timeline)
        linear_errors.append(boundary_error(linear, truth))
    print(f"mean boundary error: DTW {np.mean(dtw_errors) * 1000:.1f} ms, linear {np.mean(linear_errors) * 1000:.1f} ms")
    assert np.mean(dtw_errors) <= 0.020
    assert max(dtw_errors) <= 0.030
    assert np.mean(dtw_errors) < 0.5 * np.mean(linear_errors)
