"""The `vmsg` command. Subcommands register themselves from one module each;
library errors become one message and an exit code here, and only here."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from vmsg import __version__

app = typer.Typer(
    name="vmsg",
    help="Portrait photo + message text → lip-synced talking video message.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"vmsg {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="print the version")] = None,
) -> None:
    """vmsg: segment, synth, clone, prosody, mix and render talking video messages."""


def _register() -> None:
    from vmsg.cli import clone, doctor, mix, prosody, render, segment, synth

    for module in (segment, synth, prosody, mix, render, doctor):
        module.register(app)
    app.add_typer(clone.app, name="clone", help="voice cloning: convert speech toward reference clips")


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; map vmsg errors to a message and an exit code."""
    from vmsg.errors import VmsgError

    try:
        app(args=argv, prog_name="vmsg")
    except VmsgError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
