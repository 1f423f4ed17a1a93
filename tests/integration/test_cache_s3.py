"""The shared cache in S3: real boto3 against moto's standalone server on 127.0.0.1 (started here)."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest

from tests.cli_run import run_cli
from tests.integration.test_batch import TEMPLATE, cli
from tests.scale_servers import S3_ENV, free_port, moto_s3, start_moto, stop
from vmsg.cache import LocalCache, TieredCache, content_key, open_cache
from vmsg.cache_s3 import S3Cache
from vmsg.errors import InputError, TemporaryError
from vmsg.store import S3Store

pytestmark = pytest.mark.integration

BUCKET = "vmsg-cache-test"
PUBLIC = ("http://acs.amazonaws.com/groups/global/AllUsers",
          "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


@pytest.fixture(scope="module")
def endpoint() -> str:
    saved = {k: os.environ.get(k) for k in (*S3_ENV, "VMSG_S3_ENDPOINT_URL")}
    os.environ.update(S3_ENV)
    try:
        with moto_s3() as url:
            os.environ["VMSG_S3_ENDPOINT_URL"] = url
            S3Store().client.create_bucket(Bucket=BUCKET)
            yield url
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture
def client(endpoint):
    return S3Store(endpoint_url=endpoint).client


def _key(n: object) -> str:
    return content_key("t", engine=None, version=None, inputs={"n": n})


def test_entries_round_trip_private_with_their_sha256(endpoint, client, tmp_path):
    first = open_cache(f"s3://{BUCKET}/rt/", local_dir=tmp_path / "one")
    second = open_cache(f"s3://{BUCKET}/rt", local_dir=tmp_path / "two")
    assert isinstance(first, TieredCache) and isinstance(first.shared, S3Cache)
    first.check()
    key, payload = _key("rt"), os.urandom(50_000)
    assert second.get(key) is None
    first.put(key, payload)
    assert second.local.get(key) is None
    assert second.get(key) == payload
    assert second.local.get(key) == payload, "a hit in S3 is copied into the local folder"
    head = client.head_object(Bucket=BUCKET, Key=f"rt/{key}")
    assert head["ContentLength"] == len(payload) and len(head["Metadata"]["sha256"]) == 64
    grants = client.get_object_acl(Bucket=BUCKET, Key=f"rt/{key}")["Grants"]
    assert [g for g in grants if g["Grantee"].get("URI") in PUBLIC] == []
    stats = second.stats()
    assert (stats.backend, stats.location, stats.entries, stats.bytes) == ("s3", f"s3://{BUCKET}/rt", 1, len(payload))


def test_a_corrupt_object_is_a_miss_and_is_deleted(endpoint, client, caplog):
    cache = S3Cache(f"s3://{BUCKET}/corrupt")
    key = _key("corrupt")
    cache.put(key, b"the real entry")
    meta = client.head_object(Bucket=BUCKET, Key=f"corrupt/{key}")["Metadata"]
    client.put_object(Bucket=BUCKET, Key=f"corrupt/{key}", Body=b"the real entrY", Metadata=meta)
    with caplog.at_level(logging.WARNING, logger="vmsg.cache_s3"):
        assert cache.get(key) is None
    assert "is corrupt" in caplog.text
    assert "Contents" not in client.list_objects_v2(Bucket=BUCKET, Prefix="corrupt/")
    cache.put(key, b"the real entry")
    assert cache.get(key) == b"the real entry"


def test_stats_pages_and_prune_by_age_then_size(endpoint, client, tmp_path):
    cache = S3Cache(f"s3://{BUCKET}/prune", page_size=2)
    client.put_object(Bucket=BUCKET, Key="prune/README.txt", Body=b"not an entry: never counted nor pruned")
    for n in range(3):
        cache.put(_key(("old", n)), b"o" * 1000)
    time.sleep(2.5)
    for n in range(2):
        cache.put(_key(("new", n)), b"n" * 100 * (n + 1))
    stats = cache.stats()
    assert (stats.entries, stats.bytes) == (5, 3300) and stats.oldest_age_s >= 2
    assert cache.prune(max_bytes=2300) == (1, 1000), "the least recently used go first, down to the size"
    assert cache.prune(max_age_s=2.0) == (2, 2000)
    assert [cache.get(_key(("old", n))) for n in range(3)] == [None] * 3
    assert cache.get(_key(("new", 0))) == b"n" * 100 and cache.get(_key(("new", 1))) == b"n" * 200
    assert client.head_object(Bucket=BUCKET, Key="prune/README.txt")["ContentLength"] > 0


def test_a_hit_renews_the_entry_so_prune_follows_use(endpoint, client):
    cache = S3Cache(f"s3://{BUCKET}/touch", touch_after_s=0.5)
    used, unused = _key("used"), _key("unused")
    cache.put(used, b"u")
    cache.put(unused, b"x")
    time.sleep(2.2)
    assert cache.get(used) == b"u"
    assert cache.prune(max_age_s=1.5) == (1, 1)
    assert cache.get(used) == b"u" and cache.get(unused) is None


def test_cli_stats_and_prune(endpoint, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VMSG_CACHE_DIR", str(tmp_path / "local"))
    cache = S3Cache(f"s3://{BUCKET}/cli")
    for n in range(2):
        cache.put(_key(("cli", n)), b"c" * 2048)
    code, out, err = run_cli(capsys, "cache", "stats", "--cache", f"s3://{BUCKET}/cli", "--json")
    assert code == 0, err
    stats = json.loads(out)
    assert (stats["backend"], stats["entries"], stats["bytes"]) == ("s3", 2, 4096)
    code, out, err = run_cli(capsys, "cache", "prune", "--all", "--cache-url", f"s3://{BUCKET}/cli")
    assert code == 0, err
    assert "removed 2 entries" in out and f"s3://{BUCKET}/cli" in out
    assert cache.stats().entries == 0


def test_missing_bucket_exits_2_and_unreachable_endpoint_75(endpoint, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VMSG_CACHE_DIR", str(tmp_path / "local"))
    with pytest.raises(InputError, match="bucket 'no-such-bucket' does not exist"):
        open_cache("s3://no-such-bucket/c", local_dir=tmp_path / "l").check()
    code, _, err = cli(capsys, "cache", "stats", "--cache", "s3://no-such-bucket/c")
    assert code == 2 and "s3://no-such-bucket/c" in err and "does not exist" in err, err
    recipe = tmp_path / "r.yaml"
    recipe.write_text(TEMPLATE.replace("output: out/x.mp4", f"output: {tmp_path / 'x.mp4'}"), encoding="utf-8")
    code, _, err = cli(capsys, "render", str(recipe), "--cache", "s3://no-such-bucket/c", "--no-ledger")
    assert code == 2 and "bucket 'no-such-bucket' does not exist" in err, err
    assert not (tmp_path / "x.mp4").exists(), "nothing is rendered without the cache asked for"
    monkeypatch.setenv("VMSG_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("VMSG_S3_MAX_ATTEMPTS", "1")
    with pytest.raises(TemporaryError) as info:
        open_cache(f"s3://{BUCKET}/c", local_dir=tmp_path / "l").check()
    assert info.value.exit_code == 75 and "cannot reach the S3 endpoint" in str(info.value)
    assert S3_ENV["AWS_SECRET_ACCESS_KEY"] not in str(info.value)
    code, _, err = cli(capsys, "render", str(recipe), "--cache", f"s3://{BUCKET}/c", "--no-ledger")
    assert code == 75 and "cannot reach the S3 endpoint" in err and not (tmp_path / "x.mp4").exists(), err


def test_access_denied_is_exit_2(monkeypatch):
    """A moto server that checks credentials and IAM policies after its first 4 requests (which set up
    the bucket and a read-only user): an unknown access key, then a user who may read but not write."""
    import boto3

    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "4")
    proc, url = start_moto()
    try:
        S3Store(endpoint_url=url).client.create_bucket(Bucket=BUCKET)
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1")
        iam.create_user(UserName="reader")
        access = iam.create_access_key(UserName="reader")["AccessKey"]
        # moto names the HEAD-bucket permission s3:HeadBucket (AWS checks s3:ListBucket)
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:HeadBucket", "s3:GetObject"], "Resource": "*"}]}
        iam.put_user_policy(UserName="reader", PolicyName="read-only", PolicyDocument=json.dumps(policy))
        with pytest.raises(InputError) as unknown:
            S3Cache(f"s3://{BUCKET}/denied", store=S3Store(endpoint_url=url, max_attempts=1)).check()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", access["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", access["SecretAccessKey"])
        reader = S3Cache(f"s3://{BUCKET}/denied", store=S3Store(endpoint_url=url, max_attempts=1))
        assert reader.stats().entries == 0, "the reader may list"
        with pytest.raises(InputError) as read_only:
            reader.check()
    finally:
        stop(proc)
    assert unknown.value.exit_code == 2 and read_only.value.exit_code == 2
    assert f"s3://{BUCKET}/denied: access denied" in str(unknown.value), str(unknown.value)
    assert "access denied (AccessDenied) when writing a test object" in str(read_only.value), str(read_only.value)
    assert access["SecretAccessKey"] not in str(read_only.value)


def test_an_outage_during_a_run_is_a_warning_and_the_local_cache_goes_on(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("VMSG_S3_MAX_ATTEMPTS", "1")
    proc, url = start_moto()
    S3Store(endpoint_url=url).client.create_bucket(Bucket=BUCKET)
    shared = S3Cache(f"s3://{BUCKET}/outage", store=S3Store(endpoint_url=url, max_attempts=1))
    cache = TieredCache(LocalCache(tmp_path / "local"), shared)
    cache.check()
    stop(proc)
    key = _key("outage")
    with caplog.at_level(logging.WARNING, logger="vmsg.cache_s3"):
        assert cache.get(key) is None
        t0 = time.perf_counter()
        cache.put(key, b"kept locally")
        assert cache.get(key) == b"kept locally"
        assert shared.get(_key("other")) is None
        assert time.perf_counter() - t0 < 1.0, "a paused shared cache is not asked again"
    assert caplog.text.count("going on without the shared cache") == 1, caplog.text


@pytest.fixture
def render(endpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VMSG_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("VMSG_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VMSG_CACHE_URL", raising=False)

    def run(machine: str, text: str) -> dict:
        """`vmsg render --cache s3://…` on a 'machine' with an empty local cache folder; its run report."""
        monkeypatch.setenv("VMSG_CACHE_DIR", str(tmp_path / machine / "cache"))
        recipe = tmp_path / f"{machine}.yaml"
        recipe.write_text(TEMPLATE.replace("テンプレート", text), encoding="utf-8")
        out = tmp_path / machine / "out.mp4"
        code, _, err = cli(capsys, "render", str(recipe), "-o", str(out), "--cache", f"s3://{BUCKET}/render",
                           "--no-ledger", "-q")
        assert code == 0, err
        return json.loads((tmp_path / machine / "out.report.json").read_text(encoding="utf-8"))

    return run


def test_a_second_machine_renders_from_s3_and_a_new_text_reuses_the_segmentation(render, client):
    first = render("one", "えすさん。")
    second = render("two", "えすさん。")
    assert {s["detail"]["cache"] for s in first["stages"]} == {"miss"}
    assert {s["detail"]["cache"] for s in second["stages"]} == {"hit"}
    assert second["outputs"]["video"]["sha256"] == first["outputs"]["video"]["sha256"]
    assert second["total_seconds"] < first["total_seconds"] / 2, (second["total_seconds"], first["total_seconds"])

    third = render("three", "べつのぶん。")
    cached = {s["stage"]: s["detail"]["cache"] for s in third["stages"]}
    assert cached["segment"] == "hit" and cached["synth"] == "miss", cached
    segment_key = next(s["detail"]["content_hash"] for s in third["stages"] if s["stage"] == "segment")
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET, Prefix="render/")["Contents"]]
    assert f"render/{segment_key}" in keys
