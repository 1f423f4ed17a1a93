"""Message text: validation, normalisation and sentence splitting."""

from __future__ import annotations

import re
import unicodedata

from vmsg.errors import InputError

MAX_TEXT_CHARS = 2000
"""Longest accepted message, in characters after normalisation (about 4–5 minutes of speech)."""

_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")
_PRONOUNCEABLE = re.compile(r"[\w\u3040-\u30ff\u3400-\u9fff]")


def normalize_text(text: str, *, what: str = "text") -> str:
    """NFKC, collapse whitespace, and reject empty, symbol-only or over-long text."""
    if text is None or not text.strip():
        raise InputError(f"{what} is empty")
    normalised = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    if len(normalised) > MAX_TEXT_CHARS:
        raise InputError(f"{what} is {len(normalised)} characters long; the limit is {MAX_TEXT_CHARS}")
    if not _PRONOUNCEABLE.search(normalised):
        raise InputError(f"{what} {normalised[:40]!r} has nothing pronounceable (only symbols)")
    return normalised


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends, keeping the punctuation with its sentence."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip() and _PRONOUNCEABLE.search(s)]
