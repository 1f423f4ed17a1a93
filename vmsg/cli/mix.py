"""`vmsg mix`: the voice over ducked background music, loudness-normalised;
or, with --video, music added under an existing video's sound."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vmsg.cli.common import OutputOpt, QuietOpt, build_options


def mix_command(
    output: OutputOpt,
    speech: Annotated[Optional[Path], typer.Argument(help="voice file (its .timeline.json travels along)")] = None,
    video: Annotated[Optional[Path], typer.Option(help="add music to this video instead (video stream copied)")] = None,
    bgm: Annotated[Optional[str], typer.Option(help="library id (vmsg bgm) or music file; none = voice only")] = None,
    music_gain_db: Annotated[Optional[float], typer.Option(help="music level relative to the voice, dB")] = None,
    duck: Annotated[Optional[bool], typer.Option("--duck/--no-duck", help="dip the music under speech")] = None,
    duck_depth_db: Annotated[Optional[float], typer.Option(help="ducking depth, dB")] = None,
    duck_attack_ms: Annotated[Optional[float], typer.Option(help="ducking attack, ms")] = None,
    duck_release_ms: Annotated[Optional[float], typer.Option(help="ducking release, ms")] = None,
    preset: Annotated[Optional[str], typer.Option(help="podcast (−16 LUFS) or streaming-video (−14 LUFS)")] = None,
    target_lufs: Annotated[Optional[float], typer.Option(help="integrated loudness target (overrides the preset)")] = None,
    true_peak_db: Annotated[Optional[float], typer.Option(help="true-peak ceiling, dBTP")] = None,
    engine: Annotated[Optional[str], typer.Option(help="mixing engine")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Mix SPEECH with music; write -o (wav, flac, mp3, m4a, ogg; mp4 with --video)."""
    from vmsg.cli.output import done
    from vmsg.errors import UsageError
    from vmsg.stages.mix import MixOptions, mix, mix_video
    from vmsg.store import check_writable

    if (speech is None) == (video is None):
        raise UsageError("give either a SPEECH file or --video (not both, not neither)")
    options = build_options(MixOptions, bgm=bgm, music_gain_db=music_gain_db, duck=duck, duck_depth_db=duck_depth_db,
                            duck_attack_ms=duck_attack_ms, duck_release_ms=duck_release_ms, preset=preset,
                            target_lufs=target_lufs, true_peak_db=true_peak_db, engine=engine)
    check_writable(output)
    if video is not None:
        if not video.is_file():
            raise UsageError(f"--video {video}: file not found")
        track = mix_video(video, output, options)
    else:
        from vmsg.timeline_io import read_speech, write_speech
        from vmsg.types import Speech

        track = mix(read_speech(speech), options)
        write_speech(output, Speech(track.samples, track.sample_rate, track.timeline, track.timeline_source))
    lufs = track.meta.get("lufs")
    done(f"wrote {output} ({track.duration:.2f} s, {lufs} LUFS)", quiet, output=str(output), lufs=lufs)


def register(app: typer.Typer) -> None:
    app.command("mix")(mix_command)
