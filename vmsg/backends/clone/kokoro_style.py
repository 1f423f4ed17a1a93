"""Fit a Kokoro style vector to a reference speaker ("cloned synth").

Kokoro's voice is a style array [tokens, 1, 256] (one 256-d vector per input
length). The ONNX model is not differentiable from here, so the fit is
gradient-free: start from the five stock voices, weighted by how close each
already sounds to the reference (resemblyzer similarity on a probe sentence),
then a seeded (1+1) evolution strategy over the mixing weights, allowing mild
extrapolation beyond the stock voices. Each step is one short Kokoro call plus
one embedding; the seed makes the fit reproducible.
"""

from __future__ import annotations

import logging
import time

import numpy as np

log = logging.getLogger(__name__)

PROBE_TEXT = "ありがとうございます。また明日会いましょう。"
STOCK_VOICE = "jf_alpha"
DEFAULT_EVALUATIONS = 18
MIN_WEIGHT = -0.35


def _kokoro():
    from vmsg.backends.tts import SPEECH_ENGINES

    return SPEECH_ENGINES.instance("kokoro", device="cpu")


def render(style: np.ndarray, text: str = PROBE_TEXT) -> tuple[np.ndarray, int]:
    """Kokoro audio of `text` with a given style array."""
    speech = _kokoro().synthesize(text=text, voice=STOCK_VOICE, speed=1.0, style=style)
    return speech.samples, speech.sample_rate


def stock_styles() -> tuple[list[str], np.ndarray]:
    engine = _kokoro()
    names = list(engine.voices())
    return names, np.stack([np.asarray(engine.style(v), np.float32) for v in names])


def fit_style(target: np.ndarray, *, evaluations: int = DEFAULT_EVALUATIONS, seed: int = 0) -> tuple[np.ndarray, dict]:
    """A style array whose voice resemblyzer finds closest to `target` (a unit embedding)."""
    from vmsg.speaker import embed, similarity

    started = time.perf_counter()
    names, styles = stock_styles()

    def score(weights: np.ndarray) -> float:
        samples, rate = render(np.tensordot(weights, styles, axes=1).astype(np.float32))
        return similarity(embed(samples, rate, what="probe"), target)

    stock = np.array([score(np.eye(len(names))[i]) for i in range(len(names))])
    best_w = np.eye(len(names))[int(np.argmax(stock))]
    best = float(stock.max())
    soft = np.exp((stock - stock.max()) * 25.0)
    soft /= soft.sum()
    value = score(soft)
    if value > best:
        best, best_w = value, soft
    rng = np.random.default_rng(seed)
    sigma, used = 0.25, len(names) + 1
    while used < evaluations:
        cand = best_w + rng.normal(0.0, sigma, len(names))
        cand /= cand.sum()
        if cand.min() < MIN_WEIGHT or not np.isfinite(cand).all():
            sigma *= 0.95
            continue
        value = score(cand)
        used += 1
        if value > best:
            best, best_w = value, cand
            sigma *= 1.2
        else:
            sigma *= 0.85
    facts = {
        "style_weights": {n: round(float(w), 4) for n, w in zip(names, best_w)},
        "probe_similarity": round(best, 4),
        "stock_similarity": round(float(stock[names.index(STOCK_VOICE)]), 4),
        "best_stock_voice": names[int(np.argmax(stock))],
        "best_stock_similarity": round(float(stock.max()), 4),
        "fit_evaluations": used,
        "fit_seconds": round(time.perf_counter() - started, 2),
    }
    log.info("kokoro style fit: %s", facts)
    return np.tensordot(best_w, styles, axes=1).astype(np.float32), facts
