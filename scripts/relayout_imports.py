"""Rewrite imports of nkbrief modules from the old flat layout to the sub-package layout (issue 12).

    python scripts/relayout_imports.py --move        # git mv every module (done once, in the layout commit)
    python scripts/relayout_imports.py [FILES...]     # rewrite old module paths in FILES (default: the repo)

The second form is safe to run again: it only touches names of the old layout. It exists so that a
branch started before the layout change can be merged and then brought up to date in one step
(`git merge` carries edits into the moved files by rename detection; the import lines those edits
added still name the old modules, and this script rewrites them).

What it rewrites: import statements (absolute and relative, at any indentation, split into one
statement per target module when the names of one statement now live in different packages, with an
alias when a module's own name changed), dotted names outside import statements ("nkbrief.analysis.timing" in
a string or a comment), and paths ("nkbrief/briefing/pack.py"). Relative imports stay relative and are
recomputed from the file's new place.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: old module -> new module. Packages that became modules or the reverse are listed as modules.
MOVES: dict[str, str] = {
    "nkbrief.model.schema": "nkbrief.model.schema",
    "nkbrief.model.parse": "nkbrief.model.parse",
    "nkbrief.model.classification": "nkbrief.model.classification",
    "nkbrief.model.palette": "nkbrief.model.palette",
    "nkbrief.store": "nkbrief.store",
    "nkbrief.store.dataset": "nkbrief.store.dataset",
    "nkbrief.importing.importer": "nkbrief.importing.importer",
    "nkbrief.importing.merge": "nkbrief.importing.merge",
    "nkbrief.importing.convert": "nkbrief.importing.convert",
    "nkbrief.importing.mapping": "nkbrief.importing.mapping",
    "nkbrief.importing.incoming": "nkbrief.importing.incoming",
    "nkbrief.importing.reconcile": "nkbrief.importing.reconcile",
    "nkbrief.importing.io": "nkbrief.importing.io",
    "nkbrief.importing.io.cns": "nkbrief.importing.io.cns",
    "nkbrief.importing.io.csis": "nkbrief.importing.io.csis",
    "nkbrief.importing.io.nagix": "nkbrief.importing.io.nagix",
    "nkbrief.importing.io.public": "nkbrief.importing.io.public",
    "nkbrief.importing.io.sniff": "nkbrief.importing.io.sniff",
    "nkbrief.importing.io.tabular": "nkbrief.importing.io.tabular",
    "nkbrief.importing.io.xlsx_guard": "nkbrief.importing.io.xlsx_guard",
    "nkbrief.jobs.calendar_io": "nkbrief.jobs.calendar_io",
    "nkbrief.analysis.context": "nkbrief.analysis.context",
    "nkbrief.analysis.filtering": "nkbrief.analysis.filtering",
    "nkbrief.analysis.timing": "nkbrief.analysis.timing",
    "nkbrief.analysis.geo": "nkbrief.analysis.geo",
    "nkbrief.exporting.export": "nkbrief.exporting.export",
    "nkbrief.exporting.xlsx_safe": "nkbrief.exporting.xlsx_safe",
    "nkbrief.briefing.pack": "nkbrief.briefing.pack",
    "nkbrief.briefing.sheets": "nkbrief.briefing.sheets",
    "nkbrief.briefing.summary": "nkbrief.briefing.summary",
    "nkbrief.briefing.timeline_png": "nkbrief.briefing.timeline_png",
    "nkbrief.briefing.xlsx_stream": "nkbrief.briefing.xlsx_stream",
    "nkbrief.briefing.xlsx_values": "nkbrief.briefing.xlsx_values",
    "nkbrief.cli": "nkbrief.cli",
    "nkbrief.cli": "nkbrief.cli",
    "nkbrief.cli.core": "nkbrief.cli.core",
    "nkbrief.cli.importing": "nkbrief.cli.importing",
    "nkbrief.cli.pack": "nkbrief.cli.pack",
    "nkbrief.cli.selfcheck": "nkbrief.cli.selfcheck",
    "nkbrief.cli.timing": "nkbrief.cli.timing",
    # Added on other branches at the same time as the layout change; `git mv` them after the merge:
    "nkbrief.model.rules": "nkbrief.model.rules",  # issue 13: the one value-rule table belongs to the model
    # modules added on branches that ran beside the layout change (issues 13, 14)
    "nkbrief.analysis.totals": "nkbrief.analysis.totals",
    "nkbrief.analysis.catalogue": "nkbrief.analysis.catalogue",
    "nkbrief.cli.edit": "nkbrief.cli.edit",
}

#: Modules of the new layout that are packages (their file is __init__.py).
NEW_PACKAGES = {"nkbrief", "nkbrief.model", "nkbrief.store", "nkbrief.importing", "nkbrief.importing.io",
                "nkbrief.jobs", "nkbrief.analysis", "nkbrief.exporting", "nkbrief.briefing.pack", "nkbrief.cli"}
OLD_PACKAGES = {"nkbrief", "nkbrief.importing.io", "nkbrief.cli"}

#: Modules that exist in both layouts under the same name (so they are not "old" names).
UNCHANGED = {"nkbrief", "nkbrief.atomic", "nkbrief.progress", "nkbrief.resources", "nkbrief.selection",
             "nkbrief.filenames"}


def old_path(mod: str) -> str:
    p = mod.replace(".", "/")
    return p + "/__init__.py" if mod in OLD_PACKAGES else p + ".py"


def new_path(mod: str) -> str:
    p = mod.replace(".", "/")
    return p + "/__init__.py" if mod in NEW_PACKAGES else p + ".py"


def map_module(mod: str) -> str:
    """The new name of an old module name (unchanged names pass through)."""
    return MOVES.get(mod, mod)


def is_old_module(mod: str) -> bool:
    return mod in MOVES or mod in UNCHANGED


def module_of(path: Path) -> tuple[str, bool] | None:
    """(module name, is package) of a file in the repo, by its current place; None outside packages."""
    rel = path.resolve().relative_to(REPO)
    if rel.parts[0] not in ("nkbrief", "ui"):
        return None
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def resolve(node: ast.ImportFrom, pkg_old: str | None) -> str | None:
    if not node.level:
        return node.module
    if pkg_old is None:
        return None
    base = pkg_old.split(".")
    base = base[: len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def relative(importer_pkg: str, target: str) -> str:
    p, t = importer_pkg.split("."), target.split(".")
    common = 0
    while common < min(len(p), len(t)) and p[common] == t[common]:
        common += 1
    level = len(p) - common + 1
    return "." * level + ".".join(t[common:])


def _new_file(mod: str) -> Path | None:
    for cand in (REPO / (mod.replace(".", "/") + ".py"), REPO / mod.replace(".", "/") / "__init__.py"):
        if cand.exists():
            return cand
    return None


_DEFINED: dict[Path, set[str]] = {}


def _defined_in(path: Path) -> set[str]:
    if path not in _DEFINED:
        names: set[str] = set()
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, OSError):
            tree = ast.Module(body=[], type_ignores=[])
        for n in tree.body:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
            elif isinstance(n, (ast.Assign, ast.AnnAssign)):
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                    names.update(x.id for x in ast.walk(t) if isinstance(x, ast.Name))
            # names a package only imports do not count: `from . import x` in an __init__ that
            # moved is exactly the ambiguous case
        _DEFINED[path] = names
    return _DEFINED[path]


def valid_now(target: str | None, names: list[str]) -> bool:
    """Does `from target import names` already work in the new layout (so it must be left alone)?"""
    if target is None or not target.startswith("nkbrief"):
        return True
    f = _new_file(target)
    if f is None:
        return False
    if f.name != "__init__.py":
        return True
    return all(n == "*" or _new_file(f"{target}.{n}") is not None or n in _defined_in(f) for n in names)


def rewrite_importfrom(node: ast.ImportFrom, src_seg: str, old_pkg: str | None, new_pkg: str | None,
                       indent: str) -> str | None:
    """The replacement text of one `from X import ...` statement, or None to leave it."""
    if valid_now(resolve(node, new_pkg) if node.level else node.module, [a.name for a in node.names]):
        return None
    target = resolve(node, old_pkg)
    if target is None or not is_old_module(target):
        return None
    groups: dict[str, list[str]] = {}
    for a in node.names:
        sub = f"{target}.{a.name}"
        if a.name != "*" and is_old_module(sub):
            new = map_module(sub)
            mod, _, base = new.rpartition(".")
            local = a.asname or a.name
            groups.setdefault(mod, []).append(base if base == local else f"{base} as {local}")
        else:
            groups.setdefault(map_module(target), []).append(
                a.name if not a.asname else f"{a.name} as {a.asname}")

    def spell(mod: str) -> str:
        if node.level and new_pkg is not None and mod.startswith("nkbrief"):
            return relative(new_pkg, mod)
        return mod

    if len(groups) == 1:
        (mod, _), = groups.items()
        if (node.level and new_pkg is not None and spell(mod) == ("." * node.level + (node.module or ""))
                and all(f"{target}.{a.name}" not in MOVES for a in node.names)):
            return None
        # only the module part changes: keep the statement's own formatting of the names
        m = re.match(r"from\s+([.\w]+)\s+import", src_seg)
        if m and all(f"{target}.{a.name}" not in MOVES for a in node.names):
            new_text = src_seg[: m.start(1)] + spell(mod) + src_seg[m.end(1):]
            return None if new_text == src_seg else new_text
    lines = []
    for mod, names in groups.items():
        lines.append(f"from {spell(mod)} import {', '.join(names)}")
    comment = ""
    return ("\n" + indent).join(lines) + comment


def rewrite_import(node: ast.Import, src_seg: str) -> str | None:
    changed = False
    parts = []
    for a in node.names:
        new = map_module(a.name) if is_old_module(a.name) and _new_file(a.name) is None else a.name
        changed |= new != a.name
        parts.append(new if not a.asname else f"{new} as {a.asname}")
    return f"import {', '.join(parts)}" if changed else None


_DOTTED = None
_PATHS = None


def _patterns():
    global _DOTTED, _PATHS
    if _DOTTED is None:
        olds = sorted((m for m, n in MOVES.items() if m != n), key=len, reverse=True)
        # "nkbrief.briefing.pack" is an old module and a new package: leave names inside the package
        _DOTTED = re.compile(r"(?<![\w.])(" + "|".join(re.escape(m) for m in olds) + r")(?![\w])"
                             r"(?!\.(?:pack|sheets|summary|timeline_png|xlsx_stream|xlsx_values)\b)")
        paths = {}
        for m, n in MOVES.items():
            if m == n:
                continue
            paths[old_path(m)] = new_path(n)
            if m in OLD_PACKAGES:
                paths[m.replace(".", "/") + "/"] = n.replace(".", "/") + "/"
        keys = sorted(paths, key=len, reverse=True)
        _PATHS = (re.compile(r"(?<![\w/])(" + "|".join(re.escape(k) for k in keys) + r")"), paths)
    return _DOTTED, _PATHS


def rewrite_text(text: str) -> str:
    dotted, (paths_re, paths) = _patterns()

    def dot(m: re.Match) -> str:
        return MOVES[m.group(1)]

    text = paths_re.sub(lambda m: paths[m.group(1)], text)
    return dotted.sub(dot, text)


def rewrite_source(text: str, old_mod: tuple[str, bool] | None, new_mod: tuple[str, bool] | None) -> str:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return rewrite_text(text)
    lines = text.splitlines(keepends=True)
    offs = [0]
    for ln in lines:
        offs.append(offs[-1] + len(ln))

    def off(lineno: int, col: int) -> int:
        return offs[lineno - 1] + len(lines[lineno - 1][:col].encode("utf-8").decode("utf-8", "ignore")) \
            if False else offs[lineno - 1] + _col_chars(lines[lineno - 1], col)

    def pkg(m: tuple[str, bool] | None) -> str | None:
        if m is None:
            return None
        name, is_pkg = m
        return name if is_pkg else name.rpartition(".")[0]

    old_pkg, new_pkg = pkg(old_mod), pkg(new_mod)
    edits: list[tuple[int, int, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            a, b = off(node.lineno, node.col_offset), off(node.end_lineno, node.end_col_offset)
            seg = text[a:b]
            indent = lines[node.lineno - 1][: node.col_offset]
            if isinstance(node, ast.ImportFrom):
                new = rewrite_importfrom(node, seg, old_pkg, new_pkg, indent)
            else:
                new = rewrite_import(node, seg)
            edits.append((a, b, new))
    edits.sort()
    out, pos = [], 0
    for a, b, new in edits:
        out.append(rewrite_text(text[pos:a]))
        out.append(text[a:b] if new is None else new)
        pos = b
    out.append(rewrite_text(text[pos:]))
    return "".join(out)


def _col_chars(line: str, col_bytes: int) -> int:
    return len(line.encode("utf-8")[:col_bytes].decode("utf-8"))


def files_in_repo() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    keep = (".py", ".spec", ".sh", ".toml", ".md")
    return [REPO / f for f in out.splitlines() if f.endswith(keep) and f != "scripts/relayout_imports.py"]


def old_name_of(path: Path, moved_back: dict[str, str]) -> tuple[str, bool] | None:
    """The module this file was in the old layout (to resolve its relative imports)."""
    cur = module_of(path)
    if cur is None:
        return None
    return moved_back.get(cur[0] + ("/pkg" if cur[1] else ""), cur)


def do_move() -> None:
    for old, new in MOVES.items():
        src, dst = REPO / old_path(old), REPO / new_path(new)
        if old in OLD_PACKAGES and old != "nkbrief":
            continue  # packages: their __init__ is listed separately below
        if src == dst or not src.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "mv", str(src), str(dst)], cwd=REPO, check=True)
    # the old io package's __init__ becomes the new one's; the commands package's goes
    subprocess.run(["git", "mv", "nkbrief/importing/io/__init__.py", "nkbrief/importing/io/__init__.py"], cwd=REPO,
                   check=True)
    subprocess.run(["git", "rm", "-q", "nkbrief/cli/__init__.py"], cwd=REPO, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--move", action="store_true", help="git mv the modules, then rewrite the repo")
    ap.add_argument("--first-pass", action="store_true",
                    help="files are still at their old paths (relative imports resolve by the old layout)")
    ap.add_argument("files", nargs="*", type=Path)
    args = ap.parse_args()
    back: dict[str, tuple[str, bool]] = {}
    for old, new in MOVES.items():
        back[new + ("/pkg" if new in NEW_PACKAGES else "")] = (old, old in OLD_PACKAGES)
    back["nkbrief.cli/pkg"] = ("nkbrief.cli", False)  # cli.py became the package; commands/ joined it
    if args.move:
        do_move()
    files = [f.resolve() for f in args.files] or files_in_repo()
    changed = 0
    for f in files:
        if not f.exists():
            continue
        text = f.read_text(encoding="utf-8")
        cur = module_of(f) if f.suffix == ".py" else None
        if f.suffix == ".py":
            old = old_name_of(f, back) if args.move else _old_for_merge(f, cur, back)
            new = rewrite_source(text, old, cur)
        else:
            new = rewrite_text(text)
        if new != text:
            f.write_text(new, encoding="utf-8")
            changed += 1
    print(f"relayout: {changed} file(s) rewritten", file=sys.stderr)
    return 0


def _old_for_merge(path: Path, cur, back):
    """After a merge, a moved file's relative imports were written for its old place."""
    if cur is None:
        return None
    key = cur[0] + ("/pkg" if cur[1] else "")
    return back.get(key, cur)


if __name__ == "__main__":
    raise SystemExit(main())
