"""Phoneme durations from OpenJTalk's HTS duration model, without vocoding.

pyopenjtalk's Python class hides the engine's durations, but its extension
module exports the hts_engine C API (HTS_Engine_generate_state_sequence_from_strings,
HTS_Engine_get_state_duration, ...). A second engine instance, loaded through
ctypes with the same voice, runs only the duration model: the state sequence the
full synthesis would use, for 1-3 % of the synthesis cost. With the same
labels and speed it gives the exact frame counts the full rendering has
(frames x fperiod = its sample count), including the rounding that speed != 1
spreads across the whole utterance.

Unavailable (an extension without those symbols, a voice that does not load) →
`load_duration_model` returns None and the engine falls back to synthesising
each label alone.
"""

from __future__ import annotations

import ctypes
import logging
import threading

import numpy as np

from vmsg.errors import BackendError

log = logging.getLogger(__name__)

_ENGINE_BYTES = 1 << 16
"""Room for the C struct HTS_Engine (under 1 KiB in hts_engine 1.10); allocated generously."""


class HtsDurationModel:
    """One ctypes HTS engine that only predicts state durations; thread-safe."""

    def __init__(self, library_path: str, voice: bytes) -> None:
        lib = ctypes.CDLL(library_path)
        ptr, strings, size = ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t
        signatures = {
            "initialize": ([ptr], None), "clear": ([ptr], None), "refresh": ([ptr], None),
            "load": ([ptr, strings, size], ctypes.c_char),
            "set_speed": ([ptr, ctypes.c_double], None),
            "generate_state_sequence_from_strings": ([ptr, strings, size], ctypes.c_char),
            "get_total_state": ([ptr], size), "get_nstate": ([ptr], size), "get_fperiod": ([ptr], size),
            "get_sampling_frequency": ([ptr], size), "get_state_duration": ([ptr, size], size),
        }
        self._f = {}
        for name, (args, res) in signatures.items():
            fn = getattr(lib, f"HTS_Engine_{name}")
            fn.argtypes, fn.restype = args, res
            self._f[name] = fn
        self._buffer = ctypes.create_string_buffer(_ENGINE_BYTES)
        self._engine = ctypes.cast(self._buffer, ptr)
        self._lock = threading.Lock()
        self._f["initialize"](self._engine)
        if self._f["load"](self._engine, (ctypes.c_char_p * 1)(voice), 1) != b"\x01":
            self._f["clear"](self._engine)
            raise OSError(f"hts_engine could not load voice {voice!r}")
        self.sample_rate = int(self._f["get_sampling_frequency"](self._engine))
        self.fperiod = int(self._f["get_fperiod"](self._engine))

    def sample_counts(self, labels: list[str], speed: float = 1.0) -> np.ndarray:
        """Samples of each label in the rendering of all `labels` at `speed`."""
        f, engine = self._f, self._engine
        lines = (ctypes.c_char_p * len(labels))(*[label.encode("utf-8") for label in labels])
        with self._lock:
            f["set_speed"](engine, float(speed))
            try:
                if f["generate_state_sequence_from_strings"](engine, lines, len(labels)) != b"\x01":
                    raise BackendError(f"openjtalk: the HTS duration model failed on {len(labels)} labels")
                nstate, total = int(f["get_nstate"](engine)), int(f["get_total_state"](engine))
                frames = np.fromiter((f["get_state_duration"](engine, i) for i in range(total)), np.int64, total)
            finally:
                f["refresh"](engine)
        if total != nstate * len(labels):
            raise BackendError(f"openjtalk: hts_engine gave {total} states for {len(labels)} labels of {nstate} states")
        return frames.reshape(len(labels), nstate).sum(axis=1) * self.fperiod

    def __del__(self) -> None:
        try:
            self._f["clear"](self._engine)
        except Exception:  # noqa: BLE001 - interpreter shutdown may have torn ctypes down already
            pass


_MODEL: HtsDurationModel | None = None
_TRIED = False
_GUARD = threading.Lock()


def load_duration_model() -> HtsDurationModel | None:
    """The process-wide duration model for pyopenjtalk's default voice, or None when it cannot be had."""
    global _MODEL, _TRIED
    with _GUARD:
        if not _TRIED:
            _TRIED = True
            try:
                import pyopenjtalk
                from pyopenjtalk import htsengine

                voice = pyopenjtalk.DEFAULT_HTS_VOICE
                _MODEL = HtsDurationModel(htsengine.__file__, voice.encode() if isinstance(voice, str) else voice)
            except (ImportError, OSError, AttributeError) as exc:
                log.warning("openjtalk: no direct access to HTS durations (%s); timing each label alone", exc)
        return _MODEL
