#!/usr/bin/env python3
"""Build resources/events.json from the public data in ../shared/data (re-runnable, deterministic).

    python scripts/build_dataset.py [--shared ../shared/data] [--out resources/events.json]
                                    [--reconciliation resources/RECONCILIATION.md]

The merge itself lives in nkbrief/importing/reconcile.py. This script adds the few analyst decisions
that no parser can make (listed in EDITORIAL below, each with its reason, which is copied
into the event's notes), writes the JSON, and refreshes the generated tables between the
markers in RECONCILIATION.md. The same inputs always give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nkbrief.importing import reconcile  # noqa: E402
from nkbrief.model import schema  # noqa: E402

NEWS_ANALYSIS = ("\"North Korea's Calculated Provocation Before Party Congress\" (news analysis, "
                 "machine-written from source articles; secondary source)")
KOREA_HERALD = "https://www.koreaherald.com/article/10663972"

#: Analyst decisions. Each entry must fit exactly one event (date + one of match_classes).
EDITORIAL: list[dict] = [
    {
        "date": "2026-01-27",
        "match_classes": {"SRBM", "MLRS", "unknown"},
        "site": "North of Pyongyang",
        "values": {
            "missile_name": "SRBM (suspected KN-25 600 mm MRL)",
            "count": 2,
            "outcome": "success",
            "landing_area": "East Sea (Sea of Japan)",
        },
        "description_lead": (
            "South Korea's Joint Chiefs of Staff detected several short-range ballistic missiles fired "
            "at about 15:50 KST from an area north of Pyongyang toward the East Sea (Sea of Japan); they "
            "flew about 350 km. Japan's Ministry of Defense counted two missiles with a peak altitude of "
            "about 80 km. Analysts suspected the 600 mm \"super-large\" multiple rocket launcher (KN-25). "
            "South Korea's presidential Office of National Security convened an emergency meeting, "
            "condemned the launch as a provocation that violates UN Security Council resolutions and "
            "urged Pyongyang to stop. It was the second launch of 2026, 23 days before the 9th Party "
            "Congress opened on 19 February, and came as US Under Secretary of Defense Colby left Seoul."
        ),
        "sources_append": [NEWS_ANALYSIS],
        "resolves": {"count": "count 2 follows Japan's MoD; CSIS's \"five missiles fired in two rounds\" is "
                              "quoted (see the editorial note on the count)."},
        "notes": [
            "Editorial: launch site given in JCS's words ('an area north of Pyongyang'); the coordinates "
            "are approximate — nagix's point for Pyongyang International Airport (Sunan), north of the city.",
            "Editorial: count 2 follows Japan's MoD (and the two nagix records); JCS said only 'multiple', "
            "CSIS says 'five missiles fired in two rounds' and KCNA (CSIS 2026-01-28) 'four rocket launches'.",
            "Editorial: outcome success — no source reports a failure; Japan's MoD tracked both missiles to "
            "about 340–350 km and KCNA claimed the rockets hit their target at 358.5 km.",
            "Editorial: leader attendance rests on the KCNA report carried by CSIS under 2026-01-28 "
            "(Kim Jong Un oversaw the 600 mm MRL test), read as this launch; JCS and Japan did not say.",
        ],
        "statements": [
            {"actor": "Pyongyang",
             "summary": "Tests like this one let the North show off technical progress, build support at "
                        "home and signal resolve abroad in the run-up to the party congress.",
             "source": "North Korea's Calculated Provocation Before Party Congress"},
            {"actor": "Seoul",
             "summary": "Each launch tests Seoul's balance between deterrence and diplomacy: a hard line risks "
                        "escalation, restraint risks more provocations, and North Korea policy divides the "
                        "parties at home. The presidential Office of National Security met in emergency "
                        "session, called the launch a breach of UN Security Council resolutions and urged "
                        "the North to stop.",
             "source": f"North Korea's Calculated Provocation Before Party Congress; {KOREA_HERALD}"},
            {"actor": "Washington",
             "summary": "Washington has paid comparatively little attention lately and must weigh its "
                        "alliance commitments against wider strategic priorities.",
             "source": "North Korea's Calculated Provocation Before Party Congress"},
            {"actor": "Tokyo",
             "summary": "Tokyo cites the North Korean threat as grounds for strengthening its own defence "
                        "capabilities.",
             "source": "North Korea's Calculated Provocation Before Party Congress"},
            {"actor": "Beijing",
             "summary": "As the North's patron, Beijing tries to rein in excessive provocations: it sees them "
                        "as destabilising, yet also as leverage against US influence in the region.",
             "source": "North Korea's Calculated Provocation Before Party Congress"},
        ],
    },
    {
        "date": "2026-01-04",
        "match_classes": {"MRBM", "HGV", "IRBM", "unknown"},
        "cls": "HGV",
        "values": {"missile_name": "Hwasong-11E (hypersonic, per KCNA)",
                   "distance_km": 900.0, "distance_km_max": 950.0, "distance_qualifier": None},
        "description_lead": (
            "North Korea fired ballistic missiles from the Pyongyang area toward the East Sea from about "
            "07:50 KST; JCS put the flight at about 900 km. KCNA called it a drill of a hypersonic weapon "
            "system overseen by Kim Jong Un, with targets about 1,000 km away. It was the first launch of "
            "2026 and came hours before President Lee Jae-myung left for Beijing, where he met Xi Jinping "
            "on 5 January."
        ),
        "sources_append": [NEWS_ANALYSIS],
        "notes": [
            "Editorial: class HGV rather than IRBM — KCNA called the system hypersonic, Japan's MoD (via "
            "nagix) reported an irregular trajectory at about 50 km altitude, and nagix's missile file marks "
            "the Hwasong-11E with a glide manoeuvre; a 900–950 km flight is far short of IRBM range "
            "(nagix itself types the Hwasong-11E as an MRBM).",
            "Editorial: distance 900–950 km — JCS about 900 km (news), Japan's MoD 900 and 950 km for the "
            "two missiles (nagix); the range shows both rather than one figure.",
        ],
    },
]


#: Source rows whose values are plainly wrong, corrected before anything is built from them.
#: Each has a note with the reason; the row keeps its source_ref and carries the note.
ROW_FIXES: dict[str, dict] = {
    "CNS F1 181": {
        "dist": 360.0, "apo": 540.0,
        "note": ("Correction: CNS gives distance 540 km and apogee 360 km (its text likewise), swapped "
                 "against CSIS 2022-05-25 'Ballistic Missile Launch' (the suspected ICBM \"flew around 360 "
                 "kilometers ... with a top altitude of 540 km\"); distance 360 km, apogee 540 km."),
    },
}

#: Decisions on numbers that disagree with a cited source (the build's numeric cross-check,
#: reconcile.cross_check) or counts that differ from the per-missile rows. Each says why.
NUMBER_DECISIONS: list[dict] = [
    {"date": "1993-05-30", "match_classes": {"SRBM"},
     "resolves": {"count": "CSIS's \"at least 2 Hwasongs-5 and 6 missiles\" is the text CSIS files under both "
                           "29 and 30 May 1993 for the whole two-day series, the Nodong included; CNS, which "
                           "says the number of missiles tested is unclear, has one row for 30 May. The CNS "
                           "count is kept."}},
    {"date": "2009-07-05", "match_classes": {"MRBM"},
     "resolves": {"count": "CSIS's count \"5 Scud missiles\" is of the Scuds (the SRBM event's five CNS rows); "
                           "the same sentence gives \"2 Nodong missiles\", this event's two rows."}},
    *({"date": d, "match_classes": {"SRBM"},
       "resolves": {"count": f"CNS has one KN-02 row for the day; CSIS says \"{said}\" and cites no "
                             "detection source. The per-missile count is kept and CSIS's figure quoted."}}
      for d, said in (("2014-06-26", "3 short-range missiles"), ("2014-08-14", "three short-range rockets"),
                      ("2014-09-06", "three short-range missiles"))),
    {"date": "2017-03-06", "match_classes": {"MRBM"},
     "resolves": {"count": "CNS F1 103 records a fifth missile believed launched with the four and failed "
                           "shortly after launch; the four that CSIS reports are the ones that flew. CNS's "
                           "five rows are kept."}},
    {"date": "2019-09-10", "match_classes": {"SRBM"},
     "resolves": {"count": "JCS tracked two (CSIS); the images released by state media show a third launch, "
                           "read by CNS as failed early in flight. CNS's three rows are kept."}},
    *({"date": "2022-11-02", "match_classes": {"SRBM"}, "match_site": site,
       "resolves": {"count": "CSIS's \"about 25 missiles of different types\" counts every missile of the day, "
                             "surface-to-air missiles included (CNS: \"at least 23 missile launches including "
                             "both ballistic and surface-to-air missiles\"); this event's count is its CNS rows."}}
      for site in ("Uiju", "Wonsan Kalma International Airport")),
    {"date": "2022-11-03", "match_classes": {"ICBM"},
     "resolves": {"count": "CSIS's count \"2 SRBMs\" is of the two SRBMs fired from Kaechon after the ICBM "
                           "(their own event); this event is the one ICBM."}},
    {"date": "2022-11-03", "match_classes": {"SRBM"}, "match_site": "Koksan",
     "resolves": {f: ("CSIS's row describes the morning launches only (the ICBM, 760 km and about 1,920 km "
                      "apogee, and two SRBMs from Kaechon); this evening launch from Koksan (JCS: three SRBMs, "
                      "490 km, apogee about 130 km, per CNS) is not in it.")
                  for f in ("count", "distance", "apogee")}},
    {"date": "2024-05-30", "match_classes": {"SRBM"},
     "values": {"count_qualifier": "at least"},
     "resolves": {"count": "JCS first estimated \"approximately 10\" (CSIS 2024-05-30); the later count, "
                           "\"at least eighteen\" (nagix, from JCS and the North's release of eighteen "
                           "launchers), is kept with its qualifier."}},
    {"date": "2024-11-05", "match_classes": {"SRBM"},
     "values": {"count": 7, "count_qualifier": "at least"},
     "resolves": {"count": "nagix has a single record for \"several SRBMs\"; Japan's Ministry of Defense "
                           "counted \"at least 7\" (CSIS 2024-11-04). Count at least 7."},
     "count_reason": "the one nagix record describes the whole salvo (\"several SRBMs\"), not one missile."},
    {"date": "2026-03-14", "match_classes": {"SRBM"},
     "count_reason": ("nagix lists twelve records (\"1 of 12\" … \"12 of 12\") with one time and identical "
                      "figures; the news reports (\"~10\") and CSIS (\"an estimated 10\") give about ten. "
                      "The event keeps about 10; the twelve nagix records stay as per-missile rows.")},
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_files(shared: Path) -> dict[str, str]:
    names = [reconcile.CNS_FILE, reconcile.CSIS_FILE,
             f"{reconcile.NAGIX_DIR}/test.en.json", f"{reconcile.NAGIX_DIR}/facility.en.json",
             f"{reconcile.NAGIX_DIR}/missile.en.json", reconcile.NEWS_FILE, reconcile.SEED_FILE]
    return {n: sha256(shared / n) for n in names}


def check_statement_actors(shared: Path) -> None:
    """The statements paraphrase the seed notes' table: make sure its five actors are there."""
    text = (shared / reconcile.SEED_FILE).read_text(encoding="utf-8")
    for ed in EDITORIAL:
        for s in ed.get("statements", []):
            if f"| {s['actor']} |" not in text:
                raise SystemExit(f"{s['actor']} is not in {reconcile.SEED_FILE}'s stakeholder table")


def build_bundle(shared: Path) -> tuple[dict, reconcile.Built]:
    check_statement_actors(shared)
    built = reconcile.build(shared, EDITORIAL + NUMBER_DECISIONS, ROW_FIXES)
    problems = []
    for e in built.events:
        rep = schema.validate_event(e)
        if not rep.ok:
            problems.append(f"event {e['id']}: {rep}")
    for m in built.missiles:
        rep = schema.validate_missile(m)
        if not rep.ok:
            problems.append(f"missile {m['event_id']}#{m['seq']}: {rep}")
    for s in built.statements:
        rep = schema.validate_statement(s)
        if not rep.ok:
            problems.append(f"statement {s['event_id']}/{s['actor']}: {rep}")
    if problems:
        raise SystemExit("invalid records:\n" + "\n".join(problems))
    bundle = {
        "generated_by": "scripts/build_dataset.py",
        "inputs": input_files(shared),
        "events": built.events,
        "missiles": built.missiles,
        "statements": built.statements,
    }
    return bundle, built


def dumps(bundle: dict) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=1) + "\n"


# ----------------------------------------------------------------------------- RECONCILIATION.md

BEGIN = "<!-- BEGIN GENERATED by scripts/build_dataset.py: do not edit by hand -->"
END = "<!-- END GENERATED -->"


def _cell(v: object) -> str:
    return str(v if v is not None else "").replace("|", "\\|").replace("\n", " ")


def generated_tables(built: reconcile.Built) -> str:
    log = built.log
    ev_ids = {id(ev): e["id"] for e, ev in zip(built.events, built.evs)}
    out: list[str] = []
    out.append(f"Events: **{len(built.events)}**; missile rows: **{len(built.missiles)}**; "
               f"statements: **{len(built.statements)}**.\n")
    by_origin = Counter(ev.origin for ev in built.evs)
    out.append("| events built from | count |\n|---|---|")
    labels = dict(cns="CNS rows", nagix="nagix records (after the CNS cut-off)", csis="CSIS rows only",
                  news="news notes only (Japan MoD reports after 2026-08-20)")
    for k in ("cns", "nagix", "csis", "news"):
        out.append(f"| {labels[k]} | {by_origin.get(k, 0)} |")
    out.append("")
    out.append("| input rows and what became of them | count |\n|---|---|")
    for k, v in sorted(log.counts.items()):
        out.append(f"| {_cell(k)} | {v} |")
    out.append("")

    decided = [b for b in log.basis]
    how = Counter(b["how"] for b in decided)
    out.append("### Date-basis decisions\n")
    out.append(f"{len(decided)} CNS/nagix groups needed a decision: a UTC time of 15:00 or later (so the "
               "Korean date depended on the basis), or no time and a CSIS row only on the next day. "
               "Decided by: " +
               ", ".join(f"{k} {v}" for k, v in sorted(how.items())) + ".\n")
    out.append("| source rows | date in source | UTC time | class | site | basis | KST date | decided by | evidence |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for b in decided:
        basis = {"utc": "UTC date", "local": "Korean date", "next": "UTC date (no time)"}[b["basis"]]
        out.append(f"| {_cell(b['refs'])} | {b['raw']} | {b['clock']} | {b['cls']} | {_cell(b['site'])} | "
                   f"{basis} | {b['kst']} | {_cell(b['how'])} | {_cell(b['evidence'])} |")
    out.append("")

    out.append("### CSIS rows matched one day apart, or by their own text's date\n")
    out.append("| CSIS date | CSIS event | matched to | why |\n|---|---|---|---|")
    for c in log.csis:
        r = c["row"]
        if c["result"] == "matched" and (c["detail"] != "same date" or r.get("stated_date")) \
                and c["detail"] != "same month":
            ids = ", ".join(ev_ids[id(ev)] for ev in c["events"])
            why = c["detail"]
            if r.get("stated_date"):
                why += f"; text says \"{r['stated_text']}\" ({r['stated_date']})"
            out.append(f"| {r['date']} | {_cell(r['event'])} | {ids} | {_cell(why)} |")
    out.append("")

    out.append("### Every CSIS missile row\n")
    out.append("| CSIS date | CSIS event | class | result | event id |\n|---|---|---|---|---|")
    for c in sorted(log.csis, key=lambda c: (c["row"]["date"], c["row"]["row"])):
        r = c["row"]
        ids = ", ".join(ev_ids[id(ev)] for ev in c.get("events", []))
        res = c["result"] + ("" if c["result"] != "excluded" else f": {c['detail']}")
        if c["result"] == "matched":
            res += f" ({c['detail']})"
        out.append(f"| {r['date']} | {_cell(r['event'])} | {r['missile_class'] or '—'} | {_cell(res)} | {ids} |")
    out.append("")

    out.append("### 2025–26 news notes applied\n")
    out.append("| date | event | values changed |\n|---|---|---|")
    for n in log.news:
        ids = ", ".join(ev_ids[id(ev)] for ev in n["events"]) or "(no event)"
        out.append(f"| {n['row'].date} | {ids} | {_cell('; '.join(n.get('changed', [])) or 'sources and notes only')} |")
    out.append("")
    out.append("### Source rows corrected\n")
    out.append("| source row | correction and reason |\n|---|---|")
    for ref, fix in log.fixes:
        out.append(f"| {ref} | {_cell(fix['note'])} |")
    out.append("")

    out.append("### Numeric cross-check: figures more than 10% apart\n")
    out.append("Every count, distance and apogee checked against every source row the event cites "
               "(`reconcile.cross_check`). Each disagreement is resolved by a decision (below) or shown as a "
               "range with both sources; the build refuses any other.\n")
    out.append("| event id | field | event | source | source's figures | resolution |\n|---|---|---|---|---|---|")
    for c in log.checks:
        lo, hi = c["event_value"]
        shown = reconcile._fmt_km(lo) + ("" if hi == lo else f"–{reconcile._fmt_km(hi)}")
        said = ", ".join(schema.number_text(x, None, q) for x, q in c["source_values"])
        out.append(f"| {ev_ids[id(c['ev'])]} | {c['field']} | {shown} | {_cell(c['source'])} | {_cell(said)} | "
                   f"{_cell(c['resolved'])} |")
    out.append("")

    out.append("### Decisions on numbers\n")
    out.append("| event id | field | decision |\n|---|---|---|")
    for e, ev in zip(built.events, built.evs):
        for fld, why in ev.resolved.items():
            out.append(f"| {e['id']} | {fld} | {_cell(why)} |")
        if ev.count_reason and ev.count_reason != ev.resolved.get("count"):
            out.append(f"| {e['id']} | count against the missile rows | {_cell(ev.count_reason)} |")
    out.append("")

    out.append("### Confirmation of events not from CNS\n")
    out.append("CNS events keep CNS's Confirmation Status. Every other event is *confirmed* only when a named "
               "government detection source is cited for it (`reconcile.decide_confirmation`).\n")
    out.append("| event id | confirmation | basis |\n|---|---|---|")
    for e, ev in zip(built.events, built.evs):
        if ev.origin == "cns":
            continue
        basis = next((n for n in ev.notes if n.startswith("Confirmation:")), "")
        basis = basis.split(" — ", 1)[-1]
        out.append(f"| {e['id']} | {e['confirmation']} | {_cell(basis)} |")
    out.append("")
    if log.warnings:
        out.append("### Warnings\n")
        out += [f"- {_cell(w)}" for w in log.warnings]
        out.append("")
    return "\n".join(out)


def update_reconciliation(path: Path, built: reconcile.Built) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Reconciliation\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n## Generated tables\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n\n{generated_tables(built)}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "resources" / "events.json")
    ap.add_argument("--reconciliation", type=Path, default=REPO / "resources" / "RECONCILIATION.md",
                    help="refresh the generated tables in this file ('-' to skip)")
    args = ap.parse_args(argv)
    if not (args.shared / reconcile.CNS_FILE).exists():
        print(f"{args.shared} does not hold the public data files", file=sys.stderr)
        return 2
    try:
        bundle, built = build_bundle(args.shared)
    except ValueError as e:  # a contradiction the build refuses: say which, no traceback
        print(f"build refused: {e}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dumps(bundle), encoding="utf-8")
    if str(args.reconciliation) != "-":
        update_reconciliation(args.reconciliation, built)
    print(f"{args.out}: {len(bundle['events'])} events, {len(bundle['missiles'])} missiles, "
          f"{len(bundle['statements'])} statements")
    for w in built.log.warnings:
        print("warning:", w, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
