"""Joining per-chunk speech into one Speech with natural pauses, timelines kept in step."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vmsg.types import Phoneme, Speech


def edge_silence(speech: Speech) -> tuple[float, float]:
    """Seconds of silence the engine already put at the start and the end (from its timeline)."""
    lead = 0.0
    for p in speech.timeline:
        if not p.is_silence:
            break
        lead = p.end
    tail = speech.duration
    for p in reversed(speech.timeline):
        if not p.is_silence:
            break
        tail = p.start
    return lead, max(0.0, speech.duration - tail)


def trim_edges(speech: Speech, *, lead_max: float, tail_max: float) -> Speech:
    """Cut the engine's edge silence down to at most `lead_max` / `tail_max` seconds; the timeline follows."""
    lead, tail = edge_silence(speech)
    rate = speech.sample_rate
    a = int(round(max(0.0, lead - lead_max) * rate))
    b = len(speech.samples) - int(round(max(0.0, tail - tail_max) * rate))
    if a == 0 and b == len(speech.samples):
        return speech
    t0, t1 = a / rate, b / rate
    timeline = tuple(Phoneme(p.symbol, max(p.start, t0) - t0, min(p.end, t1) - t0)
                     for p in speech.timeline if min(p.end, t1) > max(p.start, t0))
    return Speech(speech.samples[a:b], rate, timeline, speech.timeline_source, dict(speech.meta))


def join_speech(pieces: Sequence[Speech], pauses: Sequence[float]) -> Speech:
    """Concatenate `pieces`, putting `pauses[i]` seconds of silence (counting the engines' own edge silence)
    between piece i and i+1. All pieces must share one sample rate."""
    if not pieces:
        raise ValueError("nothing to join")
    if len(pieces) == 1:
        return pieces[0]
    rate = pieces[0].sample_rate
    last = len(pieces) - 1
    pieces = [trim_edges(p, lead_max=pauses[i - 1] / 2 if i else float("inf"),
                         tail_max=pauses[i] / 2 if i < last else float("inf")) for i, p in enumerate(pieces)]
    audio: list[np.ndarray] = []
    timeline: list[Phoneme] = []
    offset = 0
    for i, piece in enumerate(pieces):
        if piece.sample_rate != rate:
            raise ValueError(f"chunk {i} has rate {piece.sample_rate}, expected {rate}")
        if i:
            gap_s = max(0.0, pauses[i - 1] - edge_silence(pieces[i - 1])[1] - edge_silence(piece)[0])
            gap = int(round(gap_s * rate))
            if gap:
                audio.append(np.zeros(gap, np.float32))
                timeline.append(Phoneme("pau", offset / rate, (offset + gap) / rate))
                offset += gap
        shift = offset / rate
        audio.append(np.asarray(piece.samples, np.float32))
        timeline.extend(Phoneme(p.symbol, p.start + shift, p.end + shift) for p in piece.timeline)
        offset += len(piece.samples)
    sources = {p.timeline_source for p in pieces}
    source = sources.pop() if len(sources) == 1 else "mixed"
    return Speech(np.concatenate(audio), rate, tuple(timeline), source, dict(pieces[0].meta))
