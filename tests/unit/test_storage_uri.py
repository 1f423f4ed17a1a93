"""s3:// parsing and secret-free URLs."""

from __future__ import annotations

import pytest

from vmsg.errors import InputError
from vmsg.storage_uri import S3Uri, is_s3, parse_s3, redact_url


def test_parse_s3_bucket_and_key():
    loc = parse_s3("s3://my-bucket/videos/2026/hello.mp4")
    assert loc == S3Uri("my-bucket", "videos/2026/hello.mp4")
    assert loc.name == "hello.mp4"
    assert str(loc.sibling("hello.report.json")) == "s3://my-bucket/videos/2026/hello.report.json"
    assert str(S3Uri("b-1", "top.mp4").sibling("x.json")) == "s3://b-1/x.json"


@pytest.mark.parametrize("uri, problem", [
    ("s3://bucket-only", "needs an object key"),
    ("s3://bucket/folder/", "needs an object key"),
    ("s3://Bad_Bucket/key", "not a valid bucket name"),
    ("/local/path.mp4", "not an s3:// URI"),
])
def test_parse_s3_rejects_malformed(uri, problem):
    with pytest.raises(InputError, match=problem):
        parse_s3(uri, what="output")


def test_is_s3():
    assert is_s3("S3://b/k") and is_s3("s3://b/k")
    assert not is_s3("/tmp/s3://x") and not is_s3(None)


def test_redact_url_hides_passwords_only():
    assert redact_url("redis://:hunter2@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert redact_url("redis://user:pw@host/1") == "redis://user:***@host/1"
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert "hunter2" not in redact_url("rediss://default:hunter2@cache.example:6380/2?ssl_cert_reqs=none")
