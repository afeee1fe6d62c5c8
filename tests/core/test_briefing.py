"""The briefing pack, opened back with openpyxl: sheets, rows, print set-up, charts, image."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl
import pytest
from briefing_helpers import small_store, table_column

from nkbrief.briefing.pack import SECTIONS, PackError, PackOptions, build_pack
from nkbrief.model.classification import COLOURS
from nkbrief.analysis.context import nearest_entries
from nkbrief.progress import Cancelled, Progress

SHEETS = list(SECTIONS.values())


@pytest.fixture(scope="module")
def seeded_pack(tmp_path_factory, _seeded_template):
    """One pack of the bundled events from 2016 on, built once for the read-only checks."""
    from nkbrief.store import Store

    d = tmp_path_factory.mktemp("pack")
    db = d / "s.sqlite3"
    shutil.copyfile(_seeded_template, db)
    with Store.open(db) as st:
        ids = list(st.events_frame(date_from="2016-01-01")["id"])
        out = build_pack(st, ids, PackOptions(
            output=d / "pack.xlsx", title="DPRK launches since 2016", subtitle="Test pack",
            author="A. Analyst", organisation="Desk", date="2026-03-01",
            key_judgments=["Tempo rose.", "ICBMs cluster."], classification="SECRET//NOFORN",
            filters="Korean dates from 2016-01-01"))
        missiles = len(st.missiles_frame(ids))
    return out, ids, missiles


def test_sheets_in_order_with_document_properties(seeded_pack):
    path, ids, _ = seeded_pack
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    assert wb.properties.title == "DPRK launches since 2016"
    assert wb.properties.creator == "A. Analyst"
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["Classification"] == "SECRET//NOFORN"


def test_event_log_rows_equal_the_selection(seeded_pack):
    path, ids, _ = seeded_pack
    ws = openpyxl.load_workbook(path)["Event log"]
    header = [c.value for c in ws[3]]
    # the key facts first (they print), then every other field (for Excel)
    assert header[:4] == ["Date (KST)", "Time (KST)", "Class", "Missile"]
    for h in ("Distance (km)", "Apogee (km)", "Launch site", "Outcome", "Confirmation", "Leader attended"):
        assert header.index(h) < 12, h
    assert {"Event ID", "Description", "Sources", "Notes", "Latitude", "Time (UTC)"} <= set(header[12:])
    assert len(header) == 24  # every field (provenance since issue 14)
    got = table_column(ws, "Event ID")
    assert got == ids  # every selected event once, in date order, nothing else
    table = ws.tables["EventLog"]
    assert table.ref == f"A3:{openpyxl.utils.get_column_letter(len(header))}{3 + len(ids)}"
    assert table.autoFilter is not None and table.tableStyleInfo.name
    assert ws.freeze_panes == "E4"
    # real dates, real numbers with a km format
    date_col = header.index("Date (KST)") + 1
    km_col = header.index("Distance (km)") + 1
    c = ws.cell(4, date_col)
    assert isinstance(c.value, dt.datetime) and c.number_format in ("yyyy-mm-dd", "yyyy-mm", "yyyy")
    kms = [ws.cell(r, km_col) for r in range(4, ws.max_row + 1) if ws.cell(r, km_col).value is not None]
    # a source's qualifier shows through the number format ('>700 km'); the cell stays a number
    formats = {'#,##0 "km"'} | {f'"{sign}"#,##0 "km"' for sign in ("~", ">", "≥", "<", "≤")}
    formats |= {k.number_format for k in kms if k.number_format.startswith('#,##0"–')}  # ranges, below
    assert kms and all(isinstance(k.value, (int, float)) and k.number_format in formats for k in kms)
    assert any(k.number_format == '"~"#,##0 "km"' for k in kms)
    # a range prints as '900–950' and stays the number 900
    jan4 = header.index("Event ID") + 1
    (r4,) = [r for r in range(4, ws.max_row + 1) if ws.cell(r, jan4).value == "2026-01-04-hgv-ryokpo"]
    assert (ws.cell(r4, km_col).value, ws.cell(r4, km_col).number_format) == (900, '#,##0"–950"')
    # the header row is dark with white bold text
    h = ws.cell(3, 1)
    assert h.font.bold and h.font.color.rgb.endswith("FFFFFF") and h.fill.fgColor.rgb.endswith("23313F")


def test_missiles_sheet_has_every_missile_row(seeded_pack):
    path, ids, n_missiles = seeded_pack
    ws = openpyxl.load_workbook(path)["Missiles"]
    assert n_missiles > 0
    got = [v for v in table_column(ws, "Event ID") if v]
    assert len(got) == n_missiles
    assert set(got) <= set(ids)


def test_every_sheet_prints_with_the_marking(seeded_pack):
    path, _, _ = seeded_pack
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for part in (ws.oddHeader.center, ws.oddFooter.center):
            assert part.text == "SECRET//NOFORN", ws.title
            assert part.color == COLOURS["SECRET"].lstrip("#"), ws.title
            assert "Bold" in (part.font or ""), ws.title
        assert ws.oddFooter.right.text == "Page &P of &N"
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows, ws.title
        assert ws.print_area, ws.title


PAPER_WIDTH_IN = {"A4": 297 / 25.4, "Letter": 11.0}  # landscape


def print_scale(ws, paper: str) -> float:
    """The scale "fit to one page wide" gives the sheet's print area on ``paper``: column
    widths are in characters of the 10-point font, 7 pixels each at 96 dpi."""
    from openpyxl.utils import column_index_from_string, get_column_letter

    area = ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area
    first, last = area.split("!")[-1].replace("$", "").split(":")
    cols = range(column_index_from_string(first.rstrip("0123456789")),
                 column_index_from_string(last.rstrip("0123456789")) + 1)
    inches = sum(ws.column_dimensions[get_column_letter(c)].width or 8.43 for c in cols) * 7 / 96
    room = PAPER_WIDTH_IN[paper] - ws.page_margins.left - ws.page_margins.right
    return min(1.0, room / inches)


def test_every_sheet_prints_readably_on_a4_and_letter(seeded_pack):
    """Fitted to one page wide, no sheet's text shrinks below 60%; the tables' stay near full size."""
    path, _, _ = seeded_pack
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for paper in PAPER_WIDTH_IN:
            scale = print_scale(ws, paper)
            assert scale >= 0.6, (ws.title, paper, scale)
            if ws.title in ("Event log", "Missiles", "Context & timing", "Stakeholder views", "Sources"):
                assert scale >= 0.8, (ws.title, paper, scale)
            if ws.title == "Event log":
                assert scale >= 0.95, (paper, scale)  # the key facts at full size


def test_event_log_prints_the_key_facts_and_says_where_the_rest_prints(seeded_pack):
    path, ids, _ = seeded_pack
    ws = openpyxl.load_workbook(path)["Event log"]
    area = ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area
    assert area.split("!")[-1].replace("$", "") == f"A1:L{3 + len(ids)}"
    printed = [c.value for c in ws[3][:12]]
    assert printed == ["Date (KST)", "Time (KST)", "Class", "Missile", "Missiles fired", "Distance (km)",
                       "Apogee (km)", "Launch site", "Landing area", "Outcome", "Confirmation",
                       "Leader attended"]
    note = ws["A2"].value
    assert "descriptions on Context & timing" in note and "sources and notes on Sources" in note
    assert "M–X" in note and "Description" in note
    assert ws.print_title_rows.replace("$", "") == "1:3"  # the note and the header repeat on every page
    # Excel-only text stays on one line, so rows are as tall as the printed facts need
    desc = [c.value for c in ws[3]].index("Description") + 1
    assert not ws.cell(4, desc).alignment.wrap_text and ws.cell(4, 8).alignment.wrap_text
    # the descriptions print on Context & timing
    cx = openpyxl.load_workbook(path)["Context & timing"]
    assert cx.print_area and "Description" in [c.value for row in cx.iter_rows(max_col=8) for c in row]


def test_left_out_sections_bring_their_columns_onto_the_event_log(tmp_path):
    from nkbrief.briefing.sheets import event_columns

    cols, printed = event_columns(["event_log"])
    names = [f for f, _, _, _ in cols]
    assert names[printed - 3:printed] == ["description", "sources", "notes"]
    cols, printed = event_columns(["event_log", "sources"])
    assert [f for f, _, _, _ in cols][printed - 1] == "description"
    st = small_store(tmp_path / "s.sqlite3")
    out = build_pack(st, list(st.events_frame()["id"]), PackOptions(output=tmp_path / "p.xlsx",
                                                                    sections=["event_log"]))
    ws = openpyxl.load_workbook(out)["Event log"]
    heads = [c.value for c in ws[3]]
    assert heads[12:15] == ["Description", "Sources", "Provenance and analyst notes"]
    assert ws.print_area.split("!")[-1].replace("$", "").startswith("A1:O")
    for paper in PAPER_WIDTH_IN:
        assert print_scale(ws, paper) >= 0.6
    assert "on paper," not in ws["A2"].value  # nothing prints elsewhere
    st.close()


def test_long_addresses_wrap_and_their_number_is_the_link(tmp_path):
    """LibreOffice never wraps a link: an address too long for one line prints as plain,
    wrapping text, and the bibliography number carries the link."""
    from briefing_helpers import event

    st = small_store(tmp_path / "s.sqlite3")
    long_url = "https://example.org/" + "/".join(f"segment{i:02d}-of-a-very-long-address" for i in range(6))
    with st.write():
        b = st.new_batch("manual")
        st.insert_event(event("2017-10-01-srbm-x", "2017-10-01",
                              sources=[long_url, "https://example.org/a"]), b)
    out = build_pack(st, list(st.events_frame()["id"]), PackOptions(output=tmp_path / "p.xlsx",
                                                                    sections=["sources"]))
    ws = openpyxl.load_workbook(out)["Sources"]
    width = ws.column_dimensions["B"].width
    rows = {ws.cell(r, 2).value: r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 2).value, str)}
    r = rows[long_url]
    assert ws.cell(r, 2).hyperlink is None and ws.cell(r, 2).alignment.wrap_text
    assert ws.cell(r, 1).hyperlink.target == long_url
    short = rows["https://example.org/a"]
    assert ws.cell(short, 2).hyperlink.target == "https://example.org/a"
    for text, row in rows.items():  # every link on the sheet fits on one printed line
        if ws.cell(row, 2).hyperlink is not None:
            assert len(text) <= width * 1.15, text
    assert any("click their number" in str(v) for v in rows)
    st.close()


def test_charts_and_timeline_image(seeded_pack):
    from openpyxl.chart import BarChart, LineChart

    path, _, _ = seeded_pack
    wb = openpyxl.load_workbook(path)
    charts = wb["Summary"]._charts
    kinds = {type(c) for c in charts}
    assert kinds == {BarChart, LineChart}  # distance over time: a date axis (issue 17)
    bar = next(c for c in charts if isinstance(c, BarChart))
    assert bar.grouping == "stacked" and len(bar.series) >= 2
    for c in charts:
        assert c.x_axis.delete is False and c.y_axis.delete is False
    scatter = next(c for c in charts if isinstance(c, LineChart))
    assert scatter.x_axis.number_format.formatCode in ("yyyy", "mmm yyyy")
    images = wb["Timeline"]._images
    assert len(images) == 1
    data = images[0]._data()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_cover_reads_like_a_memo(seeded_pack):
    path, ids, _ = seeded_pack
    ws = openpyxl.load_workbook(path)["Cover"]
    texts = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    joined = "\n".join(texts)
    assert texts[0] == "SECRET//NOFORN" and texts[-1] == "SECRET//NOFORN"  # banners
    assert ws.cell(1, 1).fill.fgColor.rgb.endswith(COLOURS["SECRET"].lstrip("#"))
    for needle in ("DPRK launches since 2016", "Test pack", "Tempo rose.", "ICBMs cluster.",
                   "A. Analyst, Desk", "1 March 2026", "Korean dates from 2016-01-01",
                   f"{len(ids):,} launch events"):
        assert needle in joined, needle
    assert ws.page_setup.fitToHeight == 1


def test_small_store_pack_every_section(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    out = build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx", date="2018-01-02"))
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == SHEETS
    log = wb["Event log"]
    header = [c.value for c in log[3]]
    # the month-only date shows as a month; the time and the UTC instant are real values
    row = {eid: r for r, eid in enumerate(table_column(log, "Event ID"), 4)}
    month = log.cell(row["2017-05-01-srbm-unknown"], header.index("Date (KST)") + 1)
    assert month.number_format == "yyyy-mm"
    r = row["2016-06-22-irbm-wonsan"]
    assert log.cell(r, header.index("Time (KST)") + 1).value == dt.time(5, 58)
    assert log.cell(r, header.index("Time (UTC)") + 1).value == dt.datetime(2016, 6, 21, 20, 58)
    assert log.cell(r, header.index("Leader attended") + 1).value == "yes"
    # stakeholder views: by actor, links only for http(s)
    sv = wb["Stakeholder views"]
    actors = [sv.cell(r, 1).value for r in range(4, sv.max_row + 1)]
    assert actors == ["Seoul", "Washington", "Tokyo"]
    links = {c.hyperlink.target for row in sv.iter_rows() for c in row if c.hyperlink}
    assert links == {"https://example.org/s1"}
    # sources: numbered bibliography, a source cited twice counted twice
    so = wb["Sources"]
    bib = {so.cell(r, 2).value: so.cell(r, 3).value for r in range(5, 5 + 7) if so.cell(r, 2).value}
    assert bib["https://example.org/a"] == 2
    assert so.cell(5, 1).value == "No." and so.cell(6, 1).value == 1
    assert not any(c.hyperlink and not c.hyperlink.target.startswith(("http://", "https://"))
                   for ws in wb.worksheets for row in ws.iter_rows() for c in row)
    # context: the day counts to the calendar
    cx = wb["Context & timing"]
    ctx = {}
    for vals in cx.iter_rows(min_row=4, values_only=True):
        ctx.setdefault(vals[8], vals)  # the Event ID column (past the printed ones)
    values = ctx["2017-08-29-irbm-sunan"]
    assert "5 days before the 6th nuclear test (on 2017-09-03)" in values[4].split("\n")
    assert any("during Ulchi Freedom Guardian 2017" in str(v) for v in values)
    assert ctx["2016-06-22-irbm-wonsan"][3] == "Second of two launches that day."  # the description
    st.close()


def test_sections_can_be_left_out(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    out = build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx", sections="sources, events"))
    assert openpyxl.load_workbook(out).sheetnames == ["Event log", "Sources"]
    with pytest.raises(PackError, match="unknown section 'maps'"):
        build_pack(st, ids, PackOptions(output=tmp_path / "q.xlsx", sections=["maps"]))
    with pytest.raises(PackError, match="at least one section"):
        build_pack(st, ids, PackOptions(output=tmp_path / "q.xlsx", sections=[]))
    assert not (tmp_path / "q.xlsx").exists()
    st.close()


def test_bad_options_are_refused_before_writing(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    out = tmp_path / "p.xlsx"
    cases = [
        (dict(classification="  "), "classification marking is empty"),
        (dict(date="31-02-2026"), "the date '31-02-2026' is not a date"),
        (dict(title="x" * 500), "title is longer than 200"),
    ]
    for kw, msg in cases:
        with pytest.raises(PackError, match=msg):
            build_pack(st, ids, PackOptions(output=out, **kw))
    with pytest.raises(PackError, match="no event with id 'nope'"):
        build_pack(st, ids + ["nope"], PackOptions(output=out))
    with pytest.raises(PackError, match="no events selected"):
        build_pack(st, [], PackOptions(output=out))
    assert list(tmp_path.iterdir()) == [tmp_path / "s.sqlite3"]
    st.close()


def test_cancel_leaves_nothing(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    (tmp_path / "out").mkdir()
    seen = []
    prog = Progress(lambda d, t, s: (seen.append(s), prog.cancel() if s == "Timeline picture" else None))
    with pytest.raises(Cancelled):
        build_pack(st, ids, PackOptions(output=tmp_path / "out" / "p.xlsx"), progress=prog)
    assert "Event log" in seen
    assert list((tmp_path / "out").iterdir()) == []  # no pack, no partial file
    st.close()


def test_calendar_context_matches_nearest_entries():
    """The one calendar context (vectorised, used by the pack) lists, per category, exactly
    nearest_entries' previous and next entry when within 60 days, and what is under way."""
    import pandas as pd

    from nkbrief.analysis.context import CONTEXT_DAYS, calendar_contexts
    from nkbrief.store.dataset import load_bundled_calendar
    from nkbrief.resources import resource_path

    cal = pd.DataFrame(load_bundled_calendar(resource_path("calendar.csv")))
    start = dt.date(1980, 9, 1)
    dates = [(start + dt.timedelta(days=i * 53 + i % 5)).isoformat() for i in range(320)]
    dates += list(cal["date"])[::4] + [d for d in cal["end_date"] if isinstance(d, str) and d][::4]
    got = calendar_contexts(dates, cal)
    for d, items in zip(dates, got):
        for cat in cal["category"].unique():
            want = nearest_entries(d, cal, categories=[cat])
            mine = [n for n in items if n.category == cat]
            expect = [n for n in want["during"]]
            expect += [n for n in (want["next"],) if n is not None and n.days <= CONTEXT_DAYS]
            expect += [n for n in (want["previous"],) if n is not None and -n.days <= CONTEXT_DAYS]
            assert sorted(mine, key=repr) == sorted(expect, key=repr), (d, cat)


def test_fast_row_writer_matches_openpyxls(tmp_path, monkeypatch):
    """The rows serialised as text read back exactly like openpyxl's own cell writer's."""
    import nkbrief.briefing.xlsx_stream as xs
    from briefing_helpers import small_store as make

    st = make(tmp_path / "s.sqlite3", payloads=True)
    ids = list(st.events_frame()["id"])
    fast = build_pack(st, ids, PackOptions(output=tmp_path / "fast.xlsx", date="2026-01-02"))
    monkeypatch.setattr(xs, "FAST_ROWS", False)
    slow = build_pack(st, ids, PackOptions(output=tmp_path / "slow.xlsx", date="2026-01-02"))
    a, b = openpyxl.load_workbook(fast), openpyxl.load_workbook(slow)
    assert a.sheetnames == b.sheetnames
    for wa, wb_ in zip(a.worksheets, b.worksheets):
        assert wa.max_row == wb_.max_row and wa.max_column == wb_.max_column, wa.title
        for ra, rb in zip(wa.iter_rows(), wb_.iter_rows()):
            for ca, cb in zip(ra, rb):
                va, vb = ca.value, cb.value
                if isinstance(va, str):  # text keeps a CR; openpyxl's writer lets XML turn it into LF
                    va = va.replace("\r", "\n")
                ta, tb = (ca.data_type, cb.data_type) if va is not None else (None, None)  # "" is empty
                assert (va, ta, ca.number_format, ca.quotePrefix, ca.font.b) == \
                       (vb, tb, cb.number_format, cb.quotePrefix, cb.font.b), ca.coordinate
                assert (ca.hyperlink.target if ca.hyperlink else None) == \
                       (cb.hyperlink.target if cb.hyperlink else None), ca.coordinate
        ha = {r: d.height for r, d in wa.row_dimensions.items() if d.height}
        hb = {r: d.height for r, d in wb_.row_dimensions.items() if d.height}
        assert ha == hb and ha, wa.title
    st.close()
