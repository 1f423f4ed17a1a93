"""A small client for D-ID's published REST API (/images, /audios, /talks).

Requests that hit 429, a 5xx or a network error are retried with exponential
backoff (tenacity); a 429's Retry-After is honoured. Creating a talk is only
retried when the server certainly did not act on it (429, connection refused),
so a flaky network never pays for a talk twice. Errors are mapped to messages
that say what to do; none of them can contain the key (scrubbed), and the key
is only ever sent to the API root, never to a result URL.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_exception, retry_if_result, stop_after_attempt, stop_after_delay
from tenacity import wait_exponential

from vmsg.errors import BackendError, InputError, TemporaryError
from vmsg.secrets import Secret, scrub

log = logging.getLogger(__name__)

PENDING = ("created", "started")


class _Retryable(TemporaryError):
    """A temporary HTTP failure; `retry_after` is the server's Retry-After in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, sent: bool = True, status: int = 0) -> None:
        super().__init__(message, hint="D-ID is busy or unreachable; retry later or add a render.fallback")
        self.retry_after = retry_after
        self.status = status
        self.sent = sent  # False when the request surely never reached the server


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _describe(response: httpx.Response) -> str:
    """'kind: description' from D-ID's error body, scrubbed, short."""
    try:
        body = response.json()
    except ValueError:
        return scrub(response.text.strip()[:200]) or response.reason_phrase
    if isinstance(body, dict):
        kind, text = body.get("kind"), body.get("description") or body.get("message")
        return scrub(": ".join(str(p) for p in (kind, text) if p)[:300]) or response.reason_phrase
    return response.reason_phrase


def map_http_error(response: httpx.Response, what: str) -> Exception:
    """The vmsg error for a failed D-ID response."""
    code, detail = response.status_code, _describe(response)
    if code == 401:
        return BackendError(f"D-ID refused the API key while {what} (401 {detail})",
                            hint="check $VMSG_DID_API_KEY / $VMSG_DID_API_KEY_FILE (the key is 'username:password')")
    if code == 402:
        return BackendError(f"D-ID account is out of credits (402 {detail})",
                            hint="top up at studio.d-id.com, or add render.fallback: [face2d, still]")
    if code == 403:
        return BackendError(f"D-ID forbids this request while {what} (403 {detail})",
                            hint="the key's plan may not include /talks, or the account is suspended")
    if code == 451:
        return InputError(f"D-ID will not animate this image for legal reasons (451 {detail})",
                          hint="D-ID refuses some faces (celebrities, minors); use another engine")
    if code == 429 or code >= 500:
        return _Retryable(f"D-ID answered {code} while {what} ({detail})", retry_after=_retry_after(response),
                          status=code)
    if code in (400, 413, 415, 422):
        return InputError(f"D-ID rejected the request while {what} ({code} {detail})")
    return BackendError(f"D-ID answered {code} while {what} ({detail})")


class DidClient:
    """One client per render; `sleep` is injectable so tests can observe waits."""

    def __init__(self, *, base_url: str, key: Secret, timeout_s: float, retries: int,
                 max_wait_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._auth = {"Authorization": f"Basic {key.reveal()}", "Accept": "application/json"}
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._retries = retries
        self._max_wait = max_wait_s

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "DidClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------
    def _send(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        try:
            response = self._http.request(method, url, headers=self._auth, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise _Retryable(f"D-ID at {self.base_url} cannot be reached while {what} ({type(exc).__name__})",
                             sent=False) from None
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Retryable(f"D-ID at {self.base_url} did not answer while {what} ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise map_http_error(response, what)
        try:
            return response.json()
        except ValueError:
            raise BackendError(f"D-ID sent a response that is not JSON while {what}") from None

    def _wait(self, state) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return min(after, self._max_wait)
        return min(0.5 * 2 ** (state.attempt_number - 1), self._max_wait)

    def request(self, method: str, path: str, what: str, *, idempotent: bool = True, **kwargs: Any) -> Any:
        """Send with retries; a non-idempotent request is retried only when it surely did not take effect."""

        def retryable(exc: BaseException) -> bool:
            if not isinstance(exc, _Retryable):
                return False
            return idempotent or not exc.sent or exc.status == 429

        retrying = Retrying(stop=stop_after_attempt(self._retries + 1), wait=self._wait,
                            retry=retry_if_exception(retryable), reraise=True)
        for attempt in retrying:
            with attempt:
                return self._send(method, path, what, **kwargs)
        raise AssertionError("unreachable")

    # -- the API --------------------------------------------------------------
    def upload_image(self, path: Path) -> str:
        with open(path, "rb") as f:
            body = self.request("POST", "/images", "uploading the image",
                                files={"image": (path.name, f.read(), _mime(path))})
        return _url_of(body, "uploading the image")

    def upload_audio(self, path: Path) -> str:
        with open(path, "rb") as f:
            body = self.request("POST", "/audios", "uploading the audio",
                                files={"audio": (path.name, f.read(), _mime(path))})
        return _url_of(body, "uploading the audio")

    def create_talk(self, payload: dict[str, Any]) -> str:
        body = self.request("POST", "/talks", "creating the talk", idempotent=False, json=payload)
        talk_id = body.get("id") if isinstance(body, dict) else None
        if not talk_id:
            raise BackendError("D-ID did not return a talk id")
        return str(talk_id)

    def get_talk(self, talk_id: str) -> dict[str, Any]:
        return self.request("GET", f"/talks/{talk_id}", f"polling talk {talk_id}")

    def wait_talk(self, talk_id: str, *, interval_s: float, max_interval_s: float, timeout_s: float) -> dict[str, Any]:
        """Poll until the talk leaves created/started; raise on rejected/error/timeout."""
        polling = Retrying(
            retry=retry_if_result(lambda talk: talk.get("status") in PENDING),
            wait=wait_exponential(multiplier=interval_s, exp_base=1.5, min=interval_s, max=max_interval_s),
            stop=stop_after_delay(timeout_s),
        )
        try:
            talk = polling(self.get_talk, talk_id)
        except RetryError:
            raise TemporaryError(f"D-ID talk {talk_id} was not done after {timeout_s:.0f} s",
                                 hint="raise render.did.poll_timeout_s, or retry later") from None
        status = talk.get("status")
        if status == "done":
            if not talk.get("result_url"):
                raise BackendError(f"D-ID talk {talk_id} is done but has no result_url")
            return talk
        error = talk.get("error") or {}
        detail = scrub(": ".join(str(p) for p in (error.get("kind"), error.get("description")) if p))
        if status == "rejected":
            raise InputError(f"D-ID rejected talk {talk_id} (content moderation{': ' + detail if detail else ''})",
                             hint="D-ID refuses some images; use another engine")
        if status == "error" and "face" in detail.lower():
            raise InputError(f"D-ID found no usable face in the image (talk {talk_id}: {detail})")
        raise BackendError(f"D-ID talk {talk_id} ended with status {status!r}{': ' + detail if detail else ''}")

    def download(self, url: str, dest: Path, *, what: str) -> None:
        """Stream a result URL to `dest`, without the API key (it is a presigned link to storage)."""
        try:
            with self._http.stream("GET", url, follow_redirects=True) as response:
                if response.status_code >= 400:
                    response.read()
                    raise map_http_error(response, what)
                with open(dest, "wb") as f:
                    for chunk in response.iter_bytes(1 << 16):
                        f.write(chunk)
        except httpx.HTTPError as exc:
            raise TemporaryError(f"D-ID result could not be downloaded ({type(exc).__name__})") from None


def _mime(path: Path) -> str:
    return {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".wav": "audio/wav",
            ".mp3": "audio/mpeg", ".m4a": "audio/mp4"}.get(path.suffix.lower(), "application/octet-stream")


def _url_of(body: Any, what: str) -> str:
    url = body.get("url") if isinstance(body, dict) else None
    if not url:
        raise BackendError(f"D-ID returned no url while {what}")
    return str(url)
