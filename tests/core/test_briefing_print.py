"""Issue 17: the pack's markings and metadata, what it says is missing, its wording, and
its chart axes (the PDF render is in test_briefing_pdf.py)."""

from __future__ import annotations

import getpass
import zipfile

import pytest
from briefing_helpers import small_store
from openpyxl import load_workbook

from nkbrief import privacy
from nkbrief.briefing.pack import NO_MARKING, PackError, PackOptions, build_pack
from nkbrief.cli import main

#: The store tests here run on both engines (tests/conftest.py).
STORE_ENGINES = ("sqlite", "postgresql")


@pytest.fixture
def no_site_default(tmp_path, monkeypatch):
    monkeypatch.setenv("NKBRIEF_SITE_CONFIG", str(tmp_path / "absent" / "site.ini"))


def test_no_marking_and_no_site_default_is_refused(tmp_path, no_site_default, capsys):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    with pytest.raises(PackError, match=r"choose a marking \(--classification\)"):
        build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx"))
    st.close()
    assert not (tmp_path / "p.xlsx").exists()
    rc = main(["pack", "--db", str(tmp_path / "s.sqlite3"), "-o", str(tmp_path / "q.xlsx")])
    assert rc == 2
    assert capsys.readouterr().err.strip() == f"nkbrief: {NO_MARKING}"
    assert not (tmp_path / "q.xlsx").exists()


def test_site_default_marks_the_pack_and_an_explicit_marking_wins(tmp_path, monkeypatch):
    site = tmp_path / "site.ini"
    site.write_text("[pack]\nclassification = CUI\n", encoding="utf-8")
    monkeypatch.setenv("NKBRIEF_SITE_CONFIG", str(site))
    assert privacy.site_config_path() == site
    assert privacy.default_marking() == "CUI"
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    out = build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx", sections=["cover"]))
    wb = load_workbook(out)
    assert wb["Cover"]["A1"].value == "CUI"
    out = build_pack(st, ids, PackOptions(output=tmp_path / "q.xlsx", sections=["cover"],
                                          classification="SECRET"))
    assert load_workbook(out)["Cover"]["A1"].value == "SECRET"
    st.close()


def test_a_broken_site_file_is_named(tmp_path, monkeypatch, capsys):
    site = tmp_path / "site.ini"
    site.write_text("classification = CUI\n", encoding="utf-8")  # no section
    monkeypatch.setenv("NKBRIEF_SITE_CONFIG", str(site))
    small_store(tmp_path / "s.sqlite3").close()
    rc = main(["pack", "--db", str(tmp_path / "s.sqlite3"), "-o", str(tmp_path / "q.xlsx")])
    err = capsys.readouterr().err
    assert rc == 1 and str(site) in err and "not a valid settings file" in err
    assert len(err.strip().splitlines()) == 1


def test_site_file_location_follows_the_platform(monkeypatch):
    monkeypatch.delenv("NKBRIEF_SITE_CONFIG")
    monkeypatch.delenv("XDG_CONFIG_DIRS", raising=False)
    p = privacy.site_config_path()
    assert p.name == "site.ini" and p.parent.name == "nkbrief"
    import sys
    if sys.platform.startswith("linux"):
        assert str(p) == "/etc/xdg/nkbrief/site.ini"


def test_author_defaults_to_the_os_user(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    out = build_pack(st, list(st.events_frame()["id"]),
                     PackOptions(output=tmp_path / "p.xlsx", sections=["cover"], classification="CUI"))
    st.close()
    with zipfile.ZipFile(out) as z:
        core = z.read("docProps/core.xml").decode()
    assert f"<dc:creator>{getpass.getuser()}</dc:creator>" in core
    assert "openpyxl" not in core


# ------------------------------------------------------------------ wording and counts
def _texts(path, sheet):
    ws = load_workbook(path)[sheet]
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


@pytest.mark.parametrize("n", [0, 1, 2])
def test_every_generated_sentence_agrees_with_its_number(tmp_path, n, capsys):
    from nkbrief.briefing.xlsx_values import plural
    from nkbrief.cli.pack import describe_filters

    assert plural(n, "launch event") == f"{n} launch event{'' if n == 1 else 's'}"
    assert plural(n, "entry") == f"{n} {'entry' if n == 1 else 'entries'}"
    assert plural(n, "has", number=False) == ("has" if n == 1 else "have")

    class Args:
        ids, date_from, date_to, classes = "x", None, None, None

    assert describe_filters(Args, n) == f"{n} event{'' if n == 1 else 's'} chosen by id"
    if n == 0:
        return
    st = small_store(tmp_path / "s.sqlite3")
    ev = st.events_frame()
    ids = list(ev["id"][ev["date"] >= "2017-07-01"])[:n]  # n launches on n days, no statements for 2nd
    out = build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx", classification="CUI"))
    st.close()
    s = "" if n == 1 else "s"
    cover = _texts(out, "Cover")
    assert f"{n} launch event{s} on {n} day{s}" in cover
    summary = _texts(out, "Summary")
    assert f"on {n} launch day{s}" in summary
    assert f"{n} launch event{s} · " in summary
    views = _texts(out, "Stakeholder views")
    has = 1  # only 2017-07-04 has a statement among these events
    assert f"Stakeholder statements: {has} of {n} event{s} has any." in views
    for text in (cover, summary, views):
        assert "1 launch events" not in text and "1 days" not in text and "1 events" not in text


def test_stakeholder_coverage_of_the_bundled_2026_events(seeded_store, tmp_path):
    ev = seeded_store.events_frame()
    ids = list(ev["id"][(ev["date"] >= "2026-01-01") & (ev["date"] <= "2026-06-30")])
    st_ids = set(seeded_store.statements_frame()["event_id"]) & set(ids)
    out = build_pack(seeded_store, ids, PackOptions(output=tmp_path / "p.xlsx", sections=["stakeholders"],
                                                    classification="CUI"))
    have = len(st_ids)
    assert f"Stakeholder statements: {have} of {len(ids)} events {'has' if have == 1 else 'have'} any." \
        in _texts(out, "Stakeholder views")


def test_unknown_is_not_a_class_and_missing_sheets_are_not_named(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    with st.write():
        b = st.new_batch("manual")
        st.insert_event({"id": "2017-10-01-unknown", "date": "2017-10-01", "date_precision": "day",
                         "missile_class": "unknown", "distance_km": 0.0}, b)
    ids = list(st.events_frame()["id"])
    out = build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx", classification="CUI",
                                          sections=["cover", "summary", "missiles"]))
    st.close()
    wb = load_workbook(out)
    rows = {r[0].value: r for r in wb["Summary"].iter_rows() if r[0].value}
    assert rows["Missile classes"][1].value == 4  # SRBM, MRBM, IRBM, ICBM; not "unknown"
    assert "unknown" not in rows["Missile classes"][2].value.split(" · ")[-1].split(";")[0]
    assert "class not known for 1 event" in rows["Missile classes"][2].value
    summary = _texts(out, "Summary")
    assert "1 event with a reported distance of 0 km (2017-10-01-unknown)" in summary
    assert "1 event with no distance reported" in summary
    cover = _texts(out, "Cover")
    assert "Sources sheet" not in cover and "Event log" not in _texts(out, "Missiles")


def test_latest_analyst_edit_and_data_as_of_are_two_lines(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    out = build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx", classification="CUI",
                                          sections=["cover"]))
    rows = {r[1].value: r[2].value for r in load_workbook(out)["Cover"].iter_rows() if r[1].value}
    assert rows["Latest analyst edit"].startswith("none")
    assert rows["Data as of"].startswith("2017-11-29")  # the store's last day-dated launch
    with st.write():
        st.update_event("2016-09-05-mrbm-hwangju", {"distance_km": 1001.0})
    out = build_pack(st, ids, PackOptions(output=tmp_path / "q.xlsx", classification="CUI",
                                          sections=["cover"]))
    st.close()
    rows = {r[1].value: r[2].value for r in load_workbook(out)["Cover"].iter_rows() if r[1].value}
    import datetime as dt
    assert rows["Latest analyst edit"].startswith(dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d"))


def test_long_text_flows_onto_continuation_rows_and_keeps_every_word(tmp_path):
    from nkbrief.briefing.xlsx_stream import FLOW_LINES, flow_text, text_lines

    text = ("Para one " + "word " * 400 + "\nsecond paragraph " + "lorem ipsum " * 200).strip()
    pieces = flow_text(text, 40)
    assert len(pieces) > 3
    assert all(text_lines(p, 40) <= FLOW_LINES - 2 for p in pieces)
    assert " ".join(pieces).split() == text.split()
    st = small_store(tmp_path / "s.sqlite3")
    with st.write():
        st.update_event("2016-09-05-mrbm-hwangju", {"notes": text})
    out = build_pack(st, ["2016-09-05-mrbm-hwangju"], PackOptions(
        output=tmp_path / "p.xlsx", classification="CUI", sections=["event_log"]))  # notes print here
    st.close()
    ws = load_workbook(out)["Event log"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Date (KST)")
    i = header.index("Provenance and analyst notes")
    cells = [r[i] for r in ws.iter_rows(values_only=True, min_row=ws.min_row) if r[i] and r[i] != header[i]]
    assert len(cells) > 1
    marker = "(continued from 2016-09-05, Provenance and analyst notes)"
    assert cells[0].endswith("\n(continued)")
    assert all(c.startswith(marker + "\n") for c in cells[1:])
    joined = " ".join(c.replace(marker, "").replace("(continued)", "") for c in cells)
    assert joined.split() == ("Analyst: " + text).split()
    full = [r[header.index("Provenance and analyst notes (full text)")] for r in ws.iter_rows(values_only=True)]
    assert full.count("Analyst: " + text) == 1  # whole in one cell (for Excel), once
    heights = [ws.row_dimensions[r].height for r in range(1, ws.max_row + 1)]
    assert max(h for h in heights if h) <= FLOW_LINES * 12.75 + 3


def test_the_timing_histogram_is_binned_over_the_datas_range(seeded_store):
    from nkbrief.analysis.timing import timing_sheet_sections
    from nkbrief.jobs.pack import pack_timing

    ev = seeded_store.events_frame()
    r = pack_timing(seeded_store, ev[ev["id"] == "2026-01-27-srbm-north-of-pyongyang"], seed=1,
                    simulations=200)
    h = r["histogram"]
    sec = next(s for s in timing_sheet_sections(r) if s.get("chart"))
    rows = sec["rows"]
    bins = rows[:-2]
    assert len(bins) < len(h["observed"])  # empty trailing bins are gone
    last = bins[-1]
    assert last[1] or last[2] >= 0.005  # the last bin shown holds something
    assert rows[-2][0] == f"more than {last[0].split('–')[1]}"
    # nothing is lost: the counts add up to the same totals
    assert sum(x[1] for x in rows) == sum(h["observed"]) + h["beyond"] + h["none"]
    assert abs(sum(x[2] for x in rows) - (sum(h["expected"]) + h["beyond_expected"] + h["none_expected"])) < 1e-9


@pytest.mark.parametrize("n", [1, 2])
def test_counts_on_every_sheet_agree_with_their_numbers(tmp_path, n):
    st = small_store(tmp_path / "s.sqlite3")
    # 2017-07-04 (1 missile fired, 1 source) and 2017-08-29 (1 missile, 1 source)
    ids = ["2017-07-04-icbm-banghyon", "2017-08-29-irbm-sunan"][:n]
    out = build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx", classification="CUI"))
    st.close()
    wb = load_workbook(out)
    text = "\n".join(_texts(out, name) for name in wb.sheetnames)
    s = "" if n == 1 else "s"
    assert f"{n} missile{s} fired" in text
    assert "0 per-missile records" in text  # these events have none
    assert f" 1 per-missile records" not in text and "1 sources cited" not in text
    assert "1 missiles fired" not in text and "1 launch events" not in text and "1 days" not in text


def test_every_table_row_has_its_height_set_so_excel_only_columns_never_stretch_it(tmp_path):
    """A row with no height is fitted by LibreOffice to its tallest cell, also a wrapping one
    that does not print (the Missiles sheet's source links made its rows double height)."""
    import re

    st = small_store(tmp_path / "s.sqlite3")
    out = build_pack(st, list(st.events_frame()["id"]), PackOptions(output=tmp_path / "p.xlsx",
                                                                    classification="CUI"))
    st.close()
    wb = load_workbook(out)
    names = wb.sheetnames
    with zipfile.ZipFile(out) as z:
        xml = z.read(f"xl/worksheets/sheet{names.index('Missiles') + 1}.xml").decode()
    rows = re.findall(r'<row r="(\d+)"( ht="[0-9.]+" customHeight="1")?', xml)
    table = [r for r in rows if int(r[0]) >= 3]  # the header and the table's rows
    assert len(table) >= 3 and all(r[1] for r in table)
    heights = [float(re.search(r'ht="([0-9.]+)"', r[1]).group(1)) for r in table[1:]]
    assert max(heights) < 2 * 12.75  # one line each: the printed cells are short
