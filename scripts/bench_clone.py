"""Clone benchmarks: profile creation from the five reference clips (target ≤ 30 s) and
WORLD conversion speed (target RTF ≤ 0.5), on the shared fixtures.

The Kokoro probe renderings the profile's voice choice needs are made once per
machine (then cached): they are timed as their own row, and the profile row is
timed with the cache warm, as a user creating a second profile sees it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURES = Path(os.environ.get("VMSG_FIXTURES", ROOT.parent / "shared" / "fixtures"))
TEXT = ("本日はお忙しいところお集まりいただき、誠にありがとうございます。"
        "これからの一年も、皆さまと一緒に素晴らしい時間を過ごせることを楽しみにしています。")


def run(quick: bool) -> list[dict]:
    clips = sorted((FIXTURES / "audio" / "ja").glob("*.wav"))
    if not clips:
        return [{"name": "clone", "seconds": 0.0, "note": f"no fixtures under {FIXTURES}"}]
    clips = clips[:2] if quick else clips
    rows = []
    with tempfile.TemporaryDirectory() as home:
        os.environ["VMSG_HOME"] = home
        from vmsg.backends.clone.kokoro_style import PROBES, probe_renderings
        from vmsg.stages.clone import CloneOptions, clone, create_profile
        from vmsg.stages.synth import SynthOptions, synth

        t0 = time.perf_counter()
        for text, _ in PROBES:
            probe_renderings(text)
        rows.append({"name": "kokoro probe cache (once per machine)", "seconds": round(time.perf_counter() - t0, 2)})

        t0 = time.perf_counter()
        profile = create_profile("bench", clips)
        seconds = time.perf_counter() - t0
        rows.append({"name": f"profile from {len(clips)} clips ({profile.seconds:.0f} s audio)", "seconds": round(seconds, 2),
                     "target": "≤ 30 s", "note": f"voice {profile.facts.get('kokoro_voice')}, strength {profile.facts.get('strength')}"})

        from vmsg.media.audio import resample

        speech = synth(TEXT[:40] if quick else TEXT, SynthOptions(engine="openjtalk", device="cpu"))
        clone(speech, CloneOptions(profile="bench"))  # warm: imports, caches
        kokoro_rate = speech.with_audio(resample(speech.samples, speech.sample_rate, 24000), 24000)
        for label, item in ((f"{speech.sample_rate // 1000} kHz", speech), ("24 kHz (Kokoro's rate)", kokoro_rate)):
            t0 = time.perf_counter()
            clone(item, CloneOptions(profile="bench"))
            seconds = time.perf_counter() - t0
            rows.append({"name": f"world convert {item.duration:.1f} s speech, {label}", "seconds": round(seconds, 2),
                         "rtf": round(seconds / item.duration, 3), "target": "rtf ≤ 0.5"})
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
