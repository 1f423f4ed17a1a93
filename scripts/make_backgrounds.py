"""Draw the background library procedurally (numpy + Pillow), deterministically.

    python scripts/make_backgrounds.py            # writes assets/backgrounds/*.jpg, thumbs/, library.yaml
    python scripts/make_backgrounds.py --only office_soft --out /tmp/bg

Every picture is drawn from shapes, gradients and blur with a fixed random seed per id, so
running the script again gives the same bytes. Scenes are drawn out of focus on purpose:
they stand behind a sharp subject like a real portrait background with shallow depth of field.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "assets" / "backgrounds"
W, H = 1280, 720
THUMB = (192, 108)


def seed_of(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


def grid() -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    return x / W, y / H


def lerp(c0, c1, t: np.ndarray) -> np.ndarray:
    c0, c1 = np.asarray(c0, np.float32), np.asarray(c1, np.float32)
    return c0 + (c1 - c0) * t[..., None]


def vertical(c0, c1) -> np.ndarray:
    _, y = grid()
    return lerp(c0, c1, y)


def radial(centre, inner, outer, radius=0.9) -> np.ndarray:
    x, y = grid()
    d = np.sqrt(((x - centre[0]) * W / H) ** 2 + (y - centre[1]) ** 2) / radius
    return lerp(inner, outer, np.clip(d, 0, 1) ** 1.3)


def glow(img: np.ndarray, centre, colour, radius: float, strength: float) -> np.ndarray:
    x, y = grid()
    d2 = ((x - centre[0]) * W / H) ** 2 + (y - centre[1]) ** 2
    g = np.exp(-d2 / (2 * radius**2))[..., None] * strength
    return img + g * (np.asarray(colour, np.float32) - img)


def vignette(img: np.ndarray, amount: float = 0.25) -> np.ndarray:
    x, y = grid()
    d = np.sqrt((x - 0.5) ** 2 + (y - 0.5) ** 2) / 0.71
    return img * (1 - amount * d**2)[..., None]


def grain(img: np.ndarray, rng, amount: float = 2.0) -> np.ndarray:
    return img + rng.normal(0, amount, img.shape[:2])[..., None]


def to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8))


def shapes(base: np.ndarray, draw_fn, blur: float) -> np.ndarray:
    img = to_image(base)
    draw_fn(ImageDraw.Draw(img))
    return np.asarray(img.filter(ImageFilter.GaussianBlur(blur)), np.float32)


def bokeh(base: np.ndarray, rng, palette, count: int, size=(20, 70), blur=3.0, alpha=0.35, region=(0, 0, 1, 1)) -> np.ndarray:
    layer = Image.new("RGB", (W, H), (0, 0, 0))
    d = ImageDraw.Draw(layer)
    for _ in range(count):
        r = rng.uniform(*size)
        cx, cy = rng.uniform(region[0], region[2]) * W, rng.uniform(region[1], region[3]) * H
        col = tuple(int(c * rng.uniform(0.6, 1.0)) for c in palette[rng.integers(len(palette))])
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
    light = np.asarray(layer.filter(ImageFilter.GaussianBlur(blur)), np.float32)
    return base + alpha * light * (1 - base / 300)


def studio(c_in, c_out, centre=(0.5, 0.4)):
    return lambda rng: grain(vignette(radial(centre, c_in, c_out)), rng)


def soft_light(side: float):
    def draw(rng):
        img = vertical((92, 98, 108), (58, 62, 70))
        img = glow(img, (side, 0.35), (236, 230, 218), 0.45, 0.85)
        return grain(vignette(img, 0.3), rng)
    return draw


def office(wall, window=True, warm=False):
    def draw(rng):
        img = vertical(wall, tuple(c * 0.8 for c in wall))

        def scene(d):
            if window:
                for i in range(3):
                    x0 = 90 + i * 250
                    d.rectangle([x0, 90, x0 + 220, 470], fill=(236, 242, 248))
                    d.rectangle([x0 + 105, 90, x0 + 115, 470], fill=(150, 150, 150))
            d.rectangle([0, 520, W, H], fill=(120, 104, 90) if warm else (96, 100, 108))
            d.rectangle([860, 180, 1220, 560], fill=(70, 64, 60))
            for k in range(4):
                y = 210 + k * 85
                d.rectangle([875, y, 1205, y + 10], fill=(150, 140, 128))
                for j in range(9):
                    col = tuple(int(v) for v in rng.integers(60, 200, 3))
                    x = 885 + j * 35
                    d.rectangle([x, y - 60, x + 24, y], fill=col)
            d.ellipse([700, 380, 820, 560], fill=(52, 110, 62))
            d.rectangle([120, 540, 700, 575], fill=(170, 150, 126) if warm else (190, 194, 200))
        img = shapes(img, scene, 14)
        if warm:
            img = glow(img, (0.3, 0.3), (255, 226, 180), 0.5, 0.35)
        return grain(vignette(img, 0.2), rng)
    return draw


def bokeh_scene(base_top, base_bottom, palette, count=70, size=(18, 70)):
    def draw(rng):
        img = vertical(base_top, base_bottom)
        img = bokeh(img, rng, palette, count, size, blur=4.0, alpha=0.55)
        return grain(vignette(img, 0.25), rng)
    return draw


def cafe(rng):
    img = vertical((70, 48, 34), (34, 24, 18))

    def scene(d):
        d.rectangle([0, 470, W, H], fill=(58, 38, 26))
        for i in range(6):
            x = 80 + i * 210
            d.rectangle([x, 420, x + 150, 440], fill=(110, 80, 56))
            d.line([x + 75, 0, x + 75, 160], fill=(40, 30, 24), width=3)
            d.ellipse([x + 45, 150, x + 105, 200], fill=(255, 196, 120))
    img = shapes(img, scene, 10)
    img = bokeh(img, rng, [(255, 190, 110), (255, 160, 90)], 60, (8, 26), blur=3.0, alpha=0.6, region=(0, 0, 1, 0.35))
    return grain(vignette(img, 0.3), rng)


def living_room(rng):
    img = vertical((214, 196, 172), (176, 156, 134))

    def scene(d):
        d.rectangle([0, 560, W, H], fill=(140, 110, 84))
        d.rounded_rectangle([140, 360, 820, 600], 40, fill=(96, 118, 140))
        d.rounded_rectangle([170, 300, 790, 420], 40, fill=(110, 134, 156))
        d.rectangle([960, 140, 1180, 420], fill=(236, 226, 200))
        d.rectangle([975, 155, 1165, 405], fill=(150, 180, 196))
        d.line([1040, 600, 1040, 300], fill=(60, 50, 40), width=6)
        d.polygon([(990, 300), (1090, 300), (1070, 240), (1010, 240)], fill=(250, 236, 200))
        for k in range(7):
            d.ellipse([30 + k * 12, 380 - k * 30, 110 + k * 12, 450 - k * 30], fill=(60, 120, 70))
    img = shapes(img, scene, 12)
    img = glow(img, (0.81, 0.38), (255, 230, 180), 0.18, 0.5)
    return grain(vignette(img, 0.2), rng)


def park(rng):
    img = vertical((170, 206, 236), (110, 160, 90))
    x, y = grid()
    img = np.where((y > 0.55)[..., None], lerp((96, 150, 74), (70, 120, 56), (y - 0.55) / 0.45), img)
    img = bokeh(img, rng, [(60, 120, 50), (90, 150, 60), (40, 90, 40), (140, 180, 90)], 140, (30, 90), blur=12, alpha=0.8,
                region=(0, 0, 1, 0.55))
    img = glow(img, (0.8, 0.1), (255, 250, 220), 0.25, 0.5)
    return grain(img, rng)


def beach(rng):
    x, y = grid()
    img = vertical((120, 176, 226), (196, 222, 240))
    img = np.where((y > 0.5)[..., None], lerp((40, 120, 170), (90, 170, 190), (y - 0.5) / 0.2), img)
    img = np.where((y > 0.7)[..., None], lerp((226, 206, 160), (206, 184, 140), (y - 0.7) / 0.3), img)
    img = np.asarray(to_image(img).filter(ImageFilter.GaussianBlur(6)), np.float32)
    img = glow(img, (0.2, 0.15), (255, 252, 236), 0.12, 0.6)
    return grain(img, rng)


def sunset(rng):
    img = vertical((64, 54, 120), (250, 150, 90))
    img = glow(img, (0.5, 0.85), (255, 210, 130), 0.3, 0.8)
    return grain(img, rng, 1.5)


def brick(rng):
    img = np.zeros((H, W, 3), np.float32) + (150, 84, 62)

    def scene(d):
        for row in range(0, H // 40 + 1):
            off = 0 if row % 2 else 45
            for col in range(-1, W // 90 + 1):
                tone = rng.uniform(0.8, 1.15)
                d.rectangle([col * 90 + off + 3, row * 40 + 3, col * 90 + off + 87, row * 40 + 37],
                            fill=tuple(int(c * tone) for c in (168, 90, 66)))
    back = np.zeros((H, W, 3), np.float32) + (190, 180, 170)
    img = shapes(back, scene, 5)
    img = glow(img, (0.25, 0.2), (255, 232, 200), 0.4, 0.35)
    return grain(vignette(img, 0.35), rng)


def shelves(rng):
    img = vertical((80, 60, 44), (60, 44, 32))

    def scene(d):
        for k in range(5):
            y = 60 + k * 140
            d.rectangle([0, y + 110, W, y + 124], fill=(110, 80, 56))
            x = 10
            while x < W - 30:
                bw = int(rng.integers(18, 42))
                bh = int(rng.integers(70, 108))
                col = tuple(int(v) for v in rng.integers(40, 190, 3))
                d.rectangle([x, y + 110 - bh, x + bw, y + 110], fill=col)
                x += bw + int(rng.integers(1, 5))
    img = shapes(img, scene, 9)
    return grain(vignette(img, 0.3), rng)


def kitchen(rng):
    img = vertical((244, 240, 232), (214, 206, 194))

    def scene(d):
        d.rectangle([0, 430, W, 470], fill=(120, 110, 100))
        d.rectangle([0, 470, W, H], fill=(236, 232, 226))
        for i in range(6):
            d.rectangle([40 + i * 210, 60, 220 + i * 210, 300], fill=(210, 220, 214))
        d.ellipse([900, 340, 980, 430], fill=(220, 120, 60))
        d.ellipse([1000, 350, 1070, 430], fill=(230, 200, 80))
    img = shapes(img, scene, 12)
    return grain(img, rng)


RECIPES = {
    # id: (name, category, tags, draw)
    "studio_grey": ("Studio grey", "professional", ["studio", "neutral", "gradient"], studio((168, 170, 174), (86, 88, 94))),
    "studio_blue": ("Studio blue", "professional", ["studio", "blue", "gradient"], studio((104, 140, 186), (28, 44, 78))),
    "studio_warm": ("Studio warm", "professional", ["studio", "warm", "gradient"], studio((214, 184, 150), (112, 80, 58))),
    "studio_dark": ("Studio dark", "professional", ["studio", "dark", "dramatic"], studio((74, 76, 84), (14, 14, 18), (0.5, 0.35))),
    "studio_white": ("Studio white", "professional", ["studio", "white", "bright"], studio((252, 252, 250), (206, 208, 212))),
    "soft_light_left": ("Soft light from the left", "professional", ["soft light", "grey"], soft_light(0.2)),
    "soft_light_right": ("Soft light from the right", "professional", ["soft light", "grey"], soft_light(0.8)),
    "office_soft": ("Office, soft focus", "professional", ["office", "window", "bright"], office((206, 210, 216))),
    "office_warm": ("Office, warm light", "professional", ["office", "warm"], office((214, 200, 182), warm=True)),
    "office_modern": ("Modern office", "professional", ["office", "blue", "clean"], office((184, 196, 212), window=False)),
    "library_shelves": ("Book shelves", "professional", ["books", "warm", "study"], shelves),
    "corporate_blue": ("Corporate blue", "professional", ["blue", "bokeh", "clean"],
                       bokeh_scene((36, 70, 128), (16, 32, 66), [(120, 170, 240), (80, 130, 220)], 50, (20, 60))),
    "bokeh_warm": ("Warm bokeh", "casual", ["bokeh", "warm", "evening"],
                   bokeh_scene((60, 40, 30), (30, 20, 16), [(255, 190, 110), (255, 140, 80), (255, 220, 160)])),
    "bokeh_cool": ("Cool bokeh", "casual", ["bokeh", "cool"],
                   bokeh_scene((30, 44, 66), (16, 22, 36), [(140, 190, 255), (180, 140, 255), (120, 230, 230)])),
    "city_night": ("City lights at night", "casual", ["bokeh", "night", "city"],
                   bokeh_scene((12, 16, 34), (24, 20, 30), [(255, 200, 120), (255, 90, 80), (120, 180, 255), (255, 255, 220)], 120, (8, 34))),
    "cafe_evening": ("Café in the evening", "casual", ["cafe", "warm", "indoor"], cafe),
    "living_room": ("Living room", "casual", ["home", "indoor", "warm"], living_room),
    "kitchen_bright": ("Bright kitchen", "casual", ["home", "indoor", "bright"], kitchen),
    "park_green": ("Park in summer", "casual", ["outdoor", "green", "nature"], park),
    "beach_day": ("Beach", "casual", ["outdoor", "sea", "summer"], beach),
    "sunset_sky": ("Sunset sky", "casual", ["outdoor", "sky", "warm"], sunset),
    "brick_loft": ("Brick loft", "casual", ["indoor", "brick", "warm"], brick),
    "pastel_pink": ("Pastel pink", "casual", ["pastel", "gradient", "soft"], studio((250, 222, 228), (214, 170, 186))),
    "pastel_mint": ("Pastel mint", "casual", ["pastel", "gradient", "soft"], studio((222, 246, 234), (160, 206, 190))),
}


def render(bg_id: str) -> Image.Image:
    rng = np.random.default_rng(seed_of(bg_id))
    return to_image(RECIPES[bg_id][3](rng))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", nargs="*", help="ids to draw (default: all)")
    parser.add_argument("--quality", type=int, default=82)
    args = parser.parse_args()
    ids = args.only or list(RECIPES)
    (args.out / "thumbs").mkdir(parents=True, exist_ok=True)
    entries = []
    for bg_id in ids:
        name, category, tags, _ = RECIPES[bg_id]
        img = render(bg_id)
        img.save(args.out / f"{bg_id}.jpg", quality=args.quality, optimize=True, progressive=False)
        thumb = img.resize(THUMB, Image.LANCZOS)
        thumb.save(args.out / "thumbs" / f"{bg_id}.jpg", quality=80, optimize=True)
        entries.append({"id": bg_id, "name": name, "category": category, "tags": tags, "size": [W, H],
                        "file": f"{bg_id}.jpg", "thumb": f"thumbs/{bg_id}.jpg"})
    if not args.only:
        write_index(args.out / "library.yaml", entries)
    print(f"wrote {len(entries)} backgrounds to {args.out}")
    return 0


def write_index(path: Path, entries: list[dict]) -> None:
    import yaml

    header = "# Made by scripts/make_backgrounds.py (procedural, deterministic). Do not edit by hand.\n"
    path.write_text(header + yaml.safe_dump({"backgrounds": entries}, sort_keys=False, allow_unicode=True), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
