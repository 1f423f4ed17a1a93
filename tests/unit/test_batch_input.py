"""Batch files: every bad line is reported with its number before anything runs."""

from __future__ import annotations

import pytest

from vmsg.batch_input import read_rows
from vmsg.errors import InputError


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_rows_with_optional_columns_and_quoted_multiline_text(tmp_path):
    path = write(tmp_path, "m.csv", '\ufeffname,text,voice\na,こんにちは,jf_alpha\nb,"一行目\n二行目",\n\nc,"カンマ, 入り",\n')
    rows = read_rows(path)
    assert [r.name for r in rows] == ["a", "b", "c"]
    assert rows[0].voice == "jf_alpha" and rows[1].voice is None
    assert rows[1].text == "一行目\n二行目"
    assert rows[2].line == 6 and rows[2].text == "カンマ, 入り"


def test_missing_column_names_it(tmp_path):
    path = write(tmp_path, "m.csv", "name,message\na,hello\n")
    with pytest.raises(InputError) as info:
        read_rows(path)
    assert "missing column(s) text" in str(info.value) and "unknown column(s) message" in str(info.value)


def test_malformed_rows_are_all_listed_with_line_numbers(tmp_path):
    path = write(tmp_path, "m.csv", "name,text\na,ok\nb,too,many\nc\n,empty name\nd,\n")
    with pytest.raises(InputError) as info:
        read_rows(path)
    message = str(info.value)
    assert "3 problem(s), nothing was run" in message
    assert "line 3: 3 field(s), the header has 2" in message
    assert "line 4: 1 field(s)" in message
    assert "line 6: empty text" in message
    assert "line 5" not in message  # an empty name is allowed: it defaults to <file>-<line>


def test_a_row_without_a_name_is_named_after_the_file_and_line(tmp_path):
    path = write(tmp_path, "m.csv", "name,text\n,おはよう\nb,こんにちは\n")
    assert [r.name for r in read_rows(path)] == ["m-2", "b"]
    path = write(tmp_path, "n.jsonl", '{"text": "おはよう"}\n')
    assert [r.name for r in read_rows(path)] == ["n-1"]


def test_duplicate_names_and_unsafe_names(tmp_path):
    path = write(tmp_path, "m.csv", "name,text\na,one\nb,two\na,three\n../x,four\n")
    with pytest.raises(InputError) as info:
        read_rows(path)
    assert "line 4: duplicate name 'a' (first on line 2)" in str(info.value)
    assert "line 5: name '../x' cannot be a file name" in str(info.value)


def test_jsonl_bad_lines(tmp_path):
    path = write(tmp_path, "m.jsonl", '{"name": "a", "text": "x"}\n{"name": "b", "text": \n[1]\n{"name": "c", "txt": "y"}\n{"name": "d", "text": 5}\n')
    with pytest.raises(InputError) as info:
        read_rows(path)
    message = str(info.value)
    assert "line 2: not valid JSON" in message
    assert "line 3: expected a JSON object" in message
    assert "line 4: unknown field(s) txt" in message
    assert "line 5: field(s) text must be strings" in message


def test_jsonl_good(tmp_path):
    path = write(tmp_path, "m.jsonl", '{"name": "a", "text": "x", "output": "o/a.mp4"}\n\n{"name": "b", "text": "y", "image": "p.png"}\n')
    rows = read_rows(path)
    assert [(r.name, r.line, r.output, r.image) for r in rows] == [("a", 1, "o/a.mp4", None), ("b", 3, None, "p.png")]


@pytest.mark.parametrize("name,content,expected", [
    ("m.txt", "x", "expected a .csv or .jsonl"),
    ("m.csv", "", "no messages"),
    ("m.csv", "name,text\n", "no messages"),
])
def test_empty_or_wrong_kind(tmp_path, name, content, expected):
    with pytest.raises(InputError, match=expected):
        read_rows(write(tmp_path, name, content))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_rows(tmp_path / "nope.csv")
