"""Shared mediapipe helpers: import with a clear error, and keep the native start-up chatter
(absl "WARNING: All log messages before absl::InitializeLog()", TFLite "Created XNNPACK delegate",
"W0000 … inference_feedback_manager") off stderr. Those lines are written by C++ straight to
file descriptor 2, so Python-level logging settings cannot stop them; only redirecting the
descriptor around graph construction and the first inference does. The render engine's face
mesh uses the same helpers."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import types
from collections.abc import Iterator

from vmsg.errors import BackendError

_FD_LOCK = threading.Lock()


def quiet_native_logs() -> None:
    """Raise the native log thresholds before mediapipe is imported (errors still show)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:
        pass


@contextlib.contextmanager
def silenced_stderr() -> Iterator[None]:
    """Point fd 2 at /dev/null for the block (native code writes there directly).

    Set VMSG_NATIVE_LOGS=1 to see the native messages when debugging a model.
    """
    if os.environ.get("VMSG_NATIVE_LOGS") == "1":
        yield
        return
    with _FD_LOCK:
        try:
            sys.stderr.flush()
        except (AttributeError, ValueError):
            pass
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 at all (some daemons): nothing to silence
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)


def import_mediapipe(engine: str):
    """mediapipe's `solutions` (selfie segmentation, face detection, face mesh) and `__version__`,
    imported quietly; a missing package is a BackendError naming the engine."""
    quiet_native_logs()
    try:
        with silenced_stderr():
            return lean_mediapipe()
    except ImportError as exc:
        raise BackendError(f"engine {engine} needs the mediapipe package", hint="pip install vmsg") from exc


class QuietFirstRun:
    """Wraps a mediapipe solution so that its start-up runs with fd 2 silenced.

    The graph opens its TFLite interpreter on a background thread after construction, so the
    native messages can arrive at any moment until the first frame has gone through. The wrapper
    therefore builds the graph and pushes one small blank frame through it while silenced; later
    calls run normally (no per-call dup2 cost, and real errors after start-up still show).
    """

    def __init__(self, factory, *, warmup_shape: tuple[int, int, int] = (64, 64, 3)) -> None:
        import numpy as np

        with silenced_stderr():
            self._solution = factory()
            self._solution.process(np.zeros(warmup_shape, np.uint8))
        self._lock = threading.Lock()

    def process(self, image):
        with self._lock:  # a mediapipe graph is not re-entrant
            return self._solution.process(image)

    def close(self) -> None:
        self._solution.close()


SOLUTIONS = ("selfie_segmentation", "face_detection", "face_mesh")
_IMPORT_LOCK = threading.Lock()


def lean_mediapipe() -> types.SimpleNamespace:
    """`solutions` with the three graphs vmsg uses, and `__version__`, without mediapipe's package init.

    `import mediapipe` runs mediapipe/__init__.py and solutions/__init__.py, which import every
    solution, the drawing helpers (matplotlib.pyplot) and the audio tasks (sounddevice): ~2.5 s
    of a 5 s cold `vmsg render`, for code vmsg never calls. Here both packages are registered
    without running their __init__ and only the needed modules are imported; the first access to
    anything else on them (`mediapipe.tasks`, `solutions.drawing_utils`, `from mediapipe import x`)
    runs the real __init__ then, so other users of mediapipe in the process see the whole package.
    """
    import importlib
    import sys

    with _IMPORT_LOCK:
        if "mediapipe" not in sys.modules:
            _deferred_package("mediapipe")
        if "mediapipe.python.solutions" not in sys.modules:
            _deferred_package("mediapipe.python.solutions")
        solutions = sys.modules["mediapipe.python.solutions"]
        for name in SOLUTIONS:
            importlib.import_module(f"mediapipe.python.solutions.{name}")
    return types.SimpleNamespace(solutions=solutions, __version__=_version())


@functools.cache
def _version() -> str:
    from importlib.metadata import version

    return version("mediapipe")


def _deferred_package(name: str) -> types.ModuleType:
    """Register package `name` (submodules importable) whose __init__ runs on the first other attribute asked."""
    import importlib.util
    import sys

    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"no package {name}")
    module = importlib.util.module_from_spec(spec)
    lock = threading.RLock()

    def complete(attr: str):
        with lock:
            if module.__dict__.get("__getattr__") is complete:
                del module.__dict__["__getattr__"]
                spec.loader.exec_module(module)
        return object.__getattribute__(module, attr) if attr in module.__dict__ else _missing(name, attr)

    module.__getattr__ = complete  # type: ignore[attr-defined]
    sys.modules[name] = module
    return module


def _missing(name: str, attr: str):
    raise AttributeError(f"module {name!r} has no attribute {attr!r}")
