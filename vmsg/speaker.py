"""Speaker similarity with resemblyzer (GE2E d-vectors; the weights ship in its wheel).

Raw similarity is the cosine of two 256-d utterance embeddings. It means little
on its own (two different women can score 0.7), so `normalised` places it
between two anchors measured for the same reference: 0 = what the stock voice
scores against it, 1 = what two halves of the real reference clip score
against each other.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from vmsg.errors import BackendError, InputError

log = logging.getLogger(__name__)

RATE = 16000
MIN_SECONDS = 1.0


@functools.lru_cache(maxsize=1)
def _encoder():
    try:
        from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise BackendError(
            f"speaker similarity needs resemblyzer, which cannot be imported ({exc})",
            hint="pip install 'vmsg[clone]'",
        ) from exc
    import torch

    from vmsg.threads import threads

    torch.set_num_threads(threads())
    return VoiceEncoder("cpu", verbose=False)


def embed(samples: np.ndarray, rate: int, *, what: str = "audio") -> np.ndarray:
    """Unit-length speaker embedding of one utterance (long silences trimmed first)."""
    from resemblyzer import preprocess_wav

    from vmsg.media.audio import resample

    encoder = _encoder()
    wav = preprocess_wav(resample(np.asarray(samples, np.float32), rate, RATE), source_sr=RATE)
    if len(wav) < MIN_SECONDS * RATE:
        raise InputError(f"{what}: less than {MIN_SECONDS:.0f} s of speech left after trimming silence")
    return np.asarray(encoder.embed_utterance(wav), np.float32)


def mean_embedding(embeddings: list[np.ndarray]) -> np.ndarray:
    """Speaker embedding of several clips: the normalised mean (as resemblyzer's embed_speaker)."""
    mean = np.mean(np.stack(embeddings), axis=0)
    return (mean / np.linalg.norm(mean)).astype(np.float32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def half_split_similarity(samples: np.ndarray, rate: int, *, what: str = "reference clip") -> float:
    """Similarity between the two halves of one real clip: the '1' anchor."""
    half = len(samples) // 2
    return similarity(embed(samples[:half], rate, what=what), embed(samples[half:], rate, what=what))


def normalised(raw: float, *, stock: float, ceiling: float) -> float | None:
    """(raw − stock) / (ceiling − stock); None when the anchors are too close to mean anything."""
    span = ceiling - stock
    if span < 0.02:
        return None
    return (raw - stock) / span


def score(samples: np.ndarray, rate: int, profile, *, baseline: tuple[np.ndarray, int] | None = None,
          what: str = "speech") -> dict:
    """Similarity of `samples` to a profile, raw and normalised.

    The '0' anchor is `baseline` (the same words before conversion) when given, else the
    stock Kokoro voice's similarity measured when the profile was made; the '1' anchor is
    the profile's half-split self-similarity.
    """
    raw = similarity(embed(samples, rate, what=what), profile.embedding)
    if baseline is not None:
        stock, stock_from = similarity(embed(*baseline, what="baseline"), profile.embedding), "baseline"
    else:
        stock, stock_from = profile.facts.get("stock_similarity"), "profile (stock kokoro voice, probe sentence)"
    ceiling = profile.facts.get("self_similarity")
    norm = normalised(raw, stock=stock, ceiling=ceiling) if stock is not None and ceiling is not None else None
    return {
        "similarity": round(raw, 4),
        "stock_similarity": None if stock is None else round(float(stock), 4),
        "stock_from": stock_from,
        "self_similarity": ceiling,
        "normalised": None if norm is None else round(norm, 4),
    }
