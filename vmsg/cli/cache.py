"""`vmsg cache stats|prune`: how big the artifact cache is, and trimming it."""

from __future__ import annotations

import json
import re
from typing import Annotated, Optional

import typer

from vmsg.cli.common import CacheUrlOpt

cache_app = typer.Typer(help="The content-addressed artifact cache (VMSG_CACHE_DIR, or --cache-url redis://… or s3://…).",
                        no_args_is_help=True, rich_markup_mode=None)

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SPANS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_size(text: str) -> int:
    """'500M', '2G', '1024' → bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match:
        from vmsg.errors import UsageError

        raise UsageError(f"--max-size {text!r}: expected a size like 500M or 2G")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def parse_age(text: str) -> float:
    """'30d', '12h', '90m' → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text.lower())
    if not match:
        from vmsg.errors import UsageError

        raise UsageError(f"--older-than {text!r}: expected an age like 30d, 12h or 90m")
    return float(match.group(1)) * _SPANS[match.group(2)]


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


@cache_app.command("stats")
def stats_command(
    cache_url: CacheUrlOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Entries and bytes in the cache."""
    from dataclasses import asdict

    from vmsg.cache import open_cache

    stats = open_cache(cache_url).stats()
    if as_json:
        print(json.dumps(asdict(stats)))
        return
    age = f", oldest used {stats.oldest_age_s / 86400:.1f} days ago" if stats.oldest_age_s is not None else ""
    print(f"{stats.backend} cache {stats.location}: {stats.entries} entries, {_human(stats.bytes)}{age}")


@cache_app.command("prune")
def prune_command(
    older_than: Annotated[Optional[str], typer.Option("--older-than", help="remove entries unused for this long (30d, 12h)")] = None,
    max_size: Annotated[Optional[str], typer.Option("--max-size", help="then remove the least recently used down to this size (2G)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="remove every entry")] = False,
    cache_url: CacheUrlOpt = None,
) -> None:
    """Remove old entries, or the least recently used ones above a size."""
    from vmsg.cache import open_cache
    from vmsg.errors import UsageError

    if not (older_than or max_size or all_):
        raise UsageError("say what to prune: --older-than 30d, --max-size 2G or --all")
    cache = open_cache(cache_url)
    removed, freed = cache.prune(max_age_s=0.0 if all_ else (parse_age(older_than) if older_than else None),
                                 max_bytes=0 if all_ else (parse_size(max_size) if max_size else None))
    print(f"removed {removed} entries, freed {_human(freed)} from {cache.location}")


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
