"""A local stand-in for a VOICEVOX engine on 127.0.0.1, implementing the published HTTP API
(GET /version, GET /speakers, POST /audio_query, POST /synthesis) with the engine's JSON shapes.

/audio_query builds accent phrases from OpenJTalk's reading of the text (moras with consonant and
vowel lengths that vary by phoneme, a pause mora at commas). /synthesis follows the engine's own
length rules (pre/post silence, pauseLength, pauseLengthScale, speedScale, up-speak on questions,
frames of 256 samples at 24 kHz, pitchScale and intonationScale on each mora's log F0, volumeScale,
outputSamplingRate) and renders each phoneme as a tone at its mora's F0 (voiced vowels), noise
(consonants, devoiced vowels) or silence (sil, pau, cl), so a client's timeline, pitch and level
can be checked against the audio itself. Written independently of vmsg's client on purpose.
"""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import numpy as np

SPEAKERS = [
    {"name": "四国めたん", "speaker_uuid": "7ffcb7ce-00ec-4bdc-82cd-45a8889e43ff", "version": "0.15.0",
     "styles": [{"name": "ノーマル", "id": 2, "type": "talk"}, {"name": "あまあま", "id": 0, "type": "talk"}]},
    {"name": "ずんだもん", "speaker_uuid": "388f246b-8c41-4ac1-8e2d-5d79f3ff56d9", "version": "0.15.0",
     "styles": [{"name": "ノーマル", "id": 3, "type": "talk"}, {"name": "ハミング", "id": 3001, "type": "frame_decode"}]},
]
VOWELS = set("aiueoAIUEO") | {"N"}


def _accent_phrases(text: str) -> list[dict]:
    import pyopenjtalk

    phones = pyopenjtalk.g2p(text).split()
    phrases, moras, cons = [], [], None
    rng = np.random.default_rng(len(text))
    for ph in phones:
        if ph == "pau":
            if moras:
                phrases.append({"moras": moras, "accent": 1, "is_interrogative": False,
                                "pause_mora": {"text": "、", "consonant": None, "consonant_length": None,
                                               "vowel": "pau", "vowel_length": round(float(rng.uniform(0.2, 0.4)), 5),
                                               "pitch": 0.0}})
                moras = []
            continue
        if ph in VOWELS or ph == "cl":
            moras.append({"text": "ア", "consonant": cons, "consonant_length": None if cons is None else
                          round(float(rng.uniform(0.03, 0.09)), 5), "vowel": ph,
                          "vowel_length": round(float(rng.uniform(0.06, 0.15)), 5),
                          "pitch": 0.0 if ph in ("cl", "I", "U") else round(float(rng.uniform(5.2, 6.0)), 5)})
            cons = None
        else:
            cons = ph
    if moras:
        phrases.append({"moras": moras, "accent": 1, "pause_mora": None, "is_interrogative": text.endswith("?")})
    return phrases


def _render(query: dict, upspeak: bool) -> tuple[np.ndarray, int]:
    """The engine's order: up-speak, pre/post silence, pauseLength, pauseLengthScale, speedScale,
    pitchScale (log F0 x 2**pitchScale), intonationScale (log F0 around the voiced mean), volumeScale."""
    moras: list[dict] = [{"vowel": "sil", "vowel_length": query["prePhonemeLength"], "pitch": 0.0}]
    for ap in query["accent_phrases"]:
        moras += [dict(m) for m in ap["moras"]]
        if upspeak and ap.get("is_interrogative") and ap["moras"] and ap["moras"][-1]["pitch"] > 0:
            last = ap["moras"][-1]
            moras.append({"vowel": last["vowel"], "vowel_length": 0.15, "pitch": min(last["pitch"] + 0.3, 6.5)})
        if ap.get("pause_mora"):
            moras.append(dict(ap["pause_mora"]))
    moras.append({"vowel": "sil", "vowel_length": query["postPhonemeLength"], "pitch": 0.0})
    for m in moras:
        if m["vowel"] == "pau":
            if query.get("pauseLength") is not None:
                m["vowel_length"] = query["pauseLength"]
            m["vowel_length"] *= query.get("pauseLengthScale", 1.0)
        m["pitch"] = float(m.get("pitch") or 0.0) * 2 ** query.get("pitchScale", 0.0)
    voiced = [m for m in moras if m["pitch"] > 0]
    if voiced:
        mean = float(np.mean([m["pitch"] for m in voiced]))
        for m in voiced:
            m["pitch"] = (m["pitch"] - mean) * query.get("intonationScale", 1.0) + mean
    out, rng = [], np.random.default_rng(0)
    for m in moras:
        for kind, length in ((m.get("consonant"), m.get("consonant_length")), (m["vowel"], m["vowel_length"])):
            if kind is None or length is None:
                continue
            n = int(np.round(length / query["speedScale"] * 93.75)) * 256
            t = np.arange(n) / 24000.0
            if kind in ("sil", "pau", "cl"):
                out.append(np.zeros(n))
            elif kind in VOWELS and m["pitch"] > 0:
                out.append(0.5 * np.sin(2 * np.pi * np.exp(m["pitch"]) * t))
            else:  # consonants and devoiced vowels
                out.append(0.2 * rng.standard_normal(n))
    wave = np.concatenate(out) * query.get("volumeScale", 1.0)
    rate = int(query.get("outputSamplingRate", 24000))
    if rate != 24000:
        from scipy.signal import resample_poly

        wave = resample_poly(wave, rate, 24000)
    return wave.astype(np.float32), rate


class _Handler(BaseHTTPRequestHandler):
    server: "FakeVoicevox"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, obj) -> None:
        self._send(code, json.dumps(obj, ensure_ascii=False).encode())

    def _handle(self) -> None:
        self.server.calls.append(self.path)
        if self.server.fail_next > 0:
            self.server.fail_next -= 1
            return self._json(503, {"detail": "busy"})
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        speaker_ids = {s["id"] for sp in SPEAKERS for s in sp["styles"]}
        if url.path == "/version" and self.command == "GET":
            return self._json(200, "0.15.0")
        if url.path == "/speakers" and self.command == "GET":
            return self._json(200, SPEAKERS)
        if "speaker" in q and int(q["speaker"]) not in speaker_ids:
            return self._json(404, {"detail": "該当する話者が見つかりません"})
        if url.path == "/audio_query" and self.command == "POST":
            if "text" not in q or "speaker" not in q:
                return self._json(422, {"detail": [{"loc": ["query", "text"], "msg": "field required"}]})
            return self._json(200, {"accent_phrases": _accent_phrases(q["text"]), "speedScale": 1.0, "pitchScale": 0.0,
                                    "intonationScale": 1.0, "volumeScale": 1.0, "prePhonemeLength": 0.1,
                                    "postPhonemeLength": 0.1, "pauseLength": None, "pauseLengthScale": 1.0,
                                    "outputSamplingRate": 24000, "outputStereo": False, "kana": ""})
        if url.path == "/synthesis" and self.command == "POST":
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            self.server.queries.append(body)
            upspeak = q.get("enable_interrogative_upspeak", "true") == "true"
            wave, rate = _render(body, upspeak)
            import soundfile as sf

            buf = io.BytesIO()
            sf.write(buf, wave, rate, format="WAV", subtype="PCM_16")
            return self._send(200, buf.getvalue(), "audio/wav")
        return self._json(404, {"detail": "Not Found"})

    do_GET = _handle
    do_POST = _handle


class FakeVoicevox(ThreadingHTTPServer):
    """Start with `with FakeVoicevox() as server:`; `server.url` is its base URL."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.calls: list[str] = []
        self.queries: list[dict] = []
        self.fail_next = 0
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "FakeVoicevox":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
