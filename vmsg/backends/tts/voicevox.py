"""VOICEVOX engine over HTTP (`/version`, `/speakers`, `/audio_query`, `/synthesis`).

The AudioQuery gives every mora's consonant and vowel length, so the timeline is
computed exactly as the engine turns lengths into frames (prePhonemeLength and
postPhonemeLength as `sil`, pause lengths applied, lengths divided by speedScale,
each phoneme rounded to 24000/256 Hz frames, a 0.15 s up-speak mora on questions):
the result matches the WAV the engine returns to the frame.

Prosody is applied natively through the AudioQuery (`native_prosody`): vmsg's
semitones become the pitchScale that moves the mean voiced log-F0 by exactly
that much (intonationScale compensates pitchScale's stretch of the contour),
intonation multiplies intonationScale, energy ≤ 1 multiplies volumeScale, and a
comma pause in seconds becomes pauseLength. Sentence pauses are the synth
stage's joins (it consumes `sentence_pause` itself).
"""

from __future__ import annotations

import io
import logging
import math
from typing import Any, ClassVar

import numpy as np

from vmsg.device import require_cpu_only
from vmsg.errors import BackendError, InputError, TemporaryError
from vmsg.types import Phoneme, Speech

log = logging.getLogger(__name__)

FRAME_RATE = 24000 / 256
UPSPEAK_LENGTH = 0.15


class VoicevoxEngine:
    name: ClassVar[str] = "voicevox"
    # prosody field → synthesize keyword; values in vmsg's units (semitones, factors, seconds).
    native_prosody: ClassVar[dict[str, str]] = {
        "speed": "speed", "pitch": "pitch", "intonation": "intonation", "energy": "energy",
        "comma_pause": "comma_pause", "sentence_pause": "sentence_pause"}
    # Beyond these the post path does it: ±9 semitones is about pitchScale ±0.15 (the engine's documented
    # range) for every voice; volumeScale has no limiter, so only energy ≤ 1 (which cannot clip) is native.
    native_limits: ClassVar[dict[str, tuple[float, float]]] = {"pitch": (-9.0, 9.0), "energy": (0.0, 1.0)}

    def __init__(self, *, device: str = "auto", url: str = "http://127.0.0.1:50021", timeout: float = 30.0,
                 retries: int = 2) -> None:
        require_cpu_only(device, self.name)  # the engine's own device is chosen where it runs
        try:
            import httpx
        except ImportError as exc:
            raise BackendError("synth engine voicevox needs httpx", hint="pip install 'vmsg[voicevox]'") from exc
        self.url = url.rstrip("/")
        self.retries = retries
        self._client = httpx.Client(base_url=self.url, timeout=timeout)
        self._version: str | None = None
        self._styles: dict[int, str] | None = None

    @property
    def version(self) -> str:
        if self._version is None:
            self._version = f"voicevox-{self._request('GET', '/version').json()}"
        return self._version

    def voices(self) -> list[str]:
        """'ID:speaker/style' for every talk style the engine offers."""
        return [f"{sid}:{label}" for sid, label in self._speakers().items()]

    def synthesize(self, *, text: str, voice: str | None, speed: float, query: dict[str, Any] | None = None,
                   pitch: float = 0.0, intonation: float = 1.0, energy: float = 1.0,
                   comma_pause: float | None = None) -> Speech:
        """`query`: AudioQuery fields set as given; pitch (semitones), intonation, energy and comma_pause
        (seconds) are vmsg prosody, applied on top of them."""
        import soundfile as sf

        speaker = self.resolve_voice(voice)
        audio_query = self._request("POST", "/audio_query", params={"text": text, "speaker": speaker}).json()
        audio_query.update(query or {})
        audio_query["speedScale"] = speed
        apply_prosody(audio_query, pitch=pitch, intonation=intonation, energy=energy, comma_pause=comma_pause)
        answer = self._request("POST", "/synthesis", params={"speaker": speaker}, json=audio_query)
        try:
            samples, rate = sf.read(io.BytesIO(answer.content), dtype="float32", always_2d=True)
        except Exception as exc:  # noqa: BLE001 - any decoding failure means the engine answered garbage
            raise BackendError(f"VOICEVOX at {self.url} returned audio that cannot be decoded ({exc})") from exc
        samples = samples.mean(axis=1)
        timeline = query_timeline(audio_query)
        total = timeline[-1].end if timeline else 0.0
        duration = len(samples) / rate
        if abs(duration - total) > 0.02:
            log.warning("VOICEVOX audio is %.3f s but its query adds up to %.3f s; timeline rescaled", duration, total)
            timeline = tuple(Phoneme(p.symbol, p.start * duration / total, p.end * duration / total) for p in timeline)
        meta = {"engine": self.name, "voice": self._speakers().get(speaker, str(speaker)), "speaker": speaker,
                "audio_query": {k: audio_query.get(k) for k in QUERY_SCALARS}}
        return Speech(samples, int(rate), timeline, "engine", meta)

    def resolve_voice(self, voice: str | None) -> int:
        """A style id from '3', '3:ずんだもん/ノーマル', 'ずんだもん/ノーマル' or 'ずんだもん' (its first style)."""
        styles = self._speakers()
        if not styles:
            raise BackendError(f"VOICEVOX at {self.url} offers no talk voices")
        if voice is None:
            return next(iter(styles))
        head = voice.split(":", 1)[0]
        if head.isdigit() and int(head) in styles:
            return int(head)
        for sid, label in styles.items():
            if voice in (label, label.split("/", 1)[0]):
                return sid
        raise InputError(f"unknown voicevox voice {voice!r}; valid voices: {', '.join(self.voices()[:20])}")

    def _speakers(self) -> dict[int, str]:
        if self._styles is None:
            styles: dict[int, str] = {}
            for speaker in self._request("GET", "/speakers").json():
                for style in speaker.get("styles", []):
                    if style.get("type", "talk") == "talk":
                        styles[int(style["id"])] = f"{speaker['name']}/{style['name']}"
            self._styles = styles
        return self._styles

    def _request(self, method: str, path: str, **kwargs: Any):
        import httpx
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        @retry(stop=stop_after_attempt(self.retries + 1), wait=wait_exponential(multiplier=0.2, max=2.0),
               retry=retry_if_exception_type((httpx.TransportError, _ServerBusy)), reraise=True)
        def once():
            response = self._client.request(method, path, **kwargs)
            if response.status_code >= 500 or response.status_code == 429:
                raise _ServerBusy(response)
            return response

        try:
            response = once()
        except httpx.TransportError as exc:
            raise TemporaryError(
                f"VOICEVOX engine at {self.url} does not answer ({type(exc).__name__}: {exc})",
                hint="start it, or point --voicevox-url / $VMSG_VOICEVOX_URL at a running one",
            ) from exc
        except _ServerBusy as exc:
            raise TemporaryError(f"VOICEVOX engine at {self.url}{path} answered HTTP {exc.response.status_code}") from exc
        if response.status_code == 422:
            raise InputError(f"VOICEVOX engine at {self.url}{path} rejected the request: {_detail(response)}")
        if response.status_code >= 400:
            raise BackendError(f"VOICEVOX engine at {self.url}{path} answered HTTP {response.status_code}: {_detail(response)}")
        return response


class _ServerBusy(Exception):
    def __init__(self, response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _detail(response) -> str:
    try:
        return str(response.json().get("detail", response.text))[:300]
    except ValueError:
        return response.text[:300]


QUERY_SCALARS = ("speedScale", "pitchScale", "intonationScale", "volumeScale", "prePhonemeLength",
                 "postPhonemeLength", "pauseLength", "pauseLengthScale", "outputSamplingRate")


def voiced_log_f0(query: dict[str, Any], *, upspeak: bool = True) -> list[float]:
    """The voiced moras' log-F0 as the engine sees them before scaling (up-speak moras included)."""
    pitches = []
    for phrase in query.get("accent_phrases", []):
        moras = phrase.get("moras", [])
        pitches += [float(m.get("pitch") or 0.0) for m in moras]
        if upspeak and phrase.get("is_interrogative") and moras and (moras[-1].get("pitch") or 0) > 0:
            pitches.append(min(float(moras[-1]["pitch"]) + 0.3, 6.5))
    return [p for p in pitches if p > 0]


def apply_prosody(query: dict[str, Any], *, pitch: float = 0.0, intonation: float = 1.0, energy: float = 1.0,
                  comma_pause: float | None = None) -> dict[str, Any]:
    """Set the AudioQuery's scales so the engine renders vmsg's prosody (in place; returned for convenience).

    The engine multiplies each mora's log-F0 by 2**pitchScale and then scales its distance from the voiced
    mean by intonationScale: a shift of `pitch` semitones is ln(2)*pitch/12 on the mean, so the factor is
    1 + that / (mean log-F0), and intonationScale is divided by the same factor to keep the contour's shape.
    """
    scale = 1.0
    voiced = voiced_log_f0(query)
    if pitch and voiced:
        base = 2 ** float(query.get("pitchScale") or 0.0)
        mean = sum(voiced) / len(voiced) * base
        scale = 1.0 + math.log(2.0) * pitch / 12.0 / mean
        query["pitchScale"] = float(query.get("pitchScale") or 0.0) + math.log2(scale)
    if scale != 1.0 or intonation != 1.0:
        query["intonationScale"] = float(query.get("intonationScale", 1.0)) * intonation / scale
    if energy != 1.0:
        query["volumeScale"] = float(query.get("volumeScale", 1.0)) * energy
    if comma_pause is not None:  # the engine divides every length by speedScale, pauses included
        query["pauseLength"] = comma_pause * float(query.get("speedScale", 1.0))
        query["pauseLengthScale"] = 1.0
    return query


def _frames(seconds: float) -> int:
    return int(np.round(seconds * FRAME_RATE))  # numpy rounds half to even, as the engine does


def query_timeline(query: dict[str, Any], *, upspeak: bool = True) -> tuple[Phoneme, ...]:
    """The phoneme timeline an AudioQuery produces, frame-exact with the engine's own length rules."""
    speed = float(query.get("speedScale", 1.0)) or 1.0
    pause_length = query.get("pauseLength")
    pause_scale = float(query.get("pauseLengthScale", 1.0))
    units: list[tuple[str, float]] = [("sil", float(query.get("prePhonemeLength", 0.1)))]
    for phrase in query.get("accent_phrases", []):
        moras = list(phrase.get("moras", []))
        if upspeak and phrase.get("is_interrogative") and moras and moras[-1].get("pitch", 0) > 0:
            moras.append({"vowel": moras[-1]["vowel"], "vowel_length": UPSPEAK_LENGTH})
        for mora in moras:
            if mora.get("consonant"):
                units.append((mora["consonant"], float(mora.get("consonant_length") or 0.0)))
            units.append((mora["vowel"], float(mora["vowel_length"])))
        pause = phrase.get("pause_mora")
        if pause:
            length = float(pause["vowel_length"]) if pause_length is None else float(pause_length)
            units.append(("pau", length * pause_scale))
    units.append(("sil", float(query.get("postPhonemeLength", 0.1))))
    timeline, frame = [], 0
    for symbol, seconds in units:
        n = _frames(seconds / speed)
        if n > 0:
            timeline.append(Phoneme(symbol, frame / FRAME_RATE, (frame + n) / FRAME_RATE))
        frame += n
    return tuple(timeline)
