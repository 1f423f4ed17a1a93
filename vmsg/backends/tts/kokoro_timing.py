"""Kokoro's own phoneme durations, and an OpenJTalk timeline moved onto them.

Kokoro's ONNX graph computes every input token's duration (the rounded, clipped
duration-predictor output `/encoder/Clip_output_0`) before the decoder; it is not
a graph output, so the graph is loaded with `onnx` and that tensor added as one.
Each duration unit is 600 samples at 24 kHz, and sum(durations) * 600 equals the
audio length exactly. The decoder's audio leads that grid by about three units,
the shift Kokoro's reference pipeline also applies to its word timestamps.

Kokoro's tokens are misaki phoneme characters, not OpenJTalk's symbols, so the
OpenJTalk timeline of the same sentence (the symbols the renderer knows) is
mapped piecewise-linearly through anchors: the n-th vowel of one onto the n-th
vowel of the other, pauses onto commas, and both ends.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vmsg.types import Phoneme

log = logging.getLogger(__name__)

DURATION_OUTPUT = "/encoder/Clip_output_0"
SAMPLES_PER_UNIT = 600
LEAD_UNITS = 3
"""The audio leads the duration grid by this many units (75 ms); measured here at about 67-75 ms."""
KOKORO_VOWELS = frozenset("aiueoɨɯː")
KOKORO_PAUSES = frozenset(",.!?;:—…、。！？")
OJT_VOWELS = frozenset("aiueoAIUEO")


def session_with_durations(model_path: str, options, providers: list[str]):
    """An onnxruntime session whose second output is the token durations, or None when the graph has no such tensor."""
    try:
        import onnx
    except ImportError:
        return None
    from vmsg.onnx_cache import cached_session

    def with_durations() -> bytes:
        model = onnx.load(model_path)
        produced = {out for node in model.graph.node for out in node.output}
        if DURATION_OUTPUT not in produced:
            raise LookupError(DURATION_OUTPUT)
        model.graph.output.append(onnx.helper.make_tensor_value_info(DURATION_OUTPUT, onnx.TensorProto.FLOAT, None))
        return model.SerializeToString()

    try:
        session = cached_session(Path(model_path), f"outputs+{DURATION_OUTPUT}", with_durations, options, providers)
    except LookupError:
        log.warning("kokoro model has no %s tensor: timelines fall back to DTW alignment", DURATION_OUTPUT)
        return None
    if DURATION_OUTPUT not in {o.name for o in session.get_outputs()}:
        return None
    return session


def token_spans(durations: np.ndarray, rate: int, offset: float) -> np.ndarray:
    """(start, end) seconds of each input token (BOS and EOS excluded), shifted by the audio lead and `offset`."""
    edges = np.concatenate([[0.0], np.cumsum(np.asarray(durations, np.float64).ravel())])
    edges = (edges - LEAD_UNITS).clip(min=0.0) * SAMPLES_PER_UNIT / rate - offset
    return np.stack([edges[1:-2], edges[2:-1]], axis=1)


def map_by_anchors(reference: Sequence[Phoneme], chars: Sequence[str], spans: np.ndarray,
                   duration: float) -> tuple[Phoneme, ...] | None:
    """The reference timeline moved onto Kokoro's token spans; None when vowels do not pair up one to one."""
    ref_vowels = [p for p in reference if p.symbol in OJT_VOWELS]
    k_vowels = [i for i, c in enumerate(chars) if c in KOKORO_VOWELS]
    if not ref_vowels or len(ref_vowels) != len(k_vowels):
        return None
    src = [0.0] + [p.start for p in ref_vowels]
    dst = [0.0] + [float(spans[i, 0]) for i in k_vowels]
    ref_pauses = [p for p in reference if p.symbol == "pau"]
    k_pauses = [i for i, c in enumerate(chars) if c in KOKORO_PAUSES and 0 < i < len(chars) - 1]
    if len(ref_pauses) == len(k_pauses):
        src += [t for p in ref_pauses for t in (p.start, p.end)]
        dst += [float(t) for i in k_pauses for t in spans[i]]
    end = reference[-1].end
    src.append(end)
    dst.append(duration)
    order = np.argsort(src, kind="stable")
    src_a, dst_a = np.asarray(src)[order], np.maximum.accumulate(np.clip(np.asarray(dst)[order], 0.0, duration))
    bounds = np.interp([p.start for p in reference] + [end], src_a, dst_a)
    bounds = np.maximum.accumulate(bounds)
    bounds[-1] = duration
    return tuple(Phoneme(p.symbol, float(a), float(b)) for p, a, b in zip(reference, bounds[:-1], bounds[1:]))
