"""The did engine against a local server implementing D-ID's published API (not the real service)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.integration.did_fake import FakeDid
from vmsg.backends.render import RENDERERS
from vmsg.errors import BackendError, InputError, TemporaryError
from vmsg.fallback import BREAKER, PolicyRefusal
from vmsg.media.ffmpeg import probe
from vmsg.media.image import read_image
from vmsg.stages.render import RenderOptions, render
from vmsg.types import Soundtrack

pytestmark = pytest.mark.integration

KEY = "dGVzdEBleGFtcGxlLmNvbQ:s3cr3t-Fake-Key-0042"
RATE = 24000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    fake = FakeDid(KEY, tmp_path_factory.mktemp("did")).start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def fresh(server, monkeypatch):
    server.reset("ok")
    monkeypatch.setenv("VMSG_DID_API_KEY", KEY)
    monkeypatch.delenv("VMSG_DID_API_KEY_FILE", raising=False)
    RENDERERS._instances.clear()  # a fresh engine: a fresh cost guard
    BREAKER.reset()
    yield
    BREAKER.reset()


@pytest.fixture(scope="module")
def portrait(astronaut_png):
    return read_image(astronaut_png)


def speechlike(seconds: float = 2.0) -> Soundtrack:
    t = np.arange(int(seconds * RATE)) / RATE
    voice = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return Soundtrack(voice.astype(np.float32), RATE)


def options(server, **did) -> RenderOptions:
    return RenderOptions(engine="did", size=256, did={"base_url": server.url, "poll_interval_s": 0.1,
                                                      "poll_max_interval_s": 0.3, "retries": 2, **did})


def test_did_renders_a_real_mp4_through_the_api(server, portrait, tmp_path):
    server.reset("ok", throttle_once=True)
    out = tmp_path / "did.mp4"
    track = speechlike(2.0)
    facts = render(portrait, track, out, options(server, expression="happy", pad_audio=0.5))

    info = probe(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["pix_fmt"], video["width"], video["height"]) == ("h264", "yuv420p", 256, 256)
    assert audio["codec_name"] == "aac"
    assert int(audio["sample_rate"]) == RATE  # our soundtrack, not D-ID's 16 kHz copy
    assert float(info["format"]["duration"]) == pytest.approx(2.5, abs=0.1)  # pad_audio added
    assert facts["engine"] == "did" and facts["talk_id"].startswith("tlk_")

    assert server.calls["POST /images"] == 1 and server.calls["POST /audios"] == 1 and server.calls["POST /talks"] == 1
    body = server.talk_bodies[0]
    assert body["script"]["type"] == "audio" and body["script"]["audio_url"].startswith("s3://")
    assert body["config"]["stitch"] is True and body["config"]["result_format"] == "mp4"
    assert body["config"]["pad_audio"] == 0.5
    assert body["config"]["driver_expressions"]["expressions"][0]["expression"] == "happy"
    # the key goes to the API, never to the storage link of the result
    assert server.result_auth_headers == [None]
    # one 429 with Retry-After: 1 was served; the next poll waited at least that long
    codes = [(t, code) for t, method, path, code in server.log if path.startswith("/talks/")]
    throttled = next(i for i, (_, code) in enumerate(codes) if code == 429)
    assert codes[throttled + 1][0] - codes[throttled][0] >= 0.95
    assert codes[-1][1] == 200


@pytest.mark.parametrize(
    ("mode", "error", "words"),
    [
        ("401", BackendError, "refused the API key"),
        ("402", BackendError, "out of credits"),
        ("403", BackendError, "forbids"),
        ("451", InputError, "legal reasons"),
        ("rejected", InputError, "rejected talk"),
        ("face_error", InputError, "no usable face"),
        ("500", TemporaryError, "answered 500"),
    ],
)
def test_errors_are_mapped_to_clear_messages(server, portrait, tmp_path, mode, error, words):
    server.reset(mode)
    out = tmp_path / "x.mp4"
    with pytest.raises(error) as caught:
        render(portrait, speechlike(1.0), out, options(server, retries=1))
    assert words in str(caught.value)
    assert KEY not in str(caught.value) and "s3cr3t" not in str(caught.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing half-written
    if mode == "500":
        assert server.calls["POST /images"] == 2  # retried once, then gave up


def test_key_never_in_logs_errors_or_messages(server, portrait, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    render(portrait, speechlike(1.0), tmp_path / "ok.mp4", options(server))
    server.reset("401")  # the fake echoes the Authorization header back in its error body
    with pytest.raises(BackendError) as caught:
        render(portrait, speechlike(1.0), tmp_path / "no.mp4", options(server))
    assert any(a == f"Basic {KEY}" for a in server.received_auth)  # it really was sent…
    assert "<redacted>" in str(caught.value)  # …and scrubbed from the echo
    for text in (caplog.text, str(caught.value), repr(caught.value)):
        assert KEY not in text and "s3cr3t" not in text


def test_key_from_a_file(server, portrait, tmp_path, monkeypatch):
    key_file = tmp_path / "did.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    monkeypatch.delenv("VMSG_DID_API_KEY")
    monkeypatch.setenv("VMSG_DID_API_KEY_FILE", str(key_file))
    render(portrait, speechlike(1.0), tmp_path / "ok.mp4", options(server))
    assert server.received_auth[-1] == f"Basic {KEY}"

    monkeypatch.setenv("VMSG_DID_API_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(InputError, match="missing.key"):
        render(portrait, speechlike(1.0), tmp_path / "no.mp4", options(server))
    monkeypatch.delenv("VMSG_DID_API_KEY_FILE")
    with pytest.raises(BackendError, match="VMSG_DID_API_KEY"):
        render(portrait, speechlike(1.0), tmp_path / "no.mp4", options(server))


def test_cost_guard_refuses_before_any_upload(server, portrait, tmp_path):
    with pytest.raises(PolicyRefusal, match="max_seconds"):
        render(portrait, speechlike(2.0), tmp_path / "long.mp4", options(server, max_seconds=1.5))
    assert sum(server.calls.values()) == 0

    render(portrait, speechlike(1.0), tmp_path / "one.mp4", options(server, max_clips=1))
    uploads = server.calls["POST /images"]
    with pytest.raises(PolicyRefusal, match="max_clips"):
        render(portrait, speechlike(1.0), tmp_path / "two.mp4", options(server, max_clips=1))
    assert server.calls["POST /images"] == uploads == 1
    assert not (tmp_path / "two.mp4").exists()


def test_failed_talk_creation_is_not_charged_to_the_guard(server, portrait, tmp_path):
    server.reset("402")
    with pytest.raises(BackendError):
        render(portrait, speechlike(1.0), tmp_path / "a.mp4", options(server, max_clips=1))
    server.reset("ok")
    render(portrait, speechlike(1.0), tmp_path / "b.mp4", options(server, max_clips=1))
    assert (tmp_path / "b.mp4").is_file()


def test_presigned_urls_skip_the_uploads(server, portrait, tmp_path):
    import soundfile as sf
    from PIL import Image

    files = server.workdir / "files"
    files.mkdir(exist_ok=True)
    Image.fromarray(portrait).save(files / "portrait.png")
    track = speechlike(1.0)
    sf.write(files / "voice.wav", track.samples, track.sample_rate)
    out = tmp_path / "presigned.mp4"
    render(portrait, track, out, options(server, image_url=f"{server.url}/files/portrait.png",
                                         audio_url=f"{server.url}/files/voice.wav"))
    assert server.calls["POST /images"] == 0 and server.calls["POST /audios"] == 0
    assert server.talk_bodies[0]["source_url"] == f"{server.url}/files/portrait.png"
    assert out.is_file()


def test_an_expired_result_link_is_fetched_again_once(server, portrait, tmp_path):
    server.reset("expired")
    out = tmp_path / "late.mp4"
    render(portrait, speechlike(1.0), out, options(server))
    assert out.is_file() and len(server.result_auth_headers) == 2
    assert server.calls["POST /talks"] == 1  # the same talk, not a second (paid) one


def test_talk_creation_is_retried_only_when_it_surely_did_not_happen(server, portrait, tmp_path):
    server.reset("talks_429")  # throttled: nothing was created, so a retry is safe
    render(portrait, speechlike(1.0), tmp_path / "ok.mp4", options(server))
    assert server.calls["POST /talks"] == 2 and (tmp_path / "ok.mp4").is_file()
    server.reset("talks_503")  # may or may not have been created: never risk paying twice
    with pytest.raises(TemporaryError, match="answered 503 while creating the talk"):
        render(portrait, speechlike(1.0), tmp_path / "no.mp4", options(server, retries=3))
    assert server.calls["POST /talks"] == 1 and server.calls["POST /images"] == 1


def test_a_talk_that_never_finishes_times_out_as_temporary(server, portrait, tmp_path):
    server.reset("slow")
    with pytest.raises(TemporaryError, match="not done after"):
        render(portrait, speechlike(1.0), tmp_path / "slow.mp4", options(server, poll_timeout_s=1.0))


def test_presigned_url_must_be_https_or_s3():
    with pytest.raises(ValueError, match="https:// or s3://"):
        RenderOptions(did={"image_url": "ftp://example.com/a.png"})


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "code", "words"), [("402", 1, "out of credits"), ("500", 75, "answered 500")])
def test_cli_exit_codes_and_messages(server, astronaut_png, tmp_path, mode, code, words):
    import os
    import subprocess
    import sys
    from pathlib import Path

    server.reset(mode)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"image: {astronaut_png}\ntext: はい。\noutput: out.mp4\nvoice: {{engine: openjtalk}}\n"
                      f"render: {{engine: did, size: 256, did: {{base_url: '{server.url}', retries: 0}}}}\n",
                      encoding="utf-8")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-m", "vmsg", "render", str(recipe)], cwd=root, capture_output=True,
                          text=True, env={**os.environ, "VMSG_DID_API_KEY": KEY}, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert words in proc.stderr and KEY not in proc.stderr + proc.stdout
    assert not (tmp_path / "out.mp4").exists()
