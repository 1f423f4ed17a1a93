"""Message rows and recipes → validated jobs, before anything is queued."""

from __future__ import annotations

import pytest

from vmsg.errors import InputError, UsageError
from vmsg.worker.submit import check_jobs, load_jobs


@pytest.fixture
def template(tmp_path, astronaut_png):
    path = tmp_path / "t.yaml"
    path.write_text(f"image: {astronaut_png}\noutput: out/x.mp4\nvoice:\n  engine: openjtalk\nrender:\n  engine: still\n  size: 256\n",
                    encoding="utf-8")
    return path


def test_csv_rows_become_jobs_with_outputs_beside_the_template(tmp_path, template):
    rows = tmp_path / "m.csv"
    rows.write_text("name,text,voice\nalice,こんにちは。,mei_normal\nbob,ありがとう。,\n", encoding="utf-8")
    jobs = load_jobs([rows], template=template)
    assert [j.name for j in jobs] == ["alice", "bob"]
    assert jobs[0].recipe.output == str(tmp_path / "out" / "alice.mp4")
    assert jobs[0].recipe.voice.voice == "mei_normal" and jobs[1].recipe.voice.voice is None
    assert jobs[1].recipe.text == "ありがとう。" and jobs[1].recipe.voice.engine == "openjtalk"
    assert jobs[0].source == f"{rows}:2"
    check_jobs(jobs)


def test_jsonl_rows_and_set_overrides(tmp_path, template):
    rows = tmp_path / "m.jsonl"
    rows.write_text('{"name": "a", "text": "はい。", "output": "s3://bkt/o/a.mp4"}\n\n{"text": "いいえ。"}\n', encoding="utf-8")
    jobs = load_jobs([rows], template=template, overrides=["render.fps=30"])
    assert jobs[0].recipe.output == "s3://bkt/o/a.mp4"
    assert jobs[1].name == "m-3" and jobs[1].recipe.render.fps == 30


@pytest.mark.parametrize("content, problem", [
    ("name,message\na,こんにちは\n", r"m.csv: 2 problem\(s\)(.|\n)*line 1: missing column\(s\) text"),
    ("name,text,colour\na,はい,red\n", r"m.csv(.|\n)*unknown column"),
    ("name,text\na,はい,extra\n", r"m.csv(.|\n)*line 2: 3 field\(s\), the header has 2"),
    ("name,text\na,  \n", r"m.csv(.|\n)*line 2: empty text"),
])
def test_bad_rows_name_the_file_and_line(tmp_path, template, content, problem):
    rows = tmp_path / "m.csv"
    rows.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=problem):
        load_jobs([rows], template=template)


def test_duplicate_output_is_refused_before_queueing(tmp_path, template):
    rows = tmp_path / "m.csv"
    rows.write_text("name,text,output\na,はい,same.mp4\nb,いいえ,same.mp4\n", encoding="utf-8")
    with pytest.raises(InputError, match="is also the output of"):
        check_jobs(load_jobs([rows], template=template))


def test_rows_need_a_template_and_presign_needs_s3(tmp_path, template):
    rows = tmp_path / "m.csv"
    rows.write_text("text\nはい\n", encoding="utf-8")
    with pytest.raises(UsageError, match="--template"):
        load_jobs([rows])
    with pytest.raises(UsageError, match="--presign needs an s3:// output"):
        check_jobs(load_jobs([rows], template=template), presign=60)


def test_missing_image_is_refused(tmp_path, template):
    rows = tmp_path / "m.csv"
    rows.write_text("text,image\nはい,nowhere.png\n", encoding="utf-8")
    with pytest.raises(InputError, match="nowhere.png: file not found"):
        check_jobs(load_jobs([rows], template=template))
