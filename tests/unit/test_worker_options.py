"""Worker settings and the CLI's usage errors (no broker needed)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

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
    assert planned_stages(r) == ["segment", "synth", "enhance", "mix", "render", "publish"]
    r = validate_recipe({"image": "s3://bkt/x.png", "text": "はい", "prosody": {"pitch": 2}}, source="t")
    assert planned_stages(r) == ["fetch", "segment", "synth", "prosody", "enhance", "mix", "render", "publish"]


def _vmsg(capsys, monkeypatch, *args: str) -> tuple[int, str]:
    """Run the CLI in-process, as `vmsg ARGS`; returns (exit code, stderr)."""
    from vmsg.cli.app import main

    monkeypatch.delenv("VMSG_BROKER_URL", raising=False)
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    return exit_.value.code, capsys.readouterr().err


def test_worker_cli_usage_errors_exit_2(capsys, monkeypatch):
    code, err = _vmsg(capsys, monkeypatch, "worker")
    assert code == 2 and "--broker" in err
    code, err = _vmsg(capsys, monkeypatch, "worker", "--broker", "redis://127.0.0.1:1/0", "--soft-time-limit", "50",
                      "--time-limit", "40")
    assert code == 2 and "soft-time-limit (50) must be below time-limit (40)" in err
    code, err = _vmsg(capsys, monkeypatch, "worker", "--broker", "redis://127.0.0.1:1/0", "--preload", "voice=nosuch")
    assert code == 2 and "valid engines" in err
    code, err = _vmsg(capsys, monkeypatch, "worker", "--broker", "amqp://guest:secretpw@127.0.0.1//")
    assert code == 2 and "expected redis://" in err and "secretpw" not in err


def test_submit_and_status_need_a_broker(capsys, monkeypatch):
    code, err = _vmsg(capsys, monkeypatch, "submit", "x.yaml")
    assert code == 2 and "--broker" in err
    code, err = _vmsg(capsys, monkeypatch, "jobs", "status", "abc")
    assert code == 2 and "--broker" in err
