"""Fallback chains and the circuit breaker (vmsg/fallback.py), with engines that fail on purpose."""

from __future__ import annotations

import threading

import pytest

from vmsg.errors import BackendError, InputError, StorageError, TemporaryError
from vmsg.fallback import CircuitBreaker, PolicyRefusal, engine_chain, run_chain
from vmsg.secrets import Secret


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Engines:
    """Named engines whose behaviour per call is scripted; counts calls."""

    def __init__(self, **behaviour) -> None:
        self.behaviour = behaviour
        self.calls: dict[str, int] = {}

    def __call__(self, name: str) -> str:
        self.calls[name] = self.calls.get(name, 0) + 1
        outcome = self.behaviour[name]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


@pytest.fixture
def breaker():
    return CircuitBreaker(Clock())


def test_chain_is_engine_then_fallbacks_each_once():
    assert engine_chain("did", ["did", "face2d", "still", "face2d"]) == ["did", "face2d", "still"]
    assert engine_chain("still", []) == ["still"]


def test_a_failing_engine_hands_over_and_the_reason_is_recorded(breaker):
    engines = Engines(did=BackendError("D-ID account is out of credits (402)"), still="video")
    result, attempts = run_chain("render", ["did", "still"], engines, breaker=breaker)
    assert result == "video"
    assert [(a.engine, a.status) for a in attempts] == [("did", "failed"), ("still", "used")]
    assert "out of credits" in attempts[0].reason and attempts[0].error == "BackendError"


def test_input_errors_hand_over_but_never_open_the_circuit(breaker):
    engines = Engines(face2d=InputError("no face found in the image"), still="video")
    for _ in range(10):
        result, attempts = run_chain("render", ["face2d", "still"], engines, threshold=2, breaker=breaker)
        assert result == "video" and attempts[0].reason == "no face found in the image"
    assert engines.calls["face2d"] == 10 and breaker.state("render", "face2d") == "closed"


def test_a_policy_refusal_hands_over_without_counting(breaker):
    engines = Engines(did=PolicyRefusal("D-ID cost guard: max_clips"), still="video")
    for _ in range(5):
        run_chain("render", ["did", "still"], engines, threshold=1, breaker=breaker)
    assert engines.calls["did"] == 5


def test_the_breaker_opens_after_threshold_failures_and_stops_calling(breaker):
    engines = Engines(did=TemporaryError("D-ID answered 503"), still="video")
    for _ in range(6):
        run_chain("render", ["did", "still"], engines, threshold=3, cooldown_s=60, breaker=breaker)
    assert engines.calls["did"] == 3 and engines.calls["still"] == 6
    _, attempts = run_chain("render", ["did", "still"], engines, threshold=3, cooldown_s=60, breaker=breaker)
    assert attempts[0].status == "skipped" and "circuit open after 3 consecutive failures" in attempts[0].reason
    assert "D-ID answered 503" in attempts[0].reason


def test_half_open_trial_after_cooldown_closes_or_reopens():
    clock = Clock()
    breaker = CircuitBreaker(clock)
    engines = Engines(did=BackendError("down"), still="video")
    for _ in range(2):
        run_chain("render", ["did", "still"], engines, threshold=2, cooldown_s=30, breaker=breaker)
    assert breaker.state("render", "did") == "open"
    clock.now += 31
    run_chain("render", ["did", "still"], engines, threshold=2, cooldown_s=30, breaker=breaker)
    assert engines.calls["did"] == 3  # one trial call…
    run_chain("render", ["did", "still"], engines, threshold=2, cooldown_s=30, breaker=breaker)
    assert engines.calls["did"] == 3  # …which failed: open again for another cool-down
    clock.now += 31
    engines.behaviour["did"] = "did-video"
    result, _ = run_chain("render", ["did", "still"], engines, threshold=2, cooldown_s=30, breaker=breaker)
    assert result == "did-video" and breaker.state("render", "did") == "closed"


def test_a_trial_ending_in_an_input_error_leaves_the_next_call_as_the_trial():
    clock = Clock()
    breaker = CircuitBreaker(clock)
    engines = Engines(did=BackendError("down"), still="video")
    for _ in range(2):
        run_chain("render", ["did", "still"], engines, threshold=2, cooldown_s=30, breaker=breaker)
    clock.now += 31
    engines.behaviour["did"] = InputError("no face found")
    run_chain("render", ["did", "still"], engines, threshold=2, cooldown_s=30, breaker=breaker)
    engines.behaviour["did"] = "did-video"
    result, _ = run_chain("render", ["did", "still"], engines, threshold=2, cooldown_s=30, breaker=breaker)
    assert result == "did-video" and engines.calls["did"] == 4


def test_success_resets_the_consecutive_count(breaker):
    engines = Engines(did=BackendError("down"), still="video")
    for i in range(9):
        engines.behaviour["did"] = "ok" if i % 2 else BackendError("down")
        run_chain("render", ["did", "still"], engines, threshold=2, breaker=breaker)
    assert engines.calls["did"] == 9


def test_breaker_is_per_stage_and_engine(breaker):
    failing = Engines(did=BackendError("down"), still="v")
    for _ in range(3):
        run_chain("render", ["did", "still"], failing, threshold=3, breaker=breaker)
    assert breaker.state("render", "did") == "open" and breaker.state("synth", "did") == "closed"


def test_breaker_counts_exactly_under_threads():
    breaker = CircuitBreaker(Clock())
    opened = []

    def hammer():
        for _ in range(100):
            opened.append(breaker.failure("render", "did", "down", threshold=800))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert opened.count(True) == 1  # the 800th failure, and only it, opens the circuit: no lost updates
    assert breaker.state("render", "did") == "open"


def test_single_engine_keeps_its_own_error(breaker):
    error = InputError("image x.png: no face found")
    with pytest.raises(InputError) as caught:
        run_chain("render", ["face2d"], Engines(face2d=error), breaker=breaker)
    assert caught.value is error
    assert caught.value.attempts[0]["status"] == "failed"


def test_every_engine_failing_names_each_and_why(breaker):
    engines = Engines(did=BackendError("out of credits (402)"), still=BackendError("ffmpeg failed"))
    with pytest.raises(BackendError) as caught:
        run_chain("render", ["did", "still"], engines, breaker=breaker)
    assert "did: out of credits (402)" in str(caught.value) and "still: ffmpeg failed" in str(caught.value)
    assert caught.value.exit_code == 1


def test_all_temporary_failures_stay_temporary(breaker):
    engines = Engines(a=TemporaryError("503"), b=TemporaryError("timeout"))
    with pytest.raises(TemporaryError) as caught:
        run_chain("synth", ["a", "b"], engines, breaker=breaker)
    assert caught.value.exit_code == 75


def test_an_open_single_engine_fails_fast_as_temporary(breaker):
    engines = Engines(did=BackendError("down"))
    for _ in range(2):
        with pytest.raises(BackendError):
            run_chain("render", ["did"], engines, threshold=2, breaker=breaker)
    with pytest.raises(TemporaryError, match="circuit open"):
        run_chain("render", ["did"], engines, threshold=2, breaker=breaker)
    assert engines.calls["did"] == 2


def test_storage_errors_stop_the_chain(breaker):
    engines = Engines(did=StorageError("output /x.mp4: disk full"), still="video")
    with pytest.raises(StorageError):
        run_chain("render", ["did", "still"], engines, breaker=breaker)
    assert "still" not in engines.calls


def test_bugs_propagate_and_do_not_hand_over(breaker):
    engines = Engines(did=ZeroDivisionError("bug"), still="video")
    with pytest.raises(ZeroDivisionError):
        run_chain("render", ["did", "still"], engines, breaker=breaker)


def test_reasons_are_scrubbed_of_known_secrets(breaker):
    key = Secret("user:very-secret-value-123", "test")
    engines = Engines(did=BackendError(f"server said: bad key {key.reveal()}"), still="video")
    _, attempts = run_chain("render", ["did", "still"], engines, breaker=breaker)
    assert "very-secret-value-123" not in attempts[0].reason and "<redacted>" in attempts[0].reason
