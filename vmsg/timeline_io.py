"""The phoneme timeline beside an audio file (`x.wav` → `x.timeline.json`), so
chained subcommands keep exact lip-sync timing."""

from __future__ import annotations

import json
from pathlib import Path

from vmsg.errors import InputError
from vmsg.store import write_bytes_atomic
from vmsg.types import Phoneme


def timeline_path_for(audio: Path | str) -> Path:
    audio = Path(audio)
    return audio.with_name(f"{audio.stem}.timeline.json")


def write_timeline(audio: Path | str, timeline: tuple[Phoneme, ...], source: str) -> Path:
    payload = {"source": source, "phonemes": [[p.symbol, round(p.start, 4), round(p.end, 4)] for p in timeline]}
    return write_bytes_atomic(timeline_path_for(audio), json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def read_timeline(audio: Path | str) -> tuple[tuple[Phoneme, ...], str]:
    """The timeline saved beside `audio`, or an empty one marked 'none' when there is none."""
    path = timeline_path_for(audio)
    if not path.is_file():
        return (), "none"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return tuple(Phoneme(str(s), float(a), float(b)) for s, a, b in payload["phonemes"]), str(payload.get("source", "engine"))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"timeline {path}: not a valid timeline file ({exc})") from exc


def read_speech(path: Path | str, *, what: str = "speech"):
    """A Speech from an audio file and the timeline saved beside it, if any."""
    from vmsg.media.audio import read_audio
    from vmsg.types import Speech

    samples, rate = read_audio(path, what=what)
    timeline, source = read_timeline(path)
    return Speech(samples, rate, timeline, source)


def write_speech(path: Path | str, speech) -> Path:
    """Write the audio and, when there is one, its timeline beside it."""
    from vmsg.media.audio import write_audio

    write_audio(path, speech.samples, speech.sample_rate)
    if speech.timeline:
        write_timeline(path, speech.timeline, speech.timeline_source)
    return Path(path)
