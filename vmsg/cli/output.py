"""How the CLI talks: rich on a terminal, JSON lines on stderr otherwise (cron)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

stdout = Console()
stderr = Console(stderr=True)


def is_tty() -> bool:
    return sys.stderr.isatty()


def progress_sink(quiet: bool = False):
    """An event sink for the pipeline: a line per finished stage."""

    def sink(event) -> None:
        if quiet:
            return
        if not is_tty():
            record = {"event": event.status, "stage": event.stage, "seconds": event.seconds, **event.detail}
            print(json.dumps(record, ensure_ascii=False), file=sys.stderr, flush=True)
        elif event.status == "done":
            engine = event.detail.get("engine")
            stderr.print(f"  [green]✓[/] {event.stage:<8} {engine or '':<12} {event.seconds:6.2f} s")

    return sink


def done(message: str, quiet: bool = False, **facts: Any) -> None:
    if quiet:
        return
    if is_tty():
        stderr.print(f"[bold green]{message}[/]")
    else:
        print(json.dumps({"event": "result", "message": message, **facts}, ensure_ascii=False), file=sys.stderr, flush=True)
