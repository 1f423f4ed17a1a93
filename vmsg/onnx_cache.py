"""onnxruntime sessions whose optimised graph is kept on disk between processes.

Optimising a large graph (Kokoro: ~1 s of CPU) is paid again by every fresh `vmsg render`.
onnxruntime can save the optimised graph and load it later with optimisation off. The saved
graph may hold CPU-specific kernels (NCHWc layouts), so it is used only with the CPU provider,
keyed by onnxruntime's version, the CPU's instruction-set flags and the source model, and kept
under `$VMSG_CACHE_DIR/onnx-optimized/`, counted and pruned by `vmsg cache stats|prune` like the
stage artifacts (least recently used first). A cache that cannot be written only costs the
optimisation, never the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import platform
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

SUBDIR = "onnx-optimized"


def _cpu_signature() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
        flags = next((line for line in text.splitlines() if line.startswith(("flags", "Features"))), "")
    except OSError:
        flags = ""
    return f"{platform.machine()}|{platform.processor()}|{flags}"


def cache_key(source: Path, variant: str) -> str:
    """Changes with the model file, the graph edit (`variant`), onnxruntime and the CPU."""
    import onnxruntime as ort

    stat = source.stat()
    parts = [str(source.resolve()), str(stat.st_size), str(stat.st_mtime_ns), variant, ort.__version__, _cpu_signature()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def cached_session(source: Path, variant: str, build: Callable[[], bytes], options, providers: list[str],
                   cache_dir: Path | None = None):
    """A session of the graph `build()` returns (the model at `source`, edited as `variant` names),
    loaded from its optimised copy when one was saved before."""
    import onnxruntime as ort

    if list(providers) != ["CPUExecutionProvider"]:
        return ort.InferenceSession(build(), sess_options=options, providers=providers)
    from vmsg.cache import default_cache_dir

    folder = (cache_dir or default_cache_dir()) / SUBDIR
    path = folder / f"{cache_key(source, variant)}.onnx"
    if path.is_file():
        level = options.graph_optimization_level
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
            with contextlib.suppress(OSError):
                os.utime(path)  # last use, for `vmsg cache prune`
            return session
        except Exception as exc:  # noqa: BLE001 - a damaged copy is rebuilt, never fatal
            log.warning("optimised model %s unusable (%s): optimising again", path, exc)
        finally:
            options.graph_optimization_level = level
    graph = build()
    part = folder / f".{path.stem}.{os.getpid()}.part.onnx"
    severity = options.log_severity_level
    try:
        folder.mkdir(parents=True, exist_ok=True)
        options.optimized_model_filepath = str(part)
        options.log_severity_level = 3  # not onnxruntime's warning that the saved graph is CPU-specific: it is keyed so
        session = ort.InferenceSession(graph, sess_options=options, providers=providers)
        os.replace(part, path)
        return session
    except Exception as exc:  # noqa: BLE001 - an unwritable cache costs the optimisation only
        log.warning("optimised model not kept in %s (%s)", folder, exc)
    finally:
        options.optimized_model_filepath = ""
        options.log_severity_level = severity
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
    return ort.InferenceSession(graph, sess_options=options, providers=providers)
