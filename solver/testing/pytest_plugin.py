"""A pytest plugin: every `cases/*.yaml` of a rule set (a folder with vocabulary.yaml above it)
becomes one test per case and backend, so a rule set's worked cases run with plain `pytest`.

A file's cases are decided per backend and option assignment in one batch (clingo grounds a batch
once: one grounding per case was most of the suite's time); each test then checks its own case."""

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
def _backend(root: Path, name: str) -> Backend:
    """One backend per rule set, with the options as inputs (each person carries its cases'
    assignment): building one per assignment was the other half of the suite's time."""
    from solver.backends import make
    from solver.passes.options import options_as_inputs

    return make(name, options_as_inputs(_ruleset(root)))


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
        self.cases: list[Any] = []
        self._decided: dict[tuple[str, tuple[tuple[str, str], ...]], dict[int, Any]] = {}

    def decided(self, backend_name: str, options: tuple[tuple[str, str], ...]) -> dict[int, Any]:
        """Case position -> results (or the error its person raised) for every case of this file with
        these options, decided by the backend in one batch."""
        key = (backend_name, options)
        if key not in self._decided:
            from solver.errors import EligError
            from solver.passes.options import with_options
            from solver.person import parse_person

            rs = _ruleset(self.root)
            out: dict[int, Any] = {}
            persons = {}
            for i, case in enumerate(self.cases):
                if tuple(sorted(case.options.items())) == options:
                    try:
                        persons[i] = with_options(rs, parse_person(rs, case.person), dict(options))
                    except EligError as e:
                        out[i] = e
            backend = _backend(self.root, backend_name)
            many = getattr(backend, "decide_many", None)
            people = list(persons.values())
            decisions = many(people) if many else [backend.decide(p) for p in people]
            out.update({cid: d.results for cid, d in zip(persons, decisions, strict=True)})
            self._decided[key] = out
        return self._decided[key]

    def collect(self) -> Iterator[pytest.Item]:
        from solver.cases import load_cases

        backends = str(self.config.getoption("--elig-backends")).split(",")
        self.cases = load_cases(self.path)
        for i, case in enumerate(self.cases):
            for b in backends:
                yield CaseItem.from_parent(self, name=f"{case.id}[{b}]", case=case, backend=b, position=i)


class CaseFailed(Exception):
    pass


class CaseItem(pytest.Item):
    def __init__(self, *, case: Any, backend: str, position: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case, self.backend, self.position = case, backend, position

    def runtest(self) -> None:
        from solver.cases import mismatches

        file = self.parent
        assert isinstance(file, CaseFile)
        results = file.decided(self.backend, tuple(sorted(self.case.options.items())))[self.position]
        if isinstance(results, Exception):
            raise results
        problems = mismatches(_ruleset(file.root), self.case, results)
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
