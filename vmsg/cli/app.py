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


COMMAND_MODULES = ("segment", "synth", "clone", "prosody", "enhance", "mix", "bgm", "render", "doctor", "models", "batch",
                   "cache", "jobs", "worker", "submit")
"""Each vmsg.cli.<name> module has `register(app)`; importing them is cheap (no heavy imports)."""


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"vmsg.cli.{name}").register(app)


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
