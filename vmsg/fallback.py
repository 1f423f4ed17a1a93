"""Engine fallback chains and a process-wide circuit breaker, shared by stages.

A stage with `engine: did` and `fallback: [face2d, still]` tries each engine in
turn: an engine that is down, out of credits, or cannot use this input (no face
found) hands over to the next, and every attempt is recorded with its reason
so the run report says what was used and why.

The breaker keeps a batch from paying for an engine that keeps failing: after
`threshold` consecutive health failures (BackendError, TemporaryError,
ModelError) an engine is skipped for `cooldown_s`; then one trial call is let
through (half-open) and its outcome closes or re-opens the circuit. Input
problems (InputError: this image has no face) and policy refusals (a cost
guard) hand over but say nothing about the engine's health, so they neither
count nor reset. State is per (stage, engine), per process, and thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from vmsg.errors import BackendError, InputError, ModelError, TemporaryError, VmsgError
from vmsg.secrets import scrub

log = logging.getLogger(__name__)

T = TypeVar("T")


class PolicyRefusal(BackendError):
    """An engine declined a job by configured policy (a cost guard): hand over, engine health unknown."""


@dataclass
class Attempt:
    """One engine's turn in a chain, as written to the run report."""

    engine: str
    status: str  # "used", "failed" or "skipped"
    reason: str | None = None
    error: str | None = None
    seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None
    trial_running: bool = False
    last_reason: str | None = None


class CircuitBreaker:
    """Consecutive-failure breaker keyed by (stage, engine); `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._circuits: dict[tuple[str, str], _Circuit] = {}

    def allow(self, stage: str, engine: str, *, cooldown_s: float) -> str | None:
        """None when a call may go ahead, else the reason it is skipped."""
        with self._lock:
            c = self._circuits.get((stage, engine))
            if c is None or c.opened_at is None:
                return None
            waited = self._clock() - c.opened_at
            if waited >= cooldown_s and not c.trial_running:
                c.trial_running = True  # half-open: exactly one trial call
                return None
            left = max(0.0, cooldown_s - waited)
            return (f"circuit open after {c.failures} consecutive failures "
                    f"(last: {c.last_reason}); next trial in {left:.0f} s")

    def success(self, stage: str, engine: str) -> None:
        with self._lock:
            self._circuits.pop((stage, engine), None)

    def failure(self, stage: str, engine: str, reason: str, *, threshold: int) -> bool:
        """Record a health failure; True when this failure (re)opens the circuit."""
        with self._lock:
            c = self._circuits.setdefault((stage, engine), _Circuit())
            c.failures += 1
            c.last_reason = reason
            was_trial, c.trial_running = c.trial_running, False
            if was_trial or c.failures >= threshold:
                c.opened_at = self._clock()
                return True
            return False

    def release(self, stage: str, engine: str) -> None:
        """A trial that ended without a health verdict (input problem): let the next call try."""
        with self._lock:
            c = self._circuits.get((stage, engine))
            if c is not None:
                c.trial_running = False  # the cool-down is still over: the next call is the trial

    def state(self, stage: str, engine: str) -> str:
        with self._lock:
            c = self._circuits.get((stage, engine))
            return "closed" if c is None or c.opened_at is None else "open"

    def reset(self) -> None:
        with self._lock:
            self._circuits.clear()


BREAKER = CircuitBreaker()


def engine_chain(engine: str, fallback: list[str]) -> list[str]:
    """`engine` then the fallbacks, each once, in order."""
    chain: list[str] = []
    for name in (engine, *fallback):
        if name not in chain:
            chain.append(name)
    return chain


def _is_health_failure(exc: VmsgError) -> bool:
    return isinstance(exc, (BackendError, TemporaryError, ModelError)) and not isinstance(exc, PolicyRefusal)


def _hands_over(exc: VmsgError) -> bool:
    """Engine-specific failures hand over; problems with the job itself (an unwritable output) do not."""
    return isinstance(exc, (BackendError, TemporaryError, ModelError, InputError))


def _reason(exc: BaseException) -> str:
    return scrub(getattr(exc, "message", None) or str(exc))


def run_chain(
    stage: str,
    chain: list[str],
    call: Callable[[str], T],
    *,
    threshold: int = 3,
    cooldown_s: float = 300.0,
    breaker: CircuitBreaker = BREAKER,
) -> tuple[T, list[Attempt]]:
    """Call `call(engine)` along `chain` until one succeeds; returns its result and every attempt.

    With a single engine its own error is raised unchanged (the breaker still
    applies). When every engine fails, the error names each engine and why.
    """
    attempts: list[Attempt] = []
    errors: list[VmsgError] = []
    for index, name in enumerate(chain):
        skipped = breaker.allow(stage, name, cooldown_s=cooldown_s)
        if skipped is not None:
            attempts.append(Attempt(name, "skipped", skipped, "CircuitOpen"))
            errors.append(TemporaryError(f"{stage} engine {name} skipped: {skipped}"))
            log.info("%s engine %s skipped: %s", stage, name, skipped)
            continue
        t0 = time.perf_counter()
        try:
            result = call(name)
        except VmsgError as exc:
            seconds = round(time.perf_counter() - t0, 3)
            if _is_health_failure(exc):
                if breaker.failure(stage, name, _reason(exc), threshold=threshold):
                    log.warning("%s engine %s: circuit opened for %.0f s", stage, name, cooldown_s)
            else:
                breaker.release(stage, name)
            if not _hands_over(exc):
                raise
            attempts.append(Attempt(name, "failed", _reason(exc), type(exc).__name__, seconds))
            errors.append(exc)
            if index + 1 < len(chain):
                log.info("%s engine %s failed (%s); trying %s", stage, name, _reason(exc), chain[index + 1])
            continue
        except BaseException:
            breaker.release(stage, name)
            raise
        breaker.success(stage, name)
        attempts.append(Attempt(name, "used", seconds=round(time.perf_counter() - t0, 3)))
        return result, attempts
    raise _exhausted(stage, chain, attempts, errors)


def _exhausted(stage: str, chain: list[str], attempts: list[Attempt], errors: list[VmsgError]) -> VmsgError:
    if len(chain) == 1 and attempts[0].status == "failed":
        error = errors[0]
    else:
        summary = "; ".join(f"{a.engine}: {a.reason}" for a in attempts)
        message = f"{stage}: every engine failed ({summary})"
        if all(isinstance(e, TemporaryError) for e in errors):
            error = TemporaryError(message, hint="retry later")
        elif all(isinstance(e, InputError) for e in errors):
            error = InputError(message)
        else:
            error = BackendError(message, hint=f"add a working engine to {stage}.fallback, e.g. still")
    error.attempts = [a.as_dict() for a in attempts]  # type: ignore[attr-defined]
    return error
