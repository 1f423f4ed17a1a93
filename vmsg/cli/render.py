"""`vmsg render`: recipes to mp4 (all validated before any runs), or an image + audio file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import (CacheUrlOpt, DeviceOpt, IndexOpt, JobsOpt, LedgerOpt, NoCacheOpt, NoLedgerOpt, PointOpt,
                             PresignOpt, QuietOpt, ReportOpt, ResumeOpt, SelectOpt, SetOpt, build_options,
                             implied_select)


def render_command(
    recipes: Annotated[Optional[list[Path]], typer.Argument(help="recipe YAML file(s)")] = None,
    set_: SetOpt = None,
    output: Annotated[Optional[str], typer.Option("--output", "-o", help="output mp4, a path or s3://bucket/key (overrides the recipe's; one recipe only)")] = None,
    image: Annotated[Optional[Path], typer.Option(help="file mode: the composited image")] = None,
    audio: Annotated[Optional[Path], typer.Option(help="file mode: the soundtrack (its .timeline.json is used)")] = None,
    engine: Annotated[Optional[str], typer.Option(help="render engine")] = None,
    fps: Annotated[Optional[int], typer.Option(help="25 or 30")] = None,
    size: Annotated[Optional[int], typer.Option(help="longest side in pixels")] = None,
    seed: Annotated[Optional[int], typer.Option(help="face2d: seed for blinks and head motion")] = None,
    select: SelectOpt = None,
    index: IndexOpt = None,
    point: PointOpt = None,
    device: DeviceOpt = "auto",
    jobs: JobsOpt = None,
    resume: ResumeOpt = None,
    cache_url: CacheUrlOpt = None,
    no_cache: NoCacheOpt = False,
    ledger: LedgerOpt = None,
    no_ledger: NoLedgerOpt = False,
    report: ReportOpt = None,
    presign: PresignOpt = None,
    quiet: QuietOpt = False,
    score: Annotated[Optional[Path], typer.Option(
        "--score", help="measure the lip-sync of this rendered mp4 instead of rendering (--image: source for identity, "
        "--audio: the voice alone when the track has music); exit 1 when a check fails")] = None,
) -> None:
    """Render RECIPES (all validated before any runs; --jobs N in parallel), or --image with --audio into -o;
    or measure a video with --score."""
    from vmsg.errors import UsageError

    if score is not None:
        if recipes or output:
            raise UsageError("--score measures an existing video; give no recipes and no --output")
        _score(score, image, audio, quiet)
        return
    if image or audio:
        if recipes:
            raise UsageError("give recipes, or --image and --audio, not both")
        if not (image and audio and output):
            raise UsageError("file mode needs --image, --audio and --output")
        _render_files(image, audio, Path(output), engine=engine, fps=fps, size=size, seed=seed, device=device,
                      quiet=quiet, select=implied_select(select, index, point), index=index, point=point)
        return
    if select or index is not None or point:
        raise UsageError("--select/--index/--point pick a face in file mode; in a recipe, set segment.select")
    if not recipes:
        raise UsageError("give a recipe file (or --image, --audio and -o)")
    overrides = list(set_ or [])
    for flag, value in (("render.engine", engine), ("render.fps", fps), ("render.size", size), ("render.seed", seed)):
        if value is not None:
            overrides.append(f"{flag}={value}")
    if device != "auto":
        overrides.append(f"device={device}")
    if output is not None:
        if len(recipes) > 1:
            raise UsageError("--output works with one recipe only")
        overrides.append(f"output={output if '://' in output else Path(output).resolve()}")
    from vmsg.batch import BatchSettings

    settings = BatchSettings(workers=jobs or 1, resume=bool(resume), use_cache=not no_cache, cache_url=cache_url,
                             use_ledger=not no_ledger, ledger_url=ledger, presign=presign)
    _render_recipes(recipes, overrides, settings, report, quiet)


def _render_recipes(paths: list[Path], overrides: list[str], settings, report_path: Optional[Path], quiet: bool) -> None:
    from vmsg.batch import jobs_from_recipes, recorded, validate_jobs
    from vmsg.cli.batch import execute
    from vmsg.cli.output import done, progress_sink
    from vmsg.pipeline import is_up_to_date, run_recipe

    planned = jobs_from_recipes(paths, overrides)
    validate_jobs(planned)
    if len(planned) > 1 or report_path is not None:
        execute(planned, settings, report_path, quiet)
        return
    job = planned[0]
    if settings.resume and is_up_to_date(job.recipe.output, job.key):
        done(f"{job.recipe.output} is up to date", quiet, output=job.recipe.output, status="skipped")
        return
    cache = None
    if settings.use_cache:
        from vmsg.cache import open_cache

        cache = open_cache(settings.cache_url)
        cache.check()
    with recorded(job, settings) as on_stage:
        sink = progress_sink(quiet)
        report = run_recipe(job.recipe, source=job.source, on_event=lambda e: (on_stage(e), sink(e)), cache=cache,
                            presign=settings.presign)
    done(f"wrote {job.recipe.output} ({report.outputs['video']['seconds']:.2f} s) in {report.total_seconds:.1f} s",
         quiet, output=job.recipe.output, report=report.outputs.get("report"))


def _render_files(image: Path, audio: Path, output: Path, *, engine, fps, size, seed, device: str, quiet: bool,
                  select=None, index=None, point=None) -> None:
    from vmsg.cli.output import done
    from vmsg.media.image import read_image
    from vmsg.stages.render import RenderOptions, render
    from vmsg.store import check_writable
    from vmsg.timeline_io import read_speech
    from vmsg.types import Soundtrack

    options = build_options(RenderOptions, engine=engine, fps=fps, size=size, seed=seed, device=device)
    check_writable(output)
    from vmsg.errors import InputError

    people = None
    if select is not None:  # validated before any work, with segment's own rules
        from vmsg.stages.segment import SegmentOptions

        people = build_options(SegmentOptions, select=select, index=index, point=point, device=device)
    pixels = read_image(image)
    speech = read_speech(audio, what="audio")
    track = Soundtrack(speech.samples, speech.sample_rate, speech.timeline, speech.timeline_source)
    subject, chosen = None, {}
    if people is not None:
        from vmsg.stages.segment import subject_mask

        subject, chosen = subject_mask(pixels, people, source=f"image {image}")
    try:
        render(pixels, track, output, options, subject=subject)
    except InputError as exc:  # name the file the user gave, not the array the library saw
        raise InputError(f"image {image}: {exc.message}", hint=exc.hint) from exc
    done(f"wrote {output} ({track.duration:.2f} s)", quiet, output=str(output),
         **({"selected": chosen["selected"]} if chosen else {}))


def _score(video: Path, image: Optional[Path], audio: Optional[Path], quiet: bool) -> None:
    import json

    from vmsg.cli.output import done, stdout
    from vmsg.lipsync import score_video
    from vmsg.media.audio import read_audio
    from vmsg.media.image import read_image

    source = read_image(image, what="source image") if image else None
    reference = read_audio(audio) if audio else None
    result = score_video(video, source_image=source, reference_audio=reference)
    facts = result.as_dict()
    if not quiet:
        stdout.print_json(json.dumps(facts))
    failed = [name for name, ok in result.checks.items() if not ok]
    mad = "n/a" if result.identity_mad is None else f"{result.identity_mad:.2f}"
    closed = "n/a" if result.closed_in_silence is None else f"{result.closed_in_silence:.0%}"
    done(f"{video}: r={result.correlation:.2f} at lag {result.best_lag_frames:+d}, closed in silence {closed}, "
         f"identity MAD {mad}: {'pass' if not failed else 'FAIL (' + ', '.join(failed) + ')'}", quiet, **facts)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("render")(render_command)
