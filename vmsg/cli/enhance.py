"""`vmsg enhance`: denoise, high-pass, presence EQ, trim/pad and loudness for a speech file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import OutputOpt, QuietOpt, build_options


def enhance_command(
    speech: Annotated[Path, typer.Argument(help="speech file (its .timeline.json is shifted with the trim)")],
    output: OutputOpt,
    denoise: Annotated[Optional[float], typer.Option(help="noise reduction strength 0…1 (0 = off)")] = None,
    highpass_hz: Annotated[Optional[float], typer.Option(help="high-pass corner in Hz (0 = off)")] = None,
    presence_db: Annotated[Optional[float], typer.Option(help="presence EQ gain in dB (0 = off)")] = None,
    trim: Annotated[Optional[bool], typer.Option("--trim/--no-trim", help="trim edge silence to the padding")] = None,
    pad_start: Annotated[Optional[float], typer.Option(help="seconds kept before the voice")] = None,
    pad_end: Annotated[Optional[float], typer.Option(help="seconds kept after the voice")] = None,
    target_lufs: Annotated[Optional[float], typer.Option(help="integrated loudness target")] = None,
    true_peak_db: Annotated[Optional[float], typer.Option(help="true-peak ceiling, dBTP")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Prepare SPEECH for lip-sync and delivery; write -o and its shifted timeline."""
    from vmsg.cli.output import done
    from vmsg.stages.enhance import EnhanceOptions, enhance
    from vmsg.store import check_writable
    from vmsg.timeline_io import read_speech, write_speech

    options = build_options(EnhanceOptions, denoise=denoise, highpass_hz=highpass_hz, presence_db=presence_db, trim=trim,
                            pad_start=pad_start, pad_end=pad_end, target_lufs=target_lufs, true_peak_db=true_peak_db)
    check_writable(output)
    result = enhance(read_speech(speech), options)
    write_speech(output, result)
    done(f"wrote {output} ({result.duration:.2f} s)", quiet, output=str(output), seconds=round(result.duration, 3))


def register(app: typer.Typer) -> None:
    app.command("enhance")(enhance_command)
