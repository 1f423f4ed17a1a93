"""OpenVoice V2 tone-colour conversion in-process, from the official converter checkpoint.

The user supplies the release's `converter/` folder (config.json + checkpoint.pth);
vmsg checks the checkpoint against the registry entry below before loading it.
The weights are NOT shipped and were not available when this was written: the
loader is tested on a checkpoint with the same architecture and keys (random
weights), and the network's parameter count (32,792,226 float32 = 131.17 MB)
matches the size of the official file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from vmsg.errors import BackendError, InputError, ModelError
from vmsg.media.audio import resample

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelFile:
    name: str
    filename: str
    sha256: str
    bytes: int
    licence: str
    source: str


OPENVOICE_V2_CONVERTER = ModelFile(
    name="openvoice-v2-converter",
    filename="checkpoint.pth",
    sha256="9652c27e92b6b2a91632590ac9962ef7ae2b712e5c5b7f4c34ec55ee2b37ab9e",
    bytes=131_320_490,
    licence="MIT",
    source="OpenVoice V2 release (myshell-ai/OpenVoice, checkpoints_v2/converter/checkpoint.pth)",
)


def default_model_dir() -> Path:
    from vmsg.profiles import home

    return home() / "models" / "openvoice_v2" / "converter"


def verify_checkpoint(path: Path, entry: ModelFile = OPENVOICE_V2_CONVERTER) -> None:
    """Size and sha256 must match the registry entry: a truncated or foreign file is refused."""
    size = path.stat().st_size
    if size != entry.bytes:
        raise ModelError(f"{entry.name} {path}: {size:,} bytes, expected {entry.bytes:,}; download it again ({entry.source})")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != entry.sha256:
        raise ModelError(f"{entry.name} {path}: sha256 {digest.hexdigest()} does not match {entry.sha256}")


def load_converter(config_path: Path, checkpoint_path: Path, *, device: str = "cpu", verify: bool = True):
    """Build the converter from the release's config.json and load its state dict (strict)."""
    import torch

    from vmsg.backends.clone.openvoice_net import ToneColorConverter

    for path, what in ((config_path, "config"), (checkpoint_path, "checkpoint")):
        if not Path(path).is_file():
            raise ModelError(f"OpenVoice V2 {what} {path}: file not found",
                             hint=f"put the release's converter/config.json and checkpoint.pth in {default_model_dir()}")
    try:
        hps = json.loads(Path(config_path).read_text(encoding="utf-8"))
        data, model_cfg = hps["data"], hps["model"]
    except (ValueError, KeyError) as exc:
        raise ModelError(f"OpenVoice V2 config {config_path}: not a converter config ({exc})") from exc
    if verify:
        verify_checkpoint(Path(checkpoint_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with torch.device("meta"):
            model = ToneColorConverter(spec_channels=data["filter_length"] // 2 + 1, **model_cfg)
    try:
        payload = torch.load(str(checkpoint_path), map_location=device, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle/zip errors of a broken file
        raise ModelError(f"OpenVoice V2 checkpoint {checkpoint_path}: cannot be read ({exc})") from exc
    state = payload.get("model", payload) if isinstance(payload, dict) else None
    if not isinstance(state, dict):
        raise ModelError(f"OpenVoice V2 checkpoint {checkpoint_path}: no state dict inside")
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())[:400]
        raise ModelError(f"OpenVoice V2 checkpoint {checkpoint_path}: does not fit the V2 converter ({detail})") from exc
    return model.to(device).eval(), data


class OpenVoiceLocalConverter:
    name: ClassVar[str] = "openvoice-local"
    version = "openvoice-v2-local-1"

    def __init__(self, *, device: str = "auto", model_dir: str | None = None, tau: float = 0.3, verify: bool = True) -> None:
        try:
            import torch
        except ImportError as exc:
            raise BackendError("clone engine openvoice-local needs torch", hint="pip install 'vmsg[openvoice]'") from exc
        if device == "cuda" and not torch.cuda.is_available():
            raise BackendError("device cuda was asked for, but torch sees no CUDA device", hint="use --device cpu")
        self.device = "cuda" if device in ("cuda", "auto") and torch.cuda.is_available() else "cpu"
        folder = Path(model_dir) if model_dir else default_model_dir()
        self.model, self.hps = load_converter(folder / "config.json", folder / OPENVOICE_V2_CONVERTER.filename,
                                              device=self.device, verify=verify)
        self.rate = int(self.hps["sampling_rate"])
        self.tau = float(tau)

    def _spec(self, samples: np.ndarray, rate: int):
        import torch

        from vmsg.backends.clone.openvoice_net import linear_spectrogram

        y = torch.from_numpy(resample(samples, rate, self.rate)).float().to(self.device)[None]
        h = self.hps
        return linear_spectrogram(y, h["filter_length"], h["hop_length"], h["win_length"])

    def embedding(self, clips: list[tuple[np.ndarray, int]]):
        import torch

        with torch.no_grad():
            return torch.stack([self.model.embedding(self._spec(s, r)) for s, r in clips]).mean(0)

    def convert(self, *, speech, references: list[tuple[np.ndarray, int]], profile=None):
        import torch

        refs = list(profile.audio) if profile is not None else references
        if not refs:
            raise InputError("openvoice-local needs the reference audio: this profile holds none; create it again")
        with torch.no_grad():
            g_tgt = self.embedding(refs)
            spec = self._spec(speech.samples, speech.sample_rate)
            g_src = self.model.embedding(spec)
            lengths = torch.LongTensor([spec.size(-1)]).to(self.device)
            audio = self.model.voice_conversion(spec, lengths, g_src, g_tgt, tau=self.tau)[0, 0].cpu().numpy()
        out = resample(audio.astype(np.float32), self.rate, speech.sample_rate)
        n = len(speech.samples)
        out = out[:n] if len(out) >= n else np.pad(out, (0, n - len(out)))
        return speech.with_audio(out, clone_engine=self.name)
