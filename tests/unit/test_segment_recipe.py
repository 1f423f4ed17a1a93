"""Recipes name library backgrounds by id and choose the person; the pipeline's call still works."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.errors import RecipeError
from vmsg.media.image import read_image
from vmsg.recipe import load_recipe
from vmsg.stages.segment import segment


def test_recipe_library_background_and_selection(tmp_path, astronaut_png):
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(
        f"image: {astronaut_png}\ntext: こんにちは\noutput: out.mp4\n"
        "segment:\n  background: office_soft\n  select: point\n  point: [256, 200]\n  natural: true\n",
        encoding="utf-8")
    recipe = load_recipe(recipe_file)
    assert recipe.segment.background == "office_soft" and recipe.segment.point == (256, 200)
    image = read_image(recipe.image)
    cut = segment(image, recipe.segment, source=f"image {recipe.image}")
    assert cut.meta["selected"] == 0
    h, w = cut.alpha.shape
    assert cut.composite.shape == (h, w, 3) == image.shape
    background = cut.composite[cut.alpha < 0.01]
    assert background.std() > 3  # a picture, not the flat default colour


def test_recipe_typos_fail_with_the_field_name(tmp_path, astronaut_png):
    recipe_file = tmp_path / "r.yaml"
    recipe_file.write_text(f"image: {astronaut_png}\ntext: hi\noutput: o.mp4\nsegment:\n  select: index\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="segment"):
        load_recipe(recipe_file)
    recipe_file.write_text(f"image: {astronaut_png}\ntext: hi\noutput: o.mp4\nsegment:\n  engine: rembg\n", encoding="utf-8")
    with pytest.raises(RecipeError, match="birefnet"):
        load_recipe(recipe_file)
