"""Offline smoke test of the portable folder built by scripts/build_bundle.sh.

    python scripts/bundle_smoke.py [dist/nkbrief] [--json-report FILE] [--isolation MODE]

Runs the bundled executable with no network (a fresh network namespace: ``unshare -n``,
else ``ip netns``) and with HOME and the XDG folders pointed at a temporary directory, and
checks that:

- the namespace really has no network (only a loopback interface);
- every shared object in the bundle maps and finds its dependencies (Linux: the dynamic
  loader's list mode, as ldd), including plugins the offscreen runs below never load;
- ``selfcheck`` passes inside the bundle: openpyxl reports defusedxml active (and refuses an
  XML entity), the resources come from the bundle, the store path is the user-data folder;
- ``list --json`` works and the store lands in $XDG_DATA_HOME/nkbrief/, nowhere else;
- the window starts: ``--screenshot`` (offscreen) writes a PNG that is not blank;
- ``import`` works for a small UTF-8 CSV, a workbook (.xlsx, dates as Excel serials), a
  CP949 (Korean Windows) CSV and a CSV big enough for pandas' C tokenizer, and the events
  are then listed with their dates and Hangul site names intact: each loads modules that
  the others do not;
- ``export`` writes .csv, .xlsx and .json files holding the imported events;
- ``timing --json`` runs its Monte Carlo test and reports a p-value;
- ``pack -o`` writes a workbook where asked, with the timeline picture (drawn by Pillow)
  embedded and not blank;
- the team store: psycopg and its libpq load (selfcheck), and with a test server given
  (``--pg URL``, a Unix-socket URL since the namespace has no network; scripts/ci_bundle.sh
  starts one) ``admin init-server``, ``import --db URL`` and ``list --db URL`` work on it;
- the bundle still runs when its folder is mounted read-only (Linux, mount namespace);
- the bundle wrote nothing into its own folder during all of the above (the folder tree
  with sizes, modes and mtimes is compared before and after).

A check whose feature is not in the source tree yet (``ui/app.py``, the ``import``,
``export``, ``timing`` or ``pack`` command) is reported as SKIP with the reason; anything
else that goes wrong is a FAIL. Exit status 0 when nothing failed. Uses only the standard
library, so any Python 3.11+ can run it.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IS_WIN = sys.platform == "win32"
CMD_TIMEOUT = 180  # seconds for one run of the bundle (the window gets the same)

# Synthetic launches for the import check: dated inside the 1999-2006 flight-test
# moratorium so they cannot collide with a real event in the bundled dataset.
IMPORT_ROWS = [
    {"date": "2001-03-05", "missile_name": "Smoke-Test A", "missile_class": "SRBM", "count": "1",
     "distance_km": "250", "apogee_km": "50", "launch_site": "Bundle smoke test site",
     "description": "synthetic row written by scripts/bundle_smoke.py"},
    {"date": "2001-03-19", "missile_name": "Smoke-Test B", "missile_class": "MRBM", "count": "2",
     "distance_km": "800", "apogee_km": "200", "launch_site": "Bundle smoke test site",
     "description": "synthetic row written by scripts/bundle_smoke.py"},
]
IMPORT_RANGE = ("2001-03-01", "2001-03-31")
# The same kind of rows for the workbook and the Korean-encoded CSV, each in its own month
# of the moratorium. The workbook is written here with zipfile (no openpyxl on this side);
# the CP949 file makes the bundle load the Korean codec, which Python imports lazily.
XLSX_ROWS = [
    {**IMPORT_ROWS[0], "date": "2001-05-07", "missile_name": "Smoke-Test XLSX A"},
    {**IMPORT_ROWS[1], "date": "2001-05-21", "missile_name": "Smoke-Test XLSX B"},
]
XLSX_RANGE = ("2001-05-01", "2001-05-31")
CP949_ROWS = [
    {**IMPORT_ROWS[0], "date": "2001-07-09", "missile_name": "Smoke-Test CP949",
     "launch_site": "\ub3d9\ud574 \uc2dc\ud5d8\uc7a5"},  # Hangul: "Donghae test site"
]
CP949_RANGE = ("2001-07-01", "2001-07-31")
# A CSV large enough (over 200,000 characters) to be read by pandas' C tokenizer, the way big
# colleague files are (nkbrief.importing.io.tabular.COLUMNAR_MIN_CHARS): it loads pandas' parser
# modules, which the small files above never touch.
BIG_ROWS = [{**IMPORT_ROWS[i % 2], "date": f"2001-09-{1 + i % 28:02d}",
             "missile_name": f"Smoke-Test big {i:04d}",
             "description": "synthetic row written by scripts/bundle_smoke.py; " + "padding " * 40}
            for i in range(700)]
BIG_RANGE = ("2001-09-01", "2001-09-30")
# The team store check's rows (imported into the PostgreSQL test server, not the file store).
TEAM_ROWS = [{**IMPORT_ROWS[0], "date": "2001-11-05", "missile_name": "Smoke-Test team A"},
             {**CP949_ROWS[0], "date": "2001-11-19", "missile_name": "Smoke-Test team B"}]
TEAM_RANGE = ("2001-11-01", "2001-11-30")


# --------------------------------------------------------------------------- results
@dataclass
class Check:
    name: str
    status: str  # "pass" | "fail" | "skip"
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    bundle: str
    isolation: str
    checks: list[Check] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def add(self, name: str, status: str, detail: str = "", seconds: float = 0.0) -> Check:
        c = Check(name, status, detail, round(seconds, 3))
        self.checks.append(c)
        print(f"  {status.upper():4}  {name:<12} {detail}" + (f"  [{seconds:.1f} s]" if seconds else ""),
              flush=True)
        return c

    def as_dict(self) -> dict:
        return {"bundle": self.bundle, "isolation": self.isolation, "ok": self.ok,
                "checks": [asdict(c) for c in self.checks], "timings": self.timings}


# --------------------------------------------------------------------------- PNG
def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Decode an 8-bit, non-interlaced greyscale/RGB/RGBA PNG into (width, height, pixels).

    Enough for the screenshots Qt writes; anything else raises ValueError.
    """
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError("truncated PNG")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError("truncated PNG chunk")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        raise ValueError("PNG without IHDR or IDAT")
    width, height, depth, ctype, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {ctype}, interlace {interlace})")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError("PNG data does not match its size")
    prev = bytearray(stride)
    pixels: list[tuple[int, ...]] = []
    bpp = channels
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        elif ftype != 0:
            raise ValueError(f"bad PNG filter type {ftype} in row {y}")
        pixels.extend(tuple(line[i:i + channels]) for i in range(0, stride, channels))
        prev = line
    return width, height, pixels


def screenshot_problem(path: Path, *, min_size=(800, 500), min_colours=16,
                       max_share=0.95) -> str | None:
    """Why the PNG at ``path`` does not look like a drawn window, or None when it does."""
    if not path.is_file():
        return "no PNG was written"
    try:
        w, h, px = png_pixels(path.read_bytes())
    except (ValueError, zlib.error) as e:
        return f"unreadable PNG: {e}"
    if w < min_size[0] or h < min_size[1]:
        return f"PNG is only {w}x{h}"
    counts = Counter(px)
    top_share = counts.most_common(1)[0][1] / len(px)
    if len(counts) < min_colours:
        return f"PNG has only {len(counts)} colours (blank window?)"
    if top_share > max_share:
        return f"{top_share:.0%} of the PNG is one colour (blank window?)"
    return None


# --------------------------------------------------------------------------- folder snapshot
def snapshot(folder: Path) -> dict[str, tuple]:
    """Every file, folder and link under ``folder`` with its kind, size, mode and mtime."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in [*dirnames, *filenames, ""] if dirpath == str(folder) else [*dirnames, *filenames]:
            p = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(p)
            kind = "link" if stat.S_ISLNK(st.st_mode) else ("dir" if stat.S_ISDIR(st.st_mode) else "file")
            size = 0 if kind == "dir" else st.st_size
            out[os.path.relpath(p, folder)] = (kind, size, stat.S_IMODE(st.st_mode), st.st_mtime_ns)
    return out


def snapshot_diff(before: dict, after: dict) -> list[str]:
    """Human-readable differences between two snapshots (empty when identical)."""
    lines = [f"added {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    for p in sorted(before.keys() & after.keys()):
        if before[p] != after[p]:
            what = [n for n, a, b in zip(("kind", "size", "mode", "mtime"), before[p], after[p]) if a != b]
            lines.append(f"changed {p} ({', '.join(what)})")
    return lines


# --------------------------------------------------------------------------- isolation
class Isolation:
    """Runs commands without network: a prefix for the command line, and cleanup."""

    def __init__(self, name: str, prefix: list[str], cleanup=None, can_mount_ro: bool = False):
        self.name, self.prefix, self._cleanup, self.can_mount_ro = name, prefix, cleanup, can_mount_ro

    def wrap(self, argv: list[str], *, read_only: Path | None = None) -> list[str]:
        if read_only is None:
            return [*self.prefix, *argv]
        # A private mount namespace where the bundle folder is bind-mounted read-only.
        script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
        return ["unshare", "-n", "-m", "--", "sh", "-c", script, "sh", str(read_only), *argv]

    def close(self) -> None:
        if self._cleanup:
            self._cleanup()


def _works(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def make_isolation(mode: str) -> Isolation:
    """``auto`` tries unshare, then ip netns; ``none`` runs with the machine's network."""
    if mode == "none":
        return Isolation("none (network NOT isolated)", [])
    if mode in ("auto", "unshare") and shutil.which("unshare") and _works(["unshare", "-n", "--", "true"]):
        ro = _works(["unshare", "-n", "-m", "--", "sh", "-c",
                     'mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp && ! touch /tmp/.nkbrief-ro-probe'])
        return Isolation("unshare -n", ["unshare", "-n", "--"], can_mount_ro=ro)
    if mode in ("auto", "netns") and shutil.which("ip"):
        ns = f"nkbrief-smoke-{os.getpid()}"
        if _works(["ip", "netns", "add", ns]):
            return Isolation(f"ip netns {ns}", ["ip", "netns", "exec", ns],
                             cleanup=lambda: subprocess.run(["ip", "netns", "delete", ns], capture_output=True))
    raise SystemExit(f"bundle_smoke: cannot make a network namespace ({mode}); run as root on Linux, "
                     "or pass --isolation none to test without network isolation")


# --------------------------------------------------------------------------- the runs
def find_executable(bundle: Path) -> Path:
    for name in ("nkbrief.exe", "nkbrief"):
        if (bundle / name).is_file():
            return bundle / name
    raise SystemExit(f"bundle_smoke: no nkbrief executable in {bundle} (build it with scripts/build_bundle.sh)")


def make_env(root: Path) -> dict[str, str]:
    """A clean environment whose every user folder is under ``root``."""
    dirs = {k: root / k.lower() for k in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                                          "XDG_STATE_HOME", "XDG_RUNTIME_DIR", "TMPDIR")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    os.chmod(dirs["XDG_RUNTIME_DIR"], 0o700)  # Qt insists on a private runtime folder
    env = {k: str(v) for k, v in dirs.items()}
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), LANG="C.UTF-8", QT_QPA_PLATFORM="offscreen")
    if IS_WIN:
        env.update(USERPROFILE=env["HOME"], APPDATA=str(root / "appdata"),
                   LOCALAPPDATA=str(root / "localappdata"), TEMP=env["TMPDIR"], TMP=env["TMPDIR"],
                   SYSTEMROOT=os.environ.get("SYSTEMROOT", r"C:\Windows"))
        for k in ("APPDATA", "LOCALAPPDATA"):
            Path(env[k]).mkdir(parents=True, exist_ok=True)
    return env


def expected_store(env: dict[str, str]) -> Path:
    if IS_WIN:
        return Path(env["LOCALAPPDATA"]) / "nkbrief" / "nkbrief.sqlite3"
    if sys.platform == "darwin":
        return Path(env["HOME"]) / "Library" / "Application Support" / "nkbrief" / "nkbrief.sqlite3"
    return Path(env["XDG_DATA_HOME"]) / "nkbrief" / "nkbrief.sqlite3"


class Runner:
    def __init__(self, exe: Path, iso: Isolation, env: dict[str, str], cwd: Path):
        self.exe, self.iso, self.env, self.cwd = exe, iso, env, cwd

    def __call__(self, *args: str, read_only: Path | None = None,
                 timeout: float = CMD_TIMEOUT) -> tuple[subprocess.CompletedProcess, float]:
        argv = self.iso.wrap([str(self.exe), *args], read_only=read_only)
        t0 = time.perf_counter()
        try:
            r = subprocess.run(argv, env=self.env, cwd=self.cwd, capture_output=True, text=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            r = subprocess.CompletedProcess(argv, -9, e.stdout or "", f"timed out after {timeout} s")
        return r, time.perf_counter() - t0

    def has_command(self, name: str) -> bool | str:
        """True/False, or the error text when the executable cannot even answer --help."""
        r, _ = self(name, "--help", timeout=60)
        if r.returncode == 0:
            return True
        if "invalid choice" in (r.stderr or ""):
            return False
        return _tail(r)


def _tail(r: subprocess.CompletedProcess) -> str:
    text = ((r.stderr or "") + (r.stdout or "")).strip().splitlines()
    return f"exit {r.returncode}: " + (" | ".join(text[-3:]) if text else "(no output)")


def check_network(rep: Report, iso: Isolation, python: str) -> None:
    if not iso.prefix:
        rep.add("network", "skip", "no isolation requested (--isolation none)")
        return
    r = subprocess.run(iso.wrap([python, "-c", "import socket; print([n for _, n in socket.if_nameindex()])"]),
                       capture_output=True, text=True, timeout=60)
    names = r.stdout.strip()
    if r.returncode == 0 and names == "['lo']":
        rep.add("network", "pass", f"{iso.name}: interfaces {names}")
    else:
        rep.add("network", "fail", f"{iso.name}: expected only 'lo', got {names or _tail(r)}")


def _elf_interpreter(path: Path) -> str | None:
    """The program interpreter (dynamic loader) named in an ELF executable, if any."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        typ, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if typ == 3:  # PT_INTERP
            return data[off:off + filesz].rstrip(b"\0").decode()
    return None


def check_libraries(rep: Report, bundle: Path, exe: Path) -> None:
    """Every shared object in the bundle maps and finds its dependencies (Linux).

    The runs below load only what the offscreen window and the commands use; this covers
    the rest too (the xcb platform plugin, input methods...), and any library that the
    build's stripping or pruning damaged. Each file goes through the system's dynamic
    loader in list mode (what ldd does: map the object and its dependencies, run nothing),
    with the library path the bundle's bootloader sets.
    """
    loader = _elf_interpreter(exe) if sys.platform.startswith("linux") else None
    if not loader or not os.path.exists(loader):
        rep.add("libraries", "skip", "no ELF dynamic loader to ask (not Linux?)")
        return
    internal = bundle / "_internal"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LD_LIBRARY_PATH": str(internal)}
    t0, count, problems = time.perf_counter(), 0, []
    for path in sorted(internal.rglob("*")):
        if path.is_symlink() or not path.is_file() or ".so" not in path.name:
            continue
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        count += 1
        r = subprocess.run([loader, "--list", str(path)], env=env, capture_output=True, text=True, timeout=60)
        missing = sorted({line.split("=>")[0].strip() for line in r.stdout.splitlines()
                          if "not found" in line})
        if missing:
            problems.append(f"{path.relative_to(bundle)}: needs {', '.join(missing)}, not found")
        elif r.returncode != 0:
            problems.append(f"{path.relative_to(bundle)}: {(r.stderr or r.stdout).strip()[-160:]}")
    dt = time.perf_counter() - t0
    if problems:
        more = f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""
        rep.add("libraries", "fail",
                f"{len(problems)} of {count} do not load: " + "; ".join(problems[:4]) + more, dt)
    else:
        rep.add("libraries", "pass", f"all {count} shared objects map with their dependencies", dt)


def check_help_docs(rep: Report, bundle: Path) -> None:
    """The offline help (F1, ui/help_window.py) reads <bundle>/_internal/docs/*.md."""
    docs = bundle / "_internal" / "docs"
    pages = sorted(p.name for p in docs.glob("*.md")) if docs.is_dir() else []
    if "main_window.md" in pages:
        rep.add("help", "pass", f"{len(pages)} help pages bundled ({', '.join(pages)})")
    else:
        rep.add("help", "fail", f"no docs/main_window.md in {docs}: F1 would show no help")


def check_selfcheck(rep: Report, run: Runner, bundle: Path) -> None:
    r, dt = run("selfcheck", "--json")
    try:
        info = json.loads(r.stdout)
    except ValueError:
        rep.add("selfcheck", "fail", _tail(r), dt)
        return
    want_store = expected_store(run.env)
    res = Path(info.get("resources", {}).get("path", ""))
    problems = list(info.get("problems", []))
    d = info.get("defusedxml", {})
    if d.get("openpyxl_DEFUSEDXML") is not True or d.get("entities_refused") is not True:
        problems.append(f"defusedxml not active: {d}")
    if not info.get("frozen"):
        problems.append("the executable does not report itself frozen")
    if bundle.resolve() not in res.resolve().parents:
        problems.append(f"resources come from {res}, not from the bundle")
    if Path(info.get("store", {}).get("path", "")) != want_store:
        problems.append(f"store path {info.get('store', {}).get('path')} is not {want_store}")
    pg = info.get("postgresql_client") or {"error": "selfcheck does not report the team store's driver"}
    if pg.get("error") or pg.get("implementation") != "binary":
        problems.append(f"team store driver: {pg.get('error') or pg}")
    if r.returncode != 0 and not problems:
        problems.append(_tail(r))
    if problems:
        rep.add("selfcheck", "fail", "; ".join(problems), dt)
    else:
        lib = info["libraries"]
        rep.add("selfcheck", "pass", f"openpyxl {lib.get('openpyxl')} DEFUSEDXML=True, entity refused; "
                f"PySide6 {lib.get('PySide6_Essentials')}; psycopg {pg['psycopg']} with libpq {pg['libpq']}",
                dt)


def check_list(rep: Report, run: Runner) -> None:
    store = expected_store(run.env)
    r, dt = run("list", "--json")
    rep.timings["list"] = round(dt, 3)
    try:
        events = json.loads(r.stdout)
    except ValueError:
        rep.add("list", "fail", _tail(r), dt)
        return
    if r.returncode != 0 or not isinstance(events, list) or not events:
        rep.add("list", "fail", f"no events listed ({_tail(r)})", dt)
    elif not store.is_file():
        rep.add("list", "fail", f"{len(events)} events, but the store is not at {store}", dt)
    else:
        rep.add("list", "pass", f"{len(events)} events; store created at {store}", dt)


def check_gui(rep: Report, run: Runner, out_dir: Path) -> None:
    shot = out_dir / "window.png"
    r, dt = run("--screenshot", str(shot))
    rep.timings["screenshot"] = round(dt, 3)
    if r.returncode != 0 and "ui.app" in (r.stderr or "") and not (REPO / "ui" / "app.py").exists():
        rep.add("gui", "skip", "ui/app.py is not in the source tree yet, so the window is not built", dt)
        return
    if r.returncode != 0:
        rep.add("gui", "fail", _tail(r), dt)
        return
    problem = screenshot_problem(shot)
    if problem:
        rep.add("gui", "fail", problem, dt)
    else:
        rep.add("gui", "pass", f"--screenshot wrote a drawn {shot.name} ({shot.stat().st_size // 1024} KB)", dt)


# --------------------------------------------------------------------------- test files
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> None:
    """A minimal one-sheet workbook: text as inline strings, numbers as numbers, and the
    date column as Excel serial numbers with a date format, as a spreadsheet program
    saves them (so the bundle's reader converts dates, not only text)."""
    from xml.sax.saxutils import escape

    fields = list(rows[0])
    epoch = datetime.date(1899, 12, 30)
    lines = []
    for r, row in enumerate([dict(zip(fields, fields)), *rows], start=1):
        cells = []
        for c, field in enumerate(fields):
            ref, value = f"{_column(c)}{r}", row[field]
            if r > 1 and field == "date":
                serial = (datetime.date.fromisoformat(value) - epoch).days
                cells.append(f'<c r="{ref}" s="1"><v>{serial}</v></c>')
            elif r > 1 and re.fullmatch(r"\d+(\.\d+)?", value):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        lines.append(f'<row r="{r}">{"".join(cells)}</row>')
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    parts = {
        "[Content_Types].xml":
            f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" '
            f'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}styles+xml"/></Types>',
        "_rels/.rels":
            f'<Relationships xmlns="{_NS_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}"><sheets>'
            f'<sheet name="Launches" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<Relationships xmlns="{_NS_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_NS_REL}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml":
            f'<styleSheet xmlns="{_NS_MAIN}">'
            f'<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            f'<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            f'<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            f'<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            f'<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            f'</cellXfs></styleSheet>',
        "xl/worksheets/sheet1.xml":
            f'<worksheet xmlns="{_NS_MAIN}"><sheetData>{"".join(lines)}</sheetData></worksheet>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, head + body)


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> None:
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


# --------------------------------------------------------------------------- import, export, timing
#: What the import checks compare between the rows written and the events listed: the Korean
#: launch site catches a wrong decoding, the date a workbook date that was not converted.
_COMPARED = ("date", "missile_name", "launch_site")


def _listed(run: Runner, rng: tuple[str, str], *extra: str) -> list[tuple] | str:
    """(date, name, site) of the events ``list`` shows in the date range, or why listing failed."""
    r, _ = run("list", "--json", "--from", rng[0], "--to", rng[1], *extra)
    try:
        return sorted(tuple(e.get(k) for k in _COMPARED) for e in json.loads(r.stdout))
    except (ValueError, AttributeError, TypeError):
        return _tail(r)


def _import_check(rep: Report, run: Runner, name: str, src: Path, rows: list[dict],
                  rng: tuple[str, str]) -> None:
    """Import ``src`` into the bundle's store and check that exactly ``rows`` arrived."""
    r, dt = run("import", str(src))
    if r.returncode != 0:
        rep.add(name, "fail", _tail(r), dt)
        return
    got = _listed(run, rng)
    if isinstance(got, str):
        rep.add(name, "fail", f"imported, but listing failed: {got}", dt)
        return
    want = sorted(tuple(row[k] for k in _COMPARED) for row in rows)
    if got != want:
        rep.add(name, "fail", f"after import, {rng[0][:7]} lists {got}, expected {want}", dt)
    else:
        rep.add(name, "pass", f"{len(want)} events from {src.name} are in the store", dt)


def check_import(rep: Report, run: Runner, out_dir: Path) -> None:
    """CSV (UTF-8), .xlsx and CP949 CSV imports: each format loads different modules."""
    has = run.has_command("import")
    names = ("import", "import-xlsx", "import-cp949", "import-big")
    if has is not True:
        for name in names:
            if has is False:
                rep.add(name, "skip", "the bundle has no 'import' command yet")
            else:
                rep.add(name, "fail", f"'import --help' failed: {has}")
        return
    src = out_dir / "smoke_events.csv"
    write_csv(src, IMPORT_ROWS)
    _import_check(rep, run, "import", src, IMPORT_ROWS, IMPORT_RANGE)
    src = out_dir / "smoke_events.xlsx"
    write_xlsx(src, XLSX_ROWS)
    _import_check(rep, run, "import-xlsx", src, XLSX_ROWS, XLSX_RANGE)
    src = out_dir / "smoke_events_cp949.csv"
    write_csv(src, CP949_ROWS, encoding="cp949")
    _import_check(rep, run, "import-cp949", src, CP949_ROWS, CP949_RANGE)
    src = out_dir / "smoke_events_big.csv"
    write_csv(src, BIG_ROWS)
    _import_check(rep, run, "import-big", src, BIG_ROWS, BIG_RANGE)


def check_team_store(rep: Report, run: Runner, out_dir: Path, pg_url: str | None) -> None:
    """The team store on the PostgreSQL test server at ``pg_url`` (an empty database): set it
    up with ``admin init-server``, import a CSV into it and list the events back."""
    if not pg_url:
        rep.add("team-store", "skip", "no test server given (--pg URL; scripts/ci_bundle.sh starts one)")
        return
    has = run.has_command("admin")
    if has is False:
        rep.add("team-store", "skip", "the bundle has no 'admin' command yet (the PostgreSQL engine): "
                "only the driver was checked, by selfcheck")
        return
    if has is not True:
        rep.add("team-store", "fail", f"'admin --help' failed: {has}")
        return
    r, dt = run("admin", "init-server", pg_url)
    if r.returncode != 0:
        rep.add("team-store", "fail", f"admin init-server: {_tail(r)}", dt)
        return
    src = out_dir / "smoke_team.csv"
    write_csv(src, TEAM_ROWS)
    r, dt2 = run("import", str(src), "--db", pg_url)
    dt += dt2
    if r.returncode != 0:
        rep.add("team-store", "fail", f"import into the team store: {_tail(r)}", dt)
        return
    got = _listed(run, TEAM_RANGE, "--db", pg_url)
    want = sorted(tuple(row[k] for k in _COMPARED) for row in TEAM_ROWS)
    if got != want:
        rep.add("team-store", "fail", f"the team store lists {got}, expected {want}", dt)
    elif _listed(run, TEAM_RANGE) != []:
        rep.add("team-store", "fail", "the team store's rows also went into the file store", dt)
    else:
        rep.add("team-store", "pass", f"init-server, import and list of {len(want)} events on the "
                "PostgreSQL test server", dt)


def check_export(rep: Report, run: Runner, out_dir: Path) -> None:
    """``export`` of the smoke month to .csv, .xlsx and .json: each holds the imported rows."""
    has = run.has_command("export")
    if has is False:
        rep.add("export", "skip", "the bundle has no 'export' command yet")
        return
    if has is not True:
        rep.add("export", "fail", f"'export --help' failed: {has}")
        return
    want = sorted(row["missile_name"] for row in IMPORT_ROWS)
    problems, total = [], 0.0
    for ext in ("csv", "xlsx", "json"):
        out = out_dir / f"export.{ext}"
        r, dt = run("export", str(out), "--from", IMPORT_RANGE[0], "--to", IMPORT_RANGE[1])
        total += dt
        if r.returncode != 0:
            problems.append(f".{ext}: {_tail(r)}")
            continue
        try:
            if ext == "csv":
                with open(out, encoding="utf-8-sig", newline="") as f:
                    got = sorted(row["missile_name"] for row in csv.DictReader(f))
            elif ext == "json":
                doc = json.loads(out.read_text(encoding="utf-8"))
                got = sorted(e["missile_name"] for e in doc["events"])
            else:
                with zipfile.ZipFile(out) as z:
                    text = "".join(z.read(n).decode("utf-8") for n in z.namelist()
                                   if n.startswith("xl/") and n.endswith(".xml"))
                got = sorted(n for n in want if n in text)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as e:
            problems.append(f".{ext}: unreadable ({e!r})")
            continue
        if got != want:
            problems.append(f".{ext} holds {got}, expected {want}")
    if problems:
        rep.add("export", "fail", "; ".join(problems), total)
    else:
        rep.add("export", "pass", f"csv, xlsx and json each hold the {len(want)} imported events", total)


def check_timing(rep: Report, run: Runner) -> None:
    """``timing --json``: the Monte Carlo test runs (numpy.random) and reports a p-value."""
    has = run.has_command("timing")
    if has is False:
        rep.add("timing", "skip", "the bundle has no 'timing' command yet")
        return
    if has is not True:
        rep.add("timing", "fail", f"'timing --help' failed: {has}")
        return
    r, dt = run("timing", "--json", "--simulations", "500", "--seed", "7")
    rep.timings["timing"] = round(dt, 3)
    try:
        info = json.loads(r.stdout)
        p, launches, sims = info["p_value"], info["launches"], info["simulations"]
    except (ValueError, KeyError, TypeError):
        rep.add("timing", "fail", _tail(r), dt)
        return
    if r.returncode != 0 or not (0 <= p <= 1) or launches <= 0 or sims != 500:
        rep.add("timing", "fail", f"exit {r.returncode}, p={p}, launches={launches}, simulations={sims}", dt)
    else:
        rep.add("timing", "pass", f"{launches} launch days, p = {p:.3f} (500 simulations, seed 7)", dt)


def check_pack(rep: Report, run: Runner, out_dir: Path) -> None:
    has = run.has_command("pack")
    if has is False:
        rep.add("pack", "skip", "the bundle has no 'pack' command yet")
        return
    if has is not True:
        rep.add("pack", "fail", f"'pack --help' failed: {has}")
        return
    out = out_dir / "pack.xlsx"
    r, dt = run("pack", "-o", str(out), "--classification", "UNCLASSIFIED")
    rep.timings["pack"] = round(dt, 3)
    if r.returncode != 0:
        rep.add("pack", "fail", _tail(r), dt)
        return
    try:
        with zipfile.ZipFile(out) as z:
            wb = z.read("xl/workbook.xml").decode("utf-8")
            bad = z.testzip()
            images = {n: z.read(n) for n in z.namelist()
                      if n.startswith("xl/media/") and n.endswith(".png")}
    except (OSError, KeyError, zipfile.BadZipFile) as e:
        rep.add("pack", "fail", f"{out.name} is not a workbook: {e}", dt)
        return
    sheets = re.findall(r'<(?:\w+:)?sheet [^>]*name="([^"]+)"', wb)
    if bad or not sheets:
        rep.add("pack", "fail", f"{out.name}: damaged member {bad}" if bad else f"{out.name} has no sheets", dt)
        return
    # The timeline picture is drawn by Pillow (text through FreeType) and embedded by openpyxl.
    if not images:
        rep.add("pack", "fail", f"{out.name} embeds no timeline picture (no PNG in xl/media/)", dt)
        return
    for name, data in images.items():
        png = out_dir / Path(name).name
        png.write_bytes(data)
        problem = screenshot_problem(png, min_size=(600, 300))
        if problem:
            rep.add("pack", "fail", f"{out.name}: {name}: {problem}", dt)
            return
    rep.add("pack", "pass", f"{out.name}: {len(sheets)} sheets ({', '.join(sheets[:4])}"
            f"{', ...' if len(sheets) > 4 else ''}), {len(images)} drawn timeline picture(s)", dt)


def check_modes(rep: Report, run: Runner, out_dir: Path) -> None:
    """nkbrief's own folders are 0700 and its files 0600 under umask 022; a SECRET pack is 0600."""
    if IS_WIN:
        rep.add("modes", "skip", "Windows: the per-user profile folders' ACLs decide, not mode bits")
        return
    roots = [Path(run.env[k]) / "nkbrief" for k in ("XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                                      "XDG_CACHE_HOME", "XDG_STATE_HOME")]
    secret = out_dir / "secret-pack.xlsx"
    r, dt = run("pack", "-o", str(secret), "--classification", "SECRET")
    if r.returncode != 0:
        rep.add("modes", "fail", f"SECRET pack: {_tail(r)}", dt)
        return
    wrong = []
    seen = 0
    for top in roots:
        if not top.exists():
            continue
        for p in [top, *top.rglob("*")]:
            want = 0o700 if p.is_dir() else 0o600
            seen += 1
            got = stat.S_IMODE(p.lstat().st_mode)
            if got != want:
                wrong.append(f"{p.relative_to(top.parent.parent)} is {got:04o}, not {want:04o}")
    got = stat.S_IMODE(secret.stat().st_mode)
    if got != 0o600:
        wrong.append(f"the SECRET pack is {got:04o}, not 0600")
    if wrong:
        rep.add("modes", "fail", "; ".join(wrong[:6]), dt)
    else:
        rep.add("modes", "pass", f"{seen} own folders and files private (0700/0600) under umask 022; "
                "SECRET pack 0600", dt)


def check_read_only(rep: Report, run: Runner, bundle: Path) -> None:
    if not run.iso.can_mount_ro:
        rep.add("read-only", "skip", "no mount namespace here to make the folder read-only")
        return
    probe = run.iso.wrap(["sh", "-c", 'touch "$1/.nkbrief-ro-probe"', "sh", str(bundle)], read_only=bundle)
    if subprocess.run(probe, capture_output=True, timeout=60).returncode == 0:
        (bundle / ".nkbrief-ro-probe").unlink(missing_ok=True)
        rep.add("read-only", "fail", "could not make the bundle folder read-only for the test")
        return
    r1, dt1 = run("selfcheck", read_only=bundle)
    r2, dt2 = run("list", "--json", read_only=bundle)
    if r1.returncode != 0 or r2.returncode != 0:
        bad = r1 if r1.returncode != 0 else r2
        rep.add("read-only", "fail", f"with the folder read-only: {_tail(bad)}", dt1 + dt2)
    else:
        rep.add("read-only", "pass", "selfcheck and list work with the folder mounted read-only", dt1 + dt2)


def check_no_writes(rep: Report, before: dict, bundle: Path) -> None:
    diff = snapshot_diff(before, snapshot(bundle))
    if diff:
        more = f" (+{len(diff) - 8} more)" if len(diff) > 8 else ""
        rep.add("no-writes", "fail", "the bundle folder changed: " + "; ".join(diff[:8]) + more)
    else:
        rep.add("no-writes", "pass", f"{len(before)} entries in the bundle folder unchanged")


def run_smoke(bundle: Path, *, isolation: str = "auto", keep: bool = False,
              pg_url: str | None = None) -> Report:
    bundle = bundle.resolve()
    exe = find_executable(bundle)
    iso = make_isolation(isolation)
    rep = Report(str(bundle), iso.name)
    root = Path(tempfile.mkdtemp(prefix="nkbrief-smoke-"))
    umask = os.umask(0o022)  # the usual desktop umask: nkbrief must be private in spite of it
    try:
        env = make_env(root)
        out_dir = root / "outputs"
        out_dir.mkdir()
        run = Runner(exe, iso, env, cwd=out_dir)
        print(f"bundle smoke: {bundle} ({iso.name}; user folders under {root})", flush=True)
        before = snapshot(bundle)
        t0 = time.perf_counter()
        check_network(rep, iso, sys.executable)
        check_libraries(rep, bundle, exe)
        check_help_docs(rep, bundle)
        check_selfcheck(rep, run, bundle)
        check_list(rep, run)
        check_gui(rep, run, out_dir)
        check_import(rep, run, out_dir)
        check_team_store(rep, run, out_dir, pg_url)
        check_export(rep, run, out_dir)
        check_timing(rep, run)
        check_pack(rep, run, out_dir)
        check_modes(rep, run, out_dir)
        check_no_writes(rep, before, bundle)  # before the read-only run, which mounts over it
        check_read_only(rep, run, bundle)
        rep.timings["total"] = round(time.perf_counter() - t0, 3)
        stray = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                       if p.is_file() and "outputs" not in p.parts and p != expected_store(env)
                       and not p.name.startswith("nkbrief.sqlite3"))
        rep.timings["other_user_files"] = len(stray)
        if stray:
            print("  note  files written to the user folders besides the store: "
                  + ", ".join(stray[:6]) + (" ..." if len(stray) > 6 else ""))
    finally:
        os.umask(umask)
        iso.close()
        if keep:
            print(f"  kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return rep


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Offline smoke test of the portable nkbrief folder.")
    p.add_argument("bundle", nargs="?", default=str(REPO / "dist" / "nkbrief"),
                   help="the bundle folder (default: dist/nkbrief)")
    p.add_argument("--isolation", choices=("auto", "unshare", "netns", "none"), default="auto",
                   help="how to cut the network (default: unshare -n, else ip netns)")
    p.add_argument("--json-report", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--keep", action="store_true", help="keep the temporary user folders")
    p.add_argument("--pg", metavar="URL", default=os.environ.get("NKBRIEF_SMOKE_PG") or None,
                   help="an empty database on a PostgreSQL test server, reachable from inside the "
                        "network namespace (a Unix socket: postgresql://postgres@/DB?host=DIR&port=N); "
                        "default $NKBRIEF_SMOKE_PG")
    a = p.parse_args(argv)
    rep = run_smoke(Path(a.bundle), isolation=a.isolation, keep=a.keep, pg_url=a.pg)
    if a.json_report:
        Path(a.json_report).write_text(json.dumps(rep.as_dict(), indent=1), encoding="utf-8")
    counts = Counter(c.status for c in rep.checks)
    verdict = "PASS" if rep.ok else "FAIL"
    print(f"bundle smoke: {verdict} - checks passed {counts['pass']}, failing {counts['fail']}, "
          f"skipped {counts['skip']} ({rep.timings.get('total', 0):.1f} s)")
    return 0 if rep.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
