"""Profile store and reference-clip checks, on generated data (no model runs)."""

from __future__ import annotations

import numpy as np
import pytest

from vmsg.errors import InputError
from vmsg.profiles import ProfileStore, VoiceProfile, check_name, clip_digest, home, profile_id
from vmsg.stages.clone import CloneOptions, clip_problem, load_references

RATE = 16000


def _voice(seconds: float = 4.0, f0: float = 140.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (amp * x / np.max(np.abs(x)) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t) ** 2)).astype(np.float32)


def _profile(seed: int, n_clips: int = 2) -> VoiceProfile:
    rng = np.random.default_rng(seed)
    clips = [(_voice(3.5 + i, 120 + 20 * seed + i), RATE) for i in range(n_clips)]
    digests = [clip_digest(s, r) for s, r in clips]
    emb = rng.normal(size=256).astype(np.float32)
    return VoiceProfile(
        id=profile_id(digests),
        clips=tuple({"sha256": d, "seconds": len(s) / r, "rate": r, "file": f"c{i}.wav"} for i, (d, (s, r)) in enumerate(zip(digests, clips))),
        embedding=emb / np.linalg.norm(emb),
        f0={"median_hz": 140.0, "log_mean": float(np.log(140.0)), "log_std": 0.1},
        envelope=rng.normal(size=513).astype(np.float32),
        style=rng.normal(size=(510, 1, 256)).astype(np.float32),
        facts={"self_similarity": 0.85, "stock_similarity": 0.6},
        audio=tuple(clips),
    )


def test_store_round_trip_keeps_every_array(tmp_path):
    store = ProfileStore(tmp_path)
    original = _profile(1)
    loaded = store.save(original, "alice")
    assert loaded.id == original.id and loaded.names == ("alice",)
    np.testing.assert_array_equal(loaded.embedding, original.embedding)
    np.testing.assert_array_equal(loaded.style, original.style)
    np.testing.assert_array_equal(loaded.envelope, original.envelope)
    assert loaded.f0 == original.f0 and loaded.facts == original.facts
    assert [r for _, r in loaded.audio] == [RATE, RATE]
    np.testing.assert_allclose(loaded.audio[0][0], original.audio[0][0], atol=1 / 32767)
    assert not list(tmp_path.rglob("*.part*")), "temporary files left behind"


def test_profile_key_is_the_audio_content_not_the_order_or_name():
    a, b = _voice(4.0, 130.0), _voice(4.0, 150.0)
    assert clip_digest(a, RATE) == clip_digest(a.copy(), RATE)
    assert clip_digest(a, RATE) != clip_digest(a, 22050), "same samples at another rate are other audio"
    assert profile_id([clip_digest(a, RATE), clip_digest(b, RATE)]) == profile_id([clip_digest(b, RATE), clip_digest(a, RATE)])
    assert profile_id([clip_digest(a, RATE)]) != profile_id([clip_digest(b, RATE)])


def test_aliases_and_delete_remove_files_only_with_the_last_name(tmp_path):
    store = ProfileStore(tmp_path)
    p = _profile(2)
    store.save(p, "bob")
    store.alias("robert", p.id)
    assert store.load("robert").names == ("bob", "robert")
    assert store.load(p.id).id == p.id, "an id resolves like a name"
    store.delete("bob")
    assert (tmp_path / f"{p.id}.npz").is_file(), "files stay while another name points to them"
    store.delete("robert")
    assert not (tmp_path / f"{p.id}.npz").exists() and not (tmp_path / f"{p.id}.json").exists()
    assert store.names() == {}


def test_unknown_profile_names_the_profile_and_lists_known_ones(tmp_path):
    store = ProfileStore(tmp_path)
    store.save(_profile(3), "carol")
    with pytest.raises(InputError, match=r"unknown voice profile 'dave'.*known profiles: carol"):
        store.load("dave")


def test_failed_save_leaves_no_findable_profile(tmp_path, monkeypatch):
    store = ProfileStore(tmp_path)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        store.save(_profile(4), "erin")
    assert store.names() == {}
    assert not list(tmp_path.rglob("*.json")) and not list(tmp_path.rglob("*.npz"))


def test_vmsg_home_decides_where_profiles_live(tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_HOME", str(tmp_path / "h"))
    assert home() == tmp_path / "h"
    assert ProfileStore().root == tmp_path / "h" / "profiles"


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden", "-x", "x" * 65])
def test_bad_profile_names_are_refused(bad):
    with pytest.raises(InputError, match="profile name"):
        check_name(bad)


def test_clip_checks_name_the_problem():
    assert clip_problem(_voice(4.0), RATE) is None
    assert "too short" in clip_problem(_voice(2.5), RATE)
    assert "silent" in clip_problem(np.zeros(RATE * 4, np.float32), RATE)
    assert "clipped" in clip_problem(np.clip(_voice(4.0, amp=1.0) * 4, -1, 1), RATE)
    t = np.arange(RATE * 4) / RATE
    assert clip_problem((0.95 * np.sin(2 * np.pi * 60 * t)).astype(np.float32), RATE) is None, "a loud clean tone is not clipped"


def test_load_references_refuses_more_than_five_and_names_the_file(tmp_path):
    import soundfile as sf

    paths = []
    for i in range(6):
        paths.append(tmp_path / f"r{i}.wav")
        sf.write(paths[-1], _voice(3.2, 120 + i), RATE)
    with pytest.raises(InputError, match="at most 5"):
        load_references(paths)
    short = tmp_path / "short.wav"
    sf.write(short, _voice(1.0), RATE)
    with pytest.raises(InputError, match=r"reference clip .*short\.wav: 1\.0 s is too short"):
        load_references([paths[0], short])


def test_clone_options_refuse_profile_and_references_together():
    with pytest.raises(ValueError, match="not both"):
        CloneOptions(profile="x", references=["a.wav"])
    assert CloneOptions().engine == "world"


def test_recipes_name_a_profile_in_voice_or_clone_and_unknown_ones_fail_before_work(tmp_path, monkeypatch, astronaut_png):
    from vmsg.pipeline import check_inputs
    from vmsg.recipe import validate_recipe

    monkeypatch.setenv("VMSG_HOME", str(tmp_path))
    ProfileStore().save(_profile(5), "grace")
    base = {"image": str(astronaut_png), "text": "こんにちは", "output": str(tmp_path / "o.mp4")}
    recipe = validate_recipe({**base, "voice": {"profile": "grace"}, "clone": {"profile": "grace"}}, source="r.yaml")
    assert recipe.voice.profile == "grace" and recipe.clone.profile == "grace" and recipe.clone.engine == "world"
    check_inputs(recipe)
    bad = validate_recipe({**base, "clone": {"profile": "heidi"}}, source="r.yaml")
    with pytest.raises(InputError, match="unknown voice profile 'heidi'.*grace"):
        check_inputs(bad)
    assert not (tmp_path / "o.mp4").exists()
