"""Run every benchmark, print one table and write bench.json.

Each `scripts/bench_<name>.py` module exposes `run(quick: bool) -> list[dict]`;
a row has at least `name` and `seconds`, and may add `rtf` (seconds of compute
per second of media), `per_item_ms`, `target`, `peak_rss_mb`, `note`. The
targets are printed beside the figures; this script never fails on a miss.

    python scripts/bench.py            # all benchmarks
    python scripts/bench.py e2e synth  # only these
    python scripts/bench.py --quick    # smaller inputs (CI smoke run)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def discover() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="benchmark names (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    parser.add_argument("--json", default="bench.json", help="where to write the figures")
    args = parser.parse_args()
    found = discover()
    names = args.only or list(found)
    unknown = [n for n in names if n not in found]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(found)}")
    rows: list[dict] = []
    for name in names:
        started = time.perf_counter()
        try:
            for row in load(found[name]).run(quick=args.quick):
                rows.append({"bench": name, **row})
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            rows.append({"bench": name, "name": "ERROR", "seconds": time.perf_counter() - started, "note": repr(exc)[:200]})
    print_table(rows)
    payload = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
               "quick": args.quick, "rows": rows}
    Path(args.json).write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    print(f"\nwrote {args.json}")
    return 0


def print_table(rows: list[dict]) -> None:
    cols = ["bench", "name", "seconds", "rtf", "per_item_ms", "peak_rss_mb", "target", "note"]
    present = [c for c in cols if any(c in r for r in rows)]
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else ("" if v is None else str(v))  # noqa: E731
    widths = {c: max(len(c), *(len(fmt(r.get(c))) for r in rows)) if rows else len(c) for c in present}
    print("  ".join(c.ljust(widths[c]) for c in present))
    for r in rows:
        print("  ".join(fmt(r.get(c)).ljust(widths[c]) for c in present))


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its finished children, in MB."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


if __name__ == "__main__":
    sys.exit(main())
