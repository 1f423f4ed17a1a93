"""Reading normalisation and chunking, checked through OpenJTalk's reading of the normalised text."""

from __future__ import annotations

import pytest

from vmsg.errors import InputError
from vmsg.text import CLAUSE_PAUSE, MAX_CHUNK_CHARS, MAX_TEXT_CHARS, SENTENCE_PAUSE, chunk_text, normalize_text

pyopenjtalk = pytest.importorskip("pyopenjtalk")


def reading(text: str) -> str:
    return pyopenjtalk.g2p(normalize_text(text), kana=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026年11月21日", "ニセンニジューロクネンジューイチガツニジューイチニチ"),
        ("2026/11/21", "ニセンニジューロクネンジューイチガツニジューイチニチ"),
        ("15:30", "ジューゴジサンジュップン"),
        ("会議は9:00から", "カイギワクジカラ"),
        ("¥1,500", "センゴヒャクエン"),
        ("1,500円", "センゴヒャクエン"),
        ("$20", "ニジュードル"),
        ("€100", "ヒャクユーロ"),
        ("3.14", "サンテンイチヨン"),
        ("AI", "エーアイ"),
        ("A&B", "エーアンドビー"),
        ("50%", "ゴジュッパーセント"),
        ("５０％", "ゴジュッパーセント"),
        ("1〜3", "イチカラサン"),
        ("東京→大阪", "トーキョーカラオーサカ"),
        ("12/25", "ジューニガツニジューゴニチ"),
        ("#1", "イチバン"),
        ("-5度", "マイナスゴド"),
    ],
)
def test_readings(text: str, expected: str) -> None:
    assert reading(text) == expected


def test_unread_latin_letters_are_spelled_known_words_kept() -> None:
    assert reading("Q") == "キュー"
    assert reading("v2") == "ブイニ"
    assert reading("WiFi") == "ワイファイ"


def test_emoji_are_dropped_and_text_kept() -> None:
    assert normalize_text("ありがとう🎉") == "ありがとう"


@pytest.mark.parametrize("text", ["", "   \n ", "。、！？", "★☆…", "🎉🎉"])
def test_empty_or_symbol_only_text_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="empty|nothing pronounceable"):
        normalize_text(text)


@pytest.mark.parametrize("text", ["안녕하세요", "Привет", "こんにちは café"])
def test_unsupported_scripts_are_refused_by_name(text: str) -> None:
    with pytest.raises(InputError, match="cannot read") as err:
        normalize_text(text)
    assert any(c in str(err.value) for c in "안Пé")


def test_over_long_text_is_refused_with_the_limit() -> None:
    with pytest.raises(InputError, match=str(MAX_TEXT_CHARS)):
        normalize_text("あ" * (MAX_TEXT_CHARS + 1))


def test_chunks_follow_sentences_and_long_sentences_are_cut_at_commas() -> None:
    long_sentence = "、".join(["今日はとても良い天気なので公園まで散歩に行きました"] * 8) + "。"
    chunks = chunk_text("おはようございます。" + long_sentence + "また明日！")
    assert chunks[0].text == "おはようございます。" and chunks[0].pause_after == SENTENCE_PAUSE
    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert len(chunks) >= 4
    assert "".join(c.text for c in chunks) == ("おはようございます。" + long_sentence + "また明日！")
    assert CLAUSE_PAUSE in [c.pause_after for c in chunks]
    assert chunks[-1].pause_after == 0.0


def test_a_sentence_without_commas_is_hard_cut() -> None:
    chunks = chunk_text("あ" * (MAX_CHUNK_CHARS * 2 + 5) + "。")
    assert [len(c.text) for c in chunks] == [MAX_CHUNK_CHARS, MAX_CHUNK_CHARS, 6]
