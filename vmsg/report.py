"""The JSON run report written beside every render: what ran, with which
engines and options, how long it took, and the hashes of inputs and outputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vmsg import __version__
from vmsg.store import write_bytes_atomic

SECRET_WORDS = ("key", "secret", "token", "password", "credential", "authorization")


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def redact(value: Any) -> Any:
    """Drop anything whose key names a secret: reports are shared, keys are not."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if any(w in str(k).lower() for w in SECRET_WORDS) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


@dataclass
class StageRecord:
    stage: str
    engine: str | None
    engine_version: str | None
    seconds: float
    options: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunReport:
    recipe: str | None
    output: str
    started_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    vmsg_version: str = __version__
    python: str = field(default_factory=platform.python_version)
    stages: list[StageRecord] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    speech_seconds: float | None = None
    timeline_source: str | None = None
    total_seconds: float | None = None
    status: str = "running"
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(redact(asdict(self)), ensure_ascii=False, indent=2)

    def write(self, path: Path | str) -> Path:
        return write_bytes_atomic(path, self.to_json().encode("utf-8"))


def report_path_for(output: Path | str) -> Path:
    """out/hello.mp4 → out/hello.report.json"""
    output = Path(output)
    return output.with_name(f"{output.stem}.report.json")
