"""OpenVoice tone-colour conversion through an HTTP service (the reference design runs it on port 8001).

The contract this client implements (see docs/clone.md):

    POST {url}/convert   multipart/form-data
        source     the speech to convert, WAV (PCM 16-bit mono)
        reference  a reference clip of the target voice, WAV; repeated 1–5 times
        tau        converter temperature as text (optional, default 0.3)
    → 200, audio/wav: the converted speech (any rate; same duration as `source`)
    → 4xx with a JSON {"detail": ...}: the request is wrong (not retried)
    → 5xx: the service failed (retried)

Connection failures, timeouts and 5xx answers are retried (tenacity, 3 tries,
exponential back-off); when they persist the error is a TemporaryError naming the
URL, so a recipe's fallback chain can move on to the next engine.
"""

from __future__ import annotations

import io
import logging
from typing import ClassVar

import numpy as np

from vmsg.device import require_cpu_only
from vmsg.errors import BackendError, InputError, TemporaryError
from vmsg.media.audio import resample

log = logging.getLogger(__name__)

ATTEMPTS = 3
LENGTH_TOLERANCE = 0.03
"""The converter works frame by frame; more than 3 % length change means the service changed the timing."""


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(samples, -1.0, 1.0), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


class _Retryable(Exception):
    pass


class OpenVoiceHTTPConverter:
    name: ClassVar[str] = "openvoice"
    version = "openvoice-http-1"

    def __init__(self, *, device: str = "auto", url: str = "http://127.0.0.1:8001", timeout: float = 60.0,
                 tau: float = 0.3, backoff: float = 0.5) -> None:
        require_cpu_only(device, self.name)  # the service decides its own device
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self.tau = float(tau)
        self.backoff = float(backoff)

    def convert(self, *, speech, references: list[tuple[np.ndarray, int]], profile=None):
        refs = list(profile.audio) if profile is not None else references
        if not refs:
            raise InputError("openvoice needs the reference audio: this profile holds none; create it again")
        body = self._post(wav_bytes(speech.samples, speech.sample_rate), [wav_bytes(s, r) for s, r in refs])
        out = self._decode(body, speech.sample_rate)
        n = len(speech.samples)
        if abs(len(out) - n) > LENGTH_TOLERANCE * n + 0.02 * speech.sample_rate:
            raise BackendError(f"OpenVoice service at {self.url} returned {len(out) / speech.sample_rate:.2f} s for "
                               f"{speech.duration:.2f} s of speech: it must keep the timing")
        out = out[:n] if len(out) >= n else np.pad(out, (0, n - len(out)))
        return speech.with_audio(out.astype(np.float32), clone_engine=self.name)

    def _post(self, source: bytes, references: list[bytes]) -> bytes:
        import httpx
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        files = [("source", ("source.wav", source, "audio/wav"))]
        files += [("reference", (f"reference{i}.wav", ref, "audio/wav")) for i, ref in enumerate(references)]
        timeout = httpx.Timeout(self.timeout, connect=min(5.0, self.timeout))

        @retry(stop=stop_after_attempt(ATTEMPTS), wait=wait_exponential(multiplier=self.backoff, max=8.0),
               retry=retry_if_exception_type(_Retryable), reraise=True)
        def attempt() -> bytes:
            try:
                with httpx.Client(timeout=timeout, trust_env=False) as client:
                    response = client.post(f"{self.url}/convert", files=files, data={"tau": str(self.tau)})
            except httpx.TimeoutException as exc:
                raise _Retryable(f"no answer within {self.timeout:.0f} s ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise _Retryable(f"not answering ({exc or type(exc).__name__})") from exc
            if response.status_code >= 500:
                raise _Retryable(f"HTTP {response.status_code}: {response.text[:200]}")
            if response.status_code != 200:
                raise BackendError(f"OpenVoice service at {self.url} refused the request: HTTP {response.status_code} "
                                   f"{_detail(response)}")
            return response.content

        try:
            return attempt()
        except _Retryable as exc:
            raise TemporaryError(f"OpenVoice service at {self.url}: {exc} after {ATTEMPTS} tries",
                                 hint="start the service, pass --openvoice-url, or use the offline engine (--engine world)") from exc

    def _decode(self, body: bytes, rate: int) -> np.ndarray:
        import soundfile as sf

        try:
            data, got_rate = sf.read(io.BytesIO(body), dtype="float32", always_2d=True)
        except Exception as exc:  # noqa: BLE001 - any decoding failure means the service broke the contract
            raise BackendError(f"OpenVoice service at {self.url} answered with something that is not audio ({exc})") from exc
        if data.shape[0] == 0 or not np.isfinite(data).all():
            raise BackendError(f"OpenVoice service at {self.url} answered with empty or invalid audio")
        return resample(data.mean(axis=1), int(got_rate), rate)


def _detail(response) -> str:
    try:
        return str(response.json().get("detail", ""))[:300]
    except ValueError:
        return response.text[:300]
