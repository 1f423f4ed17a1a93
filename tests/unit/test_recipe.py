"""Recipe validation: errors name the file, the line and the field; precedence is CLI > recipe > env > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from vmsg.errors import RecipeError
from vmsg.recipe import load_recipe, parse_set


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = "image: face.png\ntext: こんにちは\n"


def test_unknown_key_names_file_line_and_field(tmp_path):
    path = write(tmp_path, BASE + "voice:\n  engine: kokoro\n  vocie: jf_alpha\n")
    with pytest.raises(RecipeError) as err:
        load_recipe(path, environ={})
    message = str(err.value)
    assert f"{path}:5" in message
    assert "voice.vocie" in message and "unknown field" in message and "voice" in message.split("allowed:")[1]


def test_wrong_type_names_line(tmp_path):
    path = write(tmp_path, BASE + "render:\n  fps: fast\n")
    with pytest.raises(RecipeError, match=r"r\.yaml:4: render\.fps"):
        load_recipe(path, environ={})


def test_unknown_engine_lists_valid_ones(tmp_path):
    path = write(tmp_path, BASE + "voice:\n  engine: kokro\n")
    with pytest.raises(RecipeError, match=r"r\.yaml:4: voice\.engine: unknown engine 'kokro'; valid engines: kokoro, openjtalk"):
        load_recipe(path, environ={})


def test_missing_required_field(tmp_path):
    path = write(tmp_path, "image: face.png\n")
    with pytest.raises(RecipeError, match="text: required field is missing"):
        load_recipe(path, environ={})


def test_out_of_range_value(tmp_path):
    path = write(tmp_path, BASE + "prosody:\n  pitch: 30\n")
    with pytest.raises(RecipeError, match=r":4: prosody\.pitch: Input should be less than or equal to 12"):
        load_recipe(path, environ={})


def test_duplicate_key_and_bad_yaml(tmp_path):
    with pytest.raises(RecipeError, match="duplicate key 'text'"):
        load_recipe(write(tmp_path, BASE + "text: again\n"), environ={})
    with pytest.raises(RecipeError, match=r"r\.yaml:2: invalid YAML"):
        load_recipe(write(tmp_path, "image: [a\ntext: b\n"), environ={})
    with pytest.raises(RecipeError, match="a recipe is a mapping"):
        load_recipe(write(tmp_path, "- a\n- b\n"), environ={})


def test_missing_recipe_file(tmp_path):
    with pytest.raises(RecipeError, match="file not found"):
        load_recipe(tmp_path / "nope.yaml")


def test_precedence_cli_over_recipe_over_env_over_default(tmp_path):
    path = write(tmp_path, BASE + "voice:\n  engine: openjtalk\n")
    env = {"VMSG_VOICE__ENGINE": "kokoro", "VMSG_RENDER__FPS": "30", "VMSG_VOICE__SPEED": "1.2"}
    recipe = load_recipe(path, environ=env)
    assert recipe.voice.engine == "openjtalk"  # recipe beats env
    assert recipe.render.fps == 30  # env beats default
    assert recipe.voice.speed == 1.2
    assert recipe.mix.preset == "podcast" and recipe.mix.target_lufs is None  # defaults: the preset sets loudness
    recipe = load_recipe(path, overrides=["voice.engine=kokoro", "render.fps=25"], environ=env)
    assert recipe.voice.engine == "kokoro" and recipe.render.fps == 25  # CLI beats both


def test_top_level_device_applies_to_stages_without_their_own(tmp_path):
    path = write(tmp_path, BASE + "device: cpu\nrender:\n  device: auto\n")
    recipe = load_recipe(path, environ={})
    assert recipe.voice.device == "cpu" and recipe.segment.device == "cpu"
    assert recipe.render.device == "auto"


def test_relative_paths_resolve_against_recipe_folder(tmp_path):
    sub = tmp_path / "recipes"
    sub.mkdir()
    path = sub / "r.yaml"
    path.write_text(BASE + "output: ../out/x.mp4\nmix:\n  bgm: music/a.mp3\nsegment:\n  background: '#112233'\n", encoding="utf-8")
    recipe = load_recipe(path, environ={})
    assert recipe.image == str((sub / "face.png").resolve())
    assert recipe.output == str((tmp_path / "out" / "x.mp4").resolve())
    assert recipe.mix.bgm == str((sub / "music" / "a.mp3").resolve())
    assert recipe.segment.background == "#112233"


def test_model_files_resolve_against_recipe_folder(tmp_path):
    """A recipe that names its own ONNX weights works from any working directory."""
    sub = tmp_path / "recipes"
    sub.mkdir()
    path = sub / "r.yaml"
    path.write_text(BASE + "segment:\n  engine: sinet\n  model: models/sinet.onnx\n  detector_model: /abs/yolox.onnx\n",
                    encoding="utf-8")
    recipe = load_recipe(path, environ={})
    assert recipe.segment.model == str((sub / "models" / "sinet.onnx").resolve())
    assert recipe.segment.detector_model == "/abs/yolox.onnx"


def test_parse_set_types_and_errors():
    assert parse_set(["render.fps=30", "voice.voice=jm_kumo", "mix.bgm="]) == {
        "render": {"fps": 30}, "voice": {"voice": "jm_kumo"}, "mix": {"bgm": None}}
    with pytest.raises(RecipeError, match="expected key.sub=value"):
        parse_set(["render.fps"])


def test_bundled_recipes_are_valid():
    root = Path(__file__).resolve().parents[2]
    for path in (root / "recipes").glob("*.yaml"):
        recipe = load_recipe(path, environ={})
        assert Path(recipe.image).is_file(), f"{path}: image missing"
