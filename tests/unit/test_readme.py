"""The recipe shown in the README is a valid recipe and means what the README says."""

from __future__ import annotations

import re
from pathlib import Path

from vmsg.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[2]


def test_readme_recipe_example_is_valid(tmp_path):
    block = re.search(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S).group(1)
    path = tmp_path / "r.yaml"
    path.write_text(block, encoding="utf-8")
    recipe = load_recipe(path, environ={})
    assert recipe.voice.engine == "voicevox" and recipe.voice.fallback == ["voicevox", "kokoro"]
    assert recipe.render.engine == "did" and recipe.render.fallback == ["did", "face2d", "still"]
    assert recipe.mix.bgm == "calm_piano" and recipe.segment.background == "office_soft"
