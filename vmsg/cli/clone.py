"""`vmsg clone …`: move speech toward the voice of reference clips."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import DeviceOpt, OutputOpt, QuietOpt, build_options

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)


@app.command("convert")
def convert_command(
    speech: Annotated[Path, typer.Argument(help="speech to convert (its .timeline.json is kept)")],
    output: OutputOpt,
    ref: Annotated[list[Path], typer.Option("--ref", help="reference clip of the target voice (1–5, repeatable)")],
    engine: Annotated[Optional[str], typer.Option(help="voice conversion engine")] = None,
    device: DeviceOpt = "auto",
    quiet: QuietOpt = False,
) -> None:
    """Convert SPEECH toward the voice of the --ref clips; write -o."""
    from vmsg.cli.output import done
    from vmsg.stages.clone import CloneOptions, clone
    from vmsg.store import check_writable
    from vmsg.timeline_io import read_speech, write_speech

    options = build_options(CloneOptions, engine=engine, device=device, references=[str(r) for r in ref])
    check_writable(output)
    result = clone(read_speech(speech), options)
    write_speech(output, result)
    done(f"wrote {output}", quiet, output=str(output))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="clone", help="voice cloning: convert speech toward reference clips")
