"""Recipe fields of the audio stages: bgm ids stay ids, bgm files resolve, enhance is a section."""

from __future__ import annotations

import pytest

from vmsg.errors import InputError, RecipeError
from vmsg.pipeline import check_inputs
from vmsg.recipe import load_recipe


def write(tmp_path, body: str):
    (tmp_path / "face.png").write_bytes(b"png")
    path = tmp_path / "r.yaml"
    path.write_text("image: face.png\ntext: こんにちは\noutput: out.mp4\n" + body, encoding="utf-8")
    return path


def test_library_id_stays_an_id_and_files_resolve(tmp_path):
    recipe = load_recipe(write(tmp_path, "mix:\n  bgm: calm_piano\n  preset: streaming-video\n"), environ={})
    assert recipe.mix.bgm == "calm_piano" and recipe.mix.effective_lufs == -14.0
    check_inputs(recipe)
    recipe = load_recipe(write(tmp_path, "mix:\n  bgm: music/song.mp3\n"), environ={})
    assert recipe.mix.bgm == str((tmp_path / "music" / "song.mp3").resolve())
    with pytest.raises(InputError, match="file not found"):
        check_inputs(recipe)


def test_enhance_and_prosody_sections_validate(tmp_path):
    recipe = load_recipe(write(tmp_path, "enhance:\n  denoise: 0\n  target_lufs: -18\nprosody:\n  emotion: sad\n"),
                         environ={}, overrides=["prosody.comma_pause=0.4"])
    assert recipe.enhance.denoise == 0 and recipe.enhance.target_lufs == -18
    assert recipe.prosody.emotion == "sad" and recipe.prosody.comma_pause == 0.4
    with pytest.raises(RecipeError, match="enhance.highpass_hz"):
        load_recipe(write(tmp_path, "enhance:\n  highpass_hz: 5000\n"), environ={})
    with pytest.raises(RecipeError, match="unknown field 'duck_dept'"):
        load_recipe(write(tmp_path, "mix:\n  duck_dept: 10\n"), environ={})
