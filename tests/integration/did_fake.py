"""A local server implementing D-ID's published /images, /audios and /talks contract.

It is not D-ID: it checks `Authorization: Basic <key>`, accepts multipart
uploads, answers talks created → started → done over polls (with one 429 +
Retry-After on the way when `throttle_once`), and serves `result_url` as a real mp4 made with ffmpeg
from the uploaded image and audio. `mode` switches on error scenarios. Only
127.0.0.1 is used.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from collections import Counter
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class FakeDid:
    """`mode`: ok, 401, 402, 403, 451, 500, rejected, face_error, slow (never done),
    expired (the first result_url handed out has expired: 403 from storage),
    talks_503 (POST /talks fails with 503), talks_429 (the first POST /talks is throttled)."""

    def __init__(self, key: str, workdir: Path) -> None:
        self.key = key
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.mode = "ok"
        self.throttle_once = False
        self.retry_after = 1
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[float, str, str, int]] = []
        self.files: dict[str, Path] = {}
        self.talks: dict[str, dict[str, Any]] = {}
        self.talk_bodies: list[dict[str, Any]] = []
        self.result_auth_headers: list[str | None] = []
        self.received_auth: list[str | None] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FakeDid":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self, mode: str = "ok", *, throttle_once: bool = False) -> None:
        with self._lock:
            self.mode = mode
            self.throttle_once = throttle_once
            self.calls.clear()
            self.log.clear()
            self.talk_bodies.clear()
            self.result_auth_headers.clear()
            self.received_auth.clear()

    # -- behaviour -------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def _make_video(self, talk: dict[str, Any]) -> Path:
        out = self.workdir / f"{talk['id']}.mp4"
        image, audio = self.files[talk["source_url"]], self.files[talk["audio_url"]]
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-framerate", "25", "-i", str(image),
             "-i", str(audio), "-vf", "scale=512:-2,format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
             "-c:a", "aac", "-ar", "16000", "-shortest", "-movflags", "+faststart", str(out)],
            check=True,
        )
        return out

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, code: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
                with fake._lock:
                    fake.log.append((time.monotonic(), self.command, self.path, code))

            def _authorized(self) -> bool:
                got = self.headers.get("Authorization")
                fake.received_auth.append(got)
                if fake.mode == "401" or got != f"Basic {fake.key}":
                    # a careless server echoing the header: the client must scrub it
                    self._reply(401, {"kind": "AuthorizationError", "description": f"bad credentials {got}"})
                    return False
                return True

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _upload(self, field: str, bucket: str) -> None:
                ctype = self.headers.get("Content-Type", "")
                msg = BytesParser(policy=default_policy).parsebytes(
                    b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self._body())
                for part in msg.iter_parts():
                    if part.get_param("name", header="content-disposition") == field:
                        name = part.get_filename() or field
                        ident = fake._new_id(field[:3])
                        path = fake.workdir / f"{ident}_{name}"
                        path.write_bytes(part.get_payload(decode=True))
                        url = f"s3://d-id-{bucket}-prod/fake/{ident}/{name}"
                        fake.files[url] = path
                        self._reply(201, {"id": ident, "url": url})
                        return
                self._reply(400, {"kind": "BadRequestError", "description": f"multipart field {field!r} missing"})

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                fake.calls[f"POST {self.path}"] += 1
                if not self._authorized():
                    return
                if fake.mode == "500":
                    self._reply(500, {"kind": "InternalServerError", "description": "try later"})
                elif self.path == "/images":
                    self._upload("image", "images")
                elif self.path == "/audios":
                    self._upload("audio", "audios")
                elif self.path == "/talks":
                    self._create_talk()
                else:
                    self._reply(404, {"kind": "NotFoundError", "description": self.path})

            def _create_talk(self) -> None:
                body = json.loads(self._body() or b"{}")
                fake.talk_bodies.append(body)
                if fake.mode == "talks_503" or (fake.mode == "talks_429" and len(fake.talk_bodies) == 1):
                    code = 503 if fake.mode == "talks_503" else 429
                    self._reply(code, {"kind": "ServiceUnavailable", "description": "busy"}, {"Retry-After": "0"})
                    return
                if fake.mode in ("402", "403", "451"):
                    kinds = {"402": "InsufficientCreditsError", "403": "PermissionError",
                             "451": "UnavailableForLegalReasonsError"}
                    self._reply(int(fake.mode), {"kind": kinds[fake.mode], "description": "refused by the fake"})
                    return
                script = body.get("script") or {}
                source = _resolve(fake, body.get("source_url"))
                audio = _resolve(fake, script.get("audio_url"))
                if script.get("type") != "audio" or source is None or audio is None:
                    self._reply(400, {"kind": "ValidationError", "description": "unknown source_url or audio_url"})
                    return
                talk = {"id": fake._new_id("tlk"), "status": "created", "polls": 0,
                        "source_url": source, "audio_url": audio, "config": body.get("config")}
                fake.talks[talk["id"]] = talk
                self._reply(201, {"id": talk["id"], "object": "talk", "status": "created",
                                  "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())})

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                fake.calls[f"GET {self.path.split('?')[0].rsplit('/', 1)[0]}"] += 1
                if self.path.startswith("/results/"):
                    self._serve_result()
                    return
                if self.path.startswith("/files/"):
                    self._serve(fake.workdir / "files" / self.path.rsplit("/", 1)[1], "image/png")
                    return
                if not self.path.startswith("/talks/"):
                    self._reply(404, {"kind": "NotFoundError", "description": self.path})
                    return
                if not self._authorized():
                    return
                talk = fake.talks.get(self.path.rsplit("/", 1)[1])
                if talk is None:
                    self._reply(404, {"kind": "NotFoundError", "description": "talk not found"})
                    return
                talk["polls"] += 1
                if talk["polls"] == 2 and fake.throttle_once:
                    fake.throttle_once = False
                    self._reply(429, {"kind": "TooManyRequestsError", "description": "slow down"},
                                {"Retry-After": str(fake.retry_after)})
                    return
                step = talk["step"] = talk.get("step", -1) + 1
                if step <= 1 or fake.mode == "slow":
                    self._reply(200, {"id": talk["id"], "status": "created" if step == 0 else "started"})
                elif fake.mode == "rejected":
                    self._reply(200, {"id": talk["id"], "status": "rejected",
                                      "error": {"kind": "ModerationError", "description": "image rejected"}})
                elif fake.mode == "face_error":
                    self._reply(200, {"id": talk["id"], "status": "error",
                                      "error": {"kind": "FaceError", "description": "Face not detected"}})
                else:
                    if "video" not in talk:
                        talk["video"] = fake._make_video(talk)
                    self._reply(200, {"id": talk["id"], "status": "done", "object": "talk",
                                      "result_url": f"{fake.url}/results/{talk['id']}.mp4?Expires=9&Signature=x",
                                      "config": talk["config"]})

            def _serve_result(self) -> None:
                fake.result_auth_headers.append(self.headers.get("Authorization"))
                if fake.mode == "expired" and len(fake.result_auth_headers) == 1:
                    self._reply(403, {"kind": "AccessDenied", "description": "Request has expired"})
                    return
                talk = fake.talks.get(self.path.split("?")[0].rsplit("/", 1)[1].removesuffix(".mp4"))
                if talk is None or "video" not in talk:
                    self._reply(404, {"kind": "NotFoundError", "description": "no such result"})
                    return
                self._serve(talk["video"], "video/mp4")

            def _serve(self, path: Path, ctype: str) -> None:
                if not path.is_file():
                    self._reply(404, {"kind": "NotFoundError", "description": "no such file"})
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _resolve(fake: FakeDid, url: str | None) -> str | None:
    """An uploaded s3:// URL, or an http URL of a file this server hosts (the 'presigned' case)."""
    if url in fake.files:
        return url
    if url and url.startswith(f"{fake.url}/files/"):
        path = fake.workdir / "files" / url.rsplit("/", 1)[1]
        if path.is_file():
            fake.files[url] = path
            return url
    return None
