"""Moving a phoneme timeline with the audio: a piecewise-linear time map
(input seconds → output seconds), and pause lengths retimed at pau/sil phonemes."""

from __future__ import annotations

import numpy as np

from vmsg.types import Phoneme, Speech

SENTENCE_MARKS = "。．.！!？?"
COMMA_MARKS = "、，,"


def remap(timeline: tuple[Phoneme, ...], src: np.ndarray, dst: np.ndarray) -> tuple[Phoneme, ...]:
    """Every start/end moved through the map; times beyond its ends extrapolate linearly."""
    def f(t: float) -> float:
        if t <= src[-1]:
            return float(np.interp(t, src, dst))
        slope = (dst[-1] - dst[-2]) / max(1e-9, src[-1] - src[-2])
        return float(dst[-1] + (t - src[-1]) * slope)

    return tuple(Phoneme(p.symbol, f(p.start), f(p.end)) for p in timeline)


def pause_kinds(speech: Speech) -> list[str]:
    """'comma' or 'sentence' for each interior pause, from the punctuation of the text.

    The interior pau phonemes follow the punctuation marks in order; when the
    counts disagree (an engine paused by itself) every interior pause counts as
    a comma, and the final silence as a sentence end.
    """
    interior = [i for i, p in enumerate(speech.timeline) if p.symbol == "pau"]
    text = str(speech.meta.get("text", ""))
    marks = [c for c in text if c in SENTENCE_MARKS or c in COMMA_MARKS]
    if text and marks and marks[-1] in SENTENCE_MARKS:
        marks = marks[:-1]
    if len(marks) == len(interior):
        return ["sentence" if m in SENTENCE_MARKS else "comma" for m in marks]
    return ["comma"] * len(interior)


def retime_pauses(speech: Speech, *, comma: float | None, sentence: float | None) -> Speech:
    """Set each interior pause to `comma`/`sentence` seconds (None keeps it).

    A longer pause gets silence inserted in its middle, a shorter one loses its
    middle, so the edges of the neighbouring phonemes are untouched.
    """
    if (comma is None and sentence is None) or not speech.timeline:
        return speech
    rate, x = speech.sample_rate, speech.samples
    kinds = iter(pause_kinds(speech))
    pieces, src, dst = [], [0.0], [0.0]
    cursor, out_len = 0, 0
    for p in speech.timeline:
        if p.symbol != "pau":
            continue
        want = comma if next(kinds) == "comma" else sentence
        if want is None:
            continue
        a, b = int(round(p.start * rate)), min(len(x), int(round(p.end * rate)))
        mid = (a + b) // 2
        delta = int(round(want * rate)) - (b - a)
        if delta == 0 or a < cursor:
            continue
        pieces.append(x[cursor:mid] if delta > 0 else x[cursor : mid + delta // 2])
        out_len += len(pieces[-1])
        src.append((cursor + len(pieces[-1])) / rate)
        dst.append(out_len / rate)
        if delta > 0:
            pieces.append(np.zeros(delta, dtype=np.float32))
            out_len += delta
            cursor = mid
        else:
            cursor = mid + delta // 2 - delta
        src.append(cursor / rate)
        dst.append(out_len / rate)
    pieces.append(x[cursor:])
    out_len += len(pieces[-1])
    src.append(len(x) / rate)
    dst.append(out_len / rate)
    timeline = remap(speech.timeline, np.asarray(src), np.asarray(dst))
    return Speech(np.concatenate(pieces).astype(np.float32), rate, timeline, speech.timeline_source,
                  {**speech.meta, "pauses_retimed": True})
