"""synth: message text → speech with its phoneme timeline.

The text is normalised (vmsg.text), cut into sentence chunks, each chunk is
synthesised by the engine with its own timeline, and the chunks are joined
with natural pauses; the joined timeline stays in step with the joined audio.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ConfigDict, Field

from vmsg.backends.tts import SPEECH_ENGINES
from vmsg.stages.options import DeviceName, StageOptions
from vmsg.text import chunk_text, normalize_text
from vmsg.types import Speech

log = logging.getLogger(__name__)

VOICEVOX_DEFAULT_URL = "http://127.0.0.1:50021"
VOICEVOX_URL_ENV = "VMSG_VOICEVOX_URL"


class VoicevoxOptions(StageOptions):
    """The VOICEVOX engine's address and AudioQuery fields; None keeps the value the engine's /audio_query gave.

    `speedScale` is the stage's `speed`.
    """

    url: str | None = Field(None, description=f"engine URL; None = ${VOICEVOX_URL_ENV} or {VOICEVOX_DEFAULT_URL}")
    timeout: float = Field(30.0, gt=0, description="seconds per HTTP request")
    retries: int = Field(2, ge=0, le=10, description="extra attempts on connection errors and 5xx answers")
    pitch_scale: float | None = Field(None, ge=-0.15, le=0.15, alias="pitchScale")
    intonation_scale: float | None = Field(None, ge=0.0, le=2.0, alias="intonationScale")
    volume_scale: float | None = Field(None, ge=0.0, le=2.0, alias="volumeScale")
    pre_phoneme_length: float | None = Field(None, ge=0.0, le=1.5, alias="prePhonemeLength")
    post_phoneme_length: float | None = Field(None, ge=0.0, le=1.5, alias="postPhonemeLength")
    pause_length: float | None = Field(None, ge=0.0, le=3.0, alias="pauseLength")
    pause_length_scale: float | None = Field(None, ge=0.0, le=2.0, alias="pauseLengthScale")
    output_sampling_rate: int | None = Field(None, ge=8000, le=96000, alias="outputSamplingRate")

    model_config = ConfigDict(extra="forbid", validate_assignment=True, validate_by_name=True, validate_by_alias=True)

    def resolved_url(self) -> str:
        import os

        return (self.url or os.environ.get(VOICEVOX_URL_ENV) or VOICEVOX_DEFAULT_URL).rstrip("/")

    def query_fields(self) -> dict[str, Any]:
        """The AudioQuery fields that were set, under their API names."""
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"url", "timeout", "retries"})


class SynthOptions(StageOptions):
    engine: str = "kokoro"
    voice: str | None = Field(None, description="engine voice; None = the engine's first voice")
    speed: float = Field(1.0, ge=0.5, le=2.0)
    profile: str | None = Field(None, description="speak in a saved voice profile (vmsg clone create)")
    device: DeviceName = "auto"
    voicevox: VoicevoxOptions = Field(default_factory=VoicevoxOptions)


def _engine(options: SynthOptions):
    name = SPEECH_ENGINES.check(options.engine)
    if name == "voicevox":
        vv = options.voicevox
        return SPEECH_ENGINES.instance(name, device=options.device, url=vv.resolved_url(), timeout=vv.timeout,
                                       retries=vv.retries)
    return SPEECH_ENGINES.instance(name, device=options.device)


def synth(text: str, options: SynthOptions | None = None) -> Speech:
    """Normalise, chunk, synthesise and join; the timeline covers the whole audio."""
    from vmsg.backends.tts.join import join_speech

    options = options or SynthOptions()
    clean = normalize_text(text)
    engine = _engine(options)
    extra = {"query": options.voicevox.query_fields()} if options.engine == "voicevox" else {}
    chunks = chunk_text(clean)
    log.debug("synth: %d chunk(s) with %s", len(chunks), engine.name)
    if options.profile:  # the clone half's hook (vmsg.stages.clone.speak_as), applied chunk by chunk
        from vmsg.stages.clone import speak_as

        pieces = [speak_as(engine, c.text, profile_name=options.profile, voice=options.voice, speed=options.speed,
                           device=options.device) for c in chunks]
    else:
        pieces = [engine.synthesize(text=c.text, voice=options.voice, speed=options.speed, **extra) for c in chunks]
    speech = join_speech(pieces, [c.pause_after for c in chunks])
    return speech.with_audio(speech.samples, engine_version=engine.version, text=clean, chunks=len(chunks))


def list_voices(options: SynthOptions | None = None) -> dict[str, dict[str, Any]]:
    """Every engine's voices; an engine that cannot be reached or loaded says why instead of failing the list."""
    from vmsg.errors import VmsgError

    options = options or SynthOptions()
    voices: dict[str, dict[str, Any]] = {}
    for name in SPEECH_ENGINES.names():
        try:
            fixed = getattr(SPEECH_ENGINES.load(name), "static_voices", None)
            if fixed is not None:  # a fixed list: no need to load a model to print it
                voices[name] = {"available": True, "voices": list(fixed)}
                continue
            engine = _engine(options.model_copy(update={"engine": name, "device": "cpu"}))
            voices[name] = {"available": True, "voices": engine.voices()}
        except VmsgError as exc:
            voices[name] = {"available": False, "voices": [], "reason": exc.message}
    return voices
