"""The D-ID request body and response mapping, without a server."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from vmsg.backends.render.did import CostGuard, talk_payload
from vmsg.backends.render.did_api import _Retryable, _retry_after, map_http_error
from vmsg.errors import BackendError, InputError
from vmsg.fallback import PolicyRefusal
from vmsg.stages.render import RenderOptions


def test_payload_follows_the_talks_contract():
    did = RenderOptions(did={"driver_url": "bank://lively/", "expression": "serious", "expression_intensity": 0.5,
                             "fluent": True, "pad_audio": 1.0}).did
    body = talk_payload("s3://img", "s3://aud", did)
    assert body == {
        "source_url": "s3://img",
        "script": {"type": "audio", "audio_url": "s3://aud"},
        "config": {"stitch": True, "fluent": True, "pad_audio": 1.0, "result_format": "mp4",
                   "driver_expressions": {"expressions": [{"start_frame": 0, "expression": "serious",
                                                           "intensity": 0.5}]}},
        "driver_url": "bank://lively/",
    }
    plain = talk_payload("s3://img", "s3://aud", RenderOptions().did)
    assert "driver_url" not in plain and "driver_expressions" not in plain["config"]


def test_retry_after_in_seconds_or_as_a_date():
    assert _retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= _retry_after(httpx.Response(429, headers={"Retry-After": when})) <= 31
    assert _retry_after(httpx.Response(429)) is None


def test_error_bodies_become_clear_errors():
    err = map_http_error(httpx.Response(402, json={"kind": "InsufficientCreditsError", "description": "0 left"}), "x")
    assert isinstance(err, BackendError) and "out of credits (402 InsufficientCreditsError: 0 left)" in str(err)
    err = map_http_error(httpx.Response(503, text="<html>busy</html>", headers={"Retry-After": "2"}), "x")
    assert isinstance(err, _Retryable) and err.retry_after == 2.0 and err.exit_code == 75
    assert isinstance(map_http_error(httpx.Response(400, json={"kind": "ValidationError"}), "x"), InputError)


def test_cost_guard_counts_and_refunds():
    guard = CostGuard()
    guard.reserve(4.0, max_clips=2, max_seconds=10)
    with pytest.raises(PolicyRefusal, match="max_seconds is 10"):
        guard.reserve(7.0, max_clips=2, max_seconds=10)
    guard.reserve(6.0, max_clips=2, max_seconds=10)
    with pytest.raises(PolicyRefusal, match="max_clips is 2"):
        guard.reserve(0.1, max_clips=2, max_seconds=10)
    guard.refund(6.0)
    assert (guard.clips, guard.seconds) == (1, 4.0)
