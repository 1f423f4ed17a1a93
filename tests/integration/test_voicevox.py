"""The voicevox engine against a local fake VOICEVOX engine on 127.0.0.1 (tests/fakes/voicevox_server.py),
which implements the published API and renders audio whose length follows the AudioQuery's mora lengths."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from tests.fakes.voicevox_server import FakeVoicevox
from vmsg.errors import InputError, TemporaryError
from vmsg.stages.synth import SynthOptions, list_voices, synth

pytest.importorskip("httpx")
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server():
    with FakeVoicevox() as srv:
        yield srv


def options(server, **vv) -> SynthOptions:
    return SynthOptions(engine="voicevox", voicevox={"url": server.url, **vv})


def rms(speech, p) -> float:
    seg = speech.samples[int(round(p.start * speech.sample_rate)) : int(round(p.end * speech.sample_rate))]
    return float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) if seg.size else 0.0


def check_timeline_matches_audio(speech) -> None:
    """Ends together, and silent phonemes are silent while voiced ones are not (1-frame margin at edges)."""
    assert abs(speech.timeline[-1].end - speech.duration) < 0.011
    starts = np.array([p.start for p in speech.timeline])
    assert np.all(np.diff(starts) > 0)
    for p in speech.timeline:
        if p.duration < 0.03:
            continue
        inner = type(p)(p.symbol, p.start + 0.011, p.end - 0.011)
        if p.symbol in ("sil", "pau", "cl"):
            assert rms(speech, inner) < 0.01, p
        else:
            assert rms(speech, inner) > 0.05, p


def test_voices_are_listed_from_speakers(server) -> None:
    listing = list_voices(options(server))
    assert listing["voicevox"]["available"] is True
    assert listing["voicevox"]["voices"] == ["2:四国めたん/ノーマル", "0:四国めたん/あまあま", "3:ずんだもん/ノーマル"]


def test_synth_timeline_follows_the_audio(server) -> None:
    speech = synth("こんにちは、今日はいい天気ですね。お元気ですか？", options(server))
    assert speech.timeline_source == "engine"
    assert speech.sample_rate == 24000
    check_timeline_matches_audio(speech)


def test_every_audio_query_field_is_sent_and_timed(server) -> None:
    opts = SynthOptions(
        engine="voicevox", voice="ずんだもん", speed=1.25,
        voicevox={"url": server.url, "pitchScale": 0.05, "intonationScale": 1.3, "volumeScale": 0.8,
                  "prePhonemeLength": 0.3, "postPhonemeLength": 0.2, "pauseLength": 0.5, "pauseLengthScale": 1.2,
                  "outputSamplingRate": 16000})
    speech = synth("はい、わかりました。", opts)
    sent = server.queries[-1]
    assert sent["speedScale"] == 1.25 and sent["pitchScale"] == 0.05 and sent["intonationScale"] == 1.3
    assert sent["volumeScale"] == 0.8 and sent["outputSamplingRate"] == 16000
    assert sent["pauseLength"] == 0.5 and sent["pauseLengthScale"] == 1.2
    assert speech.sample_rate == 16000 and speech.meta["voice"] == "ずんだもん/ノーマル"
    assert speech.timeline[0].symbol == "sil" and speech.timeline[0].duration == pytest.approx(0.3 / 1.25, abs=0.011)
    pau = [p for p in speech.timeline if p.symbol == "pau"]
    assert pau and pau[0].duration == pytest.approx(0.5 * 1.2 / 1.25, abs=0.011)
    check_timeline_matches_audio(speech)


def test_retries_a_busy_engine(server) -> None:
    server.fail_next = 2
    speech = synth("テストです。", options(server, retries=2))
    assert speech.duration > 0.3 and server.fail_next == 0


def test_unknown_voice_names_the_valid_ones(server) -> None:
    with pytest.raises(InputError, match="ずんだもん"):
        synth("テストです。", SynthOptions(engine="voicevox", voice="nobody", voicevox={"url": server.url}))


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_unreachable_engine_is_a_temporary_error_naming_the_url() -> None:
    url = closed_port_url()
    with pytest.raises(TemporaryError, match=url.replace(".", r"\.")) as err:
        synth("テストです。", SynthOptions(engine="voicevox", voicevox={"url": url, "retries": 1, "timeout": 2}))
    assert err.value.exit_code == 75
    listing = list_voices(SynthOptions(voicevox={"url": url, "retries": 0, "timeout": 2}))
    assert listing["voicevox"]["available"] is False and url in listing["voicevox"]["reason"]
    assert listing["openjtalk"]["voices"] == ["mei_normal"]
