"""`vmsg prosody`: pitch, speed, energy, intonation and pause edits on a speech file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import DeviceOpt, OutputOpt, QuietOpt, build_options


def prosody_command(
    speech: Annotated[Path, typer.Argument(help="speech file (its .timeline.json is moved too)")],
    output: OutputOpt,
    pitch: Annotated[Optional[float], typer.Option(help="semitones, −12…+12 (formants kept)")] = None,
    speed: Annotated[Optional[float], typer.Option(help="tempo, 0.5…2.0 (pitch kept)")] = None,
    energy: Annotated[Optional[float], typer.Option(help="level, 0.5…1.5 (true-peak limited)")] = None,
    intonation: Annotated[Optional[float], typer.Option(help="F0 contour scale, 0…2 (<1 flatter, >1 livelier)")] = None,
    emotion: Annotated[Optional[str], typer.Option(help="neutral, happy, sad or angry (on top of the values)")] = None,
    comma_pause: Annotated[Optional[float], typer.Option(help="seconds of pause at commas")] = None,
    sentence_pause: Annotated[Optional[float], typer.Option(help="seconds of pause between sentences")] = None,
    engine: Annotated[Optional[str], typer.Option(help="prosody engine")] = None,
    device: DeviceOpt = "auto",
    quiet: QuietOpt = False,
) -> None:
    """Apply prosody edits to SPEECH; write -o and its moved timeline."""
    from vmsg.cli.output import done
    from vmsg.stages.prosody import ProsodyOptions, prosody
    from vmsg.store import check_writable
    from vmsg.timeline_io import read_speech, write_speech

    options = build_options(ProsodyOptions, pitch=pitch, speed=speed, energy=energy, intonation=intonation,
                            emotion=emotion, comma_pause=comma_pause, sentence_pause=sentence_pause, engine=engine,
                            device=device)
    check_writable(output)
    result = prosody(read_speech(speech), options)
    write_speech(output, result)
    done(f"wrote {output} ({result.duration:.2f} s)", quiet, output=str(output), seconds=round(result.duration, 3),
         applied=result.meta.get("prosody_applied", {}))


def register(app: typer.Typer) -> None:
    app.command("prosody")(prosody_command)
