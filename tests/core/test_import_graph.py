"""The import graph of nkbrief/ and ui/: the layers of docs/architecture.md, and no cycles.

Read with the standard library's ``ast`` (nothing is imported), so a broken module still gets
its edges checked. Every import counts, also one inside a function (that is how cycles hid
before), except under ``if TYPE_CHECKING:`` (never run) and in ``if __name__ == "__main__":``
preview blocks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("nkbrief", "ui")

#: layer -> the layers it may import, besides itself and nkbrief's top-level modules ("neutral":
#: small helpers that import nothing of the project but each other; the model may not use them).
ALLOWED = {
    "model": set(),
    "store": {"model"},
    "analysis": {"model"},
    "importing": {"model", "store", "analysis"},  # the system catalogue and site gazetteer
    "exporting": {"model", "store", "importing"},
    "briefing": {"model", "store", "analysis", "exporting"},
    "jobs": {"model", "store", "analysis", "importing", "exporting", "briefing"},
    "cli": {"model", "store", "analysis", "importing", "exporting", "briefing", "jobs"},
    "ui": {"model", "store", "analysis", "jobs"},
    "launcher": {"cli"},  # ui/launch.py: the program's entry point, above both front ends
    "neutral": set(),
}

#: The marker a function-level import of a project module must come with: it is only there
#: to keep start-up fast, and the comment says by how much.
DEFERRED_MARK = "Deferred (start-up)"


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for f in sorted((REPO / pkg).rglob("*.py")):
            parts = list(f.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def layer(name: str) -> str:
    """ "ui", the sub-package of nkbrief a module is in, or "neutral" (nkbrief's top level)."""
    if name == "ui.launch":
        return "launcher"
    if name.split(".")[0] == "ui":
        return "ui"
    parts = name.split(".")
    if len(parts) > 1 and (REPO / "nkbrief" / parts[1] / "__init__.py").exists():
        return parts[1]
    return "neutral"


def _skip_block(node: ast.If) -> bool:
    t = node.test
    if isinstance(t, ast.Name) and t.id == "TYPE_CHECKING":
        return True
    if isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING":
        return True
    return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__")


def _imports(name: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for every import in ``name``."""
    f = MODULES[name]
    tree = ast.parse(f.read_text(encoding="utf-8"))
    pkg = name if _is_package(name) else name.rpartition(".")[0]
    out: list[tuple[str, int, bool]] = []

    def target(mod: str, attr: str | None) -> str | None:
        if attr and f"{mod}.{attr}" in MODULES:
            return f"{mod}.{attr}"
        while mod and mod not in MODULES:
            mod = mod.rpartition(".")[0]
        return mod or None

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _skip_block(child):
                for n in child.orelse:
                    visit(n, in_function)
                continue
            if isinstance(child, ast.Import):
                for a in child.names:
                    if a.name.split(".")[0] in PACKAGES:
                        t = target(a.name, None)
                        if t:
                            out.append((t, child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = pkg.split(".")
                    base = base[: len(base) - child.level + 1]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                if mod.split(".")[0] not in PACKAGES:
                    continue
                for a in child.names:
                    t = target(mod, a.name)
                    if t:
                        out.append((t, child.lineno, in_function))
            else:
                inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                visit(child, inner)

    visit(tree, False)
    return [(t, line, fn) for t, line, fn in out if t != name]


GRAPH = {name: _imports(name) for name in MODULES}


def test_the_graph_was_read():
    assert "nkbrief.store" in MODULES and "ui.app" in MODULES
    assert any(t == "nkbrief.store" for t, _, _ in GRAPH["nkbrief.importing.merge"])


def find_cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in edges:
        if v not in index:
            strong(v)
    return cycles


def layer_violations(graph: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    bad = []
    for m, imps in graph.items():
        src = layer(m)
        for t, line, _ in imps:
            dst = layer(t)
            if src == dst or dst == "neutral" and src != "model" or src == "launcher" and dst == "ui":
                continue
            if dst not in ALLOWED[src]:
                bad.append(f"{m}:{line}: {src} imports {dst} ({t})")
    return bad


def test_the_checks_can_fail():
    assert find_cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert find_cycles({"a": ["b"], "b": []}) == []
    fake = {"ui.app": [("nkbrief.importing.importer", 1, False)],
            "nkbrief.importing.merge": [("nkbrief.exporting.export", 2, True)],
            "nkbrief.model.schema": [("nkbrief.progress", 3, False)],
            "nkbrief.briefing.pack": [("nkbrief.analysis.timing", 4, False)]}
    assert layer_violations(fake) == ["ui.app:1: ui imports importing (nkbrief.importing.importer)",
                                      ("nkbrief.importing.merge:2: importing imports exporting "
                                       "(nkbrief.exporting.export)"),
                                      "nkbrief.model.schema:3: model imports neutral (nkbrief.progress)"]


def test_no_import_cycles():
    edges = {m: sorted({t for t, _, _ in GRAPH[m] if t in MODULES}) for m in MODULES}
    cycles = find_cycles(edges)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_layers():
    bad = layer_violations(GRAPH)
    assert not bad, "\n".join(bad)


def test_model_imports_nothing_of_the_project():
    bad = [f"{m} imports {t}" for m, imps in GRAPH.items() if layer(m) == "model"
           for t, _, _ in imps if layer(t) != "model"]
    assert not bad, bad


def test_neutral_modules_import_only_each_other():
    bad = [f"{m} imports {t}" for m, imps in GRAPH.items() if layer(m) == "neutral"
           for t, _, _ in imps if layer(t) != "neutral"]
    assert not bad, bad


def test_core_never_imports_ui():
    bad = [f"{m} imports {t}" for m, imps in GRAPH.items() if m.startswith("nkbrief")
           for t, _, _ in imps if t.startswith("ui")]
    assert not bad, bad


def test_importing_never_imports_exporting_or_briefing():
    bad = [f"{m} imports {t}" for m, imps in GRAPH.items() if layer(m) == "importing"
           for t, _, _ in imps if layer(t) in ("exporting", "briefing")]
    assert not bad, bad


def test_function_level_imports_say_why():
    bad = []
    for m, imps in GRAPH.items():
        text = MODULES[m].read_text(encoding="utf-8")
        for t, line, in_function in imps:
            if in_function and DEFERRED_MARK not in text:
                bad.append(f"{MODULES[m].relative_to(REPO)}:{line}: imports {t} inside a function")
    assert not bad, (f"a function-level import of a project module needs a '# {DEFERRED_MARK}: ...' "
                     "comment with the measured saving, or should move to the top:\n" + "\n".join(bad))


def test_at_most_ten_top_level_modules():
    top = [p.name for p in (REPO / "nkbrief").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= 10, sorted(top)


@pytest.mark.parametrize("layer_name", sorted(k for k in ALLOWED if k not in ("ui", "neutral", "launcher")))
def test_every_layer_is_a_package(layer_name):
    assert (REPO / "nkbrief" / layer_name / "__init__.py").exists()


def test_no_sql_outside_the_store():
    import re

    sql = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|PRAGMA\s+\w)")
    bad = []
    for m, f in MODULES.items():
        if m == "nkbrief.store" or m.startswith("nkbrief.store."):
            continue
        text = f.read_text(encoding="utf-8")
        if ".execute(" in text or ".executemany(" in text:
            bad.append(f"{f.relative_to(REPO)}: calls execute")
        if sql.search(text):
            bad.append(f"{f.relative_to(REPO)}: holds SQL text")
    assert not bad, bad
