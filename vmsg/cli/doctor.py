"""`vmsg doctor`: is everything a render needs installed?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer


def doctor_command(
    as_json: Annotated[bool, typer.Option("--json", help="print the checks as JSON")] = False,
    recipe: Annotated[Optional[Path], typer.Option(help="also check the HTTP engines this recipe uses")] = None,
) -> None:
    """Check ffmpeg and its encoders, onnxruntime providers, torch/CUDA, the bundled models, and the
    configured services ($VMSG_VOICEVOX_URL, $VMSG_BROKER_URL, and with --recipe its HTTP engines)."""
    from dataclasses import asdict

    from vmsg.cli.output import stdout
    from vmsg.doctor import run_checks, service_checks

    loaded = None
    if recipe is not None:
        from vmsg.recipe import load_recipe

        loaded = load_recipe(recipe)
    checks = run_checks() + service_checks(loaded)
    if as_json:
        print(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2))
    else:
        from rich.table import Table

        table = Table("check", "status", "detail")
        for c in checks:
            status = "[green]ok[/]" if c.ok else ("[red]MISSING[/]" if c.required else "[yellow]optional, absent[/]")
            table.add_row(c.name, status, c.detail)
        stdout.print(table)
    if any(c.required and not c.ok for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_command)
