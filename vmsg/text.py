"""Message text: validation, reading normalisation and chunking.

Every engine reads Japanese through OpenJTalk's front end (Kokoro's g2p and
VOICEVOX both use it), which already reads plain numbers, most acronyms and
counters well. What it leaves unread or misreads in messages — clock times,
slashed dates, currency signs, lone latin letters, `&`, `〜`, `→` — is rewritten
here into plain Japanese, so that all engines say the same words.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from vmsg.errors import InputError

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2000
"""Longest accepted message, in characters after normalisation (about 4–5 minutes of speech)."""

MAX_CHUNK_CHARS = 120
"""Longest piece sent to an engine at once; longer sentences are cut at 、 or spaces."""

SENTENCE_PAUSE = 0.40
"""Silence between sentences (after 。！？), in seconds, counting the engines' own edge silence."""

CLAUSE_PAUSE = 0.20
"""Silence where an over-long sentence was cut at a comma, in seconds."""

_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])")
_CLAUSE_END = re.compile(r"(?<=[、,，;；:：])|(?<= )")
_PRONOUNCEABLE = re.compile(r"[0-9A-Za-z\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")

# Letters of scripts OpenJTalk cannot read. Dropping them would silently change the message, so they are refused.
_UNSUPPORTED_LETTERS = re.compile(
    r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u1100-\u11ff\uac00-\ud7af"
    r"\u00c0-\u024f]"
)
# Emoji, pictographs and other symbols without a reading are dropped (they are decoration, not words).
_DROPPABLE = re.compile(r"[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u2190-\u21ff\u25a0-\u25ff]")

LETTERS = {
    "A": "エー", "B": "ビー", "C": "シー", "D": "ディー", "E": "イー", "F": "エフ", "G": "ジー", "H": "エイチ",
    "I": "アイ", "J": "ジェー", "K": "ケー", "L": "エル", "M": "エム", "N": "エヌ", "O": "オー", "P": "ピー",
    "Q": "キュー", "R": "アール", "S": "エス", "T": "ティー", "U": "ユー", "V": "ブイ", "W": "ダブリュー",
    "X": "エックス", "Y": "ワイ", "Z": "ゼット",
}
CURRENCY = {"¥": "円", "$": "ドル", "€": "ユーロ", "£": "ポンド"}
SYMBOLS = {"&": "アンド", "%": "パーセント", "+": "プラス", "=": "イコール", "@": "アット", "×": "かける",
           "÷": "わる", "℃": "度"}


@dataclass(frozen=True)
class Chunk:
    """A piece of text an engine synthesises in one call, and the pause that follows it."""

    text: str
    pause_after: float


def normalize_text(text: str, *, what: str = "text") -> str:
    """NFKC, rewrite what OpenJTalk would misread, and reject empty, symbol-only, foreign-script or over-long text."""
    if text is None or not text.strip():
        raise InputError(f"{what} is empty")
    normalised = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    if len(normalised) > MAX_TEXT_CHARS:
        raise InputError(
            f"{what} is {len(normalised)} characters long; the limit is {MAX_TEXT_CHARS}",
            hint="split the message into several runs",
        )
    bad = sorted(set(_UNSUPPORTED_LETTERS.findall(normalised)))
    if bad:
        raise InputError(
            f"{what} contains characters the Japanese engines cannot read: {' '.join(bad[:10])}",
            hint="write them in Japanese (kana or kanji) or latin letters",
        )
    dropped = sorted(set(_DROPPABLE.findall(normalised)) - {"→"})
    if dropped:
        log.warning("%s: dropping symbols without a reading: %s", what, " ".join(dropped))
    readable = read_aloud(normalised)
    readable = re.sub(r" {2,}", " ", _DROPPABLE.sub("", readable)).strip()
    if not _PRONOUNCEABLE.search(readable):
        raise InputError(f"{what} {normalised[:40]!r} has nothing pronounceable (only symbols)")
    return readable


def read_aloud(text: str) -> str:
    """Rewrite times, dates, currency, symbols and unread latin letters as Japanese words (NFKC text in)."""
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    text = re.sub(r"(?<!\d)(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?!\d)", _date, text)
    text = re.sub(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])", _month_day, text)
    text = re.sub(r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])", _clock, text)
    text = re.sub(r"([¥$€£])\s?(\d+(?:\.\d+)?)(万|億|兆)?", lambda m: m[2] + (m[3] or "") + CURRENCY[m[1]], text)
    text = re.sub(r"(\d+(?:\.\d+)?)\s?(万|億|兆)?\s?([¥$€£])(?![\d])", lambda m: m[1] + (m[2] or "") + CURRENCY[m[3]], text)
    text = re.sub(r"(?<![\w])-(?=\d)", "マイナス", text)
    text = re.sub(r"#(\d+)", r"\1番", text)
    text = re.sub(r"(\d)\s?[〜~～]\s?(?=\d)", r"\1から", text)
    text = re.sub(r"\s?→\s?", "から", text)
    text = re.sub(r"[〜~～]", "ー", text)
    text = re.sub("|".join(re.escape(s) for s in SYMBOLS), lambda m: SYMBOLS[m[0]], text)
    return re.sub(r"[A-Za-z]+", _latin, text)


def _date(m: re.Match) -> str:
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m[0]
    return f"{year}年{month}月{day}日"


def _month_day(m: re.Match) -> str:
    month, day = int(m[1]), int(m[2])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return f"{m[2]}分の{m[1]}"
    return f"{month}月{day}日"


def _clock(m: re.Match) -> str:
    hour, minute = int(m[1]), int(m[2])
    if hour > 24 or minute > 59:
        return m[0]
    out = f"{hour}時" + (f"{minute}分" if minute else "")
    if m[3] and int(m[3]):
        out += f"{int(m[3])}秒"
    return out


def _latin(m: re.Match) -> str:
    """Keep words OpenJTalk's dictionary reads (AI, Zoom, WiFi); spell the rest letter by letter."""
    word = m[0]
    if len(word) > 1 and _has_reading(word):
        return word
    return "".join(LETTERS[c.upper()] for c in word)


def _has_reading(word: str) -> bool:
    import pyopenjtalk

    kana = pyopenjtalk.g2p(word, kana=True)
    return bool(kana) and not re.search(r"[A-Za-zＡ-Ｚａ-ｚ]", kana)


def split_sentences(text: str) -> list[str]:
    """Split at sentence ends, keeping the punctuation with its sentence."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip() and _PRONOUNCEABLE.search(s)]


def chunk_text(text: str, *, max_chars: int = MAX_CHUNK_CHARS) -> list[Chunk]:
    """Sentences, with any longer than `max_chars` cut at clause ends (or hard-cut), each with its pause."""
    chunks: list[Chunk] = []
    for sentence in split_sentences(text):
        pieces = _cut(sentence, max_chars)
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            chunks.append(Chunk(piece, SENTENCE_PAUSE if last else CLAUSE_PAUSE))
    if chunks:
        chunks[-1] = Chunk(chunks[-1].text, 0.0)
    return chunks


def _cut(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    out, current = [], ""
    for clause in (c for c in _CLAUSE_END.split(sentence) if c):
        while len(clause) > max_chars:
            head, clause = clause[:max_chars], clause[max_chars:]
            if current:
                out.append(current)
                current = ""
            out.append(head)
        if len(current) + len(clause) > max_chars and current:
            out.append(current)
            current = ""
        current += clause
    if current:
        out.append(current)
    return [p.strip() for p in out if _PRONOUNCEABLE.search(p)]
