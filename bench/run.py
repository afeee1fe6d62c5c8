"""Speed and memory goals as ratios against baselines measured in the same run.

    python bench/run.py [--quick] [--only NAME[,NAME...]]

Prints one JSON object: {name: {"value": s, "baseline": s, "ratio": r, "goal": g, ...}}.
Every ``bench/bench_*.py`` module contributes a ``BENCHMARKS`` dict of
``name -> fn(quick) -> {"value", "baseline", "goal", ...}`` (or {"skipped": reason}).
Exit status 0 even when a goal is missed: the numbers are for people to read, and a noisy
shared machine must not turn them into a failing build.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def collect() -> dict:
    benches: dict = {}
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        mod = importlib.import_module(f"bench.{path.stem}")
        benches.update(getattr(mod, "BENCHMARKS", {}))
    return benches


def run(names: list[str] | None, quick: bool) -> dict:
    benches = collect()
    unknown = [n for n in names or [] if n not in benches]
    if unknown:
        raise SystemExit(f"bench: unknown benchmark {unknown[0]!r} (have: {', '.join(sorted(benches))})")
    out = {}
    for name in names or sorted(benches):
        try:
            res = dict(benches[name](quick))
        except Exception as e:  # one broken benchmark must not hide the others
            traceback.print_exc(file=sys.stderr)
            res = {"error": f"{e.__class__.__name__}: {e}"}
        if "value" in res and res.get("baseline"):
            res["ratio"] = round(res["value"] / res["baseline"], 3)
            res["met"] = res["ratio"] <= res.get("goal", float("inf"))
        for k in ("value", "baseline"):
            if isinstance(res.get(k), float):
                res[k] = round(res[k], 6)
        out[name] = res
        print(f"bench: {name} done", file=sys.stderr)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller inputs; the whole run under a minute")
    p.add_argument("--only", help="comma-separated benchmark names")
    a = p.parse_args(argv)
    names = [n.strip() for n in a.only.split(",")] if a.only else None
    out = run(names, a.quick)
    print(json.dumps(out, indent=1))
    sys.stderr.write(summary(out))
    return 0


def summary(out: dict) -> str:
    """One line per benchmark: ratio, goal, met (and the extra ratio some report)."""
    lines = [f"{'benchmark':<20} {'value':>10} {'baseline':>10} {'ratio':>7} {'goal':>6}  met"]
    for name, r in out.items():
        if "ratio" not in r:
            lines.append(f"{name:<20} {r.get('skipped') or r.get('error') or 'no ratio'}")
            continue
        extra = f"  (vs pd.read_csv {r['ratio_read_csv']}x)" if "ratio_read_csv" in r else ""
        lines.append(f"{name:<20} {r['value']:>10.4g} {r['baseline']:>10.4g} {r['ratio']:>7.3f} "
                     f"{r.get('goal', float('nan')):>6}  {'yes' if r.get('met') else 'NO'}{extra}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
