"""enhance: the voice prepared for lip-sync and delivery, between prosody and mix.

Noise reduction (noisereduce, spectral gating against the noise heard in the
pauses; skipped when there is under 0.25 s of pause to learn it from, or when
that noise is under −60 dBFS, as in clean TTS output), a high-pass against rumble, a
gentle presence lift where consonants live, edge silence trimmed to a fixed
padding (the timeline moves with it, so the mouth still opens on the first
syllable), then loudness to a target with a true-peak limiter.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from vmsg.errors import InputError
from vmsg.stages.options import StageOptions
from vmsg.types import Phoneme, Speech


MIN_NOISE_S = 0.25


class EnhanceOptions(StageOptions):
    denoise: float = Field(0.5, ge=0.0, le=1.0, description="noise reduction strength (0 = off)")
    denoise_floor_db: float = Field(-60.0, ge=-120.0, le=0.0,
                                    description="denoise only when the noise heard in the pauses is louder than this")
    highpass_hz: float = Field(80.0, ge=0.0, le=400.0, description="high-pass corner (0 = off)")
    presence_db: float = Field(2.0, ge=-6.0, le=9.0, description="peaking EQ gain at presence_hz (0 = off)")
    presence_hz: float = Field(3500.0, ge=1000.0, le=8000.0)
    trim: bool = Field(True, description="trim edge silence to the padding below")
    trim_threshold_db: float = Field(-45.0, ge=-90.0, le=-10.0, description="below the peak level counts as silence")
    pad_start: float = Field(0.15, ge=0.0, le=5.0, description="seconds of silence kept before the voice")
    pad_end: float = Field(0.3, ge=0.0, le=5.0, description="seconds of silence kept after the voice")
    target_lufs: float | None = Field(-16.0, ge=-40.0, le=-5.0, description="integrated loudness; None = leave level")
    true_peak_db: float = Field(-1.0, ge=-9.0, le=0.0, description="true-peak ceiling, dBTP")


def enhance(speech: Speech, options: EnhanceOptions | None = None) -> Speech:
    options = options or EnhanceOptions()
    x, rate = np.asarray(speech.samples, dtype=np.float32), speech.sample_rate
    if x.ndim != 1 or x.size == 0:
        raise InputError(f"speech to enhance: expected mono samples, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError("speech to enhance: contains NaN or infinite samples")
    steps = []
    if options.denoise > 0 and np.any(x):
        profile = noise_profile(speech)
        floor = rms_db(profile)
        if profile.size >= int(MIN_NOISE_S * rate) and floor > options.denoise_floor_db:
            x = denoise(x, rate, options.denoise, profile)
            steps.append("denoise")
    if options.highpass_hz > 0:
        x = highpass(x, rate, options.highpass_hz)
        steps.append("highpass")
    if options.presence_db != 0:
        x = peaking_eq(x, rate, options.presence_hz, options.presence_db, q=0.9)
        steps.append("presence")
    out = speech.with_audio(x.astype(np.float32))
    if options.trim:
        out = trim_and_pad(out, options.trim_threshold_db, options.pad_start, options.pad_end)
        steps.append("trim")
    if options.target_lufs is not None:
        from vmsg.media.dynamics import normalize

        out = out.with_audio(normalize(out.samples, rate, target_lufs=options.target_lufs, true_peak_db=options.true_peak_db))
        steps.append("loudness")
    return out.with_audio(out.samples, enhance_steps=steps)


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20)) if x.size else -200.0


def noise_profile(speech: Speech) -> np.ndarray:
    """What the noise sounds like: the pau/sil spans of the timeline, else the quietest
    15 % of 20 ms frames. Spectral gating estimated on the whole clip would gate the
    voice itself wherever it is steady."""
    x, rate = speech.samples, speech.sample_rate
    spans = [x[int(p.start * rate) : int(p.end * rate)] for p in speech.timeline if p.is_silence]
    if spans and sum(len(s) for s in spans) >= MIN_NOISE_S * rate:
        return np.concatenate(spans)
    hop = int(0.02 * rate)
    n = len(x) // hop
    if n < 10:
        return x[:0]
    frames = x[: n * hop].reshape(n, hop)
    quiet = np.argsort(np.mean(frames.astype(np.float64) ** 2, axis=1))[: max(1, int(0.15 * n))]
    return frames[np.sort(quiet)].reshape(-1)


DENOISE_CHUNK_S = 150.0


def denoise(x: np.ndarray, rate: int, strength: float, noise: np.ndarray) -> np.ndarray:
    """Stationary spectral gating (noisereduce) against the given noise profile.

    Up to 150 s go through as one chunk (noisereduce's default 600 000-sample chunks
    each carry 2 × 30 000 samples of padding: ~20 % of the work on a minute of speech,
    and seams where the chunks meet); its FFTs use every core (scipy.fft workers)."""
    import os

    import noisereduce
    import scipy.fft

    chunk = max(600_000, min(len(x), int(DENOISE_CHUNK_S * rate)) + 1)
    with scipy.fft.set_workers(max(1, os.cpu_count() or 1)):
        y = noisereduce.reduce_noise(y=x, sr=rate, y_noise=noise, stationary=True, prop_decrease=strength, n_jobs=1,
                                     chunk_size=chunk)
    return np.asarray(y, dtype=np.float32)


def highpass(x: np.ndarray, rate: int, corner: float) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    sos = butter(2, corner, btype="highpass", fs=rate, output="sos")
    return sosfiltfilt(sos, x).astype(np.float32)


def peaking_eq(x: np.ndarray, rate: int, freq: float, gain_db: float, q: float) -> np.ndarray:
    """RBJ cookbook peaking biquad, run forward only (phase shift is inaudible here)."""
    from scipy.signal import lfilter

    if freq >= rate / 2 * 0.95:
        return x
    a_gain = 10 ** (gain_db / 40.0)
    w0 = 2 * np.pi * freq / rate
    alpha = np.sin(w0) / (2 * q)
    b = np.array([1 + alpha * a_gain, -2 * np.cos(w0), 1 - alpha * a_gain])
    a = np.array([1 + alpha / a_gain, -2 * np.cos(w0), 1 - alpha / a_gain])
    return lfilter(b / a[0], a / a[0], x).astype(np.float32)


def voiced_bounds(speech: Speech, threshold_db: float) -> tuple[int, int] | None:
    """First and last sample above the threshold, never inside a spoken phoneme."""
    from vmsg.media.dynamics import frame_rms_db

    levels, hop = frame_rms_db(speech.samples, speech.sample_rate)
    loud = np.flatnonzero(levels > levels.max() + threshold_db) if levels.max() > -100 else np.array([], int)
    if loud.size == 0:
        return None
    start, end = int(loud[0] * hop), min(len(speech.samples), int((loud[-1] + 1) * hop))
    spoken = [p for p in speech.timeline if not p.is_silence]
    if spoken:
        start = min(start, int(spoken[0].start * speech.sample_rate))
        end = max(end, int(np.ceil(spoken[-1].end * speech.sample_rate)))
    return max(0, start), min(len(speech.samples), end)


def trim_and_pad(speech: Speech, threshold_db: float, pad_start: float, pad_end: float) -> Speech:
    """Keep `pad_start`/`pad_end` seconds around the voice; shift the timeline to match."""
    rate = speech.sample_rate
    bounds = voiced_bounds(speech, threshold_db)
    if bounds is None:
        raise InputError("speech to enhance: is silent (nothing above the trim threshold)")
    start, end = bounds
    x = np.concatenate([np.zeros(int(round(pad_start * rate)), np.float32), speech.samples[start:end],
                        np.zeros(int(round(pad_end * rate)), np.float32)])
    shift = pad_start - start / rate
    total = len(x) / rate
    timeline = []
    for p in speech.timeline:
        a, b = min(total, max(0.0, p.start + shift)), min(total, max(0.0, p.end + shift))
        if b > a:
            timeline.append(Phoneme(p.symbol, a, b))
    if timeline:
        if timeline[0].start > 0:
            timeline.insert(0, Phoneme("sil", 0.0, timeline[0].start))
        if timeline[-1].end < total:
            timeline.append(Phoneme("sil", timeline[-1].end, total))
    from dataclasses import replace

    return replace(speech, samples=x, timeline=tuple(timeline), meta={**speech.meta, "trim_shift": round(shift, 4)})
