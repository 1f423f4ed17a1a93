"""Run a recipe: check every input first, then each stage in turn, with
progress events for the CLI and a run report beside the output."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vmsg.errors import InputError
from vmsg.media.image import read_image
from vmsg.recipe import Recipe
from vmsg.report import RunReport, StageRecord, report_path_for, sha256_file
from vmsg.store import check_writable


@dataclass(frozen=True)
class Event:
    """A progress event: a stage started or finished."""

    stage: str
    status: str
    seconds: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


def _ignore(_: Event) -> None:
    pass


def check_inputs(recipe: Recipe) -> None:
    """Fail before any work when an input is missing or the output cannot be written."""
    if not Path(recipe.image).is_file():
        raise InputError(f"image {recipe.image}: file not found")
    if recipe.mix.bgm and not Path(recipe.mix.bgm).is_file():
        raise InputError(f"background music {recipe.mix.bgm}: file not found")
    if recipe.clone is not None:
        for ref in recipe.clone.references:
            if not Path(ref).is_file():
                raise InputError(f"reference clip {ref}: file not found")
    profiles = {recipe.voice.profile, recipe.clone.profile if recipe.clone is not None else None} - {None}
    if profiles:
        from vmsg.profiles import ProfileStore

        for name in sorted(profiles):
            ProfileStore().load(name)
    if not recipe.output.lower().endswith(".mp4"):
        raise InputError(f"output {recipe.output}: must end in .mp4")
    check_writable(Path(recipe.output))


def run_recipe(recipe: Recipe, *, source: str | None = None, on_event: EventSink | None = None) -> RunReport:
    """Render `recipe` to its output mp4 and write the run report; returns the report."""
    from vmsg.stages.clone import clone
    from vmsg.stages.mix import mix
    from vmsg.stages.prosody import prosody
    from vmsg.stages.render import render
    from vmsg.stages.segment import segment
    from vmsg.stages.synth import synth
    from vmsg.text import normalize_text

    emit = on_event or _ignore
    started = time.perf_counter()
    normalize_text(recipe.text, what="recipe text")
    check_inputs(recipe)
    output = Path(recipe.output)
    report = RunReport(recipe=source, output=str(output))
    report.inputs["image"] = {"path": recipe.image, "sha256": sha256_file(recipe.image)}
    if recipe.mix.bgm:
        report.inputs["bgm"] = {"path": recipe.mix.bgm, "sha256": sha256_file(recipe.mix.bgm)}
    if recipe.clone is not None:
        report.inputs["references"] = [{"path": r, "sha256": sha256_file(r)} for r in recipe.clone.references]
    report.inputs["text"] = recipe.text

    def step(stage: str, options: Any, fn: Callable[[], Any], engine_of: Callable[[Any], tuple[str | None, str | None]]):
        emit(Event(stage, "start"))
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        engine, version = engine_of(result)
        report.stages.append(StageRecord(stage, engine, version, round(seconds, 3), options.model_dump() if options else {}))
        emit(Event(stage, "done", seconds, {"engine": engine}))
        return result

    image = read_image(recipe.image)
    cutout = step("segment", recipe.segment, lambda: segment(image, recipe.segment, source=f"image {recipe.image}"),
                  lambda c: (c.meta.get("engine"), c.meta.get("engine_version")))
    speech = step("synth", recipe.voice, lambda: synth(recipe.text, recipe.voice),
                  lambda s: (s.meta.get("engine"), s.meta.get("engine_version")))
    if recipe.clone is not None:
        speech = step("clone", recipe.clone, lambda: clone(speech, recipe.clone), lambda s: (recipe.clone.engine, None))
    if not recipe.prosody.is_neutral:
        speech = step("prosody", recipe.prosody, lambda: prosody(speech, recipe.prosody), lambda s: (recipe.prosody.engine, None))
    soundtrack = step("mix", recipe.mix, lambda: mix(speech, recipe.mix), lambda s: (recipe.mix.engine, None))
    facts = step("render", recipe.render, lambda: render(cutout.composite, soundtrack, output, recipe.render),
                 lambda f: (f["engine"], f["engine_version"]))

    report.speech_seconds = round(speech.duration, 3)
    report.timeline_source = speech.timeline_source
    report.outputs["video"] = {"path": str(output), "sha256": sha256_file(output), "bytes": output.stat().st_size,
                               "seconds": round(soundtrack.duration, 3), **{k: v for k, v in facts.items() if k not in ("engine", "engine_version")}}
    report.total_seconds = round(time.perf_counter() - started, 3)
    report.status = "done"
    report.write(report_path_for(output))
    return report
