"""Batch files: one message per row, as CSV (with a header) or JSON lines.

Columns: text (required), name (optional: `<file>-<line>` when absent; it names the
output), image, voice, output (optional; the template recipe fills in what a row
leaves out). Every problem in the file is collected
and reported at once, each with its line number, before anything runs.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from vmsg.errors import InputError

COLUMNS = ("name", "text", "image", "voice", "output")
REQUIRED = ("text",)
MAX_LISTED = 20
BAD_NAME_CHARS = set('/\\:*?"<>|\0')


@dataclass(frozen=True)
class Row:
    """One message of a batch file; `line` is where it starts (1-based)."""

    line: int
    name: str
    text: str
    image: str | None = None
    voice: str | None = None
    output: str | None = None


def read_rows(path: Path | str) -> list[Row]:
    """Parse and check a .csv or .jsonl batch file; InputError lists every bad line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise InputError(f"batch file {path}: expected a .csv or .jsonl file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"batch file {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"batch file {path}: cannot be read ({exc})") from None
    problems: list[str] = []
    raw = _csv_rows(text, problems) if suffix == ".csv" else _jsonl_rows(text, problems)
    rows = [row for line, values in raw if (row := _row(line, values, problems, default_name=f"{path.stem}-{line}")) is not None]
    _check_duplicate_names(rows, problems)
    if not rows and not problems:
        problems.append("no messages (the file has no rows)")
    if problems:
        listed = problems[:MAX_LISTED] + ([f"… and {len(problems) - MAX_LISTED} more"] if len(problems) > MAX_LISTED else [])
        raise InputError(f"batch file {path}: {len(problems)} problem(s), nothing was run\n  " + "\n  ".join(listed))
    return rows


def _csv_rows(text: str, problems: list[str]) -> list[tuple[int, dict]]:
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        problems.append(f"line 1: malformed header ({exc})")
        return []
    header = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    if missing:
        problems.append(f"line 1: missing column(s) {', '.join(missing)} (header has: {', '.join(header) or 'nothing'})")
    if unknown:
        problems.append(f"line 1: unknown column(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
    if missing or unknown:
        return []
    out = []
    start = reader.line_num + 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {start}: malformed CSV ({exc})")
            break
        line, start = start, reader.line_num + 1
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            problems.append(f"line {line}: {len(fields)} field(s), the header has {len(header)} ({', '.join(header)})")
            continue
        out.append((line, dict(zip(header, fields))))
    return out


def _jsonl_rows(text: str, problems: list[str]) -> list[tuple[int, dict]]:
    out = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"line {line}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            problems.append(f"line {line}: expected a JSON object, got {type(value).__name__}")
            continue
        unknown = [k for k in value if k not in COLUMNS]
        if unknown:
            problems.append(f"line {line}: unknown field(s) {', '.join(unknown)} (known: {', '.join(COLUMNS)})")
            continue
        bad = [k for k, v in value.items() if v is not None and not isinstance(v, str)]
        if bad:
            problems.append(f"line {line}: field(s) {', '.join(bad)} must be strings")
            continue
        out.append((line, value))
    return out


def _row(line: int, values: dict, problems: list[str], *, default_name: str) -> Row | None:
    clean = {k: (v.strip() if isinstance(v, str) else v) or None for k, v in values.items()}
    missing = [c for c in REQUIRED if not clean.get(c)]
    if missing:
        problems.append(f"line {line}: empty {' and '.join(missing)}")
        return None
    name = clean.get("name") or default_name
    if name in (".", "..") or BAD_NAME_CHARS & set(name):
        problems.append(f"line {line}: name {name!r} cannot be a file name (no / \\ : * ? \" < > |)")
        return None
    return Row(line, name, clean["text"], clean.get("image"), clean.get("voice"), clean.get("output"))


def _check_duplicate_names(rows: list[Row], problems: list[str]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        if row.name in first:
            problems.append(f"line {row.line}: duplicate name {row.name!r} (first on line {first[row.name]})")
        else:
            first[row.name] = row.line
