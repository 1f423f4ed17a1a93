"""`vmsg models`: list the model registry, pull weights once, verify what is installed."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

models_app = typer.Typer(help="Model weights: list, pull (download once, sha256-checked), verify.", no_args_is_help=True)


@models_app.command("list")
def list_command(json_out: Annotated[bool, typer.Option("--json", help="one JSON object per model")] = False) -> None:
    """Every registered model: kind, engine, size, licence, whether it is present, what was verified."""
    import json

    from vmsg.models import listing, models_dir

    rows = listing()
    if json_out:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    print(f"models folder: {models_dir()}")
    for r in rows:
        print(f"{r['name']:<18} {r['kind']:<14} {r['engine']:<10} {r['mb']:>7.1f} MB  {r['present']:<8} {r['licence']}")


@models_app.command("pull")
def pull_command(
    names: Annotated[list[str], typer.Argument(help="model names (see `vmsg models list`)")],
    url: Annotated[Optional[str], typer.Option(help="fetch from this URL or local file instead of the registry's URL")] = None,
    force: Annotated[bool, typer.Option("--force", help="fetch again even when a good copy is present")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Download models into the models folder; a file whose sha256 differs is refused, nothing installed."""
    from vmsg.cli.output import done
    from vmsg.models import pull

    for name in names:
        paths = pull(name, url=url, force=force)
        done(f"{name}: " + (", ".join(map(str, paths)) or "bundled, nothing to pull"), quiet, model=name, paths=[str(p) for p in paths])


@models_app.command("verify")
def verify_command(names: Annotated[Optional[list[str]], typer.Argument(help="models to check (default: all present)")] = None) -> None:
    """Check size and sha256 of installed models; exit 1 when any file is missing or differs."""
    import json

    from vmsg.errors import ModelError
    from vmsg.models import MODELS, file_path, verify

    chosen = names or [n for n, e in MODELS.items() if not e.bundled and any(file_path(n, f).is_file() for f in e.files)]
    bad = []
    for name in chosen:
        for row in verify(name):
            print(json.dumps(row))
            if row["status"] != "ok":
                bad.append(f"{name}/{row['file']}: {row['status']}")
    if bad:
        raise ModelError("model check failed: " + "; ".join(bad))


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
