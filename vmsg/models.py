"""Model registry: name → files (URL, sha256, size), licence and where the weights come from.

Nothing is downloaded at import or at run time: `vmsg models pull NAME` fetches a model once into
the models folder (VMSG_MODELS_DIR, else ~/.cache/vmsg/models), checks its sha256 and renames it
into place only when it matches. Engines find their weights with `model_path(name)`.
`VMSG_MODEL_MIRROR=https://host/path` fetches every file from `<mirror>/<filename>` instead
(air-gapped hosts, and the tests' local server on 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from vmsg.errors import InputError, ModelError, TemporaryError

_REMBG = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"


@dataclass(frozen=True)
class ModelFile:
    filename: str
    url: str | None
    sha256: str
    size: int


@dataclass(frozen=True)
class ModelEntry:
    name: str
    kind: str  # "segment", "detect-person", "detect-face"
    engine: str
    files: tuple[ModelFile, ...]
    licence: str
    source: str
    verified: str  # what was checked here, in words (the docs repeat it)
    bundled: bool = False  # shipped inside a pip wheel: nothing to pull

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


MODELS: dict[str, ModelEntry] = {e.name: e for e in (
    ModelEntry("mediapipe-selfie", "segment", "mediapipe", (), "Apache-2.0",
               "bundled in the mediapipe 0.10.21 wheel (selfie_segmentation.tflite)",
               "runs in the test suite (default engine)", bundled=True),
    ModelEntry("mediapipe-face", "detect-face", "mediapipe", (), "Apache-2.0",
               "bundled in the mediapipe 0.10.21 wheel (face_detection_short_range / full_range_sparse)",
               "runs in the test suite (default detector)", bundled=True),
    ModelEntry("sinet-portrait", "segment", "sinet",
               (ModelFile("sinet_portrait.onnx", None,
                          "f35b9e40a455248ddb53fcae605b7cb3f0fcebaa6aa7c6e4d76e928cfb0ce995", 436_866),),
               "code MIT; training data of unclear terms: test use only",
               "SINet portrait export (anilsathyan7/Portrait-Segmentation); no stable download URL, "
               "pull it with --url from a copy you hold",
               "real weights: loaded and scored on the fixtures (IoU, SAD)"),
    ModelEntry("yolox-nano", "detect-person", "yolox",
               (ModelFile("yolox_nano.onnx",
                          "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx",
                          "e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd", 3_678_356),),
               "Apache-2.0", "Megvii YOLOX release 0.1.1rc0 (COCO)",
               "real weights: sha256 of the fixture copy; detects the five people of example01"),
    ModelEntry("yunet-face", "detect-face", "yunet",
               (ModelFile("yunet_face.onnx",
                          "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/"
                          "face_detection_yunet_2023mar.onnx",
                          "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0", 229_738),),
               "MIT", "OpenCV zoo YuNet (2023mar layout: cls/obj/bbox/kps per stride)",
               "real weights: sha256 of the fixture copy; finds the five faces of example01"),
    ModelEntry("birefnet-general", "segment", "birefnet",
               (ModelFile("BiRefNet-general-epoch_244.onnx", _REMBG + "BiRefNet-general-epoch_244.onnx",
                          "58f621f00f5d756097615970a88a791584600dcf7c45b18a0a6267535a1ebd3c", 972_666_916),),
               "MIT", "BiRefNet (ZhengPeng7) 1024² ONNX export published with rembg",
               "loader tested on a graph with the same signature; these weights were NOT run here"),
    ModelEntry("birefnet-lite", "segment", "birefnet",
               (ModelFile("BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
                          _REMBG + "BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
                          "5600024376f572a557870a5eb0afb1e5961636bef4e1e22132025467d0f03333", 224_005_088),),
               "MIT", "BiRefNet swin-tiny 1024² ONNX export published with rembg",
               "loader tested on a graph with the same signature; these weights were NOT run here"),
    ModelEntry("u2net", "segment", "u2net",
               (ModelFile("u2net.onnx", _REMBG + "u2net.onnx",
                          "8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491", 175_997_641),),
               "Apache-2.0", "U²-Net (xuebinqin) ONNX export published with rembg",
               "loader tested on a graph with the same signature; these weights were NOT run here"),
    ModelEntry("u2netp", "segment", "u2netp",
               (ModelFile("u2netp.onnx", _REMBG + "u2netp.onnx",
                          "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8", 4_574_861),),
               "Apache-2.0", "U²-Net small (xuebinqin) ONNX export published with rembg",
               "loader tested on a graph with the same signature; these weights were NOT run here"),
    ModelEntry("modnet", "segment", "modnet",
               (ModelFile("modnet_photographic_portrait_matting.onnx",
                          "https://github.com/Zeyi-Lin/HivisionIDPhotos/releases/download/pretrained-model/"
                          "modnet_photographic_portrait_matting.onnx",
                          "07c308cf0fc7e6e8b2065a12ed7fc07e1de8febb7dc7839d7b7f15dd66584df9", 25_888_640),),
               "Apache-2.0", "MODNet (ZHKKKe) photographic portrait matting, official ONNX export",
               "loader tested on a graph with the same signature; these weights were NOT run here"),
)}

ENGINE_MODELS = {"sinet": "sinet-portrait", "yolox": "yolox-nano", "yunet": "yunet-face", "birefnet": "birefnet-general",
                 "u2net": "u2net", "u2netp": "u2netp", "modnet": "modnet"}
"""The registry entry each ONNX engine uses unless a model file is given explicitly."""


def models_dir() -> Path:
    env = os.environ.get("VMSG_MODELS_DIR")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "vmsg" / "models"


def entry(name: str) -> ModelEntry:
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[name]


def file_path(name: str, file: ModelFile) -> Path:
    return models_dir() / name / file.filename


def model_path(name: str) -> Path:
    """The weights of `name` (its first file); a missing or wrongly sized file is a ModelError."""
    e = entry(name)
    if e.bundled:
        raise InputError(f"model {name} is bundled in a pip wheel and has no file of its own")
    path = file_path(name, e.files[0])
    if not path.is_file():
        raise ModelError(f"model {name}: {path} not found", hint=f"run `vmsg models pull {name}`")
    if path.stat().st_size != e.files[0].size:
        raise ModelError(f"model {name}: {path} has {path.stat().st_size} bytes, expected {e.files[0].size}",
                         hint=f"run `vmsg models pull {name} --force`")
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(name: str) -> list[dict]:
    """One row per file: status ok, missing, size or sha256 (mismatch)."""
    e = entry(name)
    rows = []
    for f in e.files:
        path = file_path(name, f)
        row = {"model": name, "file": f.filename, "path": str(path)}
        if not path.is_file():
            row["status"] = "missing"
        elif path.stat().st_size != f.size:
            row["status"] = "size"
        else:
            row["status"] = "ok" if sha256_of(path) == f.sha256 else "sha256"
        rows.append(row)
    return rows


def listing() -> list[dict]:
    rows = []
    for e in MODELS.values():
        present = "bundled" if e.bundled else ("yes" if all(file_path(e.name, f).is_file() for f in e.files) else "no")
        rows.append({"name": e.name, "kind": e.kind, "engine": e.engine, "mb": round(e.size / 1e6, 1),
                     "licence": e.licence, "present": present, "source": e.source, "verified": e.verified})
    return rows


def _source_url(e: ModelEntry, f: ModelFile, url: str | None) -> str:
    if url:
        return url
    mirror = os.environ.get("VMSG_MODEL_MIRROR")
    if mirror:
        return mirror.rstrip("/") + "/" + f.filename
    if not f.url:
        raise InputError(f"model {e.name} has no published download URL", hint=f"vmsg models pull {e.name} --url URL_OR_FILE")
    return f.url


def pull(name: str, *, url: str | None = None, force: bool = False, timeout: float = 60.0, on_progress=None) -> list[Path]:
    """Fetch the files of `name` (or one file from `url`, an http(s) URL or a local path), check sha256, install."""
    from vmsg.store import atomic_path

    e = entry(name)
    if e.bundled:
        return []
    if url and len(e.files) != 1:
        raise InputError(f"model {name} has {len(e.files)} files; --url works for one-file models only")
    out = []
    for f in e.files:
        target = file_path(name, f)
        if target.is_file() and not force and target.stat().st_size == f.size and sha256_of(target) == f.sha256:
            out.append(target)
            continue
        source = _source_url(e, f, url)
        with atomic_path(target) as tmp:
            _fetch(source, tmp, timeout=timeout, on_progress=on_progress)
            got = sha256_of(tmp)
            if got != f.sha256:
                raise ModelError(f"model {name}: {source} has sha256 {got}, expected {f.sha256}; nothing installed")
        out.append(target)
    return out


def _fetch(source: str, dest: Path, *, timeout: float, on_progress=None) -> None:
    import shutil

    if "://" not in source or source.startswith("file://"):
        local = Path(source.removeprefix("file://"))
        if not local.is_file():
            raise InputError(f"model source {source}: file not found")
        shutil.copyfile(local, dest)
        return
    import httpx

    try:
        with httpx.stream("GET", source, timeout=timeout, follow_redirects=True) as response:
            if response.status_code >= 500 or response.status_code == 429:
                raise TemporaryError(f"model download {source}: HTTP {response.status_code}, try again later")
            if response.status_code != 200:
                raise ModelError(f"model download {source}: HTTP {response.status_code}")
            done = 0
            with open(dest, "wb") as sink:
                for chunk in response.iter_bytes(1 << 20):
                    sink.write(chunk)
                    done += len(chunk)
                    if on_progress:
                        on_progress(done)
    except httpx.TransportError as exc:
        raise TemporaryError(f"model download {source}: {exc.__class__.__name__}: {exc}") from exc
