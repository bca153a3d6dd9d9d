"""Suite-wide test plumbing: results several tests read are computed once, and the tests that
share them run in one xdist worker (`make test` runs `--dist loadgroup`); the slowest tests are
scheduled first so that neither worker is left with a long test at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from solver.checks import CheckReport

ROOT = Path(__file__).resolve().parents[1]

# Fixtures whose value several tests share: their tests go to one worker (grouped by parameter).
SHARED = ("shanghai_check", "generated", "drawn")

# Node id prefixes of the slowest tests, slowest first (from `--durations`); the rest keep their order.
SLOWEST = (
    "tests/test_mutations.py",
    "tests/test_backends_agree.py",
    "tests/test_batch.py",
    "tests/test_fixtures.py",
    "tests/test_checks.py",
    "tests/test_diff.py",
    "tests/test_web_e2e.py",
    "tests/test_explain.py",
)


@pytest.fixture(scope="session")
def shanghai_check() -> CheckReport:
    """The full check of rules/shanghai with its defaults, read by several tests (never mutated)."""
    from solver.checks import run_checks
    from solver.language.loader import load_ruleset

    return run_checks(load_ruleset(ROOT / "rules" / "shanghai"))


def _group(item: pytest.Item) -> str | None:
    names = getattr(item, "fixturenames", ())
    for name in SHARED:
        if name in names:
            spec = getattr(item, "callspec", None)
            param = spec.params.get(name, "") if spec else ""
            return f"{name}-{item.path.name}-{param}"
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = _group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))

    def rank(item: pytest.Item) -> int:
        return next((i for i, p in enumerate(SLOWEST) if item.nodeid.startswith(p)), len(SLOWEST))

    items.sort(key=rank)  # stable: within a rank the collection order stays
