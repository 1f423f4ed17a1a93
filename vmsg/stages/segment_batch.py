"""Many photos in one call: expand folders and globs, plan every output before any work, run with
the models loaded once per worker, keep going past a bad photo, and report each result."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from vmsg.errors import InputError, VmsgError
from vmsg.recipe import IMAGE_SUFFIXES
from vmsg.stages.segment import SegmentOptions


@dataclass(frozen=True)
class Job:
    image: Path
    output: Path | None
    composite: Path | None = None
    alpha: Path | None = None


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files as given; folders → their image files (sorted); anything with * ? [ → glob matches."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif any(ch in item for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError(f"{item}: the pattern matches no file")
            found += matches
        else:
            found.append(path)
    if not found:
        raise InputError(f"no images found in {', '.join(inputs)}")
    seen: set[Path] = set()
    return [p for p in found if not (p.resolve() in seen or seen.add(p.resolve()))]


def plan(images: list[Path], *, output: Path | None, composite: Path | None, alpha: Path | None, single: bool) -> list[Job]:
    """One Job per photo. In batch mode -o, --composite and --alpha name folders; stems must be unique."""
    if single:
        return [Job(images[0], output, composite, alpha)]
    stems = [p.stem for p in images]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        raise InputError(f"several inputs share the name {', '.join(clashes)}; outputs would overwrite each other")
    for folder, flag in ((output, "-o"), (composite, "--composite"), (alpha, "--alpha")):
        if folder is not None and folder.exists() and not folder.is_dir():
            raise InputError(f"{flag} {folder}: with several inputs this must be a folder")
    return [Job(p, output / f"{p.stem}.png" if output else None,
                composite / f"{p.stem}.jpg" if composite else None,
                alpha / f"{p.stem}_alpha.png" if alpha else None) for p in images]


def run_job(job: Job, options: SegmentOptions) -> dict[str, Any]:
    """Segment one photo and write its outputs; errors come back as a result, not an exception."""
    from vmsg.media.image import write_image
    from vmsg.stages.segment import segment_file

    try:
        cut = segment_file(job.image, options)
        written = []
        for path, pixels in ((job.output, lambda: cut.rgba), (job.composite, lambda: cut.composite), (job.alpha, lambda: cut.alpha)):
            if path is not None:
                written.append(str(write_image(path, pixels())))
        return {"image": str(job.image), "ok": True, "outputs": written, "people": cut.meta["people"],
                "selected": cut.meta["selected"], "coverage": round(cut.meta["coverage"], 4)}
    except VmsgError as exc:
        return {"image": str(job.image), "ok": False, "error": str(exc), "exit_code": exc.exit_code}


def run_jobs(jobs: list[Job], options: SegmentOptions, *, workers: int = 1,
             on_result: Callable[[dict], None] | None = None) -> list[dict]:
    """Run every job; `workers` > 1 uses separate processes, each loading the models once."""
    results: list[dict] = []
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            results.append(run_job(job, options))
            if on_result:
                on_result(results[-1])
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn")) as pool:
        for result in pool.map(run_job, jobs, [options] * len(jobs)):
            results.append(result)
            if on_result:
                on_result(result)
    return results
