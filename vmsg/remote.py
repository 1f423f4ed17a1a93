"""Run a recipe whose inputs or output live elsewhere (`s3://…`, or a shared folder).

S3 inputs are downloaded to a private temporary folder first; the video is rendered
there, and published only after that local atomic write succeeded: uploaded to S3 (the
object appears under its key only when the upload completes) or copied into the
shared folder under a temporary name and renamed. A job that fails or is killed
therefore never leaves anything under its final name.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vmsg.errors import InputError, UsageError
from vmsg.recipe import Recipe
from vmsg.report import RunReport, report_path_for
from vmsg.storage_uri import is_s3, parse_s3
from vmsg.store import atomic_path, check_writable, s3_store

logger = logging.getLogger(__name__)

MAX_PRESIGN_SECONDS = 7 * 24 * 3600
"""S3's own limit for a SigV4 presigned URL."""


def input_uris(recipe: Recipe) -> list[tuple[str, str]]:
    """(what, location) for every input file the recipe names."""
    found = [("image", recipe.image)]
    if recipe.mix.bgm:
        found.append(("background music", recipe.mix.bgm))
    if is_s3(recipe.segment.background):
        found.append(("background image", recipe.segment.background))
    if recipe.clone is not None:
        found.extend(("reference clip", r) for r in recipe.clone.references)
    return found


def has_remote(recipe: Recipe) -> bool:
    return is_s3(recipe.output) or any(is_s3(v) for _, v in input_uris(recipe))


def check_remote_inputs(recipe: Recipe) -> None:
    """check_inputs for a recipe with s3:// parts: HEAD each S3 input, check the output bucket."""
    store = s3_store()
    for what, value in input_uris(recipe):
        if is_s3(value):
            store.head(value)
        elif not Path(value).is_file():
            raise InputError(f"{what} {value}: file not found")
    if not recipe.output.lower().endswith(".mp4"):
        raise InputError(f"output {recipe.output}: must end in .mp4")
    if is_s3(recipe.output):
        store.check_bucket(recipe.output)
    else:
        check_writable(Path(recipe.output))


def check_presign(seconds: int | None, output: str) -> None:
    if seconds is None:
        return
    if not is_s3(output):
        raise UsageError(f"--presign needs an s3:// output; {output} is a local path")
    if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise UsageError(f"--presign {seconds}: must be between 1 and {MAX_PRESIGN_SECONDS} seconds (7 days)")


def _emit(on_event: Callable | None, stage: str, status: str, seconds: float | None = None, **detail: Any) -> None:
    if on_event is not None:
        from vmsg.pipeline import Event

        on_event(Event(stage, status, seconds, detail))


def _fetch_inputs(recipe: Recipe, folder: Path) -> Recipe:
    """Download every s3:// input into `folder`; returns the recipe pointing at the local copies."""
    store = s3_store()
    counter = iter(range(1_000_000))

    def local(value: str) -> str:
        if not is_s3(value):
            return value
        dest = folder / f"{next(counter):02d}-{parse_s3(value).name}"
        return str(store.download(value, dest))

    updates: dict[str, Any] = {"image": local(recipe.image)}
    if recipe.mix.bgm and is_s3(recipe.mix.bgm):
        updates["mix"] = recipe.mix.model_copy(update={"bgm": local(recipe.mix.bgm)})
    if is_s3(recipe.segment.background):
        updates["segment"] = recipe.segment.model_copy(update={"background": local(recipe.segment.background)})
    if recipe.clone is not None and any(is_s3(r) for r in recipe.clone.references):
        updates["clone"] = recipe.clone.model_copy(update={"references": [local(r) for r in recipe.clone.references]})
    return recipe.model_copy(update=updates)


def _copy_into_place(source: Path, final: Path) -> None:
    with atomic_path(final) as tmp:
        shutil.copyfile(source, tmp)


def run_staged(recipe: Recipe, *, source: str | None = None, on_event: Callable | None = None,
               presign: int | None = None, workdir: Path | str | None = None, cache=None) -> RunReport:
    """Render `recipe` in a private temporary folder, then publish the video and its report."""
    from vmsg.pipeline import run_recipe

    check_presign(presign, recipe.output)
    with tempfile.TemporaryDirectory(prefix="vmsg-job-", dir=workdir) as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "in").mkdir()
        if any(is_s3(v) for _, v in input_uris(recipe)):
            _emit(on_event, "fetch", "start")
            started = time.perf_counter()
            local = _fetch_inputs(recipe, tmp / "in")
            _emit(on_event, "fetch", "done", time.perf_counter() - started)
        else:
            local = recipe
        final = recipe.output
        name = parse_s3(final).name if is_s3(final) else Path(final).name
        staged_output = tmp / "out" / name
        local = local.model_copy(update={"output": str(staged_output)})
        report = run_recipe(local, source=source, on_event=on_event, cache=cache)

        _emit(on_event, "publish", "start")
        started = time.perf_counter()
        _restore_locations(report, recipe, local)
        # the key a batch computes for the recipe as given (s3:// inputs by ETag), so resume recognises it
        report.outputs["video"]["content_hash"] = resume_key(recipe)
        report.output = final
        report.outputs["video"]["path"] = final
        staged_report = report_path_for(staged_output)
        if is_s3(final):
            store = s3_store()
            report_uri = str(parse_s3(final).sibling(report_path_for(name).name))
            if presign:
                expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=presign)
                report.outputs["video"]["presigned_url"] = store.presign(final, presign)
                report.outputs["video"]["presigned_expires_at"] = expires.isoformat(timespec="seconds")
            report.write(staged_report)
            store.upload(staged_output, final, content_type="video/mp4",
                         metadata={"sha256": report.outputs["video"]["sha256"]})
            store.upload(staged_report, report_uri, content_type="application/json")
            report.outputs["report"] = report_uri
        else:
            _copy_into_place(staged_output, Path(final))
            report.write(report_path_for(final))
            report.outputs["report"] = str(report_path_for(final))
        _emit(on_event, "publish", "done", time.perf_counter() - started, output=final)
        return report


def resume_key(recipe: Recipe) -> str:
    """The content key of `recipe` with s3:// inputs fingerprinted by ETag and size (as a batch computes it)."""
    from vmsg.batch import content_key

    return content_key(recipe)


def s3_up_to_date(output: str, key: str) -> bool:
    """Resume check of an s3:// output without downloading the video.

    True when the report object beside it names `key`, and the video object has the size and the
    sha256 (user metadata, set at upload) that report recorded. Publishing uploads the video before
    the report, so a report that names the key means the upload completed. A missing object is
    False; S3 unreachable or access denied raise (the batch cannot run either).
    """
    import json

    from vmsg.errors import VmsgError

    store = s3_store()
    report_uri = str(parse_s3(output).sibling(report_path_for(parse_s3(output).name).name))
    try:
        video = json.loads(store.read_bytes(report_uri))["outputs"]["video"]
    except InputError:
        return False
    except (ValueError, KeyError, TypeError):
        return False
    if not isinstance(video, dict) or video.get("content_hash") != key:
        return False
    try:
        head = store.head(output)
    except InputError:
        return False
    except VmsgError:
        raise
    return (head.get("ContentLength") == video.get("bytes")
            and (head.get("Metadata") or {}).get("sha256") == video.get("sha256"))


def _restore_locations(report: RunReport, original: Recipe, local: Recipe) -> None:
    """The report names the inputs as the user gave them (s3://…), not the temporary copies."""
    mapping = {lv: ov for (_, ov), (_, lv) in zip(input_uris(original), input_uris(local), strict=False)}
    for entry in report.inputs.values():
        items = entry if isinstance(entry, list) else [entry]
        for item in items:
            if isinstance(item, dict) and item.get("path") in mapping:
                item["path"] = mapping[item["path"]]
