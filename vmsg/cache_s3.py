"""The content cache in S3 (`s3://bucket/prefix`), shared by every machine that can reach the bucket.

One private object per entry, `<prefix>/<key>`, written with a single PutObject (an object
appears whole or not at all) and carrying the sha256 of its bytes in its metadata: a read
that does not match is a miss, and the bad object is deleted. S3 keeps no access time, so a
hit on an entry older than `touch_after_s` copies the object onto itself to renew its
LastModified; `prune` then removes the least recently used first, as the local folder does.

Endpoint, region and credentials come from the environment like every S3 access (vmsg.store).
`check()` fails loudly before a run; during a run a failed get/put only logs a warning, and
the shared cache is left alone for `pause_s` so an outage does not slow every stage.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from typing import Any

from vmsg.cache import CacheStats
from vmsg.errors import InputError, StorageError, TemporaryError
from vmsg.store import PRIVATE_ACL, S3_DENIED_CODES, S3_MISSING_CODES, S3Store

log = logging.getLogger(__name__)

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_ENTRY = re.compile(r"[0-9a-f]{64}")
_DOING = {"check bucket": "looking up the bucket", "check write": "writing a test object", "list": "listing entries",
          "delete": "deleting entries"}
CHECK_NAME = ".vmsg-cache-check"
"""The object `check()` writes to prove the bucket takes writes (not an entry: never listed by stats or prune)."""


def parse_cache_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` → ('bucket', 'some/prefix'); the prefix may be empty."""
    if not url.lower().startswith("s3://"):
        raise InputError(f"cache URL {url!r}: not an s3:// URL")
    bucket, _, prefix = url[5:].partition("/")
    if not _BUCKET.match(bucket):
        raise InputError(f"cache URL {url!r}: {bucket!r} is not a valid bucket name")
    prefix = prefix.strip("/")
    if "//" in prefix:
        raise InputError(f"cache URL {url!r}: empty folder in the prefix")
    return bucket, prefix


def _code(exc: BaseException) -> tuple[str, str]:
    """(error code, HTTP status) of a botocore ClientError; ('', '') for anything else."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return "", ""
    return (str(response.get("Error", {}).get("Code", "")),
            str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")))


def _acl() -> dict[str, str]:
    return {} if os.environ.get("VMSG_S3_ACL", "").lower() == "none" else {"ACL": PRIVATE_ACL}


class S3Cache:
    """Cache entries as private S3 objects under a prefix (implements vmsg.cache.CacheBackend)."""

    def __init__(self, url: str, *, store: S3Store | None = None, touch_after_s: float = 86400.0,
                 pause_s: float = 30.0, page_size: int = 1000) -> None:
        self.bucket, self.prefix = parse_cache_url(url)
        self.location = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        self.store = store or S3Store()
        self.touch_after_s = touch_after_s
        self.pause_s = pause_s
        self.page_size = page_size
        self._paused_until = 0.0

    @property
    def client(self):
        return self.store.client

    def _object(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    # --- during a run: never raises -------------------------------------------------------------

    def _available(self) -> bool:
        return time.monotonic() >= self._paused_until

    def _failed(self, what: str, key: str, exc: Exception) -> None:
        error = self.store.translate(exc, what, f"s3://{self.bucket}/{self._object(key)}")
        self._paused_until = time.monotonic() + self.pause_s
        log.warning("cache %s: %s; going on without the shared cache for %.0f s", self.location,
                    error.message, self.pause_s)

    def get(self, key: str) -> bytes | None:
        if not self._available():
            return None
        name = self._object(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
            data = response["Body"].read()
        except Exception as exc:  # noqa: BLE001 - a cache read never fails a render
            code, status = _code(exc)
            if code in S3_MISSING_CODES and code != "NoSuchBucket" or (not code and status == "404"):
                return None
            self._failed("get", key, exc)
            return None
        recorded = (response.get("Metadata") or {}).get("sha256")
        actual = hashlib.sha256(data).hexdigest()
        if recorded != actual:
            log.warning("cache %s: entry %s is corrupt (sha256 %s, recorded %s); deleting it",
                        self.location, key[:12], actual[:12], (recorded or "none")[:12])
            self._delete_quietly(name)
            return None
        self._touch(name, response)
        return data

    def put(self, key: str, data: bytes) -> None:
        if not self._available():
            return
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data,
                                   ContentType="application/octet-stream",
                                   Metadata={"sha256": hashlib.sha256(data).hexdigest()}, **_acl())
        except Exception as exc:  # noqa: BLE001 - a cache write never fails a render
            self._failed("put", key, exc)

    def _touch(self, name: str, response: dict[str, Any]) -> None:
        """Renew LastModified of an entry in use (a server-side copy onto itself, no data sent)."""
        modified = response.get("LastModified")
        if modified is None or time.time() - modified.timestamp() < self.touch_after_s:
            return
        try:
            self.client.copy_object(Bucket=self.bucket, Key=name, CopySource={"Bucket": self.bucket, "Key": name},
                                    Metadata=response.get("Metadata") or {}, MetadataDirective="REPLACE",
                                    ContentType=response.get("ContentType") or "application/octet-stream", **_acl())
        except Exception as exc:  # noqa: BLE001 - only bookkeeping for prune
            log.debug("cache %s: could not renew %s (%s)", self.location, name, exc)

    def _delete_quietly(self, name: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except Exception as exc:  # noqa: BLE001
            log.warning("cache %s: could not delete the corrupt entry %s (%s)", self.location, name, exc)

    # --- before a run, and the maintenance commands: clear errors ---------------------------------

    def _error(self, exc: Exception, what: str) -> Exception:
        """A failure of check/stats/prune as the error a user acts on: 75 unreachable, 2 missing or denied."""
        translated = self.store.translate(exc, what, self.location)
        code, status = _code(exc)
        hint_bucket = "create the bucket, or fix the cache URL (--cache-url / VMSG_CACHE_URL)"
        reason = translated.message.removeprefix(f"S3 {what} {self.location}: ")
        if isinstance(translated, TemporaryError):
            return TemporaryError(f"cache {self.location}: {reason}",
                                  hint="start the S3 server or fix VMSG_S3_ENDPOINT_URL, or run with --no-cache; "
                                       "nothing was done")
        if code == "NoSuchBucket" or (what.startswith("check") and (code in S3_MISSING_CODES or status == "404")):
            return InputError(f"cache {self.location}: bucket {self.bucket!r} does not exist ({code or status})",
                              hint=hint_bucket)
        if code in S3_DENIED_CODES or status == "403":
            return InputError(f"cache {self.location}: access denied ({code or status}) when {_DOING.get(what, what)}",
                              hint="check the credentials and the bucket policy (the cache needs "
                                   "s3:GetObject, s3:PutObject, s3:ListBucket and s3:DeleteObject)")
        if "no AWS credentials" in reason:
            return InputError(f"cache {self.location}: no AWS credentials found",
                              hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE")
        return StorageError(f"cache {self.location}: {reason} (when {_DOING.get(what, what)})")

    def check(self) -> None:
        """The bucket exists and takes a write (a small marker object), before anything is rendered."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, "check bucket") from None
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._object(CHECK_NAME), Body=b"vmsg cache\n", **_acl())
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, "check write") from None
        self._paused_until = 0.0

    def _entries(self) -> list[dict[str, Any]]:
        """Every entry under the prefix (Key, Size, LastModified), page by page."""
        prefix = f"{self.prefix}/" if self.prefix else ""
        found: list[dict[str, Any]] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self.page_size})
            for page in pages:
                for obj in page.get("Contents", []):
                    if _ENTRY.fullmatch(obj["Key"][len(prefix):]):
                        found.append(obj)
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc, "list") from None
        return found

    def stats(self) -> CacheStats:
        entries = self._entries()
        oldest = min((o["LastModified"].timestamp() for o in entries), default=None)
        return CacheStats("s3", self.location, len(entries), sum(o["Size"] for o in entries),
                          None if oldest is None else round(time.time() - oldest, 1))

    def prune(self, *, max_age_s: float | None = None, max_bytes: int | None = None) -> tuple[int, int]:
        """Remove entries unused for `max_age_s`, then the least recently used above `max_bytes`."""
        entries = sorted(self._entries(), key=lambda o: o["LastModified"])
        now = time.time()
        total = sum(o["Size"] for o in entries)
        doomed: list[dict[str, Any]] = []
        for obj in entries:
            too_old = max_age_s is not None and now - obj["LastModified"].timestamp() > max_age_s
            too_big = max_bytes is not None and total > max_bytes
            if too_old or too_big:
                doomed.append(obj)
                total -= obj["Size"]
        sizes = {o["Key"]: o["Size"] for o in doomed}
        removed = freed = 0
        for start in range(0, len(doomed), 1000):
            batch = [{"Key": o["Key"]} for o in doomed[start:start + 1000]]
            try:
                response = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            except Exception as exc:  # noqa: BLE001
                raise self._error(exc, "delete") from None
            failed = {e["Key"] for e in response.get("Errors", [])}
            for e in response.get("Errors", [])[:3]:
                log.warning("cache %s: could not delete %s (%s)", self.location, e.get("Key"), e.get("Code"))
            for item in batch:
                if item["Key"] not in failed:
                    removed, freed = removed + 1, freed + sizes[item["Key"]]
        return removed, freed
