"""A folder through `vmsg segment --jobs 2`: worker processes, each loading the models once."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from vmsg.errors import VmsgError

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_folder_with_two_workers(tmp_path, astronaut_png):
    from PIL import Image

    from vmsg.cli.app import app

    folder = tmp_path / "in"
    folder.mkdir()
    img = Image.open(astronaut_png).convert("RGB")
    for i in range(4):
        img.rotate(5 * i).save(folder / f"p{i}.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    result = CliRunner().invoke(app, ["segment", str(folder), "-o", str(tmp_path / "out"), "--alpha", str(tmp_path / "alpha"),
                                      "--jobs", "2", "-q"])
    assert isinstance(result.exception, VmsgError) and result.exception.exit_code == 2
    assert "1 of 5 photos failed" in str(result.exception)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"p{i}.png" for i in range(4)]
    assert sorted(p.name for p in (tmp_path / "alpha").iterdir()) == [f"p{i}_alpha.png" for i in range(4)]
