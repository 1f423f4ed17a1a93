"""The shared cache in a real redis-server on loopback (started by the test)."""

from __future__ import annotations

import logging

import pytest

from tests.integration._servers import free_port, redis_server
from vmsg.cache import RedisCache, TieredCache, content_key, open_cache
from vmsg.errors import TemporaryError

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def test_two_machines_share_entries_through_redis(redis_url, tmp_path):
    first = open_cache(redis_url, local_dir=tmp_path / "machine1")
    second = open_cache(redis_url, local_dir=tmp_path / "machine2")
    assert isinstance(first, TieredCache)
    first.check()
    key = content_key("segment", engine="mediapipe", version="1", inputs={"image": "abc"})
    payload = bytes(range(256)) * 100
    first.put(key, payload)
    assert second.local.get(key) is None
    assert second.get(key) == payload
    assert second.local.get(key) == payload, "a shared hit is copied into the local cache"
    stats = second.stats()
    assert stats.backend == "redis" and stats.entries >= 1 and stats.bytes >= len(payload)


def test_prune_all_and_ttl(redis_url):
    cache = RedisCache(redis_url, ttl_s=100)
    key = content_key("t", engine=None, version=None, inputs={"ttl": 1})
    cache.put(key, b"x")
    assert 0 < cache.client.ttl(cache.PREFIX + key) <= 100
    removed, _ = cache.prune(max_bytes=0)
    assert removed >= 1 and cache.get(key) is None


def test_redis_down_before_a_run_is_temporary_and_during_a_run_is_a_warning(tmp_path, caplog):
    url = f"redis://127.0.0.1:{free_port()}/0"
    cache = open_cache(url, local_dir=tmp_path / "local")
    with pytest.raises(TemporaryError) as info:
        cache.check()
    assert info.value.exit_code == 75 and "Redis is unreachable" in str(info.value)
    key = content_key("t", engine=None, version=None)
    with caplog.at_level(logging.WARNING, logger="vmsg.cache"):
        cache.put(key, b"kept locally")
        assert cache.get(key) == b"kept locally"
        assert cache.shared.get(key) is None
    assert "going on without the shared cache" in caplog.text


def test_a_second_machine_renders_from_the_shared_cache(redis_url, tmp_path, monkeypatch, capsys):
    """Two batch runs with separate local caches: the second computes nothing, every stage comes from Redis."""
    import json

    from tests.integration.test_batch import TEMPLATE, cli, write_csv

    monkeypatch.setenv("VMSG_LOCK_DIR", str(tmp_path / "locks"))
    monkeypatch.setenv("VMSG_HOME", str(tmp_path / "home"))
    (tmp_path / "tpl.yaml").write_text(TEMPLATE, encoding="utf-8")
    batch = write_csv(tmp_path / "m.csv", [("shared", "きょうゆう。")])
    for machine in ("one", "two"):
        monkeypatch.setenv("VMSG_CACHE_DIR", str(tmp_path / machine))
        code, _, err = cli(capsys, "batch", str(batch), "-t", str(tmp_path / "tpl.yaml"), "--out-dir",
                           str(tmp_path / machine / "out"), "--cache-url", redis_url)
        assert code == 0, err
    first = json.loads((tmp_path / "one" / "out" / "shared.report.json").read_text())
    second = json.loads((tmp_path / "two" / "out" / "shared.report.json").read_text())
    assert {s["detail"]["cache"] for s in first["stages"]} == {"miss"}
    assert {s["detail"]["cache"] for s in second["stages"]} == {"hit"}
    assert second["outputs"]["video"]["sha256"] == first["outputs"]["video"]["sha256"]
