"""A pytest plugin: every `cases/*.yaml` of a rule set (a folder with vocabulary.yaml above it)
becomes one test per case and backend, so a rule set's worked cases run with plain `pytest`."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from solver import ir
from solver.backends.base import Backend


def _ruleset_root(path: Path) -> Path | None:
    if path.suffix != ".yaml" or path.parent.name != "cases":
        return None
    for parent in path.parents:
        if (parent / "vocabulary.yaml").exists():
            return parent
    return None


@cache
def _ruleset(root: Path) -> ir.RuleSet:
    from solver.language.loader import load_ruleset

    return load_ruleset(root)


@cache
def _backend(root: Path, options: tuple[tuple[str, str], ...], name: str) -> Backend:
    from solver.backends import make
    from solver.passes.options import resolve

    return make(name, resolve(_ruleset(root), dict(options)))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--elig-backends",
        default="eval,z3,clingo",
        help="comma-separated backends that run the YAML cases (default: all)",
    )


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    root = _ruleset_root(file_path)
    if root is None:
        return None
    return CaseFile.from_parent(parent, path=file_path, root=root)


class CaseFile(pytest.File):
    def __init__(self, *, root: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root

    def collect(self) -> Iterator[pytest.Item]:
        from solver.cases import load_cases

        backends = str(self.config.getoption("--elig-backends")).split(",")
        for case in load_cases(self.path):
            for b in backends:
                yield CaseItem.from_parent(self, name=f"{case.id}[{b}]", case=case, backend=b)


class CaseFailed(Exception):
    pass


class CaseItem(pytest.Item):
    def __init__(self, *, case: Any, backend: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case, self.backend = case, backend

    def runtest(self) -> None:
        from solver.cases import mismatches
        from solver.person import parse_person

        root = self.parent.root  # type: ignore[union-attr]
        rs = _ruleset(root)
        person = parse_person(rs, self.case.person)
        backend = _backend(root, tuple(sorted(self.case.options.items())), self.backend)
        problems = mismatches(rs, self.case, backend.decide(person).results)
        if not self.case.expect:
            problems.append("the case expects nothing")
        if problems:
            raise CaseFailed("\n".join(problems))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            head = f"{self.case.loc}: case {self.case.id} on {self.backend}:"
            return f"{head}\n{excinfo.value}\n  worked: {self.case.worked}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.loc.line - 1, f"case {self.case.id} [{self.backend}]"
