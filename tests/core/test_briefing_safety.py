"""Formula safety, links, atomic writes, locked and unwritable destinations, file names."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from briefing_helpers import PAYLOADS, sheet_xml, small_store

from nkbrief.briefing import pack as briefing
from nkbrief.briefing.pack import PackError, PackOptions, build_pack
from nkbrief.exporting.xlsx_safe import FORMULA_TRIGGERS

REPO = Path(__file__).resolve().parents[2]
TRIGGER_RE = re.compile(r"^[\s\u00a0\u3000]*[=+\-@＝＋－＠]|^[\t\r\n]")


def assert_no_live_formulas(path: Path, payloads: list[str]) -> None:
    """No formula or error cell anywhere; formula-like text kept, as text, with quotePrefix."""
    for name, xml in sheet_xml(path).items():
        assert "<f>" not in xml and "<f " not in xml, f"formula element in {name}"
        assert 't="e"' not in xml, f"error cell in {name}"
    wb = openpyxl.load_workbook(path)
    texts = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"
                if isinstance(c.value, str):
                    texts.add(c.value)
                    if TRIGGER_RE.match(c.value):
                        assert c.quotePrefix, f"{ws.title}!{c.coordinate} {c.value!r} lacks quotePrefix"
                if c.hyperlink is not None:
                    assert c.hyperlink.target.startswith(("http://", "https://")), c.hyperlink.target
    for p in payloads:  # exactly, carriage returns included
        assert p in texts, f"payload {p!r} missing from the pack"


def test_owasp_payloads_in_the_store_never_become_formulas(tmp_path):
    st = small_store(tmp_path / "s.sqlite3", payloads=True)
    ids = list(st.events_frame()["id"])
    out = build_pack(st, ids, PackOptions(
        output=tmp_path / "p.xlsx", title="=HYPERLINK(\"http://evil\",\"x\")", subtitle="+1+1",
        author="@me", organisation="-org", key_judgments=["=1+1", "=cmd|' /C calc'!A0"],
        classification="=SECRET", filters="@filter"))
    assert_no_live_formulas(out, PAYLOADS + ["=HYPERLINK(\"http://evil\",\"x\")", "@me, -org"])
    st.close()


def test_owasp_payloads_through_the_importer(tmp_path):
    importer = pytest.importorskip("nkbrief.importing.importer")
    from nkbrief.store import Store

    src = tmp_path / "colleague.csv"
    fields = ["date", "missile_class", "missile_name", "launch_site", "landing_area", "description", "notes",
              "sources"]
    with open(src, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(fields)
        for i, p in enumerate(PAYLOADS):
            w.writerow([f"2018-01-{i + 1:02d}", "SRBM", p, p, p, p, p, p])
    st = Store.open(tmp_path / "s.sqlite3", seed=False)
    importer.apply_import(st, importer.read_file(src))
    df = st.events_frame()
    assert len(df) == len(PAYLOADS)
    stored = set(df["missile_name"]) | set(df["description"])
    out = build_pack(st, list(df["id"]), PackOptions(output=tmp_path / "p.xlsx"))
    assert_no_live_formulas(out, sorted(x for x in stored if isinstance(x, str)))
    assert any(str(x).startswith(tuple(FORMULA_TRIGGERS)) for x in stored)
    st.close()


def test_locked_by_excel_is_refused_and_nothing_written(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    out = tmp_path / "pack.xlsx"
    out.write_bytes(b"the old pack")
    (tmp_path / "~$pack.xlsx").write_bytes(b"owner")
    with pytest.raises(PackError, match=r"pack\.xlsx is open in Excel.*~\$pack\.xlsx"):
        build_pack(st, ids, PackOptions(output=out))
    assert out.read_bytes() == b"the old pack"
    (tmp_path / "~$pack.xlsx").unlink()
    (tmp_path / ".~lock.pack.xlsx#").write_text("x")
    with pytest.raises(PackError, match="open in Excel or another program"):
        build_pack(st, ids, PackOptions(output=out))
    st.close()


def test_replace_refused_leaves_old_file_and_no_partial(tmp_path, monkeypatch):
    """Windows refuses to replace a file Excel holds open: PermissionError from os.replace."""
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "pack.xlsx"
    out.write_bytes(b"the old pack")

    def refuse(a, b):
        raise PermissionError(13, "Permission denied", str(b))

    monkeypatch.setattr(briefing.os, "replace", refuse)
    with pytest.raises(PackError, match="cannot replace pack.xlsx: it is open in another program"):
        build_pack(st, ids, PackOptions(output=out))
    assert out.read_bytes() == b"the old pack"
    assert sorted(p.name for p in folder.iterdir()) == ["pack.xlsx"]
    st.close()


def test_unwritable_or_missing_folder(tmp_path, monkeypatch):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    with pytest.raises(PackError, match="the folder .*nowhere does not exist"):
        build_pack(st, ids, PackOptions(output=tmp_path / "nowhere" / "p.xlsx"))
    (tmp_path / "adir.xlsx").mkdir()
    for folder in (tmp_path / "adir.xlsx", tmp_path, f"{tmp_path}/"):
        with pytest.raises(PackError, match="is a folder; choose a file name"):
            build_pack(st, ids, PackOptions(output=folder))

    def denied(*a, **k):  # tests may run as root, where chmod does not stop writes
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(briefing.atomic, "create_temp", denied)
    with pytest.raises(PackError, match="cannot write to the folder .*: permission denied"):
        build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx"))
    assert not (tmp_path / "p.xlsx").exists()
    st.close()


def test_save_failure_leaves_no_partial(tmp_path, monkeypatch):
    from openpyxl.writer.excel import ExcelWriter

    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    (tmp_path / "out").mkdir()

    def disk_full(self):
        self._archive.writestr("half.xml", "half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ExcelWriter, "save", disk_full)
    with pytest.raises(PackError, match="cannot save the pack .*p.xlsx: the disk is full; nothing was written"):
        build_pack(st, ids, PackOptions(output=tmp_path / "out" / "p.xlsx"))
    assert list((tmp_path / "out").iterdir()) == []
    st.close()


def test_file_names_are_sanitised(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    cases = {
        "CON.xlsx": "_CON.xlsx",
        'brief: "a<b>|c?*".xlsx': "brief_ _a_b__c___.xlsx",
        "no suffix": "no suffix.xlsx",
        "trailing dots. . .": "trailing dots.xlsx",
        "x" * 300 + ".xlsx": "x" * 115 + ".xlsx",
    }
    for given, expected in cases.items():
        got = build_pack(st, ids, PackOptions(output=tmp_path / given, sections=["sources"]))
        assert got == tmp_path / expected
        assert got.exists()
    st.close()


def test_stale_partials_are_swept(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    ids = list(st.events_frame()["id"])
    old = tmp_path / f".p.xlsx.abc{briefing.PARTIAL_SUFFIX}"
    fresh = tmp_path / f".p.xlsx.def{briefing.PARTIAL_SUFFIX}"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    past = time.time() - briefing.STALE_PARTIAL_SECONDS - 60
    os.utime(old, (past, past))
    build_pack(st, ids, PackOptions(output=tmp_path / "p.xlsx", sections=["cover"]))
    assert not old.exists() and fresh.exists()  # a fresh one may belong to a running build
    st.close()


KILL_SCRIPT = r"""
import sys
from pathlib import Path
from nkbrief.store import Store
from nkbrief.briefing.pack import PackOptions, build_pack
from nkbrief.progress import Progress

db, out, marker = sys.argv[1:4]
st = Store.open(db, seed=False)
ids = list(st.events_frame()["id"])

def cb(done, total, text):
    if text == "Context & timing":
        Path(marker).write_text("mid-build")
        import time
        time.sleep(60)  # the test kills us here

build_pack(st, ids, PackOptions(output=out), progress=Progress(cb))
"""


@pytest.mark.slow
def test_killed_build_leaves_no_file_at_the_destination(tmp_path):
    st = small_store(tmp_path / "s.sqlite3")
    st.close()
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "pack.xlsx"
    marker = tmp_path / "marker"
    for existing in (None, b"the old pack"):
        if existing:
            out.write_bytes(existing)
        marker.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(tmp_path / "s.sqlite3"), str(out),
                                 str(marker)], cwd=REPO)
        try:
            deadline = time.monotonic() + 60
            while not marker.exists():
                assert proc.poll() is None, "the build ended before it could be killed"
                assert time.monotonic() < deadline, "the build never reached the middle"
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        if existing:
            assert out.read_bytes() == existing  # the old pack is untouched
        else:
            assert not out.exists()
        # only the hidden partial file may remain; the next build sweeps it once it is stale
        assert all(p.name.endswith(briefing.PARTIAL_SUFFIX) for p in folder.iterdir() if p != out)
