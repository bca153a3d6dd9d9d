"""The eval backend's results: how each output's result is built from a run's tuples, lazily."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from solver.backends.base import Decision, OutputResult, Status
from solver.semantics.values import NO_DEFAULT, Unknown, finish

# ---------------------------------------------------------------- result plans


@dataclass(frozen=True)
class _Target:
    """A rule giving an output a value: its index in the applies tuple, and its value, either a
    constant or a slot of the values tuple."""

    rule: int
    rule_id: str
    slot: int  # -1: the value is `value`
    value: Any = None


@dataclass(frozen=True)
class _Plan:
    """How an output's raw result is built from a run's (applies, values, defaults) tuples, by
    the shared `finish` of solver.semantics (the same code every backend is compared with)."""

    name: str
    cardinality: str
    targets: tuple[_Target, ...]
    default_slot: int  # -1: the default is `default` (NO_DEFAULT when there is none)
    default: Any = NO_DEFAULT

    def result(self, run: tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]) -> OutputResult:
        """The output's result; the common case (one known value, from one applying rule or the
        default) directly, everything else through `finish`."""
        applies, values, defaults = run
        hit: _Target | None = None
        for t in self.targets:
            a = applies[t.rule]
            if a is False:
                continue
            if a is not True or hit is not None:
                break
            hit = t
        else:
            if hit is None:
                v = defaults[self.default_slot] if self.default_slot >= 0 else self.default
                if v is not NO_DEFAULT and not isinstance(v, Unknown):
                    return _ok(self.name, (v,), ())
            else:
                v = values[hit.slot] if hit.slot >= 0 else hit.value
                if not isinstance(v, Unknown):
                    return _ok(self.name, (v,), (hit.rule_id,))
        status, vals, rules, unknown = self.build(run)
        return OutputResult(
            self.name,
            cast(Status, status),
            tuple(vals),
            tuple(rules),
            tuple(sorted(unknown.missing)) if unknown else (),
            unknown.reasons if unknown else (),
        )

    def build(self, run: tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]) -> tuple[Any, ...]:
        applies, values, defaults = run
        applying: list[str] = []
        got: list[Any] = []
        unknown: list[Any] = []
        for t in self.targets:
            a = applies[t.rule]
            if a is True:
                applying.append(t.rule_id)
                got.append(values[t.slot] if t.slot >= 0 else t.value)
            elif a is not False:
                unknown.append(a)
        default = defaults[self.default_slot] if self.default_slot >= 0 else self.default
        return finish(self.cardinality, applying, got, unknown, default, self.name)[1]


def _ok(name: str, values: tuple[Any, ...], rules: tuple[str, ...]) -> OutputResult:
    """OutputResult(name, "ok", values, rules), filled in directly: a frozen dataclass's __init__
    sets each field through object.__setattr__, which cost more than the rules of a small set."""
    r = object.__new__(OutputResult)
    r.__dict__.update(output=name, status="ok", values=values, rules=rules, missing=(), reasons=())
    return r


def _decision(results: Mapping[str, OutputResult], options: Mapping[str, str]) -> Decision:
    """Decision(results, options, "eval"), filled in directly as _ok is."""
    d = object.__new__(Decision)
    d.__dict__.update(results=results, options=options, backend="eval")
    return d


class _Results(Mapping[str, OutputResult]):
    """Decision results, each built from the run's tuples the first time it is asked for."""

    __slots__ = ("_built", "_plans", "_run")

    def __init__(self, plans: Mapping[str, _Plan], run: Any) -> None:
        self._plans = plans
        self._run = run
        self._built: dict[str, OutputResult] = {}

    def __getitem__(self, name: str) -> OutputResult:
        built = self._built.get(name)
        if built is None:
            built = self._built[name] = self._plans[name].result(self._run)
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self._plans)

    def __len__(self) -> int:
        return len(self._plans)
