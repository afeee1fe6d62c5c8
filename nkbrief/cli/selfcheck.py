"""selfcheck: report what this installation is made of and whether it is safe to use.

Meant for administrators who deploy the portable folder and for the bundle smoke test:
it prints versions, whether openpyxl parses workbooks through defusedxml, where the store
lives and where the bundled resources are, each path nkbrief uses with its mode and owner,
and exits non-zero when a check fails (among them: a store other users can read). It never
creates the store or any other file; like every start of nkbrief, it does tighten nkbrief's
own folders and its own store when they are wider than owner-only, and says so.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from .. import __version__, privacy
# Deferred (start-up): the project modules a command needs are imported inside it (see
# COMMAND_MODULES in nkbrief/cli/__init__.py for the measurement).
from ..cli import _add_db

#: Files the app cannot work without (seed dataset, calendar, map coastline).
REQUIRED_RESOURCES = ("events.json", "calendar.csv", "coastline.json", "systems.json", "sites.json")

#: (distribution, module) pairs reported by version. The Qt ones are looked up by
#: metadata only: the core never imports Qt.
_LIBRARIES = [
    ("openpyxl", "openpyxl"),
    ("defusedxml", "defusedxml"),
    ("pandas", "pandas"),
    ("numpy", "numpy"),
    ("pillow", "PIL"),
    ("platformdirs", "platformdirs"),
    ("PySide6_Essentials", None),
    ("shiboken6", None),
    ("pyqtgraph", None),
]

# A document with an internal entity: harmless here, but the pattern behind "billion
# laughs". defusedxml refuses any entity declaration; the standard parser expands it.
_ENTITY_PROBE = '<!DOCTYPE x [<!ENTITY a "expanded">]><x>&a;</x>'


def _version(dist: str, module: str | None) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        pass
    if module is None:
        return None
    try:
        return getattr(importlib.import_module(module), "__version__", "unknown")
    except ImportError:
        return None


def _qt_present() -> bool:
    # find_spec on a top-level name locates the package without importing it.
    try:
        return importlib.util.find_spec("PySide6") is not None
    except (ImportError, ValueError):
        return False


def defusedxml_status() -> dict:
    """Whether openpyxl reads XML through defusedxml, checked by flag and by behaviour, and
    whether nkbrief's own cell reader (which parses the sheets openpyxl opens) refuses the
    same entity."""
    out: dict = {"openpyxl_DEFUSEDXML": None, "entities_refused": None, "error": None,
                 "cell_reader_refuses": None}
    try:
        import openpyxl
        from openpyxl.xml import functions as xml_functions
    except ImportError as e:
        out["error"] = f"openpyxl cannot be imported: {e}"
        return out
    out["openpyxl_DEFUSEDXML"] = bool(getattr(openpyxl, "DEFUSEDXML", False))
    try:
        xml_functions.fromstring(_ENTITY_PROBE)
        out["entities_refused"] = False
    except Exception as e:  # defusedxml raises EntitiesForbidden (a ValueError)
        out["entities_refused"] = type(e).__name__ == "EntitiesForbidden"
        if not out["entities_refused"]:
            out["error"] = f"unexpected {type(e).__name__}: {e}"
    from ..importing.io.xlsx_rows import shared_strings  # Deferred: only selfcheck needs the reader

    try:
        shared_strings(io.BytesIO(_ENTITY_PROBE.encode()))
        out["cell_reader_refuses"] = False
    except Exception as e:  # XmlRefused
        out["cell_reader_refuses"] = type(e).__name__ == "XmlRefused"
        if not out["cell_reader_refuses"] and not out["error"]:
            out["error"] = f"the cell reader: unexpected {type(e).__name__}: {e}"
    return out


def postgresql_client() -> dict:
    """The team store's driver: psycopg, its implementation and the libpq it loaded (the
    binary wheel brings its own). Loads psycopg, which nothing else does for a SQLite store."""
    out: dict = {"psycopg": None, "implementation": None, "libpq": None, "error": None}
    try:
        import psycopg
    except ImportError as e:
        out["error"] = f"psycopg cannot be imported: {e}"
        return out
    out["psycopg"] = psycopg.__version__
    try:
        out["implementation"] = psycopg.pq.__impl__
        v = psycopg.pq.version()  # e.g. 170004 is 17.4, 90624 is 9.6.24
        out["libpq"] = f"{v // 10000}.{v % 100}" if v >= 100000 else f"{v // 10000}.{v // 100 % 100}.{v % 100}"
    except Exception as e:  # libpq missing or unloadable
        out["error"] = f"libpq cannot be loaded: {e}"
    return out


def _store_values(path: Path, problems: list[str]) -> list[dict]:
    """Stored values that break the value rules, read through a read-only connection (the
    store is never created or changed here); each is a problem."""
    from ..common import shown
    from ..store import stored_values_outside_rules

    bad, problem = stored_values_outside_rules(path)
    if problem:
        problems.append(problem)
    for b in bad:
        problems.append(f"store: event {shown(b['id'])!r} has {b['field']} {shown(b['value'])!r}, "
                        f"which {b['reason']}")
    return [{k: (v if isinstance(v, (str, int, float)) or v is None else str(v)) for k, v in b.items()}
            for b in bad]


def collect(args=None) -> dict:
    """Everything selfcheck reports, plus ``problems``: a list of failed checks."""
    from ..resources import resources_dir
    from ..store import default_db_path, default_db_target, is_server_target

    problems: list[str] = []
    frozen = bool(getattr(sys, "frozen", False))
    db_arg = getattr(args, "db", None) if args is not None else None
    team = db_arg.strip() if is_server_target(db_arg) else None
    if db_arg is None and is_server_target(default_db_target()):
        team = str(default_db_target())
    store_path = None if team else (Path(db_arg).expanduser() if db_arg else default_db_path())
    store_source = "--db" if db_arg else ("NKBRIEF_DB" if os.environ.get("NKBRIEF_DB") else "user-data folder")

    res = resources_dir()
    missing = [n for n in REQUIRED_RESOURCES if not (res / n).is_file()]
    if not res.is_dir():
        problems.append(f"resources folder not found: {res}")
    elif missing:
        problems.append(f"resources folder {res} lacks {', '.join(missing)}")

    defused = defusedxml_status()
    if defused["error"]:
        problems.append(f"defusedxml check: {defused['error']}")
    if defused["openpyxl_DEFUSEDXML"] is False:
        why = " (OPENPYXL_DEFUSEDXML is set to something other than True)" \
            if os.environ.get("OPENPYXL_DEFUSEDXML", "True") != "True" else ""
        problems.append(f"openpyxl does not use defusedxml{why}: workbooks would be parsed unprotected")
    elif defused["entities_refused"] is False:
        problems.append("openpyxl expanded an XML entity: defusedxml is not in effect")
    if defused["cell_reader_refuses"] is False:
        problems.append("nkbrief's .xlsx cell reader expanded an XML entity: its refusals are not in effect")

    try:
        hashlib.sha256(b"nkbrief").hexdigest()
    except Exception as e:  # import batches record file hashes
        problems.append(f"sha256 unavailable: {e}")

    paths, tightened, warnings = _private_paths(store_path, problems)
    if team:
        store = _team_store(team, problems) | {"source": store_source}
    else:
        store = {"path": str(store_path), "source": store_source, "exists": store_path.is_file(),
                 "values_outside_rules": _store_values(store_path, problems)}

    pg_client = postgresql_client()
    if frozen and pg_client["error"]:  # the portable folder must carry the team store's driver
        problems.append(f"team store driver: {pg_client['error']}")

    versions = {dist: _version(dist, module) for dist, module in _LIBRARIES}
    for dist in ("openpyxl", "defusedxml", "pandas", "numpy"):
        if versions[dist] is None:
            problems.append(f"{dist} is not installed")

    return {
        "nkbrief": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "frozen": frozen,
        "executable": sys.executable,
        "app_folder": str(Path(sys.executable).resolve().parent) if frozen else None,
        "libraries": versions,
        "qt_available": _qt_present(),
        "postgresql_client": pg_client,
        "defusedxml": defused,
        "store": store,
        "resources": {"path": str(res), "missing": missing},
        "paths": paths,
        "tightened": tightened,
        "warnings": warnings,
        "crash_log": _crash_log(),
        "problems": problems,
    }


def _team_store(target: str, problems: list[str]) -> dict:
    """A team store on a server, checked through one connection that changes nothing (an
    older schema is reported, not upgraded): reachable, its schema, whether this login may
    write, stored values that break the rules."""
    # Deferred (start-up): psycopg comes with the server module (about 0.19 s, see nkbrief/store).
    from ..common import shown
    from ..store import SCHEMA_VERSION, StoreError, pg, values_outside_rules

    out: dict = {"path": target, "engine": "postgresql", "exists": False, "schema": None,
                 "read_only_reason": None, "values_outside_rules": []}
    try:
        conn = pg.connect(target)
    except StoreError as e:
        problems.append(f"store: {e}")
        return out
    try:
        out["where"] = conn.where
        out["schema"] = pg.check_store(conn, SCHEMA_VERSION)
        out["exists"] = True
        out["read_only_reason"] = conn.read_only_reason()
        if out["schema"] < SCHEMA_VERSION:
            problems.append(f"store: {conn.where} is at schema {out['schema']}; its owner's next "
                            f"connection (or nkbrief admin init-server) upgrades it to {SCHEMA_VERSION}")
        else:
            bad = values_outside_rules(conn, typed=True)
            for b in bad:
                problems.append(f"store: event {shown(b['id'])!r} has {b['field']} {shown(b['value'])!r}, "
                                f"which {b['reason']}")
            out["values_outside_rules"] = [{k: (v if isinstance(v, (str, int, float)) or v is None else str(v))
                                            for k, v in b.items()} for b in bad]
    except StoreError as e:
        problems.append(f"store: {e}")
    finally:
        conn.close()
    return out


def _private_paths(store_path: Path | None, problems: list[str]) -> tuple[list[dict], list[str], list[str]]:
    """Each path nkbrief uses with its mode and owner; tighten nkbrief's own, judge the store.

    A store in nkbrief's own data folder is tightened like the folders; a store the analyst
    chose elsewhere (--db, NKBRIEF_DB) is left as it is and only reported. ``store_path``
    None: the store is on a server (no file to judge).
    """
    warnings: list[str] = []
    tightened: list[str] = []
    try:
        tightened += privacy.tighten_own_folders()
        if store_path is not None and store_path.is_file() and privacy.is_own_store(store_path):
            tightened += privacy.tighten_store(store_path)
    except OSError as e:
        problems.append(f"cannot make nkbrief's own files private: {e}")
    folders = privacy.user_folders()
    entries = [] if store_path is None else [("store", p) for p in privacy.store_files(store_path)]
    if store_path is not None:
        entries.append(("store folder", store_path.parent))
    entries += [(f"{kind} folder", p) for kind, p in folders.items()]
    entries.append(("settings", privacy.settings_file()))
    paths = []
    for kind, p in entries:
        d = privacy.describe(p)
        d["kind"] = kind
        paths.append(d)
        if kind == "store" and d["others_can_read"]:
            problems.append(f"the store file {p} is readable by other users (mode {d['mode']}): "
                            f"run chmod 600 on it, or move it to a private folder")
    if store_path is not None and privacy.others_can_access(store_path.parent) \
            and not privacy.is_own_store(store_path):
        warnings.append(f"the store's folder {store_path.parent} is open to other users "
                        f"(mode {privacy.describe(store_path.parent)['mode']}): it was chosen with "
                        "--db or NKBRIEF_DB and is left as it is")
    return paths, tightened, warnings

def _crash_log() -> dict:
    """Where the window writes tracebacks of unexpected errors (see nkbrief/crashlog.py)."""
    from ..crashlog import log_path

    p = log_path()
    return {"path": str(p), "exists": p.is_file()}


def _print_text(info: dict) -> None:
    lines = [
        f"nkbrief {info['nkbrief']}  (Python {info['python']}, {info['platform']})",
        f"  build        {'portable bundle in ' + info['app_folder'] if info['frozen'] else 'source run'}",
    ]
    for dist, v in info["libraries"].items():
        lines.append(f"  {dist:<21}{v or 'not installed'}")
    lines.append(f"  {'Qt (PySide6)':<21}{'present' if info['qt_available'] else 'missing: window unavailable'}")
    pg = info["postgresql_client"]
    lines.append(f"  {'PostgreSQL client':<21}" + (pg["error"] or f"psycopg {pg['psycopg']} "
                 f"({pg['implementation']}), libpq {pg['libpq']}"))
    d = info["defusedxml"]
    lines.append(f"  {'openpyxl.DEFUSEDXML':<21}{d['openpyxl_DEFUSEDXML']}"
                 f"  (XML entities refused: {d['entities_refused']}; by the cell reader: "
                 f"{d['cell_reader_refuses']})")
    s = info["store"]
    if s.get("engine") == "postgresql":
        state = (("read-only: " + s["read_only_reason"]) if s["read_only_reason"] else "writable") \
            if s["exists"] else "not reachable"
        lines.append(f"  {'store':<21}{s['path']}  [{s['source']}; team store, schema {s['schema']}; {state}]")
    else:
        lines.append(f"  {'store':<21}{s['path']}  [{s['source']}; "
                     f"{'exists' if s['exists'] else 'created on first use'}]")
    r = info["resources"]
    lines.append(f"  {'resources':<21}{r['path']}" + (f"  MISSING {', '.join(r['missing'])}" if r["missing"] else ""))
    c = info["crash_log"]
    lines.append(f"  {'crash log':<21}{c['path']}  [{'exists' if c['exists'] else 'created on the first error'}]")
    lines.append("  paths (mode, owner):")
    for d in info["paths"]:
        state = f"{d['mode']} {d['owner']}".rstrip() if d["exists"] else "not created yet"
        lines.append(f"    {d['kind']:<19}{state:<16}{d['path']}")
    lines += [f"  tightened: {t}" for t in info["tightened"]]
    lines += [f"  warning: {w}" for w in info["warnings"]]
    if info["problems"]:
        lines.append("FAILED:")
        lines += [f"  - {p}" for p in info["problems"]]
    else:
        lines.append("OK")
    sys.stdout.write("\n".join(lines) + "\n")


def cmd_selfcheck(args) -> int:
    info = collect(args)
    if args.json:
        sys.stdout.write(json.dumps(info, indent=1) + "\n")
    else:
        _print_text(info)
    return 1 if info["problems"] else 0


def register(sub) -> None:
    p = sub.add_parser("selfcheck", help="report versions, XML safety, store and resource paths; "
                       "exit 1 if something is wrong")
    p.add_argument("--json", action="store_true", help="the report as one JSON object")
    _add_db(p)
    p.set_defaults(func=cmd_selfcheck)
