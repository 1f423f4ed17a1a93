"""Content-addressed artifacts: key = hash(stage, engine, engine version, options,
input hashes). A key names exactly one result, so a hit is always safe to reuse
and nothing ever needs invalidating; old entries are only pruned.

Backends store opaque bytes (see vmsg.artifacts) and share one small interface
(`CacheBackend`). The local folder is the default; Redis shares entries between
machines, and so does S3 (vmsg.cache_s3); other backends plug in through
`CACHE_BACKENDS` (scheme → "module:Class").
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import logging
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from vmsg.errors import InputError, StorageError, TemporaryError, UsageError

log = logging.getLogger(__name__)

KEY_VERSION = "vmsg-cache-1"
NO_KEY_OPTIONS = frozenset({"device", "bgm", "references"})
"""Options that do not change a result (where it is computed; file paths whose content hashes are inputs)."""


def content_key(stage: str, *, engine: str | None, version: str | None, options: dict[str, Any] | None = None,
                inputs: dict[str, Any] | None = None) -> str:
    """The sha256 naming one stage result; inputs are hashes (of files or of upstream keys)."""
    payload = {
        "k": KEY_VERSION, "stage": stage, "engine": engine, "version": version,
        "options": {k: v for k, v in (options or {}).items() if k not in NO_KEY_OPTIONS},
        "inputs": inputs or {},
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """A hash of vmsg's own source and of the installed distributions (names and versions).

    Whole-render keys cannot load engines to ask their versions, so they use this:
    editing an engine or upgrading a package changes it, and old videos are not reused.
    Computed once per process (a few milliseconds: one read of vmsg/ and one listing per site folder).
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode("utf-8"))
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    for folder in sorted({p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}):
        with contextlib.suppress(OSError):
            digest.update("\n".join(sorted(n for n in os.listdir(folder) if n.endswith(".dist-info"))).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass
class CacheStats:
    backend: str
    location: str
    entries: int
    bytes: int
    oldest_age_s: float | None = None


@runtime_checkable
class CacheBackend(Protocol):
    """What a cache backend implements. `get` returns None on a miss; a backend that
    cannot be reached raises TemporaryError from `check()` (called once before a batch)
    and only logs a warning from get/put (a cache must never fail a render)."""

    location: str

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, data: bytes) -> None: ...

    def check(self) -> None: ...

    def stats(self) -> CacheStats: ...

    def prune(self, *, max_age_s: float | None = None, max_bytes: int | None = None) -> tuple[int, int]:
        """Remove entries older than `max_age_s`, then the least recently used until under `max_bytes`.
        Returns (entries removed, bytes freed)."""


def default_cache_dir() -> Path:
    env = os.environ.get("VMSG_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vmsg"


class LocalCache:
    """Entries as files under `root/objects/ab/<key>.npz`, written atomically; mtime = last use."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root).expanduser() if root else default_cache_dir()
        self.objects = self.root / "objects"
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        return self.objects / key[:2] / f"{key}.npz"

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cache %s: cannot read %s (%s)", self.location, path.name, exc.strerror)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return data

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:12]}.", suffix=".part", dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            log.warning("cache %s: cannot store an entry (%s); going on without it", self.location, exc.strerror or exc)

    def check(self) -> None:
        try:
            self.objects.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cache folder {self.root}: cannot be created ({exc.strerror})",
                               hint="set VMSG_CACHE_DIR to a writable folder, or use --no-cache") from exc
        if not os.access(self.objects, os.W_OK):
            raise StorageError(f"cache folder {self.root}: not writable", hint="set VMSG_CACHE_DIR or use --no-cache")

    def _entries(self) -> list[tuple[Path, os.stat_result]]:
        """Stage artifacts, and the optimised model graphs vmsg.onnx_cache keeps beside them."""
        from vmsg.onnx_cache import SUBDIR

        out = []
        for folder, pattern in ((self.objects, "*/*.npz"), (self.root / SUBDIR, "*.onnx")):
            for path in folder.glob(pattern) if folder.is_dir() else []:
                with contextlib.suppress(FileNotFoundError):
                    if not path.name.startswith("."):
                        out.append((path, path.stat()))
        return out

    def stats(self) -> CacheStats:
        entries = self._entries()
        oldest = min((st.st_mtime for _, st in entries), default=None)
        return CacheStats("local", self.location, len(entries), sum(st.st_size for _, st in entries),
                          None if oldest is None else round(time.time() - oldest, 1))

    def prune(self, *, max_age_s: float | None = None, max_bytes: int | None = None) -> tuple[int, int]:
        entries = sorted(self._entries(), key=lambda e: e[1].st_mtime)
        now, removed, freed = time.time(), 0, 0
        total = sum(st.st_size for _, st in entries)
        for path, st in entries:
            too_old = max_age_s is not None and now - st.st_mtime > max_age_s
            too_big = max_bytes is not None and total > max_bytes
            if not (too_old or too_big):
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed, freed, total = removed + 1, freed + st.st_size, total - st.st_size
        from vmsg.onnx_cache import SUBDIR

        models = self.root / SUBDIR
        parts = [*(self.objects.glob("*/.*.part") if self.objects.is_dir() else []),
                 *(models.glob(".*.part.onnx") if models.is_dir() else [])]
        for part in parts:
            with contextlib.suppress(OSError):
                if now - part.stat().st_mtime > 3600:
                    part.unlink()
        return removed, freed


class RedisCache:
    """Entries shared between machines in Redis (`redis://host:port/db`), with an optional TTL."""

    PREFIX = "vmsg:cache:"

    def __init__(self, url: str, *, ttl_s: int | None = None, timeout_s: float = 2.0) -> None:
        try:
            import redis
        except ImportError as exc:
            raise UsageError("a redis:// cache needs the redis package", hint="pip install 'vmsg[batch]'") from exc
        self._redis = redis
        self.location = _safe_url(url)
        self.ttl_s = ttl_s
        self.client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)

    def _warn(self, what: str, exc: Exception) -> None:
        log.warning("cache %s: %s failed (%s); going on without the shared cache", self.location, what, exc)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get(self.PREFIX + key)
        except self._redis.RedisError as exc:
            self._warn("get", exc)
            return None

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.set(self.PREFIX + key, data, ex=self.ttl_s)
        except self._redis.RedisError as exc:
            self._warn("put", exc)

    def check(self) -> None:
        try:
            self.client.ping()
        except self._redis.RedisError as exc:
            raise TemporaryError(f"cache {self.location}: Redis is unreachable ({exc})",
                                 hint="start Redis or run without --cache-url; nothing was rendered") from exc

    def _keys(self) -> list[bytes]:
        return list(self.client.scan_iter(match=self.PREFIX + "*", count=500))

    def stats(self) -> CacheStats:
        self.check()
        keys = self._keys()
        size = sum(self.client.memory_usage(k) or 0 for k in keys)
        return CacheStats("redis", self.location, len(keys), size)

    def prune(self, *, max_age_s: float | None = None, max_bytes: int | None = None) -> tuple[int, int]:
        self.check()
        entries = []
        for k in self._keys():
            idle = self.client.object("idletime", k) or 0
            entries.append((k, float(idle), self.client.memory_usage(k) or 0))
        entries.sort(key=lambda e: -e[1])
        total, removed, freed = sum(e[2] for e in entries), 0, 0
        for k, idle, size in entries:
            if (max_age_s is not None and idle > max_age_s) or (max_bytes is not None and total > max_bytes):
                removed += self.client.delete(k)
                freed, total = freed + size, total - size
        return removed, freed


class TieredCache:
    """A fast local cache in front of a shared one: reads fill the local copy, writes go to both."""

    def __init__(self, local: LocalCache, shared: CacheBackend) -> None:
        self.local, self.shared = local, shared
        self.location = f"{local.location} + {shared.location}"

    def get(self, key: str) -> bytes | None:
        data = self.local.get(key)
        if data is None:
            data = self.shared.get(key)
            if data is not None:
                self.local.put(key, data)
        return data

    def put(self, key: str, data: bytes) -> None:
        self.local.put(key, data)
        self.shared.put(key, data)

    def check(self) -> None:
        self.local.check()
        self.shared.check()

    def stats(self) -> CacheStats:
        return self.shared.stats()

    def prune(self, *, max_age_s: float | None = None, max_bytes: int | None = None) -> tuple[int, int]:
        return self.shared.prune(max_age_s=max_age_s, max_bytes=max_bytes)


CACHE_BACKENDS: dict[str, str] = {
    "redis": "vmsg.cache:RedisCache",
    "rediss": "vmsg.cache:RedisCache",
    "s3": "vmsg.cache_s3:S3Cache",
}
"""URL scheme → 'module:Class' taking (url) and implementing CacheBackend."""


def _safe_url(url: str) -> str:
    """The URL without a password, for messages and reports."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


_OPENED: dict[str, CacheBackend] = {}


def process_cache(url: str | None = None) -> CacheBackend:
    """`open_cache(url)` once per process (per URL and local folder): batch and Celery workers reuse it across jobs."""
    key = f"{url or os.environ.get('VMSG_CACHE_URL')}:{default_cache_dir()}"
    if key not in _OPENED:
        _OPENED[key] = open_cache(url)
    return _OPENED[key]


def open_cache(url: str | None = None, *, local_dir: Path | str | None = None) -> CacheBackend:
    """The cache for `url`: None or a folder → local; `redis://…`, `s3://…` → shared, behind a local copy."""
    url = url or os.environ.get("VMSG_CACHE_URL")
    local = LocalCache(local_dir)
    if not url:
        return local
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("", "file"):
        return LocalCache(url.removeprefix("file://"))
    target = CACHE_BACKENDS.get(scheme)
    if target is None:
        raise InputError(f"cache URL {_safe_url(url)}: unknown scheme {scheme!r}; known: {', '.join(CACHE_BACKENDS)}")
    module_name, _, class_name = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cache URL {_safe_url(url)}: the {scheme} cache backend is not available ({exc})") from exc
    return TieredCache(local, cls(url))
