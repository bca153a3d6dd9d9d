"""Diff of two versions of the full Shanghai set (2023 vs 2025 notice, regions and witnesses
included), with the ratio against `elig check` of the same set in the same run."""

from __future__ import annotations

import time

from solver.checks import run_checks
from solver.diff.engine import Version, diff
from solver.language.loader import load_ruleset
from solver.passes.options import resolve


def main() -> None:
    rs = load_ruleset("rules/shanghai")
    resolved = resolve(rs)
    t0 = time.perf_counter()
    rep = diff(Version(resolved, "2023", {"insurance_year": 2023}), Version(resolved, "2025", {"insurance_year": 2025}))
    t1 = time.perf_counter()
    run_checks(rs)
    t2 = time.perf_counter()
    proof = "complete" if rep.complete else "INCOMPLETE"
    print(f"diff 2023->2025: {t1 - t0:.1f} s, {len(rep.regions)} regions, proof {proof}")
    print(f"check: {t2 - t1:.1f} s; diff/check = {(t1 - t0) / (t2 - t1):.2f}")


if __name__ == "__main__":
    main()
