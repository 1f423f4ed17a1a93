"""Voice profiles: what the clone engines need about a speaker, analysed once.

A profile is keyed by the content of its reference clips (sha256 of the decoded
samples), never by file names: the same clips under another name or format give
the same id, and a name is only an alias. The store lives under
`$VMSG_HOME/profiles` (default `~/.local/share/vmsg/profiles`):

    profiles/<id>.npz      arrays (speaker embedding, envelope frames, Kokoro style, the clips)
    profiles/<id>.json     facts (clips, F0 statistics, fit figures)
    profiles/names/<name>  one small file per alias, holding the id

Every file is written atomically and the alias last, so an interrupted
`clone create` leaves no profile that can be found half-made.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vmsg.errors import InputError, StorageError
from vmsg.store import atomic_path, write_bytes_atomic

PROFILE_FORMAT = 1
_NAME = re.compile(r"^\w[\w.\-]{0,63}$")


@dataclass(frozen=True)
class VoiceProfile:
    """A speaker, analysed: the engines read these fields instead of re-analysing the clips."""

    id: str
    clips: tuple[dict[str, Any], ...]
    embedding: np.ndarray
    f0: dict[str, float]
    envelope: np.ndarray
    """The reference's speech frames: log spectral envelopes (WORLD, 16 kHz grid), float16, frames x 513."""
    style: np.ndarray | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    audio: tuple[tuple[np.ndarray, int], ...] = ()
    """The reference clips themselves (float32, native rate), for engines that need audio (OpenVoice)."""

    @property
    def seconds(self) -> float:
        return float(sum(c["seconds"] for c in self.clips))

    def summary(self) -> dict[str, Any]:
        """What `clone show` prints: JSON-friendly, no big arrays."""
        return {
            "id": self.id,
            "names": list(self.names),
            "clips": list(self.clips),
            "seconds": round(self.seconds, 2),
            "f0": self.f0,
            "has_style": self.style is not None,
            **self.facts,
        }


def home() -> Path:
    """The vmsg data folder: $VMSG_HOME, else ~/.local/share/vmsg."""
    env = os.environ.get("VMSG_HOME")
    return Path(env).expanduser() if env else Path.home() / ".local" / "share" / "vmsg"


def clip_digest(samples: np.ndarray, rate: int) -> str:
    """sha256 of the decoded audio (rate + float32 samples): the content, not the file."""
    h = hashlib.sha256(f"{int(rate)}:".encode())
    h.update(np.ascontiguousarray(samples, dtype="<f4").tobytes())
    return h.hexdigest()


def profile_id(clip_digests: list[str]) -> str:
    """Order-free id of a set of clips."""
    return hashlib.sha256("\n".join(sorted(clip_digests)).encode()).hexdigest()[:32]


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"profile name {name!r} is not valid: use 1–64 letters, digits, '_', '-' or '.', not starting with '.' or '-'")
    return name


class ProfileStore:
    """Profiles on disk, found by name (alias) or by id."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else home() / "profiles"

    @property
    def _names(self) -> Path:
        return self.root / "names"

    def names(self) -> dict[str, str]:
        """alias → id, sorted by alias."""
        if not self._names.is_dir():
            return {}
        out = {}
        for path in sorted(self._names.iterdir()):
            if path.is_file() and not path.name.startswith("."):
                out[path.name] = path.read_text(encoding="utf-8").strip()
        return out

    def resolve(self, name_or_id: str) -> str:
        """The id a name points to; an id is accepted as is. Unknown → InputError listing the names."""
        alias = self._names / name_or_id
        if _NAME.match(name_or_id) and alias.is_file():
            return alias.read_text(encoding="utf-8").strip()
        if re.fullmatch(r"[0-9a-f]{32}", name_or_id) and (self.root / f"{name_or_id}.json").is_file():
            return name_or_id
        known = ", ".join(self.names()) or "none yet (vmsg clone create NAME clip.wav)"
        raise InputError(f"unknown voice profile {name_or_id!r} in {self.root}; known profiles: {known}")

    def exists(self, profile_id_: str) -> bool:
        return (self.root / f"{profile_id_}.json").is_file() and (self.root / f"{profile_id_}.npz").is_file()

    def load(self, name_or_id: str) -> VoiceProfile:
        pid = self.resolve(name_or_id)
        meta_path, arrays_path = self.root / f"{pid}.json", self.root / f"{pid}.npz"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            with np.load(arrays_path) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, KeyError) as exc:
            raise StorageError(f"voice profile {name_or_id!r} ({meta_path}): unreadable ({exc})") from exc
        if meta.get("format") != PROFILE_FORMAT:
            raise StorageError(f"voice profile {name_or_id!r}: format {meta.get('format')} is not {PROFILE_FORMAT}; create it again")
        names = tuple(n for n, i in self.names().items() if i == pid)
        return VoiceProfile(
            id=pid,
            clips=tuple(meta["clips"]),
            embedding=arrays["embedding"],
            f0={k: float(v) for k, v in meta["f0"].items()},
            envelope=arrays["envelope"],
            style=arrays.get("style"),
            facts=meta.get("facts", {}),
            names=names,
            audio=tuple((arrays[f"clip{i}"].astype(np.float32) / 32767.0, int(c["rate"])) for i, c in enumerate(meta["clips"])
                        if f"clip{i}" in arrays),
        )

    def save(self, profile: VoiceProfile, name: str) -> VoiceProfile:
        """Write arrays, then facts, then the alias: readers only ever see complete profiles."""
        check_name(name)
        self.root.mkdir(parents=True, exist_ok=True)
        arrays = {"embedding": profile.embedding, "envelope": profile.envelope}
        if profile.style is not None:
            arrays["style"] = profile.style
        for i, (samples, _) in enumerate(profile.audio):
            arrays[f"clip{i}"] = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
        with atomic_path(self.root / f"{profile.id}.npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        meta = {"format": PROFILE_FORMAT, "id": profile.id, "clips": list(profile.clips), "f0": profile.f0,
                "facts": profile.facts}
        write_bytes_atomic(self.root / f"{profile.id}.json", json.dumps(meta, ensure_ascii=False, indent=1).encode())
        self.alias(name, profile.id)
        return self.load(name)

    def alias(self, name: str, pid: str) -> None:
        check_name(name)
        self._names.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self._names / name, pid.encode())

    def delete(self, name: str) -> str:
        """Remove the alias; the profile's files go when no alias is left. Returns the id."""
        pid = self.resolve(name)
        alias = self._names / name
        if alias.is_file():
            alias.unlink()
        if pid not in self.names().values():
            for suffix in (".json", ".npz"):
                (self.root / f"{pid}{suffix}").unlink(missing_ok=True)
        return pid
