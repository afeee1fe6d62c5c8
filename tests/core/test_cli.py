"""The headless command line: output contracts and one-line errors."""

from __future__ import annotations

import json

import pytest

from nkbrief.model import schema
from nkbrief.cli import main
from nkbrief.store import Store


@pytest.fixture
def small_db(tmp_path):
    path = tmp_path / "small.sqlite3"
    st = Store.open(path, seed=False)
    b = st.new_batch("manual")
    for i, (d, c) in enumerate([("2017-07-04", "ICBM"), ("2026-01-27", "SRBM"), ("1986-05-01", "SRBM")]):
        ev = schema.empty_event() | {"id": f"e{i}", "date": d, "missile_class": c, "sources": ["s"]}
        if d.startswith("1986"):
            ev["date_precision"] = "month"
        st.insert_event(ev, b, missiles=[{"seq": 1, "missile_class": c}])
    st.close()
    return path


def test_list_json_has_schema_fields_and_missiles(small_db, capsys):
    assert main(["list", "--db", str(small_db), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["date"] for r in rows] == ["1986-05-01", "2017-07-04", "2026-01-27"]
    assert set(rows[0]) == set(schema.EVENT_FIELDS) | {"missiles"}
    assert rows[0]["missiles"] == 1


def test_list_filters(small_db, capsys):
    assert main(["--db", str(small_db), "list", "--from", "2017-01-01", "--class", "srbm", "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == ["e1"]
    assert main(["list", "--db", str(small_db)]) == 0
    out = capsys.readouterr().out
    assert "1986-05 " in out and "3 events · 3 missiles fired · 3 per-missile records" in out


@pytest.mark.parametrize("argv, message", [
    (["list", "--from", "2026-02-30"], "nkbrief: --from '2026-02-30' is not a date (use YYYY-MM-DD)\n"),
    (["list", "--class", "SCUD"], "nkbrief: --class 'SCUD' is not a missile class"),
    (["show", "nope"], "nkbrief: no event with id 'nope'\n"),
    (["calendar", "--category", "party"], "nkbrief: --category 'party' is not one of"),
])
def test_errors_are_one_line_without_traceback(small_db, capsys, argv, message):
    assert main([*argv, "--db", str(small_db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert "Traceback" not in err and err.count("\n") == 1


def test_init_empty_and_refuses_existing(tmp_path, capsys):
    db = tmp_path / "mine.sqlite3"
    assert main(["init", "--empty", "--db", str(db)]) == 0
    assert "created empty store" in capsys.readouterr().out
    assert Store.open(db).event_count() == 0
    assert main(["init", "--empty", "--db", str(db)]) == 1
    assert "already exists" in capsys.readouterr().err


def test_bad_store_file_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"garbage" * 1000)
    assert main(["list", "--db", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "is not an nkbrief store" in err and "Traceback" not in err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith("nkbrief ")
