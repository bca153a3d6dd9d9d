"""How many questions the web interview asks before its first output is decided, against how many
fields that output depends on, for each shipped sample person.

The interview is replayed with the calls its page makes (solver.web.service): start from nobody,
ask the top field of the consult ranking over the output asked about (the page's "ask about":
employee_is_employee for a sample with employee-scheme fields, resident_category for the others),
answer it from the sample (or skip it when the sample leaves it out, as a person would), until the
output is proved whatever the missing fields are. "Depends on": the inputs the output's rules,
definitions and defaults read. "asked" counts every question (skipped ones too), "fewer" is
asked < depends on: the Must-show figure of the interview.

    .venv/bin/python bench/interview.py [RULES]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/explain.py would shadow the
# `explain` package: drop the folder.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from solver.cases import collect  # noqa: E402
from solver.web.service import Service  # noqa: E402


def main() -> int:
    rules = Path(sys.argv[1] if len(sys.argv) > 1 else "rules/shanghai")
    service = Service(rules)
    print(
        f"{'sample':<34} {'first decided output':<22} {'asked':>5} {'answered':>8} {'depends on':>10} "
        f"{'fewer':>5} {'s':>6}"
    )
    totals = [0, 0]
    fewer = 0
    samples = collect([rules / "samples"])
    for path, case in samples:
        start = time.perf_counter()
        employee = any(f.startswith("emp_") for f in case.person)
        goal = ["employee_is_employee" if employee else "resident_category"]
        sample = service.person(case.person)
        person: dict[str, object] = {}
        skipped: set[str] = set()
        asked = answered = 0
        decided = ""
        while not decided:
            c = service.consult(person, case.options, goal)  # type: ignore[arg-type]
            decided = next((o.output for o in c.outputs if o.status == "determined"), "")
            if decided:
                break
            ask = next((a.field for a in c.ask if a.field not in skipped), None)
            if ask is None:
                ask = next((f for f in c.missing if f not in skipped), None)
            if ask is None:
                break
            asked += 1
            if ask in sample:
                person[ask] = sample[ask]
                answered += 1
            else:
                skipped.add(ask)
        depends = len(service.depends_on(decided, case.options)) if decided else 0
        totals[0] += asked
        totals[1] += depends
        fewer += bool(decided) and asked < depends
        print(
            f"{path.stem:<34} {decided or '(none)':<22} {asked:>5} {answered:>8} {depends:>10} "
            f"{'yes' if decided and asked < depends else 'NO':>5} {time.perf_counter() - start:>6.1f}"
        )
    print(
        f"{fewer} of {len(samples)} samples decided with fewer questions than the fields the output depends on; "
        f"{totals[0]} questions asked vs {totals[1]} fields depended on in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
