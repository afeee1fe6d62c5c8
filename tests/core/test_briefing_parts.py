"""Classification markings, safe file names, the timeline picture and the pack command."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest
from briefing_helpers import small_store
from PIL import Image

from nkbrief.model import classification as cl
from nkbrief.cli import main
from nkbrief.filenames import MAX_NAME_CHARS, sanitise_filename, suggested_name
from nkbrief.briefing.timeline_png import render_timeline, timeline_png


@pytest.mark.parametrize("text, level", [
    ("UNCLASSIFIED", "UNCLASSIFIED"),
    ("UNCLASSIFIED//FOR OFFICIAL USE ONLY", "UNCLASSIFIED"),
    ("unclassified//fouo", "UNCLASSIFIED"),
    ("CUI", "CUI"),
    ("CONTROLLED UNCLASSIFIED INFORMATION", "CUI"),
    ("CONFIDENTIAL//REL TO USA, KOR", "CONFIDENTIAL"),
    ("SECRET//NOFORN", "SECRET"),
    ("TOP SECRET//SI//NOFORN", "TOP SECRET"),
    ("TS//SCI", "TOP SECRET"),
    ("S//REL TO USA, FVEY", "SECRET"),
    ("SECRET (draft, was CONFIDENTIAL)", "SECRET"),
    ("OFFICIAL-SENSITIVE", None),
    ("Secretariat notes", None),
])
def test_highest_marking_decides_the_colour(text, level):
    assert cl.highest_level(text) == level
    assert cl.marking_colour(text) == (cl.COLOURS[level] if level else cl.OTHER_COLOUR)


def test_marking_colours_and_text():
    assert cl.COLOURS == {"UNCLASSIFIED": "#007A33", "CUI": "#502B85", "CONFIDENTIAL": "#0033A0",
                          "SECRET": "#C8102E", "TOP SECRET": "#FF8C00"}
    assert all(cl.highest_level(p) for p in cl.PRESETS)
    m = cl.marking("  SECRET\n//NOFORN ")
    assert m.text == "SECRET //NOFORN" and m.colour == "#C8102E" and m.text_colour == "#FFFFFF"
    assert cl.marking("TOP SECRET").text_colour == "#000000"  # black reads better on orange
    assert cl.marking("SECRET").rank > cl.marking("CUI").rank > cl.marking("UNCLASSIFIED").rank
    with pytest.raises(ValueError, match="empty"):
        cl.marking("")
    with pytest.raises(ValueError, match="longer than"):
        cl.marking("S" * 200)


def test_file_names():
    assert sanitise_filename("nul") == "_nul.xlsx"
    assert sanitise_filename("LPT1.report.xlsx") == "_LPT1.report.xlsx"
    assert sanitise_filename("a/b\\c") == "a_b_c.xlsx"
    assert sanitise_filename("tab\there") == "tab_here.xlsx"
    assert sanitise_filename("") == "briefing-pack.xlsx"
    assert sanitise_filename("...") == "briefing-pack.xlsx"
    assert sanitise_filename("Pack.XLSX") == "Pack.XLSX"[:-5] + ".xlsx"
    long = sanitise_filename("북한 미사일 " * 40)
    assert len(long) <= MAX_NAME_CHARS and len(long.encode()) <= 255 and long.endswith(".xlsx")
    assert suggested_name("Weekly: launches", dt.date(2026, 1, 27)) == "2026-01-27 Weekly_ launches.xlsx"


def test_timeline_picture(tmp_path):
    events = pd.DataFrame([
        {"date": "2017-07-04", "date_precision": "day", "missile_class": "ICBM", "distance_km": 933.0,
         "distance_km_max": None},
        {"date": "2017-05-01", "date_precision": "month", "missile_class": "SRBM", "distance_km": None,
         "distance_km_max": None},
        {"date": "2017-08-29", "date_precision": "day", "missile_class": "IRBM", "distance_km": 2700.0,
         "distance_km_max": 2800.0},
    ])
    cal = pd.DataFrame([{"id": "nt6", "date": "2017-09-03", "end_date": None, "category": "nuclear_test",
                         "title": "6th nuclear test"}])
    img = render_timeline(events, cal, width=1200, height=600)
    assert img.size == (1200, 600)
    # the class colours are drawn (ICBM purple, IRBM red) and the calendar colour (black) too
    colours = {c for _, c in img.getcolors(1_000_000)}
    assert (0x7E, 0x3C, 0x8E) in colours and (0xC8, 0x42, 0x3C) in colours
    png = timeline_png(events.iloc[:0], None)  # nothing to draw still gives a picture
    assert png[:4] == b"\x89PNG"
    (tmp_path / "t.png").write_bytes(png)
    assert Image.open(tmp_path / "t.png").size == (2400, 1200)


def test_pack_command(tmp_path, capsys):
    db = tmp_path / "s.sqlite3"
    small_store(db).close()
    out = tmp_path / "p.xlsx"
    rc = main(["pack", "--db", str(db), "-o", str(out), "--from", "2017", "--to", "2017",
               "--title", "Brief", "--classification", "CONFIDENTIAL", "--author", "Me",
               "--judgment", "One.", "--judgment", "Two.", "--sections", "cover,event_log"])
    assert rc == 0, capsys.readouterr().err
    assert f"wrote {out} (4 events)" in capsys.readouterr().out
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Cover", "Event log"]
    assert wb["Event log"].max_row == 3 + 4
    assert wb["Event log"].oddHeader.center.text == "CONFIDENTIAL"
    cover = [c.value for row in wb["Cover"].iter_rows() for c in row if c.value]
    assert "One." in cover and "Two." in cover and "Korean dates 2017-01-01 to 2017-12-31" in cover

    rc = main(["pack", "--db", str(db), "-o", str(tmp_path / "q.xlsx"), "--ids",
               "2016-09-05-mrbm-hwangju,2017-11-29-icbm-pyongsong", "--sections", "event_log"])
    assert rc == 0
    assert openpyxl.load_workbook(tmp_path / "q.xlsx")["Event log"].max_row == 3 + 2


@pytest.mark.parametrize("args, message", [
    (["--ids", "x", "--from", "2017"], "use either --from/--to or --ids, not both"),
    (["--ids", "nope"], "--ids: no event with id 'nope'"),
    (["--from", "1990", "--to", "1990"], "no events match"),
    (["--sections", "cover,maps"], "unknown section 'maps'"),
    (["--classification", " "], "classification marking is empty"),
    (["--date", "yesterday"], "the date 'yesterday' is not a date"),
    (["--timing-json", "/nonexistent/t.json"], "--timing-json: cannot read"),
])
def test_pack_command_errors(tmp_path, capsys, args, message):
    db = tmp_path / "s.sqlite3"
    small_store(db).close()
    out = tmp_path / "p.xlsx"
    rc = main(["pack", "--db", str(db), "-o", str(out), *args])
    err = capsys.readouterr().err
    assert rc != 0 and message in err and "Traceback" not in err
    assert not out.exists()


def test_pack_command_with_timing(tmp_path, capsys):
    pytest.importorskip("nkbrief.analysis.timing")
    db = tmp_path / "s.sqlite3"
    small_store(db).close()
    out = tmp_path / "p.xlsx"
    rc = main(["pack", "--db", str(db), "-o", str(out), "--timing", "--timing-seed", "7",
               "--timing-window", "10", "--sections", "context"])
    assert rc == 0, capsys.readouterr().err
    ws = openpyxl.load_workbook(out)["Context & timing"]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    for needle in ("Timing analysis", "Days to the next entry", "By year", "Per launch",
                   "Assumptions and limitations",
                   "Each launch, what happened, and the calendar entries around it"):
        assert needle in texts, needle
    assert "7" in texts or 7 in [c.value for row in ws.iter_rows() for c in row]  # the seed is shown
    assert len(ws._charts) == 1  # observed vs expected launch days
    # the per-launch timing table puts what prints first (A-H) and the Excel-only columns after
    header = next(r for r in ws.iter_rows(values_only=True)
                  if r[:3] == ("Date (KST)", "Class", "Within the window"))
    assert header[3] == "Next entry" and header[8:11] == ("Event id", "Previous entry ended",
                                                         "Calendar context")
    assert ws.print_area.split("!")[-1].replace("$", "").startswith("A1:H")


def test_generic_timing_dict_is_rendered(tmp_path):
    from nkbrief.briefing.pack import PackOptions, build_pack

    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    timing = {"title": "Hand-made timing note", "window_days": 30, "p_value": 0.0123,
              "notes": ["first", "=second"], "years": [{"year": 2017, "launches": 4}]}
    out = build_pack(st, ids, PackOptions(
        output=tmp_path / "p.xlsx", sections=["context"], timing=timing))
    ws = openpyxl.load_workbook(out)["Context & timing"]
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    assert "Hand-made timing note" in cells and "Window days" in cells and 0.0123 in cells
    assert cells["=second"].quotePrefix and cells["=second"].data_type == "s"
    json.dumps(timing)  # unchanged and still plain data
    st.close()


def _modules_after_import(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (start-up cost check)."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
                         cwd=repo, capture_output=True, text=True, timeout=120, check=True).stdout
    return set(out.split())


def test_pack_modules_load_openpyxl_only_when_a_pack_is_built():
    mods = _modules_after_import("import nkbrief.briefing.pack, nkbrief.briefing.xlsx_values, nkbrief.cli.pack")
    assert "nkbrief.briefing.pack" in mods
    assert not {m for m in mods if m.split(".")[0] == "openpyxl"}
    # building a pack does load it (the check above can fail)
    mods = _modules_after_import("import nkbrief.briefing.sheets")
    assert "openpyxl" in mods


def test_pack_contexts_stream_in_chunks_as_one_call_computes_them(seeded_store, monkeypatch):
    from nkbrief.analysis.context import calendar_contexts, context_reach
    from nkbrief.briefing.pack import PackData, load_pack_data

    data = load_pack_data(seeded_store, list(seeded_store.events_frame()["id"]))
    whole = calendar_contexts(data.events["date"], data.calendar, data.events["date_precision"])
    assert any(whole) and context_reach(whole)
    monkeypatch.setattr(PackData, "CONTEXT_CHUNK", 7)  # many chunks, one cut mid-way
    assert len(data.events) % 7
    assert list(data.contexts()) == whole
    assert data.reach == context_reach(whole)


def test_pack_light_columns_share_one_string_per_repeated_value(seeded_store):
    from nkbrief.briefing.pack import load_pack_data

    ev = load_pack_data(seeded_store, list(seeded_store.events_frame()["id"])).events
    classes = [c for c in ev["missile_class"].tolist() if isinstance(c, str)]
    assert len(classes) > len(set(classes))
    assert len({id(c) for c in classes}) == len(set(classes))  # one object per distinct class
    ids = ev["id"].tolist()
    assert len(set(ids)) == len(ids)
