"""The same checks over every registered mixer: loudness, true peak, length and timeline."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit._audio_signals import speech_like
from vmsg.backends.mix import MIXERS
from vmsg.media.audio import true_peak_dbtp
from vmsg.media.dynamics import loudness
from vmsg.stages.mix import MixOptions, mix


@pytest.mark.parametrize("engine", MIXERS.names())
def test_mixer_contract(engine):
    voice = speech_like(rate=16000)
    t = np.arange(16000 * 3) / 16000
    music = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    options = MixOptions(engine=engine, lead_in=0.4, tail=0.5)
    track = MIXERS.create(engine).mix(voice=voice, music=(music, 16000), options=options)
    assert track.duration == pytest.approx(voice.duration + 0.9, abs=0.001)
    assert loudness(track.samples, track.sample_rate) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(track.samples, track.sample_rate) <= -1.0
    spoken_in = [p for p in voice.timeline if not p.is_silence]
    spoken_out = [p for p in track.timeline if not p.is_silence]
    assert [round(b.start - a.start, 6) for a, b in zip(spoken_in, spoken_out)] == [0.4] * len(spoken_in)
    assert mix(voice, options).sample_rate == 48000
