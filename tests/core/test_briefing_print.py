"""Issue 17: the pack's markings and metadata, what it says is missing, its wording, and
its chart axes (the PDF render is in test_briefing_pdf.py)."""

from __future__ import annotations

import getpass
import zipfile

import pytest
from briefing_helpers import small_store
from openpyxl import load_workbook

from nkbrief import site_settings
from nkbrief.briefing.pack import NO_MARKING, PackError, PackOptions, build_pack
from nkbrief.cli import main


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
    assert site_settings.site_config_path() == site
    assert site_settings.default_marking() == "CUI"
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
    p = site_settings.site_config_path()
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
