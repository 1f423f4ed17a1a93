"""Encoder settings of the local render engines, and which engines are told whose face to animate."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest

from vmsg.media.video import x264_params
from vmsg.stages.render import X264_TUNING, RenderOptions


def test_default_encoder_is_ultrafast_with_the_tuning_and_other_presets_run_alone() -> None:
    assert RenderOptions().preset == "ultrafast"
    assert x264_params(RenderOptions()) == ["-x264-params", X264_TUNING["ultrafast"]]
    assert "mbtree=1" in X264_TUNING["ultrafast"] and "cabac=1" in X264_TUNING["ultrafast"]
    assert x264_params(RenderOptions(preset="veryfast")) == []
    assert x264_params(RenderOptions(x264_params="")) == []
    given = RenderOptions(preset="slow", x264_params="ref=2:bframes=0")
    assert x264_params(given) == ["-x264-params", "ref=2:bframes=0"]


@pytest.mark.parametrize("bad", ["ref=2;rm -rf /", "ref", "ref=2:", " ref=2"])
def test_x264_params_that_are_not_key_value_pairs_are_refused(bad) -> None:
    with pytest.raises(pydantic.ValidationError):
        RenderOptions(x264_params=bad)


def test_only_engines_that_take_the_subject_get_it(tmp_path, monkeypatch) -> None:
    from vmsg.backends.render import RENDERERS
    from vmsg.stages import render as stage
    from vmsg.types import Soundtrack

    seen: dict[str, object] = {}

    class Plain:
        name, version = "plain", "1"

        def __init__(self, *, device: str = "auto") -> None:
            pass

        def render(self, *, image, soundtrack, output, options):
            seen["plain"] = True
            output.write_bytes(b"x")
            return {}

    class Picky(Plain):
        name, takes_subject = "picky", True

        def render(self, *, image, soundtrack, output, options, subject=None):
            seen["picky"] = subject
            output.write_bytes(b"x")
            return {}

    monkeypatch.setattr(RENDERERS, "check", lambda name: name)
    monkeypatch.setattr(RENDERERS, "instance", lambda name, **kw: {"plain": Plain, "picky": Picky}[name](**kw))
    image = np.zeros((64, 64, 3), np.uint8)
    mask = np.zeros((64, 64), np.float32)
    track = Soundtrack(np.zeros(800, np.float32), 8000)
    stage.render(image, track, tmp_path / "a.mp4", RenderOptions(engine="plain"), subject=mask)
    stage.render(image, track, tmp_path / "b.mp4", RenderOptions(engine="picky"), subject=mask)
    assert seen["plain"] is True and seen["picky"] is mask
