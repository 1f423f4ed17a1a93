"""Compose the background-music library in assets/bgm/ (deterministic numpy synthesis).

Every track is chords, bass, a melody and (for most moods) drums, rendered into a
circular buffer: a note that rings past the end wraps round to the start, and the
reverb is a circular convolution, so the last sample flows into the first and the
track loops without a seam. Same script, same files (fixed seeds).

    python scripts/make_bgm.py            # writes assets/bgm/*.ogg and library.yaml
    python scripts/make_bgm.py --only calm_piano
"""

from __future__ import annotations

import argparse
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RATE = 32000
LICENCE = "Apache-2.0 (composed by vmsg's scripts/make_bgm.py; the project's own)"

MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]


@dataclass(frozen=True)
class Track:
    id: str
    name: str
    mood: str
    category: str
    bpm: int
    root: int  # MIDI note of the key
    scale: tuple[int, ...]
    progression: tuple[int, ...]  # scale degrees (0-based), one chord per bar
    chords: str  # pad | piano | pluck
    drums: str  # none | soft | pop | four | swing
    melody: str  # piano | bell | pluck | none
    seconds: float
    seed: int


TRACKS = [
    Track("corporate_bright", "Bright Horizon", "corporate", "business", 116, 60, MAJOR, (0, 4, 5, 3), "piano", "pop", "bell", 74, 1),
    Track("corporate_drive", "Forward Drive", "corporate", "business", 120, 62, MAJOR, (0, 5, 3, 4), "pad", "pop", "pluck", 80, 2),
    Track("corporate_light", "Clean Slate", "corporate", "business", 108, 65, MAJOR, (3, 0, 4, 5), "piano", "soft", "piano", 71, 3),
    Track("calm_piano", "Calm Piano", "calm", "relax", 72, 60, MAJOR, (0, 3, 5, 4), "piano", "none", "piano", 80, 4),
    Track("calm_morning", "Quiet Morning", "calm", "relax", 76, 67, MAJOR, (0, 2, 3, 0), "pad", "none", "bell", 76, 5),
    Track("calm_ambient", "Soft Air", "calm", "ambient", 64, 62, MAJOR, (0, 3, 0, 4), "pad", "none", "none", 90, 6),
    Track("upbeat_pop", "Sunny Pop", "upbeat", "energetic", 124, 64, MAJOR, (0, 4, 5, 3), "pluck", "four", "pluck", 70, 7),
    Track("upbeat_dance", "Dance Floor", "upbeat", "energetic", 128, 57, MINOR, (0, 5, 2, 6), "pad", "four", "bell", 68, 8),
    Track("upbeat_sunny", "Happy Steps", "upbeat", "energetic", 118, 67, MAJOR, (0, 3, 4, 0), "pluck", "pop", "bell", 65, 9),
    Track("emotional_strings", "Long Letter", "emotional", "cinematic", 68, 57, MINOR, (0, 5, 2, 6), "pad", "none", "piano", 85, 10),
    Track("emotional_memory", "Old Photograph", "emotional", "cinematic", 70, 60, MAJOR, (5, 3, 0, 4), "piano", "none", "piano", 82, 11),
    Track("emotional_hope", "Rising Hope", "emotional", "cinematic", 80, 62, MAJOR, (5, 3, 0, 4), "pad", "soft", "bell", 72, 12),
    Track("casual_cafe", "Corner Cafe", "casual", "lifestyle", 92, 65, MAJOR, (0, 5, 1, 4), "piano", "swing", "pluck", 73, 13),
    Track("casual_walk", "Sunday Walk", "casual", "lifestyle", 98, 60, MAJOR, (0, 3, 4, 3), "pluck", "swing", "bell", 69, 14),
    Track("casual_ukulele", "Backyard", "casual", "lifestyle", 104, 67, MAJOR, (0, 4, 3, 4), "pluck", "soft", "pluck", 74, 15),
]


def hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12.0)


def add(buf: np.ndarray, sig: np.ndarray, at: int) -> None:
    """Add `sig` into the circular `buf` starting at `at` (wrapping round the end)."""
    n = len(buf)
    at %= n
    first = min(len(sig), n - at)
    buf[at : at + first] += sig[:first]
    rest = sig[first:]
    while rest.size:
        k = min(len(rest), n)
        buf[:k] += rest[:k]
        rest = rest[k:]


@functools.cache
def tone(freq: float, seconds: float, *, harmonics: int, decay: float, attack: float = 0.005,
         bright: float = 1.5, sustain: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * freq * k * t * (1 + 0.0007 * (k - 1))) / k**bright for k in range(1, harmonics + 1)
               if freq * k < RATE / 2.2)
    env = np.minimum(1.0, t / attack) * (sustain + (1 - sustain) * np.exp(-t / decay))
    release = np.minimum(1.0, (seconds - t) / 0.05)
    return (wave * env * release).astype(np.float32)


@functools.cache
def pad_tone(freq: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = sum(np.sin(2 * np.pi * freq * d * t) for d in (0.997, 1.0, 1.003)) / 3
    wave = wave + 0.3 * np.sin(2 * np.pi * 2 * freq * t)
    env = np.minimum(1.0, t / 0.4) * np.minimum(1.0, (seconds - t) / 0.4)
    return (wave * env).astype(np.float32)


def chord_notes(track: Track, degree: int) -> list[int]:
    scale = track.scale
    return [track.root + scale[(degree + i) % 7] + 12 * ((degree + i) // 7) for i in (0, 2, 4, 6 if track.mood == "calm" else 7)]


def drums(buf: np.ndarray, track: Track, beat: int, bars: int, rng: np.random.Generator) -> None:
    if track.drums == "none":
        return
    level = 0.35 if track.drums == "soft" else 0.6
    t = np.arange(int(0.35 * RATE)) / RATE
    kick = (np.sin(2 * np.pi * (45 * t + 60 * 0.04 * (1 - np.exp(-t / 0.04)))) * np.exp(-t / 0.12)).astype(np.float32)
    noise = rng.standard_normal(int(0.2 * RATE)).astype(np.float32)
    tn = np.arange(len(noise)) / RATE
    snare = (np.diff(noise, prepend=0) * 0.5 * np.exp(-tn / 0.05) + 0.5 * np.sin(2 * np.pi * 185 * tn) * np.exp(-tn / 0.04)).astype(np.float32)
    hat_n = np.diff(np.diff(rng.standard_normal(int(0.05 * RATE)), prepend=0), prepend=0).astype(np.float32)
    hat = hat_n * np.exp(-np.arange(len(hat_n)) / RATE / 0.012).astype(np.float32) * 0.25
    for i in range(bars * 4):
        at = i * beat
        if track.drums == "four" or i % 2 == 0:
            add(buf, kick * level, at)
        if i % 2 == 1:
            add(buf, snare * level * 0.6, at)
        swing = int(beat * (0.62 if track.drums == "swing" else 0.5))
        add(buf, hat * level, at)
        add(buf, hat * level * 0.6, at + swing)


def layout(track: Track) -> tuple[int, int, int]:
    """(samples per beat, per bar, number of bars): whole chord cycles near `seconds`."""
    beat = int(round(RATE * 60.0 / track.bpm))
    bar = 4 * beat
    bars = max(8, int(round(track.seconds * RATE / bar / len(track.progression))) * len(track.progression))
    return beat, bar, bars


def render(track: Track) -> np.ndarray:
    rng = np.random.default_rng(track.seed)
    beat, bar, bars = layout(track)
    n = bars * bar
    chords_bus, bass_bus, melody_bus, drum_bus = (np.zeros(n, np.float32) for _ in range(4))
    bar_s = bar / RATE
    for b in range(bars):
        degree = track.progression[b % len(track.progression)]
        notes = chord_notes(track, degree)
        at = b * bar
        if track.chords == "pad":
            for m in notes:
                add(chords_bus, pad_tone(hz(m), bar_s + 0.4) * 0.18, at)
        elif track.chords == "piano":
            for k, m in enumerate(notes):
                add(chords_bus, tone(hz(m), 2.5, harmonics=6, decay=0.9) * 0.16, at + k * int(0.012 * RATE))
                add(chords_bus, tone(hz(m), 1.5, harmonics=6, decay=0.5) * 0.08, at + 2 * beat)
        else:
            for step in range(8):
                strum = notes if step % 2 == 0 else notes[1:]
                for k, m in enumerate(strum):
                    add(chords_bus, tone(hz(m + 12), 0.45, harmonics=5, decay=0.12, bright=1.2) * 0.1,
                        at + step * beat // 2 + k * int(0.008 * RATE))
        root = notes[0] - 24
        pattern = (0, 2) if track.bpm < 90 else (0, 1.5, 2, 3.5)
        for p in pattern:
            add(bass_bus, tone(hz(root), beat / RATE * 1.4, harmonics=3, decay=0.35, bright=2.0, sustain=0.2) * 0.35,
                at + int(p * beat))
        if track.melody != "none":
            pool = [m + 12 for m in notes[:3]] + [track.root + 12 + track.scale[i] for i in (1, 4)]
            steps = 8 if track.bpm < 90 else 6
            for s in range(steps):
                if rng.random() < 0.35:
                    continue
                m = int(rng.choice(pool))
                length = beat * (4 / steps) / RATE * 1.6
                timbre = {"piano": dict(harmonics=6, decay=0.6), "bell": dict(harmonics=3, decay=0.45, bright=2.5),
                          "pluck": dict(harmonics=5, decay=0.15, bright=1.2)}[track.melody]
                add(melody_bus, tone(hz(m), length + 0.5, **timbre) * 0.14, at + int(s * bar / steps))
    drums(drum_bus, track, beat, bars, rng)
    mix = chords_bus + bass_bus + melody_bus + drum_bus
    mix = mix + 0.18 * circular_reverb(chords_bus + melody_bus, rng)
    mix = np.tanh(mix * 1.2) / 1.2
    return (mix / np.max(np.abs(mix)) * 0.7).astype(np.float32)


def circular_reverb(x: np.ndarray, rng: np.random.Generator, seconds: float = 1.2) -> np.ndarray:
    """Convolution with a decaying-noise response, done circularly (FFT) so the loop stays seamless."""
    k = int(seconds * RATE)
    ir = rng.standard_normal(k) * np.exp(-np.arange(k) / RATE / 0.35)
    ir = np.pad(ir / np.sqrt(np.sum(ir**2)), (0, len(x) - k))
    return np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(ir), n=len(x)).astype(np.float32)


def encode_ogg(path: Path, audio: np.ndarray) -> None:
    """Ogg Vorbis through ffmpeg (libsndfile's Vorbis writer crashes on long inputs), atomically."""
    from vmsg.media.ffmpeg import run_ffmpeg
    from vmsg.store import atomic_path

    with atomic_path(path) as tmp:
        raw = tmp.with_suffix(".f32")
        raw.write_bytes(audio.astype(np.float32).tobytes())
        try:
            run_ffmpeg(["-f", "f32le", "-ac", "1", "-ar", str(RATE), "-i", str(raw), "-c:a", "libvorbis", "-q:a", "1",
                        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact", str(tmp)], what=f"encoding {path.name}")
        finally:
            raw.unlink(missing_ok=True)


def main() -> int:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "assets" / "bgm"))
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for track in TRACKS:
        file = f"{track.id}.ogg"
        _, bar, bars = layout(track)
        if not args.only or track.id in args.only:
            encode_ogg(out / file, render(track))
        entries.append({"id": track.id, "name": track.name, "mood": track.mood, "category": track.category,
                        "duration": round(bar * bars / RATE, 2), "bpm": track.bpm, "licence": LICENCE,
                        "file": file, "seamless": True})
        print(f"{track.id}: {bar * bars / RATE:.1f} s")
    header = "# Made by scripts/make_bgm.py; re-run it to regenerate. seamless: loops end-to-start without a crossfade.\n"
    (out / "library.yaml").write_text(header + yaml.safe_dump({"tracks": entries}, sort_keys=False, allow_unicode=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
