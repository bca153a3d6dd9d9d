"""Regenerates reports/diff-*.md (`make diff-reports`): the 2023 and 2025 notices, the 2025 notice
and the 2026 draft, and for every named option what its other reading changes."""

from __future__ import annotations

import sys
from pathlib import Path

from solver.cli import main
from solver.language.loader import load_ruleset


def commands(rules: str = "rules/shanghai") -> list[tuple[str, list[str]]]:
    out = [
        ("diff-2023-2025.md", [rules, "--year", "2023", "--vs-year", "2025"]),
        ("diff-2025-2026.md", [rules, "--year", "2025", "--vs-year", "2026"]),
    ]
    rs = load_ruleset(rules)
    for name, opt in sorted(rs.options.items()):
        for value in opt.type.values:
            if value != opt.default:
                out.append((f"diff-option-{name}-{value}.md", [rules, "--vs-option", f"{name}={value}"]))
    return out


# Per-query limit of the committed reports: generous, so that a report regenerated on a loaded
# machine still carries its completeness proof instead of a timeout.
TIMEOUT_MS = "120000"


def regenerate(folder: str = "reports", only: tuple[str, ...] = ()) -> int:
    """Every report (or those named in `only`) written to `folder`."""
    worst = 0
    for file, argv in commands():
        if only and file not in only:
            continue
        out = ["--format", "md", "--quiet", "--timeout", TIMEOUT_MS, "--out", str(Path(folder) / file)]
        worst = max(worst, main(["diff", *argv, *out]))
    return worst


if __name__ == "__main__":
    sys.exit(regenerate(sys.argv[1] if len(sys.argv) > 1 else "reports", tuple(sys.argv[2:])))
