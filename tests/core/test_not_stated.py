"""A blank confirmation is 'not stated', never 'confirmed' (issue 14)."""

from __future__ import annotations

from nkbrief.importing.importer import apply_import, read_file
from nkbrief.store import Store


def test_file_without_a_confirmation_column_imports_as_not_stated(tmp_path):
    p = tmp_path / "colleague.csv"
    p.write_text("Date,Type,Site,Range\n2026-11-02,SRBM,Wonsan,over 700 km\n2026-11-09,cruise,Nampo,\n",
                 encoding="utf-8")
    pf = read_file(p)
    assert pf.rejections == []
    st = Store.open(tmp_path / "s.sqlite3", seed=False)
    try:
        assert apply_import(st, pf).added == 2
        frame = st.events_frame()
        assert set(frame["confirmation"]) == {"not stated"}
        wonsan = frame[frame["launch_site"] == "Wonsan"].iloc[0]
        assert (wonsan["distance_km"], wonsan["distance_qualifier"]) == (700.0, "over")   # qualifier kept
    finally:
        st.close()
