"""`fallback` in the stage options and in recipes: the chain, and names checked with file:line."""

from __future__ import annotations

import pytest

from vmsg.errors import RecipeError
from vmsg.recipe import load_recipe, parse_set
from vmsg.stages.render import RenderOptions
from vmsg.stages.synth import SynthOptions


def write(tmp_path, body: str):
    path = tmp_path / "r.yaml"
    path.write_text("image: a.png\ntext: こんにちは\n" + body, encoding="utf-8")
    return path


def test_a_fallback_list_alone_is_the_whole_chain():
    options = RenderOptions(fallback=["did", "still"])
    assert (options.engine, options.fallback) == ("did", ["did", "still"])
    assert RenderOptions(engine="still", fallback=["did"]).engine == "still"
    assert RenderOptions().fallback == [] and SynthOptions().fallback == []
    assert SynthOptions(fallback=["openjtalk"]).engine == "openjtalk"


def test_recipe_fallbacks_load(tmp_path):
    body = "render:\n  fallback: [did, still]\nvoice:\n  fallback: [kokoro, openjtalk]\n"
    recipe = load_recipe(write(tmp_path, body))
    assert recipe.render.engine == "did" and recipe.render.fallback == ["did", "still"]
    assert recipe.voice.engine == "kokoro" and recipe.voice.fallback == ["kokoro", "openjtalk"]


def test_unknown_fallback_engine_names_file_line_and_field(tmp_path):
    path = write(tmp_path, "render:\n  engine: did\n  fallback:\n    - still\n    - face3d\n")
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    assert f"{path}:7: render.fallback[1]: unknown engine 'face3d'" in str(caught.value)
    assert "valid engines:" in str(caught.value) and "did" in str(caught.value)


def test_unknown_voice_fallback(tmp_path):
    path = write(tmp_path, "voice:\n  fallback: [openjtalk, voicebox]\n")
    with pytest.raises(RecipeError, match=r"r\.yaml:4: voice\.fallback\[1\]: unknown engine 'voicebox'"):
        load_recipe(path)


def test_fallback_must_be_a_list(tmp_path):
    with pytest.raises(RecipeError, match=r"r\.yaml:4: render\.fallback"):
        load_recipe(write(tmp_path, "render:\n  fallback: still\n"))


def test_set_and_environment_give_fallbacks(tmp_path):
    assert parse_set(["render.fallback=[did, still]"]) == {"render": {"fallback": ["did", "still"]}}
    recipe = load_recipe(write(tmp_path, ""), environ={"VMSG_RENDER__FALLBACK": "[did, still]"})
    assert recipe.render.engine == "did"


def test_breaker_settings_are_checked(tmp_path):
    with pytest.raises(RecipeError, match="render.breaker.threshold"):
        load_recipe(write(tmp_path, "render:\n  breaker:\n    threshold: 0\n"))
