"""The warm-up beside synthesis ignores only the errors its stage would report itself."""

from __future__ import annotations

import pytest

from vmsg.backends.render import RENDERERS
from vmsg.errors import BackendError
from vmsg.pipeline import warm_up_later_stages
from vmsg.recipe import validate_recipe


class TimeLimit(Exception):
    """Stands for Celery's SoftTimeLimitExceeded, which is a plain Exception."""


def recipe():
    return validate_recipe({"image": "x.png", "text": "こんにちは"}, source="test")


def test_engine_errors_are_left_for_the_render_stage(monkeypatch):
    def broken(*args, **kwargs):
        raise BackendError("face2d is not installed")

    monkeypatch.setattr(RENDERERS, "instance", broken)
    warm_up_later_stages(recipe())


def test_a_time_limit_signal_is_not_swallowed(monkeypatch):
    def interrupted(*args, **kwargs):
        raise TimeLimit("over the soft time limit")

    monkeypatch.setattr(RENDERERS, "instance", interrupted)
    with pytest.raises(TimeLimit):
        warm_up_later_stages(recipe())
