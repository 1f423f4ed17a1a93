"""Artifacts ↔ bytes for the cache: one npz blob per artifact (arrays plus a JSON
header), so every backend (folder, Redis, S3) stores the same opaque bytes."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from vmsg.types import Cutout, PersonBox, Phoneme, Soundtrack, Speech

FORMAT = 1


def _pack(kind: str, arrays: dict[str, np.ndarray], meta: dict[str, Any], *, compress: bool = False) -> bytes:
    header = json.dumps({"kind": kind, "format": FORMAT, **meta}, ensure_ascii=False, default=_jsonable)
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, _header=np.frombuffer(header.encode("utf-8"), np.uint8), **arrays)
    return buf.getvalue()


def _unpack(data: bytes, kind: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays.pop("_header").tobytes().decode("utf-8"))
    if header.get("kind") != kind or header.get("format") != FORMAT:
        raise ValueError(f"cached artifact is a {header.get('kind')!r} v{header.get('format')}, expected {kind!r} v{FORMAT}")
    return arrays, header


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _timeline(timeline: tuple[Phoneme, ...]) -> list[list]:
    return [[p.symbol, p.start, p.end] for p in timeline]


def _phonemes(rows: list[list]) -> tuple[Phoneme, ...]:
    return tuple(Phoneme(str(s), float(a), float(b)) for s, a, b in rows)


def encode_cutout(cutout: Cutout) -> bytes:
    people = [[b.x0, b.y0, b.x1, b.y1, b.score, list(b.face) if b.face else None] for b in cutout.people]
    arrays = {"rgb": cutout.rgb, "alpha": cutout.alpha.astype(np.float32), "composite": cutout.composite}
    return _pack("cutout", arrays, {"people": people, "meta": cutout.meta}, compress=True)


def decode_cutout(data: bytes) -> Cutout:
    arrays, header = _unpack(data, "cutout")
    people = tuple(PersonBox(*p[:5], face=tuple(p[5]) if p[5] else None) for p in header["people"])
    return Cutout(arrays["rgb"], arrays["alpha"], arrays["composite"], people, header["meta"])


def _encode_audio(kind: str, value: Speech | Soundtrack) -> bytes:
    meta = {"sample_rate": value.sample_rate, "timeline": _timeline(value.timeline),
            "timeline_source": value.timeline_source, "meta": value.meta}
    return _pack(kind, {"samples": np.asarray(value.samples, np.float32)}, meta)


def encode_speech(speech: Speech) -> bytes:
    return _encode_audio("speech", speech)


def decode_speech(data: bytes) -> Speech:
    arrays, h = _unpack(data, "speech")
    return Speech(arrays["samples"], int(h["sample_rate"]), _phonemes(h["timeline"]), h["timeline_source"], h["meta"])


def encode_soundtrack(track: Soundtrack) -> bytes:
    return _encode_audio("soundtrack", track)


def decode_soundtrack(data: bytes) -> Soundtrack:
    arrays, h = _unpack(data, "soundtrack")
    return Soundtrack(arrays["samples"], int(h["sample_rate"]), _phonemes(h["timeline"]), h["timeline_source"], h["meta"])


def encode_video(mp4: bytes, facts: dict[str, Any]) -> bytes:
    return _pack("video", {"mp4": np.frombuffer(mp4, np.uint8)}, {"facts": facts})


def decode_video(data: bytes) -> tuple[bytes, dict[str, Any]]:
    arrays, header = _unpack(data, "video")
    return arrays["mp4"].tobytes(), header["facts"]
