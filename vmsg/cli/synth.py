"""`vmsg synth`: Japanese text to speech, with its phoneme timeline beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import DeviceOpt, build_options, QuietOpt


def synth_command(
    text: Annotated[Optional[str], typer.Argument(help="the message (or use --text-file)")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="audio file: .wav .flac .mp3 .m4a .ogg")] = None,
    text_file: Annotated[Optional[Path], typer.Option(help="read the message from this UTF-8 file")] = None,
    engine: Annotated[Optional[str], typer.Option(help="kokoro (default) or openjtalk")] = None,
    voice: Annotated[Optional[str], typer.Option(help="engine voice (see --list-voices)")] = None,
    speed: Annotated[Optional[float], typer.Option(help="speaking rate, 0.5–2.0")] = None,
    profile: Annotated[Optional[str], typer.Option(help="speak in a saved voice profile (vmsg clone list)")] = None,
    list_voices: Annotated[bool, typer.Option("--list-voices", help="print every engine's voices as JSON and exit")] = False,
    device: DeviceOpt = "auto",
    quiet: QuietOpt = False,
) -> None:
    """Write speech to -o and its phoneme timeline to <name>.timeline.json."""
    from vmsg.cli.output import done
    from vmsg.errors import InputError, UsageError
    from vmsg.media.audio import write_audio
    from vmsg.stages.synth import SynthOptions, list_voices as all_voices, synth
    from vmsg.store import check_writable
    from vmsg.timeline_io import timeline_path_for, write_timeline

    if list_voices:
        print(json.dumps(all_voices(), ensure_ascii=False, indent=2))
        return
    if output is None:
        raise UsageError("missing --output/-o")
    if text_file is not None:
        if text is not None:
            raise UsageError("give the text as an argument or with --text-file, not both")
        try:
            text = text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"text file {text_file}: cannot be read ({exc})") from exc
    if text is None:
        raise UsageError("missing the text (argument or --text-file)")
    fields = {"engine": engine, "voice": voice, "speed": speed, "profile": profile, "device": device}
    options = build_options(SynthOptions, **fields)
    check_writable(output)
    speech = synth(text, options)
    write_audio(output, speech.samples, speech.sample_rate)
    write_timeline(output, speech.timeline, speech.timeline_source)
    done(f"wrote {output} ({speech.duration:.2f} s) and {timeline_path_for(output).name}", quiet,
         output=str(output), seconds=round(speech.duration, 3))


def register(app: typer.Typer) -> None:
    app.command("synth")(synth_command)
