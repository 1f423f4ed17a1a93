"""Benchmark: prosody + enhance + mix for a 60-second message (target ≤ 2 s on the 2-core CPU).

The message is OpenJTalk speech (with its exact timeline) resampled to 24 kHz,
Kokoro's rate, tiled to 60 s. Each step is timed warm (imports and first calls
done beforehand); the cold first call is reported on its own row.

    python scripts/bench.py mix          # or: python scripts/bench_mix.py [--quick]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_S = 2.0


def message(seconds: float):
    import numpy as np

    from vmsg.media.audio import resample
    from vmsg.stages.synth import SynthOptions, synth
    from vmsg.types import Phoneme, Speech

    one = synth("こんにちは、今日はとても良い天気ですね。明日も晴れるといいですね、では、また会いましょう。",
                SynthOptions(engine="openjtalk"))
    samples = resample(one.samples, one.sample_rate, 24000)
    reps = int(np.ceil(seconds / one.duration))
    timeline = tuple(Phoneme(p.symbol, p.start + k * one.duration, p.end + k * one.duration)
                     for k in range(reps) for p in one.timeline)
    return Speech(np.tile(samples, reps), 24000, timeline, "engine", {"text": one.meta.get("text", "")})


CPU: dict[str, float] = {}


def cpu_now() -> float:
    """CPU seconds of this process and its finished children (ffmpeg): on a shared,
    overloaded machine this is the figure that does not depend on the neighbours."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn, name: str = ""):
    start, cpu = time.perf_counter(), cpu_now()
    result = fn()
    CPU[name] = cpu_now() - cpu
    return result, time.perf_counter() - start


def run(quick: bool = False) -> list[dict]:
    import numpy as np

    from vmsg.stages.enhance import EnhanceOptions, enhance
    from vmsg.stages.mix import MixOptions, mix
    from vmsg.stages.prosody import ProsodyOptions, prosody
    from vmsg.types import Speech

    speech = message(20.0 if quick else 60.0)
    seconds = speech.duration
    typical = ProsodyOptions(pitch=2.0, speed=1.1, energy=1.1)
    mix_options = MixOptions(bgm="calm_piano")
    # Cold: first calls in this process (imports of scipy, noisereduce → torch, pyloudnorm).
    _, cold = timed(lambda: mix(enhance(prosody(speech, typical)), mix_options))
    rows = [{"name": "prosody+enhance+mix, cold (first call, imports)", "seconds": round(cold, 3),
             "rtf": round(cold / seconds, 4), "note": f"{seconds:.0f} s message"}]
    shaped, t_prosody = timed(lambda: prosody(speech, typical), "prosody")
    clean, t_enhance = timed(lambda: enhance(shaped), "enhance")
    _, t_mix = timed(lambda: mix(clean, mix_options), "mix")
    _, t_fast = timed(lambda: mix(enhance(speech, EnhanceOptions(denoise=0.0)), mix_options), "fast")
    _, t_world = timed(lambda: prosody(speech, ProsodyOptions(intonation=1.3)), "world")
    noisy = speech.with_audio(speech.samples + np.random.default_rng(0).normal(0, 0.003, speech.samples.size).astype(np.float32))
    enhance(Speech(noisy.samples[: 5 * noisy.sample_rate], noisy.sample_rate))  # imports noisereduce (and torch)
    _, t_denoise = timed(lambda: enhance(noisy), "denoise")
    total = t_prosody + t_enhance + t_mix
    note = f"{seconds:.0f} s at 24 kHz"
    rows += [
        {"name": "prosody pitch+2 speed1.1 energy1.1 (rubberband, pauses skipped, 2 pieces in parallel)", "seconds": round(t_prosody, 3),
         "rtf": round(t_prosody / seconds, 4), "note": note},
        {"name": "enhance (high-pass, presence, trim, -16 LUFS/-1 dBTP; denoise skipped: clean TTS)", "seconds": round(t_enhance, 3),
         "rtf": round(t_enhance / seconds, 4), "note": note},
        {"name": "mix calm_piano, ducking, -16 LUFS, 48 kHz stereo", "seconds": round(t_mix, 3),
         "rtf": round(t_mix / seconds, 4), "note": note},
        {"name": "prosody + enhance + mix (warm)", "seconds": round(total, 3), "rtf": round(total / seconds, 4),
         "target": f"<= {TARGET_S * seconds / 60:.2f} s", "note": "met" if total <= TARGET_S * seconds / 60 else "missed"},
        {"name": "enhance without denoise + mix (no prosody edit)", "seconds": round(t_fast, 3),
         "rtf": round(t_fast / seconds, 4), "note": note},
        {"name": "prosody intonation 1.3 (WORLD, pauses skipped, one piece per core)", "seconds": round(t_world, 3),
         "rtf": round(t_world / seconds, 4), "note": "only when intonation != 1"},
        {"name": "enhance with denoise (voice + noise at -50 dBFS)", "seconds": round(t_denoise, 3),
         "rtf": round(t_denoise / seconds, 4), "note": "recorded voices; clean TTS skips denoise"},
    ]
    for row, key in zip(rows[1:], ("prosody", "enhance", "mix", None, "fast", "world", "denoise")):
        cpu = CPU["prosody"] + CPU["enhance"] + CPU["mix"] if key is None else CPU[key]
        row["note"] = f"{row['note']}; cpu {cpu:.2f} s"
    load = os.getloadavg()[0]
    rows.append({"name": "machine load average (1 min) during the run", "seconds": 0.0, "note": f"{load:.1f} on {os.cpu_count()} cores"})
    return rows


if __name__ == "__main__":
    import json

    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row, ensure_ascii=False))
