"""The portable bundle: offline smoke checks, and nothing written next to the executable.

Tests marked ``bundle`` run the built folder and are skipped unless NKBRIEF_BUNDLE points at
it (``NKBRIEF_BUNDLE=dist/nkbrief pytest tests/bundle``; build it with
scripts/build_bundle.sh). The rest check the smoke machinery itself and, from source, that
the app still runs with every module build.spec leaves out blocked.
"""

from __future__ import annotations

import ast
import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import bundle_smoke  # noqa: E402

PIL = pytest.importorskip("PIL.Image")


# --------------------------------------------------------------------------- PNG checker
def _png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_png_decoder_matches_pillow(mode):
    rnd = random.Random(7)
    img = PIL.new(mode, (37, 23))
    # a gradient plus noise exercises every PNG row filter Pillow picks
    img.putdata([tuple((x * 7 + y * 3 + rnd.randrange(40)) % 256 for _ in range(len(mode)))
                 if len(mode) > 1 else (x * 7 + y * 3 + rnd.randrange(40)) % 256
                 for y in range(23) for x in range(37)])
    w, h, px = bundle_smoke.png_pixels(_png(img))
    raw, n = img.tobytes(), len(mode)
    want = [tuple(raw[i:i + n]) for i in range(0, len(raw), n)]
    assert (w, h) == (37, 23)
    assert px == want


def test_png_decoder_rejects_non_png():
    with pytest.raises(ValueError, match="not a PNG"):
        bundle_smoke.png_pixels(b"GIF89a....")


def test_screenshot_check_tells_blank_from_drawn(tmp_path):
    blank = tmp_path / "blank.png"
    PIL.new("RGB", (900, 600), (240, 240, 240)).save(blank)
    assert "colours" in bundle_smoke.screenshot_problem(blank)

    mostly = PIL.new("RGB", (900, 600), (240, 240, 240))
    for i in range(40):  # a few coloured specks: still essentially blank
        mostly.putpixel((i, 0), (i * 6, 0, 0))
    mostly.save(tmp_path / "mostly.png")
    assert "one colour" in bundle_smoke.screenshot_problem(tmp_path / "mostly.png")

    small = PIL.new("RGB", (200, 100), (1, 2, 3))
    small.save(tmp_path / "small.png")
    assert "only 200x100" in bundle_smoke.screenshot_problem(tmp_path / "small.png")

    drawn = PIL.new("RGB", (900, 600), (250, 250, 250))
    rnd = random.Random(1)
    for y in range(0, 600, 3):
        for x in range(0, 900, 5):
            drawn.putpixel((x, y), (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    drawn.save(tmp_path / "drawn.png")
    assert bundle_smoke.screenshot_problem(tmp_path / "drawn.png") is None
    assert bundle_smoke.screenshot_problem(tmp_path / "missing.png") == "no PNG was written"


# --------------------------------------------------------------------------- write detector
def test_snapshot_diff_sees_every_kind_of_write(tmp_path):
    root = tmp_path / "bundle"
    (root / "_internal" / "pkg").mkdir(parents=True)
    (root / "nkbrief").write_bytes(b"exe")
    (root / "_internal" / "pkg" / "mod.bin").write_bytes(b"12345")
    (root / "_internal" / "gone.txt").write_text("x")
    before = bundle_smoke.snapshot(root)
    assert bundle_smoke.snapshot_diff(before, bundle_smoke.snapshot(root)) == []

    (root / "_internal" / "pkg" / "__pycache__").mkdir()                # a bytecode cache
    (root / "_internal" / "pkg" / "mod.bin").write_bytes(b"123456")      # grown
    (root / "_internal" / "gone.txt").unlink()                           # removed
    st = os.stat(root / "nkbrief")
    os.utime(root / "nkbrief", ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # rewritten
    diff = bundle_smoke.snapshot_diff(before, bundle_smoke.snapshot(root))
    text = "\n".join(diff)
    assert "added _internal/pkg/__pycache__" in text
    assert "removed _internal/gone.txt" in text
    assert "changed _internal/pkg/mod.bin (size, mtime)" in text
    assert "changed nkbrief (mtime)" in text


def test_snapshot_sees_a_file_created_and_deleted_again(tmp_path):
    root = tmp_path / "bundle"
    root.mkdir()
    (root / "a").write_text("a")
    before = bundle_smoke.snapshot(root)
    st = os.stat(root)
    (root / "tmp").write_text("x")
    (root / "tmp").unlink()
    os.utime(root, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # coarse clocks: make it visible
    assert any(d.startswith("changed .") for d in bundle_smoke.snapshot_diff(before, bundle_smoke.snapshot(root)))


# --------------------------------------------------------------------------- build.spec exclusions
def _spec_excludes() -> set[str]:
    names = {}
    for node in ast.parse((REPO / "build.spec").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in ("QT_UNUSED", "OTHER_EXCLUDES"):
            names[node.targets[0].id] = ast.literal_eval(node.value)
    assert set(names) == {"QT_UNUSED", "OTHER_EXCLUDES"}, "build.spec lost its exclusion lists"
    return {f"PySide6.{m}" for m in names["QT_UNUSED"]} | set(names["OTHER_EXCLUDES"])


BLOCKER = r"""
import importlib.abc, sys
BLOCKED = {blocked!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in BLOCKED or any(name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"No module named {{name!r}} (build.spec leaves it out)")
sys.meta_path.insert(0, Block())
sys.path.insert(0, {repo!r})
"""


def _run_blocked(tmp_path, *args):
    code = BLOCKER.format(blocked=sorted(_spec_excludes()), repo=str(REPO)) + (
        "from ui.launch import main\nsys.exit(main(sys.argv[1:]))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NKBRIEF_")}
    env.update(NKBRIEF_DB=str(tmp_path / "store.sqlite3"), QT_QPA_PLATFORM="offscreen",
               HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_spec_excludes_no_module_the_window_needs(tmp_path):
    if not (REPO / "ui" / "app.py").exists():
        pytest.skip("ui/app.py is not written yet")
    shot = tmp_path / "w.png"
    r = _run_blocked(tmp_path, "--screenshot", str(shot))
    assert r.returncode == 0, r.stderr
    assert bundle_smoke.screenshot_problem(shot) is None


def test_spec_excludes_no_module_the_headless_commands_need(tmp_path):
    r = _run_blocked(tmp_path, "list", "--json")
    assert r.returncode == 0, r.stderr
    r = _run_blocked(tmp_path, "selfcheck")
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run_blocked(tmp_path, "pack", "--help")
    if r.returncode == 0:
        out = tmp_path / "p.xlsx"
        r = _run_blocked(tmp_path, "pack", "-o", str(out), "--classification", "UNCLASSIFIED")
        assert r.returncode == 0, r.stderr
        assert out.stat().st_size > 0


def test_spec_excludes_no_module_import_export_or_timing_need(tmp_path):
    """The lazily loaded paths: workbook and Korean CSV reading, the three export writers,
    the Monte Carlo timing test (numpy.random)."""
    r = _run_blocked(tmp_path, "import", "--help")
    if r.returncode != 0:
        pytest.skip("no import command yet")
    files = [(tmp_path / "a.csv", bundle_smoke.IMPORT_ROWS), (tmp_path / "b.xlsx", bundle_smoke.XLSX_ROWS),
             (tmp_path / "c.csv", bundle_smoke.CP949_ROWS)]
    bundle_smoke.write_csv(files[0][0], files[0][1])
    bundle_smoke.write_xlsx(files[1][0], files[1][1])
    bundle_smoke.write_csv(files[2][0], files[2][1], encoding="cp949")
    for path, rows in files:
        r = _run_blocked(tmp_path, "import", str(path))
        assert r.returncode == 0, f"{path.name}: {r.stdout}{r.stderr}"
    r = _run_blocked(tmp_path, "list", "--json", "--from", "2001-01-01", "--to", "2001-12-31")
    assert r.returncode == 0, r.stderr
    sites = {e["missile_name"]: e["launch_site"] for e in json.loads(r.stdout)}
    assert set(sites) == {row["missile_name"] for _, rows in files for row in rows}
    assert sites["Smoke-Test CP949"] == bundle_smoke.CP949_ROWS[0]["launch_site"]
    for ext in ("csv", "xlsx", "json"):
        out = tmp_path / f"out.{ext}"
        r = _run_blocked(tmp_path, "export", str(out), "--from", "2001-01-01", "--to", "2001-12-31")
        assert r.returncode == 0, f"export .{ext}: {r.stderr}"
        assert out.stat().st_size > 0
    r = _run_blocked(tmp_path, "timing", "--json", "--simulations", "200", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert 0 <= json.loads(r.stdout)["p_value"] <= 1


def test_spec_excludes_no_module_the_team_store_needs(tmp_path, pg_url):
    """The PostgreSQL engine and psycopg from source with every excluded module blocked (the
    standard library's ssl among them: libpq brings its own OpenSSL)."""
    r = _run_blocked(tmp_path, "admin", "--help")
    if r.returncode != 0:
        pytest.skip("no 'admin' command yet (the PostgreSQL engine)")
    r = _run_blocked(tmp_path, "admin", "init-server", pg_url)
    assert r.returncode == 0, r.stdout + r.stderr
    src = tmp_path / "team.csv"
    bundle_smoke.write_csv(src, bundle_smoke.TEAM_ROWS)
    r = _run_blocked(tmp_path, "import", str(src), "--db", pg_url)
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run_blocked(tmp_path, "list", "--json", "--from", bundle_smoke.TEAM_RANGE[0],
                     "--to", bundle_smoke.TEAM_RANGE[1], "--db", pg_url)
    assert r.returncode == 0, r.stderr
    assert sorted(e["missile_name"] for e in json.loads(r.stdout)) == sorted(
        row["missile_name"] for row in bundle_smoke.TEAM_ROWS)


# --------------------------------------------------------------------------- the built bundle
BUNDLE = os.environ.get("NKBRIEF_BUNDLE")


@pytest.fixture(scope="module")
def smoke():
    if not BUNDLE:
        pytest.skip("set NKBRIEF_BUNDLE=path/to/dist/nkbrief to test a built bundle")
    path = Path(BUNDLE)
    if not path.is_dir():
        pytest.fail(f"NKBRIEF_BUNDLE={BUNDLE} is not a folder")
    # the team store check needs a test server's Unix-socket URL (scripts/ci_bundle.sh makes one)
    report = bundle_smoke.run_smoke(path, pg_url=os.environ.get("NKBRIEF_SMOKE_PG") or None)
    return {c.name: c for c in report.checks}


def _expect(smoke, name):
    c = smoke[name]
    if c.status == "skip":
        pytest.skip(c.detail)
    assert c.status == "pass", c.detail


@pytest.mark.bundle
@pytest.mark.parametrize("check", ["network", "libraries", "selfcheck", "list", "gui", "import",
                                   "import-xlsx", "import-cp949", "import-big", "team-store", "export",
                                   "timing", "pack", "read-only"])
def test_bundle_works_offline(smoke, check):
    """The bundle starts and its commands work inside a namespace with no network."""
    _expect(smoke, check)


@pytest.mark.bundle
def test_bundle_writes_nothing_into_its_own_folder(smoke):
    """After every run above, the bundle folder is byte-for-byte, mtime-for-mtime the same."""
    _expect(smoke, "no-writes")
