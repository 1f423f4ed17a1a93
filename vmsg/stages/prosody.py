"""prosody: pitch, speed, energy, intonation and pause edits that keep formants,
pitch and the phoneme timeline in step with the audio.

Two paths: "native" hands speed and pitch to a TTS engine that can do them while
synthesising (engines say so with a `native_prosody` mapping), "post" edits the
synthesised audio. The run report records which path each value took.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from vmsg.backends.prosody import PROSODY_ENGINES
from vmsg.errors import InputError
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.types import Speech

Emotion = Literal["neutral", "happy", "sad", "angry"]

# Applied on top of the user's values: pitch adds (semitones), the others multiply.
EMOTIONS: dict[str, dict[str, float]] = {
    "neutral": {"pitch": 0.0, "speed": 1.0, "energy": 1.0, "intonation": 1.0},
    "happy": {"pitch": 1.5, "speed": 1.06, "energy": 1.12, "intonation": 1.3},
    "sad": {"pitch": -1.5, "speed": 0.9, "energy": 0.85, "intonation": 0.7},
    "angry": {"pitch": 0.5, "speed": 1.08, "energy": 1.25, "intonation": 1.2},
}
LIMITS = {"pitch": (-12.0, 12.0), "speed": (0.5, 2.0), "energy": (0.5, 1.5), "intonation": (0.0, 2.0)}
ENERGY_CEILING_DB = -1.0

# Engines of other folders that can apply prosody while synthesising, when the
# engine class does not declare `native_prosody` itself: prosody field → keyword
# of `synthesize` (values in vmsg's units: semitones, tempo factor, F0 scale).
NATIVE_PROSODY: dict[str, dict[str, str]] = {"openjtalk": {"speed": "speed", "pitch": "half_tone"}}


class ProsodyOptions(StageOptions):
    engine: str = "rubberband"
    pitch: float = Field(0.0, ge=-12.0, le=12.0, description="semitones (formants kept)")
    speed: float = Field(1.0, ge=0.5, le=2.0, description="tempo factor; >1 is faster (pitch kept)")
    energy: float = Field(1.0, ge=0.5, le=1.5, description="level factor; peaks held under -1 dBTP by a limiter")
    intonation: float = Field(1.0, ge=0.0, le=2.0, description="F0 contour around its mean: <1 flatter, >1 livelier")
    emotion: Emotion = Field("neutral", description="preset applied on top of the values above")
    comma_pause: float | None = Field(None, ge=0.0, le=3.0, description="seconds at each comma; None keeps the engine's")
    sentence_pause: float | None = Field(None, ge=0.0, le=5.0, description="seconds between sentences; None keeps them")
    path: Literal["auto", "native", "post"] = Field(
        "auto", description="auto: the TTS engine applies what it can, the rest is post-processed")
    device: DeviceName = "auto"

    def effective(self) -> dict[str, float]:
        """pitch/speed/energy/intonation with the emotion preset applied, clamped to the ranges."""
        preset = EMOTIONS[self.emotion]
        values = {"pitch": self.pitch + preset["pitch"], "speed": self.speed * preset["speed"],
                  "energy": self.energy * preset["energy"], "intonation": self.intonation * preset["intonation"]}
        return {k: float(np.clip(v, *LIMITS[k])) for k, v in values.items()}

    @property
    def is_neutral(self) -> bool:
        e = self.effective()
        return (e["pitch"] == 0.0 and e["speed"] == 1.0 and e["energy"] == 1.0 and e["intonation"] == 1.0
                and self.comma_pause is None and self.sentence_pause is None)


def _engine_class(tts_engine: str):
    from vmsg.backends.tts import SPEECH_ENGINES

    return SPEECH_ENGINES.load(tts_engine) if tts_engine in SPEECH_ENGINES else None


def native_capabilities(tts_engine: str) -> dict[str, str]:
    """Which prosody fields the TTS engine applies itself (field → synthesize keyword)."""
    declared = getattr(_engine_class(tts_engine), "native_prosody", None)
    if isinstance(declared, (set, frozenset, list, tuple)):
        declared = {k: k for k in declared}
    return dict(declared) if declared else dict(NATIVE_PROSODY.get(tts_engine, {}))


def native_limits(tts_engine: str) -> dict[str, tuple[float, float]]:
    """Ranges inside which the engine applies a field natively (an engine's `native_limits` narrows them)."""
    return {"speed": LIMITS["speed"], **(getattr(_engine_class(tts_engine), "native_limits", None) or {})}


NEUTRAL: dict[str, float | None] = {"pitch": 0.0, "speed": 1.0, "energy": 1.0, "intonation": 1.0,
                                    "comma_pause": None, "sentence_pause": None}


def split_native(options: ProsodyOptions, tts_engine: str, synth_speed: float = 1.0
                 ) -> tuple[dict[str, float], ProsodyOptions, dict[str, str]]:
    """(synthesize keywords, what is left for the post path, field → path used).

    Speed multiplies the synth stage's own speed; a value outside the engine's
    native range (speed: 0.5…2.0) stays on the post path. `path="post"` keeps
    everything on the post path. Pause fields count only when set.
    """
    values: dict[str, float] = dict(options.effective())
    values.update({k: float(v) for k in ("comma_pause", "sentence_pause") if (v := getattr(options, k)) is not None})
    caps = native_capabilities(tts_engine) if options.path != "post" else {}
    limits = native_limits(tts_engine) if caps else {}
    native: dict[str, float] = {}
    rest: dict[str, object] = {"emotion": "neutral", **options.effective()}
    used = {k: "post" for k, v in values.items() if v != NEUTRAL[k]}
    for name, keyword in caps.items():
        if name not in used:
            continue
        value = values[name] * synth_speed if name == "speed" else values[name]
        low, high = limits.get(name, (-np.inf, np.inf))
        if not low <= value <= high:
            continue
        native[keyword] = value
        rest[name] = NEUTRAL[name]
        used[name] = "native"
    return native, options.model_copy(update=rest), used


def prosody(speech: Speech, options: ProsodyOptions | None = None) -> Speech:
    """Apply the edits; the result's meta says what was done and how ("prosody_path")."""
    from vmsg.backends.prosody.timing import retime_pauses

    options = options or ProsodyOptions()
    if options.is_neutral:
        return speech
    if speech.samples.size == 0 or not np.isfinite(speech.samples).all():
        raise InputError("speech for prosody: empty, or contains NaN or infinite samples")
    e = options.effective()
    out = retime_pauses(speech, comma=options.comma_pause, sentence=options.sentence_pause)
    if e["pitch"] != 0.0 or e["speed"] != 1.0 or e["intonation"] != 1.0:
        engine = PROSODY_ENGINES.instance(PROSODY_ENGINES.check(options.engine), device=options.device)
        out = engine.apply(speech=out, pitch_semitones=e["pitch"], speed=e["speed"], intonation=e["intonation"])
    # scale_energy also limits; resynthesis (WORLD) can overshoot full scale, so limit in any case.
    out = out.with_audio(scale_energy(out.samples, out.sample_rate, e["energy"]))
    applied = {k: v for k, v in e.items() if v != (0.0 if k == "pitch" else 1.0)}
    path = {**speech.meta.get("prosody_path", {}), **{k: "post" for k in applied}}
    return out.with_audio(out.samples, prosody_applied=applied, prosody_path=path)


def scale_energy(samples: np.ndarray, rate: int, factor: float) -> np.ndarray:
    """Scale the level; a look-ahead true-peak limiter keeps peaks under −1 dBTP (no clipping)."""
    from vmsg.media.dynamics import limit

    return limit(samples * np.float32(factor) if factor != 1.0 else samples, rate, ceiling_db=ENERGY_CEILING_DB)
