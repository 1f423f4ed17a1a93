"""`vmsg bgm`: list the background-music library."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def bgm_command(mood: Annotated[Optional[str], typer.Option(help="only this mood")] = None) -> None:
    """List the library's tracks (id, mood, bpm, seconds, name); use an id as --bgm."""
    from vmsg.backends.mix.library import tracks
    from vmsg.cli.output import stdout

    for entry in tracks().values():
        if mood and entry["mood"] != mood:
            continue
        stdout.print(f"{entry['id']:<20} {entry['mood']:<10} {entry['bpm']:>4} bpm {entry['duration']:>6.1f} s  {entry['name']}",
                     highlight=False)


def register(app: typer.Typer) -> None:
    app.command("bgm")(bgm_command)
