"""The cache seen from one render: each stage's content key, chained through the
keys of its inputs, so a changed text misses synth onwards but still hits segment."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vmsg import artifacts
from vmsg.cache import code_fingerprint, content_key
from vmsg.recipe import Recipe
from vmsg.report import RunReport, StageRecord
from vmsg.store import write_bytes_atomic

if TYPE_CHECKING:
    from vmsg.cache import CacheBackend

log = logging.getLogger(__name__)

CODECS: dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "segment": (artifacts.encode_cutout, artifacts.decode_cutout),
    "synth": (artifacts.encode_speech, artifacts.decode_speech),
    "clone": (artifacts.encode_speech, artifacts.decode_speech),
    "prosody": (artifacts.encode_speech, artifacts.decode_speech),
    "enhance": (artifacts.encode_speech, artifacts.decode_speech),
    "mix": (artifacts.encode_soundtrack, artifacts.decode_soundtrack),
}


def engine_version(stage: str, recipe: Recipe) -> tuple[str, str]:
    """(engine name, version) of the engine a stage will use; the instance is the one the stage reuses."""
    from vmsg.backends.clone import VOICE_CONVERTERS
    from vmsg.backends.mix import MIXERS
    from vmsg.backends.prosody import PROSODY_ENGINES
    from vmsg.backends.segment import SEGMENTERS
    from vmsg.backends.tts import SPEECH_ENGINES

    if stage == "mix":
        return recipe.mix.engine, MIXERS.instance(MIXERS.check(recipe.mix.engine)).version
    if stage == "enhance":
        return "enhance", "enhance-1"
    registry, options = {
        "segment": (SEGMENTERS, recipe.segment),
        "synth": (SPEECH_ENGINES, recipe.voice),
        "clone": (VOICE_CONVERTERS, recipe.clone),
        "prosody": (PROSODY_ENGINES, recipe.prosody),
    }[stage]
    return options.engine, registry.instance(registry.check(options.engine), device=options.device).version


class StageCache:
    """Looks each stage up before it runs and stores it after; a no-op without a backend."""

    def __init__(self, cache: CacheBackend | None, recipe: Recipe, hashes: dict[str, Any]) -> None:
        self.cache, self.recipe, self.hashes = cache, recipe, hashes
        self.keys: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self._speech_key: str | None = None
        self.extra_inputs: dict[str, dict[str, Any]] = {}
        """Per stage, what else shapes its result (e.g. prosody applied natively during synthesis)."""

    def _inputs(self, stage: str) -> dict[str, Any]:
        return {**self._base_inputs(stage), **self.extra_inputs.get(stage, {})}

    def _base_inputs(self, stage: str) -> dict[str, Any]:
        from vmsg.text import normalize_text

        if stage == "segment":
            return {"image": self.hashes["image"], "background": self.hashes.get("background")}
        if stage == "synth":
            return {"text": normalize_text(self.recipe.text)}
        if stage == "clone":
            return {"speech": self._speech_key, "references": self.hashes.get("references")}
        if stage in ("prosody", "enhance"):
            return {"speech": self._speech_key}
        return {"speech": self._speech_key, "bgm": self.hashes.get("bgm")}

    def key(self, stage: str) -> str:
        engine, version = engine_version(stage, self.recipe)
        self.versions[stage] = version
        section = {"synth": "voice"}.get(stage, stage)
        options = getattr(self.recipe, section).model_dump()
        key = content_key(stage, engine=engine, version=f"{version}+{code_fingerprint()}", options=options,
                          inputs=self._inputs(stage))
        self.keys[stage] = key
        if stage in ("synth", "clone", "prosody", "enhance"):
            self._speech_key = key
        return key

    def run(self, stage: str, compute: Callable[[], Any]) -> tuple[Any, str]:
        """The stage's result and how it was had: 'hit', 'miss' (computed and stored) or 'off'."""
        if self.cache is None or stage not in CODECS:
            return compute(), "off" if self.cache is None else "miss"
        encode, decode = CODECS[stage]
        key = self.key(stage)
        data = self.cache.get(key)
        if data is not None:
            try:
                return decode(data), "hit"
            except (ValueError, KeyError, OSError) as exc:
                log.warning("cache entry %s for %s is unreadable (%s); recomputing", key[:12], stage, exc)
        result = compute()
        self.cache.put(key, encode(result))
        return result, "miss"

    def restore_video(self, key: str, output: Path, report: RunReport, emit: Callable[[Any], None]) -> bool:
        """Write the cached video for job `key` to `output` (atomically); False on a miss."""
        from vmsg.pipeline import Event

        data = self.cache.get(key) if self.cache is not None else None
        if data is None:
            return False
        t0 = time.perf_counter()
        try:
            mp4, facts = artifacts.decode_video(data)
        except (ValueError, KeyError, OSError) as exc:
            log.warning("cached video %s is unreadable (%s); rendering again", key[:12], exc)
            return False
        write_bytes_atomic(output, mp4)
        seconds = round(time.perf_counter() - t0, 3)
        report.stages = [StageRecord(s["stage"], s["engine"], s["engine_version"], seconds if s["stage"] == "render" else 0.0,
                                     s["options"], {"cache": "hit"}) for s in facts.get("stages", [])]
        report.speech_seconds = facts.get("speech_seconds")
        report.timeline_source = facts.get("timeline_source")
        report.outputs["video"] = dict(facts.get("video", {}))
        emit(Event("render", "done", seconds, {"engine": "cache", "cache": "hit"}))
        return True

    def store_video(self, key: str, output: Path, report: RunReport) -> None:
        if self.cache is None:
            return
        from dataclasses import asdict

        video = {k: v for k, v in report.outputs["video"].items() if k not in ("path", "content_hash")}
        facts = {"stages": [asdict(s) for s in report.stages], "speech_seconds": report.speech_seconds,
                 "timeline_source": report.timeline_source, "video": video}
        try:
            mp4 = Path(output).read_bytes()
        except OSError as exc:
            log.warning("cannot read %s back to cache it (%s)", output, exc.strerror)
            return
        self.cache.put(key, artifacts.encode_video(mp4, facts))
