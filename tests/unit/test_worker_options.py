"""Worker settings and the CLI's usage errors (no broker needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from tests.servers import ROOT
from vmsg.worker.config import WorkerOptions
from vmsg.worker.tasks import parse_preload, planned_stages


def test_defaults_keep_redelivery_after_the_hard_limit():
    o = WorkerOptions()
    assert o.soft_time_limit < o.time_limit < o.visibility_timeout
    assert o.concurrency == 1


@pytest.mark.parametrize("fields, problem", [
    ({"soft_time_limit": 60, "time_limit": 30}, "soft-time-limit"),
    ({"time_limit": 100, "soft_time_limit": 90, "visibility_timeout": 100}, "visibility-timeout"),
])
def test_limits_out_of_order_are_refused(fields, problem):
    with pytest.raises(ValidationError, match=problem):
        WorkerOptions(**fields)


def test_preload_specs_are_checked():
    assert parse_preload(["segment=mediapipe", "voice=openjtalk"]) == [("segment", "mediapipe"), ("voice", "openjtalk")]
    from vmsg.errors import InputError, UsageError

    with pytest.raises(UsageError, match="STAGE=ENGINE"):
        parse_preload(["mediapipe"])
    with pytest.raises(InputError, match="valid engines"):
        parse_preload(["voice=nosuch"])


def test_planned_stages_follow_the_recipe():
    from vmsg.recipe import validate_recipe

    r = validate_recipe({"image": "/x.png", "text": "はい", "voice": {"engine": "openjtalk"}}, source="t")
    assert planned_stages(r) == ["segment", "synth", "mix", "render", "publish"]
    r = validate_recipe({"image": "s3://bkt/x.png", "text": "はい", "prosody": {"pitch": 2}}, source="t")
    assert planned_stages(r) == ["fetch", "segment", "synth", "prosody", "mix", "render", "publish"]


def _vmsg(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    environ = {k: v for k, v in os.environ.items() if k != "VMSG_BROKER_URL"}
    return subprocess.run([sys.executable, "-m", "vmsg", *args], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**environ, **(env or {})})


def test_worker_cli_usage_errors_exit_2():
    proc = _vmsg("worker")
    assert proc.returncode == 2 and "--broker" in proc.stderr
    proc = _vmsg("worker", "--broker", "redis://127.0.0.1:1/0", "--soft-time-limit", "50", "--time-limit", "40")
    assert proc.returncode == 2 and "soft-time-limit (50) must be below time-limit (40)" in proc.stderr


def test_submit_and_status_need_a_broker():
    assert _vmsg("submit", "x.yaml").returncode == 2
    proc = _vmsg("jobs", "status", "abc")
    assert proc.returncode == 2 and "--broker" in proc.stderr
