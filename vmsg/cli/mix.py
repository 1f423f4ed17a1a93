"""`vmsg mix`: the voice over background music, loudness-normalised."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import OutputOpt, QuietOpt, build_options


def mix_command(
    speech: Annotated[Path, typer.Argument(help="voice file (its .timeline.json travels along)")],
    output: OutputOpt,
    bgm: Annotated[Optional[Path], typer.Option(help="music file; none = voice only")] = None,
    music_gain_db: Annotated[Optional[float], typer.Option(help="music level relative to the voice, dB")] = None,
    target_lufs: Annotated[Optional[float], typer.Option(help="integrated loudness target")] = None,
    engine: Annotated[Optional[str], typer.Option(help="mixing engine")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Mix SPEECH with music; write -o (wav, flac, mp3, m4a, ogg) and the shifted timeline."""
    from vmsg.cli.output import done
    from vmsg.media.audio import integrated_lufs
    from vmsg.stages.mix import MixOptions, mix
    from vmsg.store import check_writable
    from vmsg.timeline_io import read_speech, write_speech
    from vmsg.types import Speech

    options = build_options(MixOptions, bgm=str(bgm) if bgm else None, music_gain_db=music_gain_db,
                            target_lufs=target_lufs, engine=engine)
    check_writable(output)
    track = mix(read_speech(speech), options)
    write_speech(output, Speech(track.samples, track.sample_rate, track.timeline, track.timeline_source))
    lufs = integrated_lufs(track.samples, track.sample_rate)
    done(f"wrote {output} ({track.duration:.2f} s, {lufs:.1f} LUFS)", quiet, output=str(output), lufs=round(lufs, 2))


def register(app: typer.Typer) -> None:
    app.command("mix")(mix_command)
