"""One definition of "missiles fired" (nkbrief.analysis.totals), and every surface giving the same totals."""

from __future__ import annotations

import shutil

import numpy as np
import openpyxl
import pandas as pd
import pytest

from nkbrief.analysis.totals import Totals, frame_totals, missile_totals

FROM, TO = "2025-01-01", "2026-10-03"


def test_rule_count_then_rows_else_no_number():
    t = missile_totals([2, None, None, 3], [2, 4, 0, None])
    assert (t.events, t.missiles, t.no_number, t.lower_bound) == (4, 9, 1, False)
    assert t.text() == "9 missiles fired (1 event with no reported number)"
    # a stated count wins over the rows (2026-03-14: about 10 against 12 nagix rows)
    assert missile_totals([10], [12]).missiles == 10
    # pandas missing markers, numpy arrays and no rows at all
    assert missile_totals(pd.array([1, None], dtype="Int64")).text() == \
        "1 missile fired (1 event with no reported number)"
    assert missile_totals(np.array([np.nan, 2.0]), np.array([np.nan, np.nan])).missiles == 2
    assert missile_totals([]) == Totals(0, 0, 0, False)
    assert missile_totals([]).text() == "0 missiles fired"


def test_at_least_makes_a_lower_bound():
    t = missile_totals([7, 2], None, ["at least", None])
    assert t.lower_bound and t.missiles_text() == "≥9 missiles fired"
    # a qualifier on an event whose count is unknown does not make a bound
    assert not missile_totals([None, 2], None, ["at least", None]).lower_bound
    with pytest.raises(ValueError):
        missile_totals([1, 2], [1])


@pytest.fixture(scope="module")
def surfaces(tmp_path_factory, _seeded_template):
    """The same selection (bundled events FROM..TO) through the status bar's view, the pack,
    and the CLI."""
    from nkbrief.briefing.pack import PackOptions, build_pack
    from nkbrief.analysis.filtering import EventView, FilterSpec
    from nkbrief.store import Store

    d = tmp_path_factory.mktemp("totals")
    db = d / "s.sqlite3"
    shutil.copyfile(_seeded_template, db)
    with Store.open(db) as st:
        frame = st.events_frame()
        view = EventView(frame, FilterSpec(date_from=FROM, date_to=TO))
        ids = view.visible_ids()
        pack = build_pack(st, ids, PackOptions(output=d / "p.xlsx", title="Totals", date="2026-12-07",
                                               classification="UNCLASSIFIED"))
        sel = frame[frame["id"].isin(ids)]
    return {"db": db, "view": view, "pack": pack, "selection": sel, "ids": ids}


def test_status_bar_pack_summary_and_cli_agree(surfaces, capsys):
    from nkbrief.cli import main

    sel = surfaces["selection"]
    expected = frame_totals(sel)
    # the selection really mixes stated counts, rows-only and unnumbered events, and a lower bound
    assert expected.no_number >= 1 and expected.lower_bound and expected.missiles > 50
    assert sel["count"].isna().sum() >= expected.no_number

    # status bar (the main window shows EventView.status_text() as is)
    status = surfaces["view"].status_text()
    n = len(surfaces["ids"])
    assert status == f"{n} of {surfaces['view'].n} events · {expected.text()}"

    wb = openpyxl.load_workbook(surfaces["pack"])
    # pack cover: the "Launches" line
    cover = wb[wb.sheetnames[0]]
    launches = next(row[2].value for row in cover.iter_rows() if row[1].value == "Launches")
    assert f"{n:,} launch events" in launches and expected.text() in launches
    # summary sheet: the "Missiles fired" key figure and its note
    summ = wb["Summary"]
    row = next(r for r in summ.iter_rows() if r[0].value == "Missiles fired")
    assert row[1].value == expected.missiles
    assert expected.no_number_text() in row[2].value and "lower bound" in row[2].value

    # command line: list's last line
    assert main(["list", "--db", str(surfaces["db"]), "--from", FROM, "--to", TO]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"{n} events · {expected.text()} · ")

    # timing: the missiles row for the same period
    assert main(["timing", "--db", str(surfaces["db"]), "--from", FROM, "--to", TO, "--category", "summit",
                 "--simulations", "100", "--json"]) == 0
    import json

    res = json.loads(capsys.readouterr().out)
    assert res["missiles_fired"]["text"] == expected.text()


def test_old_definitions_would_have_disagreed(surfaces):
    """What the issue saw: the status bar counted an unnumbered event as one missile and the
    pack dropped it; with the one function both give the stated total."""
    sel = surfaces["selection"]
    stated = int(sel["count"].dropna().sum())
    rows_only = sel["count"].isna() & (sel["missiles"].fillna(0) > 0)
    no_number = sel["count"].isna() & ~rows_only
    old_status = stated + int(sel["missiles"][rows_only].sum()) + int(no_number.sum())
    assert frame_totals(sel).missiles == old_status - int(no_number.sum()) != old_status
