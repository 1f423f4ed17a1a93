"""Mouth shapes over time: from the phoneme timeline (exact), or from the audio
envelope when there is no timeline.

A shape is (open, spread): `open` 0 = lips closed .. 1 = a wide 'a';
`spread` -1 = rounded (u/o) .. +1 = stretched (i/e). Keys sit at phoneme
centres and are joined by a monotone spline (co-articulation without overshoot);
inside silences the lips are held shut, which is what viewers notice first.
"""

from __future__ import annotations

import numpy as np

from vmsg.types import Phoneme

VOWELS: dict[str, tuple[float, float]] = {
    "a": (1.00, 0.05),
    "i": (0.28, 0.70),
    "u": (0.30, -0.75),
    "e": (0.58, 0.45),
    "o": (0.70, -0.55),
}
BILABIALS = frozenset({"m", "my", "b", "by", "p", "py"})
ROUNDED = {"w": (0.25, -0.6), "f": (0.18, -0.55), "v": (0.2, -0.3)}
PALATAL = {"y": (0.25, 0.4), "j": (0.3, 0.35), "ch": (0.25, 0.35), "sh": (0.25, 0.3), "ts": (0.25, 0.1)}
SILENCES = frozenset({"sil", "pau", "sp", "cl_sil"})
EDGE = 0.03
"""Seconds the lips take to close after speech or open before it."""


def _target(symbol: str, nxt: str | None) -> tuple[float, float] | None:
    low = symbol.lower()
    if symbol in VOWELS:
        return VOWELS[symbol]
    if low in VOWELS:  # OpenJTalk writes devoiced vowels in capitals: barely opened
        return 0.06, VOWELS[low][1] * 0.5
    if symbol in BILABIALS:
        return 0.0, 0.0
    if symbol == "N":
        return (0.0, 0.0) if nxt in BILABIALS else (0.18, 0.0)
    if symbol == "cl":
        return (0.0, 0.0) if nxt in BILABIALS else (0.12, 0.0)
    if symbol in ROUNDED:
        return ROUNDED[symbol]
    if symbol in PALATAL:
        return PALATAL[symbol]
    return None  # other consonants take their shape from the neighbouring vowels


def timeline_shapes(timeline: tuple[Phoneme, ...], times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(open, spread) sampled at `times` (seconds) from an exact phoneme timeline."""
    keys: list[tuple[float, float, float]] = []
    symbols = [p.symbol for p in timeline]
    for i, ph in enumerate(timeline):
        if ph.duration <= 0:
            continue
        if ph.symbol in SILENCES:
            edge = min(EDGE, ph.duration / 2)
            keys += [(ph.start + edge, 0.0, 0.0), (ph.end - edge, 0.0, 0.0)]
            continue
        nxt = next((s for s in symbols[i + 1 :] if s not in SILENCES), None)
        target = _target(ph.symbol, nxt)
        if target is None:
            follower = next((s for s in symbols[i + 1 : i + 3] if s.lower() in VOWELS), "a")
            vowel = VOWELS[follower.lower()]
            target = (0.45 * vowel[0] + (0.1 if follower in VOWELS else -0.05), vowel[1] * 0.6)
        if ph.symbol in BILABIALS or (ph.symbol in ("N", "cl") and target[0] == 0.0):
            hold = ph.duration * 0.3
            keys += [(ph.start + hold, 0.0, 0.0), (ph.end - hold, 0.0, 0.0)]
        else:
            keys.append((0.5 * (ph.start + ph.end), *target))
    if not keys:
        return np.zeros_like(times), np.zeros_like(times)
    keys.sort()
    kt = np.array([k[0] for k in keys])
    kt = kt + np.arange(len(kt)) * 1e-6  # strictly increasing for the spline
    opened = _pchip(kt, np.array([k[1] for k in keys]), times)
    spread = _pchip(kt, np.array([k[2] for k in keys]), times)
    silent = silence_mask(timeline, times)
    opened[silent] = 0.0
    spread[silent] = 0.0
    return np.clip(opened, 0.0, 1.0), np.clip(spread, -1.0, 1.0)


def silence_mask(timeline: tuple[Phoneme, ...], times: np.ndarray) -> np.ndarray:
    """True where `times` fall inside a silence, away from its edges; also before and after the timeline."""
    mask = np.zeros(times.shape, dtype=bool)
    for ph in timeline:
        if ph.symbol in SILENCES and ph.duration > 2 * EDGE:
            mask |= (times >= ph.start + EDGE) & (times <= ph.end - EDGE)
    if timeline:
        mask |= (times < timeline[0].start) | (times > timeline[-1].end)
    return mask


def _pchip(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Monotone cubic (Fritsch-Carlson, as scipy's PchipInterpolator) in numpy: scipy.interpolate
    costs half a second to import, more than the whole timeline."""
    at = np.clip(at, x[0], x[-1])
    if len(x) == 1:
        return np.full(at.shape, y[0], dtype=np.float64)
    h = np.diff(x)
    delta = np.diff(y) / h
    d = np.zeros(len(x))
    if len(x) == 2:
        d[:] = delta[0]
    else:
        w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
        same = delta[:-1] * delta[1:] > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            d[1:-1] = np.where(same, (w1 + w2) / (w1 / delta[:-1] + w2 / delta[1:]), 0.0)
        d[0] = _edge_slope(h[0], h[1], delta[0], delta[1])
        d[-1] = _edge_slope(h[-1], h[-2], delta[-1], delta[-2])
    i = np.clip(np.searchsorted(x, at, side="right") - 1, 0, len(x) - 2)
    t = (at - x[i]) / h[i]
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * y[i] + (t3 - 2 * t2 + t) * h[i] * d[i]
            + (-2 * t3 + 3 * t2) * y[i + 1] + (t3 - t2) * h[i] * d[i + 1])


def _edge_slope(h0: float, h1: float, m0: float, m1: float) -> float:
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > abs(3 * m0):
        return 3 * m0
    return d


def frame_rms(samples: np.ndarray, rate: int, fps: float, n_frames: int) -> np.ndarray:
    """RMS of the mono mix over each frame's interval [i/fps, (i+1)/fps)."""
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    hop = rate / float(fps)
    edges = np.minimum((np.arange(n_frames + 1) * hop).round().astype(np.int64), len(mono))
    sq = np.concatenate([[0.0], np.cumsum(mono.astype(np.float64) ** 2)])
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    return np.sqrt((sq[edges[1:]] - sq[edges[:-1]]) / counts)


def voiced_band(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono 80 Hz - 3 kHz: where vowels (open jaw) carry their energy, and hiss (s, sh, f: narrow lips) does not.

    A brick-wall FFT filter: ringing does not matter for a frame envelope, and it
    keeps scipy.signal (a second to import) out of the render path.
    """
    mono = (samples.mean(axis=1) if samples.ndim == 2 else samples).astype(np.float64)
    if len(mono) < 64:
        return mono
    spectrum = np.fft.rfft(mono)
    freqs = np.fft.rfftfreq(len(mono), 1.0 / rate)
    spectrum[(freqs < 80.0) | (freqs > 3000.0)] = 0.0
    return np.fft.irfft(spectrum, n=len(mono))


def loudness_gate(samples: np.ndarray, rate: int, fps: float, n_frames: int, *, floor_db: float = 45.0,
                  rms: np.ndarray | None = None) -> np.ndarray:
    """0..1 per frame: 0 where the audio is `floor_db` under its loud parts, 1 from 10 dB above that.

    Applied over timeline shapes it shuts the lips on the frames where the voice
    has already died away (phrase-final decay, stop closures), which the
    timeline's phoneme boundaries place a frame or two late.
    """
    if rms is None:  # `rms`: the voiced-band frame RMS when the caller has it already (one FFT of the audio, not two)
        rms = frame_rms(voiced_band(samples, rate), rate, fps, n_frames)
    db = 20.0 * np.log10(np.maximum(rms, 1e-9))
    loud = np.percentile(db, 95) if n_frames else 0.0
    return np.clip((db - (loud - floor_db)) / 10.0, 0.0, 1.0)


def audio_shapes(samples: np.ndarray, rate: int, fps: float, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(open, spread) per frame from loudness alone, for audio without a timeline.

    Opening follows the voiced-band level in dB above a gate 35 dB under the
    loud parts; runs below the gate longer than 150 ms are held shut.
    """
    rms = frame_rms(voiced_band(samples, rate), rate, fps, n_frames)
    db = 20.0 * np.log10(np.maximum(rms, 1e-9))
    loud = np.percentile(db, 95) if n_frames else 0.0
    gate = max(loud - 35.0, -70.0)
    opened = np.clip((db - gate) / 30.0, 0.0, 1.0) ** 1.5
    if n_frames >= 3:
        opened = np.convolve(np.pad(opened, 1, mode="edge"), np.ones(3) / 3.0, mode="valid")
    opened[db < gate] = 0.0  # smoothing must not carry the mouth into silence
    quiet = db < gate + 3.0
    run_min = max(1, int(round(0.15 * fps)))
    start = None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if i - start >= run_min:
                opened[start:i] = 0.0
            start = None
    return np.clip(opened, 0.0, 1.0), np.zeros(n_frames)


def mouth_track(soundtrack, fps: float, n_frames: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(open, spread, driver) per frame for a Soundtrack.

    An exact timeline ("engine") sets the shapes and their timing, the jaw opening
    scaled by loudness (louder speech, wider jaw); an estimated one ("scaled",
    "aligned") only lends its vowel shapes to an opening that follows the audio;
    no timeline: the audio alone.
    """
    samples, rate = soundtrack.samples, soundtrack.sample_rate
    times = (np.arange(n_frames) + 0.5) / fps
    if not soundtrack.timeline or soundtrack.timeline_source == "none":
        return audio_shapes(samples, rate, fps, n_frames)[0], np.zeros(n_frames), "audio"
    opening, spread = timeline_shapes(soundtrack.timeline, times)
    if soundtrack.timeline_source != "engine":
        audio_open = audio_shapes(samples, rate, fps, n_frames)[0]
        return audio_open, spread * (audio_open > 0.02), "audio+timeline shapes"
    rms = frame_rms(voiced_band(samples, rate), rate, fps, n_frames)
    level = np.clip(rms / max(float(np.percentile(rms, 95)), 1e-9), 0.0, 1.0)
    opening = opening * loudness_gate(samples, rate, fps, n_frames, rms=rms) * (0.5 + 0.5 * level)
    return opening, spread, "timeline"
