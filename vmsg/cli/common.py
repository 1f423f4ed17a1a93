"""Typer options shared by several commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu or cuda (cuda where unavailable is an error)")]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="output file (written atomically)")]
SetOpt = Annotated[Optional[list[str]], typer.Option("--set", help="override a recipe field: key.sub=value (repeatable)")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="print nothing but errors")]


def build_options(model, /, **fields):
    """Options from the flags that were given (None = not given, so the model's default holds).

    A value out of range becomes a usage error naming the flag.
    """
    from pydantic import ValidationError

    from vmsg.errors import UsageError

    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"--{'-'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})" for e in exc.errors())
        raise UsageError(problems) from None
