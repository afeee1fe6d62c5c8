"""All or nothing: kill an importing process at random moments; the store must pass
``PRAGMA integrity_check`` and hold exactly the data from before or from after the import."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from import_helpers import canonical_dump

from nkbrief.model import schema
from nkbrief.store import Store

REPO = Path(__file__).resolve().parents[2]
RUNS = 25
ROWS = 4_000


def _big_csv(path: Path) -> Path:
    rnd = random.Random(11)
    sites = ["Wonsan", "Sunan", "Sinpo", "Tongchang-ri", "Kusong", "Hamhung"]
    classes = ["SRBM", "MRBM", "IRBM", "ICBM", "cruise", "MLRS"]
    lines = ["Date,Time (KST),Type,Number,Distance,Apogee,Launch site,Source,Analyst"]
    for i in range(ROWS):
        d = f"{1990 + i % 36}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        lines.append(f"{d},{i % 24:02d}:{i % 60:02d},{rnd.choice(classes)},{1 + i % 4},{rnd.randint(50, 4000)} km,"
                     f"{rnd.randint(20, 2000)} km,{rnd.choice(sites)} {i},https://example.org/{i},A{i % 7}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _integrity(db: Path) -> str:
    con = sqlite3.connect(db)  # a normal connection rolls a hot journal back
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


@pytest.mark.slow
def test_killed_import_leaves_before_or_after(tmp_path):
    src = _big_csv(tmp_path / "big.csv")
    base = tmp_path / "base.sqlite3"
    st = Store.open(base, seed=False)
    b = st.new_batch("manual")
    st.insert_event(schema.empty_event() | {"id": "mine", "date": "2026-01-27", "missile_class": "SRBM"}, b)
    st.close()
    before = canonical_dump(base)

    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, str(REPO / "main.py"), "import", str(src), "--db"]

    full = tmp_path / "full.sqlite3"
    shutil.copyfile(base, full)
    proc = subprocess.Popen(cmd + [str(full)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    write_time = _time_write_phase(proc, full)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    after = canonical_dump(full)
    assert len(after["events"]) == ROWS + 1

    rnd = random.Random(2024)
    outcomes = {"before": 0, "after": 0}
    killed_in_transaction = 0
    for i in range(RUNS):
        db = tmp_path / f"run{i}.sqlite3"
        shutil.copyfile(base, db)
        journal = Path(f"{db}-journal")
        proc = subprocess.Popen(cmd + [str(db)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i % 5 == 4:  # now and then, any moment of the whole run (reading, writing, exiting)
            time.sleep(rnd.uniform(0.0, 2.0))
        else:  # mostly a random moment inside the write transaction (or just after it)
            while proc.poll() is None and not journal.exists():
                time.sleep(0.001)
            time.sleep(rnd.uniform(0.0, 0.7 * write_time))
        if proc.poll() is None and journal.exists():
            killed_in_transaction += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert _integrity(db) == "ok", f"run {i}"
        state = canonical_dump(db)
        if state == before:
            outcomes["before"] += 1
        elif state == after:
            outcomes["after"] += 1
        else:
            pytest.fail(f"run {i}: the store is neither as before nor as after the import "
                        f"({len(state['events'])} events)")
        # and the store opens and takes writes again (a leftover journal without a valid
        # header is not "hot"; SQLite ignores it and reuses the name)
        st = Store.open(db, seed=False)
        with st.write():
            st.new_batch("manual")
        assert st.event_count() == len(state["events"])
        st.close()
    # many kills must land inside the transaction, or the test proves little
    assert killed_in_transaction >= RUNS // 3, (killed_in_transaction, outcomes)
    assert outcomes["before"] >= 1


def _time_write_phase(proc: subprocess.Popen, db: Path) -> float:
    """Seconds the rollback journal exists: from the first write to the commit."""
    journal = Path(f"{db}-journal")
    while proc.poll() is None and not journal.exists():
        time.sleep(0.0005)
    t0 = time.monotonic()
    while proc.poll() is None and journal.exists():
        time.sleep(0.0005)
    return max(time.monotonic() - t0, 0.01)
