"""S3 storage against moto's standalone server on 127.0.0.1 (a real HTTP S3 API, driven by real boto3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

import vmsg.store as store_mod
from tests.scale_servers import ROOT, S3_ENV, free_port, moto_s3
from vmsg.errors import InputError, StorageError, TemporaryError
from vmsg.store import S3Store

pytestmark = pytest.mark.integration

BUCKET = "vmsg-test"
PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")


@pytest.fixture(scope="module")
def endpoint() -> str:
    saved = {k: os.environ.get(k) for k in S3_ENV}
    os.environ.update(S3_ENV)
    try:
        with moto_s3() as url:
            S3Store(endpoint_url=url).client.create_bucket(Bucket=BUCKET)
            yield url
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture
def s3(endpoint, monkeypatch) -> S3Store:
    monkeypatch.setenv("VMSG_S3_ENDPOINT_URL", endpoint)
    monkeypatch.setattr(store_mod, "_S3", None)
    return store_mod.s3_store()


def _public_grants(client, key: str) -> list:
    grants = client.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    return [g for g in grants if g["Grantee"].get("URI") in PUBLIC_GROUPS]


def test_upload_download_roundtrip_is_private(s3, endpoint, tmp_path):
    src = tmp_path / "a.bin"
    src.write_bytes(os.urandom(200_000))
    uri = s3.upload(src, f"s3://{BUCKET}/round/a.bin")
    got = s3.download(uri, tmp_path / "copy" / "a.bin")
    assert got.read_bytes() == src.read_bytes()
    assert _public_grants(s3.client, "round/a.bin") == []
    assert httpx.get(f"{endpoint}/{BUCKET}/round/a.bin").status_code == 403, "anonymous read must be refused"


def test_large_file_goes_up_in_parts(endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("VMSG_S3_MULTIPART_MB", "5")
    s3 = S3Store(endpoint_url=endpoint)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(11 << 20))
    s3.upload(src, f"s3://{BUCKET}/big/big.bin")
    head = s3.head(f"s3://{BUCKET}/big/big.bin")
    assert head["ContentLength"] == 11 << 20
    assert head["ETag"].strip('"').endswith("-3"), f"expected a 3-part multipart ETag, got {head['ETag']}"
    assert s3.download(f"s3://{BUCKET}/big/big.bin", tmp_path / "back.bin").read_bytes() == src.read_bytes()
    assert _public_grants(s3.client, "big/big.bin") == []


def test_presigned_url_reads_a_private_object(s3, endpoint, tmp_path):
    src = tmp_path / "p.txt"
    src.write_bytes(b"presigned payload")
    s3.upload(src, f"s3://{BUCKET}/p/p.txt")
    url = s3.presign(f"s3://{BUCKET}/p/p.txt", 120)
    assert "X-Amz-Expires=120" in url
    assert httpx.get(url).content == b"presigned payload"
    assert httpx.get(f"{endpoint}/{BUCKET}/p/p.txt").status_code == 403


def test_unreachable_endpoint_is_a_temporary_error(tmp_path):
    port = free_port()
    s3 = S3Store(endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1, connect_timeout=1)
    with pytest.raises(TemporaryError) as err:
        s3.download(f"s3://{BUCKET}/in/photo.png", tmp_path / "x.png")
    message = str(err.value)
    assert f"s3://{BUCKET}/in/photo.png" in message and "cannot reach" in message
    assert S3_ENV["AWS_SECRET_ACCESS_KEY"] not in message
    assert not (tmp_path / "x.png").exists() and list(tmp_path.iterdir()) == []


def test_access_denied_names_bucket_and_key(s3, endpoint, tmp_path):
    src = tmp_path / "secret.txt"
    src.write_bytes(b"private")
    s3.upload(src, f"s3://{BUCKET}/private/secret.txt")
    anonymous = S3Store(endpoint_url=endpoint, unsigned=True)
    with pytest.raises(StorageError) as err:
        anonymous.download(f"s3://{BUCKET}/private/secret.txt", tmp_path / "out.txt")
    assert "access denied" in str(err.value) and f"s3://{BUCKET}/private/secret.txt" in str(err.value)
    assert err.value.exit_code == 1


def test_missing_object_is_an_input_error(s3, tmp_path):
    with pytest.raises(InputError, match=f"s3://{BUCKET}/nope/missing.png: object not found"):
        s3.head(f"s3://{BUCKET}/nope/missing.png")


def _recipe(image: str, output: str, text: str = "こんにちは。") -> dict:
    return {"image": image, "text": text, "output": output, "voice": {"engine": "openjtalk"},
            "render": {"engine": "still", "size": 256}}


def test_failed_job_leaves_no_object_under_the_final_key(s3, tmp_path):
    from vmsg.pipeline import run_recipe
    from vmsg.recipe import validate_recipe

    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image at all")
    s3.upload(bad, f"s3://{BUCKET}/fail/broken.png")
    recipe = validate_recipe(_recipe(f"s3://{BUCKET}/fail/broken.png", f"s3://{BUCKET}/fail/out.mp4"), source="test")
    with pytest.raises(InputError):
        run_recipe(recipe)
    keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=BUCKET, Prefix="fail/").get("Contents", [])]
    assert keys == ["fail/broken.png"]


@pytest.mark.slow
def test_recipe_from_s3_to_s3_with_presigned_report(s3, astronaut_png, tmp_path):
    from vmsg.media.ffmpeg import probe
    from vmsg.pipeline import run_recipe
    from vmsg.recipe import validate_recipe

    s3.upload(astronaut_png, f"s3://{BUCKET}/in/face.png")
    recipe = validate_recipe(_recipe(f"s3://{BUCKET}/in/face.png", f"s3://{BUCKET}/out/hello.mp4"), source="test")
    report = run_recipe(recipe, presign=600)
    assert report.output == f"s3://{BUCKET}/out/hello.mp4"
    assert report.inputs["image"]["path"] == f"s3://{BUCKET}/in/face.png"
    local = s3.download(f"s3://{BUCKET}/out/hello.mp4", tmp_path / "hello.mp4")
    info = probe(local)
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == ["audio", "video"]
    assert abs(float(info["format"]["duration"]) - report.outputs["video"]["seconds"]) < 0.2
    stored = json.loads(s3.download(f"s3://{BUCKET}/out/hello.report.json", tmp_path / "r.json").read_text())
    url = stored["outputs"]["video"]["presigned_url"]
    assert httpx.get(url).content == local.read_bytes()
    assert _public_grants(s3.client, "out/hello.mp4") == [] and _public_grants(s3.client, "out/hello.report.json") == []


def test_cli_render_with_unreachable_s3_exits_75(tmp_path, astronaut_png):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"image: {astronaut_png}\ntext: こんにちは。\noutput: s3://{BUCKET}/cli/out.mp4\n"
                      "voice:\n  engine: openjtalk\nrender:\n  engine: still\n  size: 256\n", encoding="utf-8")
    env = {**os.environ, **S3_ENV, "VMSG_S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "VMSG_S3_MAX_ATTEMPTS": "1"}
    proc = subprocess.run([sys.executable, "-m", "vmsg", "render", str(recipe)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 75, proc.stderr
    assert f"s3://{BUCKET}/cli/out.mp4" in proc.stderr and "cannot reach" in proc.stderr
    assert S3_ENV["AWS_SECRET_ACCESS_KEY"] not in proc.stderr + proc.stdout


@pytest.mark.slow
def test_cli_render_output_flag_takes_an_s3_uri_and_presigns(s3, endpoint, tmp_path, astronaut_png):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"image: {astronaut_png}\ntext: こんにちは。\n"
                      "voice:\n  engine: openjtalk\nrender:\n  engine: still\n  size: 256\n", encoding="utf-8")
    env = {**os.environ, **S3_ENV, "VMSG_S3_ENDPOINT_URL": endpoint}
    target = f"s3://{BUCKET}/cli-ok/out.mp4"
    proc = subprocess.run([sys.executable, "-m", "vmsg", "render", str(recipe), "-o", target, "--presign", "600"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "s3:").exists(), "the URI was taken for a local path"
    stored = json.loads(s3.download(f"s3://{BUCKET}/cli-ok/out.report.json", tmp_path / "r.json").read_text())
    assert httpx.get(stored["outputs"]["video"]["presigned_url"]).status_code == 200
    assert S3_ENV["AWS_SECRET_ACCESS_KEY"] not in proc.stderr + proc.stdout


@pytest.mark.slow
def test_cli_render_reads_an_s3_portrait(s3, endpoint, tmp_path, astronaut_png):
    s3.upload(astronaut_png, f"s3://{BUCKET}/cli-in/face.png")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"image: s3://{BUCKET}/cli-in/face.png\ntext: こんにちは。\noutput: out.mp4\n"
                      "voice:\n  engine: openjtalk\nrender:\n  engine: still\n  size: 256\n", encoding="utf-8")
    env = {**os.environ, **S3_ENV, "VMSG_S3_ENDPOINT_URL": endpoint, "VMSG_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "vmsg", "render", str(recipe), "--no-ledger"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    from vmsg.media.ffmpeg import probe

    assert sorted(s["codec_type"] for s in probe(tmp_path / "out.mp4")["streams"]) == ["audio", "video"]


@pytest.mark.slow
def test_batch_to_s3_resumes_without_downloading(s3, endpoint, tmp_path, astronaut_png):
    """A second `vmsg batch` run with s3:// outputs skips every job (report object + size and sha256
    metadata of the video, no download); a video replaced behind its back is rendered again."""
    s3.upload(astronaut_png, f"s3://{BUCKET}/resume/in/face.png")
    rows = tmp_path / "rows.csv"
    rows.write_text(f"name,text,image\nlocal,こんにちは。,{astronaut_png}\nremote,はい。,s3://{BUCKET}/resume/in/face.png\n",
                    encoding="utf-8")
    template = tmp_path / "tpl.yaml"
    template.write_text(f"image: {astronaut_png}\ntext: x\noutput: s3://{BUCKET}/resume/tpl/x.mp4\n"
                        "voice:\n  engine: openjtalk\nrender:\n  engine: still\n  size: 256\n", encoding="utf-8")
    env = {**os.environ, **S3_ENV, "VMSG_S3_ENDPOINT_URL": endpoint, "VMSG_CACHE_DIR": str(tmp_path / "cache"),
           "VMSG_HOME": str(tmp_path / "home"), "VMSG_LOCK_DIR": str(tmp_path / "locks")}
    report = tmp_path / "batch.json"

    def batch() -> dict[str, str]:
        proc = subprocess.run([sys.executable, "-m", "vmsg", "batch", str(rows), "-t", str(template), "--out-dir",
                               f"s3://{BUCKET}/resume/out/", "--report", str(report), "-q"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        return {j["name"]: j["status"] for j in json.loads(report.read_text())["jobs"]}

    keys = [f"resume/out/{n}.mp4" for n in ("local", "remote")]
    assert batch() == {"local": "done", "remote": "done"}
    first = {k: s3.client.head_object(Bucket=BUCKET, Key=k) for k in keys}
    assert all(h["Metadata"]["sha256"] and h["ContentLength"] > 5_000 for h in first.values())

    assert batch() == {"local": "skipped", "remote": "skipped"}
    again = {k: s3.client.head_object(Bucket=BUCKET, Key=k) for k in keys}
    assert {k: h["ETag"] for k, h in again.items()} == {k: h["ETag"] for k, h in first.items()}, "nothing re-uploaded"
    assert not (tmp_path / "s3:").exists() and not list(tmp_path.glob("**/s3:*")), "an s3:// URI was taken for a path"

    # someone replaces one video (same key, other bytes): only that job runs again
    s3.client.put_object(Bucket=BUCKET, Key=keys[1], Body=b"not the video we rendered")
    assert batch() == {"local": "skipped", "remote": "done"}
    restored = s3.client.head_object(Bucket=BUCKET, Key=keys[1])
    assert restored["Metadata"]["sha256"] == first[keys[1]]["Metadata"]["sha256"]
