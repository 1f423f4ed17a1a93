"""synth: message text → speech with its phoneme timeline."""

from __future__ import annotations

from pydantic import Field, model_validator

from vmsg.backends.tts import SPEECH_ENGINES
from vmsg.stages.options import BreakerOptions, DeviceName, StageOptions, primary_from_fallback
from vmsg.text import normalize_text
from vmsg.types import Speech


class SynthOptions(StageOptions):
    engine: str = "kokoro"
    voice: str | None = Field(None, description="engine voice; None = the engine's first voice")
    speed: float = Field(1.0, ge=0.5, le=2.0)
    device: DeviceName = "auto"
    fallback: list[str] = Field(default_factory=list, description="engines tried in turn when `engine` fails")
    breaker: BreakerOptions = Field(default_factory=BreakerOptions)

    _primary = model_validator(mode="before")(primary_from_fallback)


def synth(text: str, options: SynthOptions | None = None, *, native: dict[str, float] | None = None) -> Speech:
    """Speech from the first engine of `engine` + `fallback` that succeeds; `meta['attempts']` says why.

    `native`: prosody keywords for the primary engine to apply while synthesising (see stages.prosody);
    fallback engines never get them (they are engine-specific).
    """
    from vmsg.fallback import engine_chain, run_chain

    options = options or SynthOptions()
    clean = normalize_text(text)

    def attempt(name: str) -> Speech:
        engine = SPEECH_ENGINES.instance(SPEECH_ENGINES.check(name), device=options.device)
        voice = options.voice if name == options.engine else _fallback_voice(engine, options.voice)
        extra = (native or {}) if name == options.engine else {}
        speech = engine.synthesize(text=clean, voice=voice, speed=options.speed, **extra)
        return speech.with_audio(speech.samples, engine=name, engine_version=engine.version, text=clean)

    chain = engine_chain(options.engine, options.fallback)
    speech, attempts = run_chain("synth", chain, attempt,
                                 threshold=options.breaker.threshold, cooldown_s=options.breaker.cooldown_s)
    if len(chain) > 1:
        speech = speech.with_audio(speech.samples, attempts=[a.as_dict() for a in attempts])
    return speech


def _fallback_voice(engine, voice: str | None) -> str | None:
    """Voice names belong to one engine: a fallback keeps the voice only when it has one of that name."""
    if voice is None:
        return None
    try:
        return voice if voice in engine.voices() else None
    except Exception:  # noqa: BLE001 - an engine that cannot list voices gets its default
        return None


def list_voices() -> dict[str, list[str]]:
    """Every engine's voices; engines that cannot load report an empty list."""
    from vmsg.errors import VmsgError

    voices: dict[str, list[str]] = {}
    for name in SPEECH_ENGINES.names():
        try:
            voices[name] = SPEECH_ENGINES.instance(name, device="cpu").voices()
        except VmsgError:
            voices[name] = []
    return voices
