"""synth: message text → speech with its phoneme timeline."""

from __future__ import annotations

from pydantic import Field

from vmsg.backends.tts import SPEECH_ENGINES
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.text import normalize_text
from vmsg.types import Speech


class SynthOptions(StageOptions):
    engine: str = "kokoro"
    voice: str | None = Field(None, description="engine voice; None = the engine's first voice")
    speed: float = Field(1.0, ge=0.5, le=2.0)
    profile: str | None = Field(None, description="speak in a saved voice profile (vmsg clone create)")
    device: DeviceName = "auto"


def synth(text: str, options: SynthOptions | None = None) -> Speech:
    options = options or SynthOptions()
    clean = normalize_text(text)
    engine = SPEECH_ENGINES.instance(SPEECH_ENGINES.check(options.engine), device=options.device)
    if options.profile:
        from vmsg.stages.clone import speak_as

        speech = speak_as(engine, clean, profile_name=options.profile, voice=options.voice, speed=options.speed)
    else:
        speech = engine.synthesize(text=clean, voice=options.voice, speed=options.speed)
    return speech.with_audio(speech.samples, engine_version=engine.version, text=clean)


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
