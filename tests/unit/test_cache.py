"""The artifact cache: content keys, atomic local entries, pruning, a full disk."""

from __future__ import annotations

import logging
import os
import time

import numpy as np
import pytest

from vmsg import artifacts
from vmsg.cache import LocalCache, content_key, open_cache
from vmsg.errors import InputError
from vmsg.types import Cutout, PersonBox, Phoneme, Soundtrack, Speech


def test_key_depends_on_everything_but_device_and_key_order():
    base = dict(engine="kokoro", version="1", options={"voice": "a", "speed": 1.0, "device": "cpu"}, inputs={"text": "x"})
    key = content_key("synth", **base)
    assert key == content_key("synth", engine="kokoro", version="1", options={"device": "cuda", "speed": 1.0, "voice": "a"},
                              inputs={"text": "x"})
    changed = [
        content_key("segment", **base),
        content_key("synth", **{**base, "engine": "openjtalk"}),
        content_key("synth", **{**base, "version": "2"}),
        content_key("synth", **{**base, "options": {"voice": "b", "speed": 1.0}}),
        content_key("synth", **{**base, "inputs": {"text": "y"}}),
    ]
    assert len({key, *changed}) == 6


def test_artifacts_round_trip_exactly():
    rng = np.random.default_rng(0)
    cutout = Cutout(rng.integers(0, 255, (8, 6, 3), np.uint8), rng.random((8, 6), np.float32),
                    rng.integers(0, 255, (8, 6, 3), np.uint8), (PersonBox(0, 1, 5, 7, 0.9, (1, 1, 3, 3)),), {"engine": "m"})
    back = artifacts.decode_cutout(artifacts.encode_cutout(cutout))
    assert np.array_equal(back.rgb, cutout.rgb) and np.array_equal(back.alpha, cutout.alpha)
    assert np.array_equal(back.composite, cutout.composite) and back.people == cutout.people and back.meta == cutout.meta
    timeline = (Phoneme("k", 0.0, 0.1), Phoneme("o", 0.1, 0.25))
    speech = Speech(rng.standard_normal(1000).astype(np.float32), 24000, timeline, "engine", {"text": "こ"})
    sp = artifacts.decode_speech(artifacts.encode_speech(speech))
    assert np.array_equal(sp.samples, speech.samples) and sp.timeline == timeline and sp.meta == {"text": "こ"}
    track = Soundtrack(rng.standard_normal((500, 2)).astype(np.float32), 48000, timeline, "scaled")
    tr = artifacts.decode_soundtrack(artifacts.encode_soundtrack(track))
    assert np.array_equal(tr.samples, track.samples) and tr.sample_rate == 48000 and tr.timeline_source == "scaled"
    mp4, facts = artifacts.decode_video(artifacts.encode_video(b"\x00\x01mp4", {"fps": 25}))
    assert mp4 == b"\x00\x01mp4" and facts == {"fps": 25}
    with pytest.raises(ValueError, match="expected 'speech'"):
        artifacts.decode_speech(artifacts.encode_video(b"x", {}))


def test_local_cache_get_put_stats_and_prune(tmp_path):
    cache = LocalCache(tmp_path / "c")
    cache.check()
    assert cache.get("ab" * 32) is None
    keys = [content_key("t", engine=None, version=None, inputs={"i": i}) for i in range(4)]
    for i, key in enumerate(keys):
        cache.put(key, bytes([i]) * 1000)
    assert cache.get(keys[2]) == bytes([2]) * 1000
    stats = cache.stats()
    assert (stats.entries, stats.bytes) == (4, 4000)
    old = time.time() - 10 * 86400
    for key in keys[:2]:
        os.utime(cache._path(key), (old, old))
    assert cache.prune(max_age_s=86400) == (2, 2000)
    assert cache.get(keys[0]) is None and cache.get(keys[3]) is not None
    os.utime(cache._path(keys[2]), (old + 5, old + 5))
    assert cache.prune(max_bytes=1500) == (1, 1000)
    assert cache.get(keys[2]) is None and cache.get(keys[3]) is not None
    assert not list((tmp_path / "c").rglob("*.part"))


def test_open_cache_by_url(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_CACHE_DIR", str(tmp_path / "env"))
    monkeypatch.delenv("VMSG_CACHE_URL", raising=False)
    assert open_cache().location == str(tmp_path / "env")
    assert open_cache(str(tmp_path / "x")).location == str(tmp_path / "x")
    with pytest.raises(InputError, match="unknown scheme 'ftp'"):
        open_cache("ftp://host/cache")


def test_full_disk_keeps_going_and_leaves_no_partial_entry(tmp_path, caplog):
    from tests.integration._servers import tiny_tmpfs

    with tiny_tmpfs(tmp_path / "disk", "64k") as disk:
        cache = LocalCache(disk)
        key = content_key("t", engine=None, version=None)
        with caplog.at_level(logging.WARNING, logger="vmsg.cache"):
            cache.put(key, b"x" * 200_000)
        assert cache.get(key) is None
        assert "No space left on device" in caplog.text and "going on without it" in caplog.text
        assert not [p for p in disk.rglob("*") if p.is_file()]
        cache.put(key, b"small")
        assert cache.get(key) == b"small"


def test_job_key_follows_content_not_paths_and_changes_with_the_code(tmp_path, astronaut_png, monkeypatch):
    import shutil

    import vmsg.cache
    from vmsg.pipeline import job_key
    from vmsg.recipe import validate_recipe

    copy = tmp_path / "same.png"
    shutil.copy(astronaut_png, copy)
    base = {"image": str(astronaut_png), "text": "こんにちは", "output": str(tmp_path / "a.mp4")}
    key = job_key(validate_recipe(base, source="t"))
    assert key == job_key(validate_recipe({**base, "image": str(copy), "output": str(tmp_path / "b.mp4")}, source="t"))
    assert key != job_key(validate_recipe({**base, "text": "こんばんは"}, source="t"))
    assert key != job_key(validate_recipe({**base, "render": {"fps": 30}}, source="t"))
    copy.write_bytes(copy.read_bytes() + b"\0")
    assert key != job_key(validate_recipe({**base, "image": str(copy)}, source="t"))
    monkeypatch.setattr(vmsg.cache, "code_fingerprint", lambda: "edited-engine")
    assert key != job_key(validate_recipe(base, source="t"))
