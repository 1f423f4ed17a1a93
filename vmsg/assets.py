"""Where the bundled asset libraries (music, backgrounds, portraits) live.

`vmsg/_assets` is a link to the top-level `assets/` folder, so a checkout, an editable
install and a wheel (which carries the files themselves) all find them at the same place.
"""

from __future__ import annotations

import os
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent / "_assets"
ENV_OVERRIDES = {"bgm": "VMSG_BGM_DIR", "backgrounds": "VMSG_BACKGROUNDS_DIR"}


def asset_dir(name: str) -> Path:
    """The folder of asset library `name`: its environment override, else the bundled one."""
    env = os.environ.get(ENV_OVERRIDES.get(name, ""), "")
    return Path(env) if env else BUNDLED / name
