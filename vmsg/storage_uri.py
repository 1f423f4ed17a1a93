"""`s3://bucket/key` URIs: parsing, and how to print them without secrets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from vmsg.errors import InputError

S3_SCHEME = "s3://"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


def is_s3(value: object) -> bool:
    return isinstance(value, str) and value.lower().startswith(S3_SCHEME)


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def sibling(self, name: str) -> S3Uri:
        """The key `name` in the same 'folder' as this one."""
        prefix = self.key.rpartition("/")[0]
        return S3Uri(self.bucket, f"{prefix}/{name}" if prefix else name)

    @property
    def name(self) -> str:
        return self.key.rpartition("/")[2]


def parse_s3(uri: str, *, what: str = "location") -> S3Uri:
    """`s3://bucket/some/key.mp4` → S3Uri; a bucket-only or malformed URI is an InputError."""
    if not is_s3(uri):
        raise InputError(f"{what} {uri!r}: not an s3:// URI")
    bucket, _, key = uri[len(S3_SCHEME):].partition("/")
    if not _BUCKET.match(bucket):
        raise InputError(f"{what} {uri!r}: {bucket!r} is not a valid bucket name")
    if not key or key.endswith("/"):
        raise InputError(f"{what} {uri!r}: needs an object key after the bucket (s3://bucket/path/file)")
    return S3Uri(bucket, key)


def redact_url(url: str) -> str:
    """redis://:secret@host:6379/0 → redis://:***@host:6379/0 (for messages and logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    auth = f"{user}:***@" if parts.password is not None else f"{user}@"
    return urlunsplit((parts.scheme, auth + host, parts.path, parts.query, parts.fragment))
