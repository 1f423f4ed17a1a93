"""`vmsg segment`: cut the person out of a photo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import DeviceOpt, build_options, OutputOpt, QuietOpt


def segment_command(
    image: Annotated[Path, typer.Argument(help="portrait photo")],
    output: OutputOpt,
    composite: Annotated[Optional[Path], typer.Option(help="also write the subject over the background here")] = None,
    alpha: Annotated[Optional[Path], typer.Option(help="also write the alpha matte (greyscale PNG) here")] = None,
    background: Annotated[Optional[str], typer.Option(help="'#rrggbb', 'r,g,b', an image file, or 'blur'")] = None,
    engine: Annotated[Optional[str], typer.Option(help="segmentation engine")] = None,
    allow_empty: Annotated[bool, typer.Option("--allow-empty", help="write an empty matte instead of failing when no person is found")] = False,
    device: DeviceOpt = "auto",
    quiet: QuietOpt = False,
) -> None:
    """Write an RGBA cut-out (-o), and optionally the composite and the alpha matte."""
    from vmsg.cli.output import done
    from vmsg.media.image import write_image
    from vmsg.stages.segment import SegmentOptions, segment_file
    from vmsg.store import check_writable

    fields = {"background": background, "engine": engine, "device": device, "allow_empty": allow_empty or None}
    options = build_options(SegmentOptions, **fields)
    for path in (output, composite, alpha):
        if path is not None:
            check_writable(path)
    cut = segment_file(image, options)
    write_image(output, cut.rgba)
    if composite:
        write_image(composite, cut.composite)
    if alpha:
        write_image(alpha, cut.alpha)
    done(f"wrote {output}", quiet, output=str(output), coverage=round(cut.meta["coverage"], 4))


def register(app: typer.Typer) -> None:
    app.command("segment")(segment_command)
