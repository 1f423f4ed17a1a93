"""synth: message text → speech with its phoneme timeline.

The text is normalised (vmsg.text), cut into sentence chunks, each chunk is
synthesised by the engine with its own timeline, and the chunks are joined
with natural pauses; the joined timeline stays in step with the joined audio.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from vmsg.backends.tts import SPEECH_ENGINES
from vmsg.stages.options import BreakerOptions, DeviceName, StageOptions, primary_from_fallback
from vmsg.text import SENTENCE_PAUSE, chunk_text, normalize_text
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
    fallback: list[str] = Field(default_factory=list, description="engines tried in turn when `engine` fails")
    breaker: BreakerOptions = Field(default_factory=BreakerOptions)

    _primary = model_validator(mode="before")(primary_from_fallback)


def _engine(options: SynthOptions, name: str | None = None):
    name = SPEECH_ENGINES.check(name or options.engine)
    if name == "voicevox":
        vv = options.voicevox
        return SPEECH_ENGINES.instance(name, device=options.device, url=vv.resolved_url(), timeout=vv.timeout,
                                       retries=vv.retries)
    return SPEECH_ENGINES.instance(name, device=options.device)


def synth(text: str, options: SynthOptions | None = None, *, native: dict[str, float] | None = None) -> Speech:
    """Normalise, chunk, synthesise and join with the first engine of `engine` + `fallback` that succeeds.

    The timeline covers the whole audio; `meta['attempts']` says which engines were tried and why.
    `native`: prosody keywords for the primary engine to apply while synthesising (see stages.prosody);
    fallback engines never get them (they are engine-specific). `sentence_pause` among them is applied
    here, as the silence the chunks of sentences are joined with.
    """
    from vmsg.backends.tts.join import join_speech
    from vmsg.fallback import engine_chain, run_chain

    options = options or SynthOptions()
    clean = normalize_text(text)
    chunks = chunk_text(clean)

    def attempt(name: str) -> Speech:
        engine = _engine(options, name)
        primary = name == options.engine
        voice = options.voice if primary else _fallback_voice(engine, options.voice)
        extra: dict[str, Any] = dict(native or {}) if primary else {}
        sentence_pause = extra.pop("sentence_pause", None)
        if name == "voicevox":
            extra["query"] = options.voicevox.query_fields()
        log.debug("synth: %d chunk(s) with %s", len(chunks), name)
        if options.profile:  # the clone half's hook (vmsg.stages.clone.speak_as), applied chunk by chunk
            from vmsg.stages.clone import speak_as

            pieces = [speak_as(engine, c.text, profile_name=options.profile, voice=voice, speed=options.speed)
                      for c in chunks]
        else:
            pieces = [engine.synthesize(text=c.text, voice=voice, speed=options.speed, **extra) for c in chunks]
        pauses = [sentence_pause if sentence_pause is not None and c.pause_after == SENTENCE_PAUSE else c.pause_after
                  for c in chunks]
        speech = join_speech(pieces, pauses)
        return speech.with_audio(speech.samples, engine=name, engine_version=engine.version, text=clean,
                                 chunks=len(chunks))

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
