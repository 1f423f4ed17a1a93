"""`vmsg segment`: find the people in photos, cut one out, put them on a new background."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import DeviceOpt, IndexOpt, PointOpt, QuietOpt, SelectOpt, build_options, implied_select

_Opt = typer.Option


def segment_command(
    inputs: Annotated[Optional[list[str]], typer.Argument(help="photos, folders or glob patterns ('in/*.jpg')")] = None,
    output: Annotated[Optional[Path], _Opt("--output", "-o", help="RGBA cut-out PNG (a folder when several inputs)")] = None,
    composite: Annotated[Optional[Path], _Opt(help="also write the subject over the background (a folder when several inputs)")] = None,
    alpha: Annotated[Optional[Path], _Opt(help="also write the alpha matte PNG (a folder when several inputs)")] = None,
    list_people: Annotated[bool, _Opt("--list", help="print the people found as JSON (one line per photo) and write nothing")] = False,
    backgrounds: Annotated[bool, _Opt("--backgrounds", help="print the background library as JSON and exit")] = False,
    background: Annotated[Optional[str], _Opt(help="'#rrggbb', 'r,g,b', 'blur', a library id (office_soft) or an image")] = None,
    natural: Annotated[Optional[bool], _Opt("--natural/--no-natural", help="match subject light and colour to the background")] = None,
    select: SelectOpt = None,
    index: IndexOpt = None,
    point: PointOpt = None,
    crop: Annotated[Optional[bool], _Opt("--crop/--keep-frame", help="crop to the subject plus --margin, or keep the frame")] = None,
    margin: Annotated[Optional[float], _Opt(help="crop margin, share of the subject's size")] = None,
    scale: Annotated[Optional[float], _Opt(help="subject size on the background (1 = as photographed)")] = None,
    place: Annotated[Optional[str], _Opt(help="x,y fractions where the subject's bottom centre goes, e.g. 0.5,1")] = None,
    zoom: Annotated[Optional[bool], _Opt("--zoom/--no-zoom", help="segment each person in a crop around them")] = None,
    refine: Annotated[Optional[bool], _Opt("--refine/--no-refine", help="soft edge refinement")] = None,
    quality: Annotated[Optional[str], _Opt(help="best (three crops per person, averaged) or fast (one crop)")] = None,
    foreground: Annotated[Optional[str], _Opt(help="foreground colour estimation: blur_fusion, ml or none")] = None,
    engine: Annotated[Optional[str], _Opt(help="segmentation engine: mediapipe, birefnet, u2net, u2netp, modnet, sinet")] = None,
    model: Annotated[Optional[Path], _Opt(help="ONNX weights for the engine (default: `vmsg models pull` location)")] = None,
    detector: Annotated[Optional[str], _Opt(help="person detector: mediapipe, yolox or yunet")] = None,
    detector_model: Annotated[Optional[Path], _Opt(help="ONNX weights for the detector")] = None,
    allow_empty: Annotated[Optional[bool], _Opt("--allow-empty", help="write an empty matte instead of failing when no person is found")] = None,
    jobs: Annotated[int, _Opt("--jobs", "-j", min=1, max=64, help="photos processed in parallel (worker processes)")] = 1,
    device: DeviceOpt = "auto",
    quiet: QuietOpt = False,
) -> None:
    """Cut the person out of photos: RGBA cut-out (-o), composite and alpha matte."""
    import json

    from vmsg.cli.output import done
    from vmsg.errors import InputError, UsageError

    if backgrounds:
        from vmsg.backends.segment.library import load_library

        for e in load_library().values():
            print(json.dumps({k: e[k] for k in ("id", "name", "category", "tags", "size", "path")}, ensure_ascii=False))
        return
    if not inputs:
        raise UsageError("give at least one photo, folder or glob")
    select = implied_select(select, index, point)
    fields = {"background": background, "natural": natural, "select": select, "index": index, "point": point, "crop": crop,
              "margin": margin, "scale": scale, "place": place, "zoom": zoom, "refine": refine, "quality": quality, "foreground": foreground, "engine": engine,
              "model": str(model) if model else None, "detector": detector,
              "detector_model": str(detector_model) if detector_model else None, "allow_empty": allow_empty, "device": device}
    from vmsg.stages.segment import SegmentOptions
    from vmsg.stages.segment_batch import expand_inputs, plan, run_jobs

    options = build_options(SegmentOptions, **fields)
    images = expand_inputs(inputs)
    single = len(inputs) == 1 and len(images) == 1 and not Path(inputs[0]).is_dir() and not any(c in inputs[0] for c in "*?[")
    if list_people:
        from vmsg.stages.segment import list_people as people_in

        for image in images:
            print(json.dumps({"image": str(image), "people": people_in(image, options)}), flush=True)
        return
    if output is None and composite is None and alpha is None:
        raise UsageError("nothing to write: give -o, --composite or --alpha (or --list)")
    job_list = plan(images, output=output, composite=composite, alpha=alpha, single=single)
    _check_outputs(job_list)
    if single:
        from vmsg.errors import VmsgError

        result = run_jobs(job_list, options)[0]
        if not result["ok"]:
            error = VmsgError(result["error"])
            error.exit_code = result["exit_code"]
            raise error
        done(f"wrote {', '.join(result['outputs'])}", quiet, **{k: result[k] for k in ("people", "selected", "coverage")})
        return
    results = run_jobs(job_list, options, workers=jobs, on_result=lambda r: _report(r, quiet))
    failed = [r for r in results if not r["ok"]]
    done(f"{len(results) - len(failed)} of {len(results)} photos done", quiet, failed=len(failed))
    if failed:
        raise InputError(f"{len(failed)} of {len(results)} photos failed") if all(r["exit_code"] == 2 for r in failed) \
            else _failure(len(failed), len(results))


def _failure(failed: int, total: int):
    from vmsg.errors import BackendError

    return BackendError(f"{failed} of {total} photos failed")


def _check_outputs(job_list) -> None:
    from vmsg.store import check_writable

    for job in job_list:
        for path in (job.output, job.composite, job.alpha):
            if path is not None:
                check_writable(path)


def _report(result: dict, quiet: bool) -> None:
    import json
    import sys

    from vmsg.cli.output import is_tty, stderr

    if quiet and result["ok"]:
        return
    if is_tty():
        mark = "[green]✓[/]" if result["ok"] else "[red]✗[/]"
        stderr.print(f"  {mark} {result['image']}" + ("" if result["ok"] else f": {result['error']}"), markup=True, highlight=False)
    else:
        print(json.dumps({"event": "image", **result}, ensure_ascii=False), file=sys.stderr, flush=True)


def register(app: typer.Typer) -> None:
    app.command("segment")(segment_command)
