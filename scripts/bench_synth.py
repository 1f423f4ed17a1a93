"""Speech synthesis speed: real-time factor of kokoro and openjtalk on a ~10 s message, model load apart.

RTF = wall seconds per second of audio, steady state (best of the timed runs after one warm-up),
including the text front end, the timeline and the joining, i.e. the whole synth stage. The note adds
this process's CPU seconds per audio second, which a busy shared machine inflates less than wall time
(kokoro runs on all cores, so its CPU figure is up to cores x its idle wall RTF).
"""

from __future__ import annotations

import time

MESSAGE = ("本日はお忙しい中お集まりいただき、誠にありがとうございます。"
           "皆様のおかげで、このプロジェクトを無事に終えることができました。"
           "来年もどうぞよろしくお願いいたします。")
TARGETS = {"kokoro": 0.25, "openjtalk": 0.05}


def run(quick: bool) -> list[dict]:
    from vmsg.backends.tts import SPEECH_ENGINES
    from vmsg.stages.synth import SynthOptions, synth

    text = MESSAGE.split("。")[0] + "。" if quick else MESSAGE
    rows = []
    for engine in ("kokoro", "openjtalk"):
        started = time.perf_counter()
        SPEECH_ENGINES.instance(engine, device="cpu")
        rows.append({"name": f"{engine} load", "seconds": time.perf_counter() - started})
        options = SynthOptions(engine=engine, device="cpu")
        synth("こんにちは。", options)
        best, cpu, duration = float("inf"), float("inf"), 0.0
        for _ in range(1 if quick else 3):
            started, cpu_started = time.perf_counter(), time.process_time()
            speech = synth(text, options)
            best = min(best, time.perf_counter() - started)
            cpu = min(cpu, time.process_time() - cpu_started)
            duration = speech.duration
        rows.append({"name": f"{engine} synth {duration:.1f} s", "seconds": best, "rtf": best / duration,
                     "target": f"rtf <= {TARGETS[engine]}", "note": f"timeline {speech.timeline_source}; cpu rtf {cpu / duration:.3f}"})
    return rows
