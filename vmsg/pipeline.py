"""Run a recipe: check every input first, then each stage in turn, with
progress events for the CLI and a run report beside the output."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vmsg.errors import InputError, VmsgError
from vmsg.media.image import read_image
from vmsg.recipe import Recipe
from vmsg.report import RunReport, StageRecord, report_path_for, sha256_file
from vmsg.store import atomic_path, check_writable

if TYPE_CHECKING:
    from vmsg.cache import CacheBackend
    from vmsg.stage_cache import StageCache


STAGE_ORDER = ("segment", "synth", "clone", "prosody", "enhance", "mix", "render")


@dataclass(frozen=True)
class Event:
    """A progress event: a stage started or finished."""

    stage: str
    status: str
    seconds: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]

REPORT_ONLY = ("engine", "engine_version", "attempts")
"""Render facts that belong to the stage record, not to the video's description."""


def _ignore(_: Event) -> None:
    pass


def in_background(fn: Callable[[], Any]) -> Future:
    """Run `fn` in a daemon thread: an error elsewhere can end the process without waiting for it."""
    future: Future = Future()

    def target() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=target, name="vmsg-background", daemon=True).start()
    return future


def warm_up_later_stages(recipe: Recipe) -> None:
    """Load what mix and render need while segmentation and synthesis still run (a cold CLI run gains ~2 s).

    Failures are left for the stage itself to raise, with its own message. Only those are
    ignored here: anything else (a worker's time-limit signal, an interrupt) must go through.
    """
    import contextlib

    from vmsg.backends.render import RENDERERS

    with contextlib.suppress(ImportError):
        import scipy.signal  # noqa: F401 - the loudness and filter code's one-time import
    with contextlib.suppress(VmsgError, ImportError, OSError):
        RENDERERS.instance(RENDERERS.check(recipe.render.engine), device=recipe.render.device)


def check_inputs(recipe: Recipe) -> None:
    """Fail before any work when an input is missing or the output cannot be written."""
    from vmsg.remote import check_remote_inputs, has_remote

    if has_remote(recipe):
        return check_remote_inputs(recipe)
    if not Path(recipe.image).is_file():
        raise InputError(f"image {recipe.image}: file not found")
    if recipe.mix.bgm:
        from vmsg.backends.mix.library import resolve

        resolve(recipe.mix.bgm)
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


def resolve_bgm(spec: str) -> Path | str:
    """The music file behind a library id or path; s3:// URIs stay as they are (staged elsewhere)."""
    from vmsg.backends.mix.library import resolve
    from vmsg.storage_uri import is_s3

    return spec if is_s3(spec) else resolve(spec)[0]


def input_hashes(recipe: Recipe, *, sha: Callable[[Any], str] = sha256_file) -> dict[str, Any]:
    """sha256 of every input file the recipe reads (what a content key must cover)."""
    hashes: dict[str, Any] = {"image": sha(recipe.image)}
    if recipe.mix.bgm:
        hashes["bgm"] = sha(resolve_bgm(recipe.mix.bgm))
    if recipe.clone is not None:
        hashes["references"] = [sha(r) for r in recipe.clone.references]
    if Path(recipe.segment.background).is_file():
        hashes["background"] = sha(recipe.segment.background)
    return hashes


def job_key(recipe: Recipe, hashes: dict[str, Any] | None = None) -> str:
    """The content key of a whole render: everything that shapes the video except where it goes.

    Cheap (no engine is loaded), so a batch can tell up-to-date outputs apart in milliseconds;
    engine code and package versions enter through `code_fingerprint` (stage keys name engine versions).
    """
    from vmsg import __version__
    from vmsg.cache import code_fingerprint, content_key

    options = recipe.model_dump(exclude={"output", "image"})
    options["mix"].pop("bgm", None)
    if options.get("clone"):
        options["clone"].pop("references", None)
    return content_key("job", engine=None, version=f"{__version__}+{code_fingerprint()}", options=options,
                       inputs=hashes or input_hashes(recipe))


def is_up_to_date(output: Path | str, key: str) -> bool:
    """True when `output` exists, its run report names `key`, and the file still has the recorded sha256
    (for an s3:// output: the report object and the video's size and sha256 metadata, see vmsg.remote)."""
    import json

    from vmsg.storage_uri import is_s3

    if is_s3(str(output)):
        from vmsg.remote import s3_up_to_date

        return s3_up_to_date(str(output), key)
    output = Path(output)
    try:
        video = json.loads(report_path_for(output).read_text(encoding="utf-8"))["outputs"]["video"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if video.get("content_hash") != key or not output.is_file() or output.stat().st_size != video.get("bytes"):
        return False
    return sha256_file(output) == video.get("sha256")


def run_recipe(recipe: Recipe, *, source: str | None = None, on_event: EventSink | None = None,
               presign: int | None = None, cache: CacheBackend | None = None) -> RunReport:
    """Render `recipe` to its output mp4 and write the run report; returns the report.

    s3:// inputs or output go through vmsg.remote.run_staged (download, render, upload);
    `presign` (seconds) adds a presigned URL of an s3:// output to the report. With a
    `cache`, every stage result is looked up by its content key first and stored after
    it is computed; an unchanged recipe copies the cached video.
    """
    from vmsg.remote import has_remote, run_staged

    if has_remote(recipe) or presign is not None:
        return run_staged(recipe, source=source, on_event=on_event, presign=presign, cache=cache)
    from vmsg.stage_cache import StageCache
    from vmsg.text import normalize_text

    emit = on_event or _ignore
    started = time.perf_counter()
    normalize_text(recipe.text, what="recipe text")
    check_inputs(recipe)
    output = Path(recipe.output)
    report = RunReport(recipe=source, output=str(output))
    hashes = input_hashes(recipe)
    report.inputs["image"] = {"path": recipe.image, "sha256": hashes["image"]}
    if recipe.mix.bgm:
        report.inputs["bgm"] = {"spec": recipe.mix.bgm, "path": str(resolve_bgm(recipe.mix.bgm)), "sha256": hashes["bgm"]}
    if recipe.clone is not None:
        report.inputs["references"] = [{"path": r, "sha256": h} for r, h in zip(recipe.clone.references, hashes["references"])]
    report.inputs["text"] = recipe.text
    key = job_key(recipe, hashes)
    stages = StageCache(cache, recipe, hashes)
    # The video is staged under a temporary name and published only after its report
    # is written: a process killed at any moment leaves no mp4 without a report, so a
    # resumed batch can trust every mp4 it finds.
    with atomic_path(output) as staged:
        if cache is not None and stages.restore_video(key, staged, report, emit):
            return _finish(report, output, key, started, staged)
        report = _render_stages(recipe, report, stages, staged, emit)
        report = _finish(report, output, key, started, staged)
    stages.store_video(key, output, report)
    return report


def _render_stages(recipe: Recipe, report: RunReport, stages: StageCache, staged: Path, emit: EventSink) -> RunReport:
    """Every stage from the portrait and text to the video at `staged`; failures are recorded beside `recipe.output`."""
    from vmsg.stages.clone import clone
    from vmsg.stages.enhance import enhance
    from vmsg.stages.mix import mix
    from vmsg.stages.prosody import prosody, split_native
    from vmsg.stages.render import prepare as prepare_render
    from vmsg.stages.render import render
    from vmsg.stages.segment import segment
    from vmsg.stages.synth import synth

    output = Path(recipe.output)
    cache = stages.cache

    def step(stage: str, options: Any, fn: Callable[[], Any], engine_of: Callable[[Any], tuple[str | None, str | None]],
             attempts_of: Callable[[Any], list | None] = lambda _: None, emit: EventSink = emit):
        emit(Event(stage, "start"))
        t0 = time.perf_counter()
        dump = options.model_dump() if options else {}
        try:
            result, cached = stages.run(stage, fn)
        except VmsgError as exc:
            _record_failure(report, output, stage, dump, exc, time.perf_counter() - t0)
            raise
        seconds = time.perf_counter() - t0
        engine, version = engine_of(result)
        version = version or stages.versions.get(stage)
        attempts = attempts_of(result)
        detail: dict[str, Any] = {"attempts": attempts} if attempts else {}
        if cache is not None:
            detail.update({"cache": cached, "content_hash": stages.keys.get(stage)})
        report.stages.append(StageRecord(stage, engine, version, round(seconds, 3), dump, detail))
        note = {"fallback": _fallback_note(attempts)} if attempts else {}
        if cache is not None:
            note["cache"] = cached
        emit(Event(stage, "done", seconds, {"engine": engine, **note}))
        return result

    image = read_image(recipe.image)
    # Prosody the TTS engine can apply itself goes into synthesis ("native"); the rest is post-processed.
    # With cloning or a voice fallback chain everything is post-processed: the converter would undo a
    # native pitch shift, and a fallback engine may not take the same keywords.
    post_only = recipe.clone is not None or bool(recipe.voice.fallback)
    wanted = recipe.prosody.model_copy(update={"path": "post"}) if post_only else recipe.prosody
    native, post_prosody, prosody_paths = split_native(wanted, recipe.voice.engine, recipe.voice.speed)
    voice = recipe.voice.model_copy(update={"speed": native.pop("speed")}) if "speed" in native else recipe.voice
    stages.extra_inputs["synth"] = {"native": native, "speed": voice.speed}
    # Synthesis (the longest stage) runs beside segmentation; segmentation stays in
    # this thread so a photo without a person still fails at once. The background
    # stage's events are held and delivered from this thread: callers (a SQLite
    # ledger, a Celery task) may only be usable from the thread that called us.
    held: list[Event] = []
    # The imports and engine start-ups of mix and render run beside both from the start, and the
    # renderer finds the face on the composite as soon as segmentation has made it.
    warm_up = in_background(lambda: warm_up_later_stages(recipe))
    pending_speech = in_background(lambda: step("synth", voice, lambda: synth(recipe.text, voice, native=native),
                                                lambda s: (s.meta.get("engine"), s.meta.get("engine_version")),
                                                lambda s: s.meta.get("attempts"), emit=held.append))
    try:
        cutout = step("segment", recipe.segment, lambda: segment(image, recipe.segment, source=f"image {recipe.image}"),
                      lambda c: (c.meta.get("engine"), c.meta.get("engine_version")))
        subject = _subject_of(cutout)
        prepare_render(cutout.composite, recipe.render, subject=subject)  # returns at once
        speech = pending_speech.result()
    finally:
        for event in held:
            emit(event)
    warm_up.result()
    if recipe.clone is not None:
        speech = step("clone", recipe.clone, lambda: clone(speech, recipe.clone), lambda s: (recipe.clone.engine, None))
    if not post_prosody.is_neutral:
        speech = step("prosody", post_prosody, lambda: prosody(speech, post_prosody), lambda s: (recipe.prosody.engine, None))
    elif prosody_paths:
        report.stages.append(StageRecord("prosody", f"native:{recipe.voice.engine}", None, 0.0, recipe.prosody.model_dump()))
    if prosody_paths:
        report.stages[-1].detail["prosody_path"] = prosody_paths
    speech = step("enhance", recipe.enhance, lambda: enhance(speech, recipe.enhance), lambda s: ("enhance", None))
    soundtrack = step("mix", recipe.mix, lambda: mix(speech, recipe.mix), lambda s: (recipe.mix.engine, None))
    facts = step("render", recipe.render,
                 lambda: render(cutout.composite, soundtrack, staged, recipe.render, atomic=False, subject=subject),
                 lambda f: (f["engine"], f["engine_version"]), lambda f: f.get("attempts"))

    report.stages.sort(key=lambda r: STAGE_ORDER.index(r.stage) if r.stage in STAGE_ORDER else len(STAGE_ORDER))
    report.speech_seconds = round(speech.duration, 3)
    report.timeline_source = speech.timeline_source
    report.outputs["video"] = {"seconds": round(soundtrack.duration, 3),
                               **{k: v for k, v in facts.items() if k not in REPORT_ONLY}}
    return report


def _subject_of(cutout: Any) -> Any:
    """The selected person's matte, so the renderer animates their face and not a bystander's."""
    alpha = getattr(cutout, "alpha", None)
    if alpha is None or alpha.shape[:2] != cutout.composite.shape[:2] or not (alpha >= 0.5).any():
        return None
    return alpha


def _fallback_note(attempts: list[dict[str, Any]]) -> str:
    """'did failed → still' for progress lines."""
    return " → ".join(a["engine"] + ("" if a["status"] == "used" else f" {a['status']}") for a in attempts)


def _record_failure(report: RunReport, output: Path, stage: str, options: dict, exc: VmsgError, seconds: float) -> None:
    """Write the report of a failed run: which stage, which engines were tried and why each failed."""
    import contextlib

    from vmsg.secrets import scrub

    detail: dict[str, Any] = {"error": scrub(str(exc))}
    if getattr(exc, "attempts", None):
        detail["attempts"] = exc.attempts
    report.stages.append(StageRecord(stage, None, None, round(seconds, 3), options, detail))
    report.status = "failed"
    report.error = scrub(str(exc))
    with contextlib.suppress(VmsgError, OSError):
        report.write(report_path_for(output))


def _finish(report: RunReport, output: Path, key: str, started: float, staged: Path) -> RunReport:
    """Record the video's hash and content key (what `--resume` checks) and write the report.

    `staged` holds the video until the caller publishes it under `output`.
    """
    report.outputs["video"] = {**report.outputs.get("video", {}), "path": str(output), "sha256": sha256_file(staged),
                               "bytes": staged.stat().st_size, "content_hash": key}
    report.total_seconds = round(time.perf_counter() - started, 3)
    report.status = "done"
    report.outputs["report"] = str(report_path_for(output))
    report.write(report_path_for(output))
    return report
