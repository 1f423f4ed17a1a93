"""Write the offline demo portrait: skimage.data.astronaut() (NASA, public domain).

Run: python scripts/make_portraits.py  → assets/portraits/astronaut.png
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    from PIL import Image
    from skimage import data

    out = ROOT / "assets" / "portraits"
    out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(data.astronaut()).save(out / "astronaut.png", optimize=True)
    (out / "LICENSE.md").write_text(
        "astronaut.png: Eileen Collins, NASA photograph (public domain), as shipped in scikit-image "
        "(skimage.data.astronaut). Written by scripts/make_portraits.py.\n",
        encoding="utf-8",
    )
    print(out / "astronaut.png")


if __name__ == "__main__":
    main()
