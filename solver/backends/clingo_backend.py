"""The clingo backend: the IR translated once to one ASP program; clingo's grounder decides persons.

Every expression becomes rules deriving, for each person K, its value `v<N>(K,Value)` or, when it
can be unknown, its causes `unk<N>(K,Cause)` (a cause is `miss("input")` or a reason term).
Kleene logic, rule applicability (`valid`, `unless`), output aggregation and the calendar
builtins are ASP rules; Python only hands in the persons as typed facts (clorm) and reads the
typed result atoms `ostat/oval/orule/ocause` back.

Values: bools are the constants true/false, ints numbers, enum values strings, and dates
`d(Year,Month,Day,DayNumber)` with the day number computed by clingo arithmetic as in
solver.dates.day_number. Each node has its own predicate names: gringo's cost grows with the
statements that share a predicate, and two-valued bools are single atoms `t<N>(K)`, so that the
program has few statements (gringo spends ~20 µs per statement and grounding).

The program is stratified and non-recursive, so grounding alone computes its unique model: no
solve call is needed, and a grounding observer collects the shown atoms. The part `complete` is
for persons with every input; `partial` also propagates missing inputs."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import clingo
import clingo.ast
import clingo.backend
from clorm import ConstantStr, Predicate, Raw, unify

from solver import ir
from solver.backends.base import Decision, OutputResult, Person, Status, sort_values
from solver.backends.clingo_translate import translate
from solver.semantics.reasons import Reason, no_parameter, off_calendar

# ---------------------------------------------------------------- the typed boundary


class InBool(Predicate, name="in_bool"):
    """A bool input of person k (the constant true or false)."""

    k: int
    name: str
    value: ConstantStr


class InInt(Predicate, name="in_int"):
    """An int or money input of person k."""

    k: int
    name: str
    value: int


class InEnum(Predicate, name="in_enum"):
    """An enum input of person k (a string)."""

    k: int
    name: str
    value: str


class InDate(Predicate, name="in_date"):
    """A date input of person k as year, month, day (ASP adds the day number)."""

    k: int
    name: str
    year: int
    month: int
    day: int


class PersonId(Predicate, name="person"):
    """A person being decided (a batch numbers its persons)."""

    k: int


class OStat(Predicate, name="ostat"):
    """The status of an output (ok, none, gap, conflict, unknown)."""

    k: int
    output: str
    status: ConstantStr


class OVal(Predicate, name="oval"):
    """One value of an output (a symbol, decoded by the output's type)."""

    k: int
    output: str
    value: Raw


class ORule(Predicate, name="orule"):
    """A rule that applied to an output."""

    k: int
    output: str
    rule: str


class OCause(Predicate, name="ocause"):
    """A cause of an output being unknown: miss(Input) or a reason term."""

    k: int
    output: str
    cause: Raw


_RESULTS = [OStat, OVal, ORule, OCause]


def _fact(pred: Callable[..., Predicate], *args: object) -> clingo.Symbol:
    """A typed fact as a clingo symbol (clorm checks the field types)."""
    return pred(*args).raw


# ---------------------------------------------------------------- running it


class _Observer(clingo.backend.Observer):
    """Collects the shown atoms of one grounding; in a stratified program all are facts. It
    replaces the solver: nothing is solved, so clasp need not receive the ground program."""

    def __init__(self) -> None:
        self.atoms: list[clingo.Symbol] = []

    def output_atom(self, symbol: clingo.Symbol, atom: int) -> None:
        if atom != 0:  # pragma: no cover - the translation is stratified
            raise RuntimeError(f"clingo backend: {symbol} is not decided by grounding")
        self.atoms.append(symbol)


@dataclass
class _Context:
    """The grounding context: @person() gives the typed facts of the persons being decided."""

    facts: list[clingo.Symbol]

    def person(self) -> list[clingo.Symbol]:
        return self.facts


def _decode(sym: clingo.Symbol, t: ir.Type) -> ir.Value:
    """A value symbol back to Python by its declared type."""
    if isinstance(t, ir.BoolT):
        return bool(sym.name == "true")
    if isinstance(t, ir.IntT):
        return int(sym.number)
    if isinstance(t, ir.EnumT):
        return str(sym.string)
    y, m, d = (a.number for a in sym.arguments[:3])
    return dt.date(y, m, d)


def _parse_parts(program: str) -> dict[str, list[Any]]:
    """The program's statements by part, each list starting with its #program directive."""
    parts: dict[str, list[Any]] = {}
    current: list[Any] = []

    def add(stm: Any) -> None:
        nonlocal current
        if stm.ast_type == clingo.ast.ASTType.Program:
            current = parts.setdefault(stm.name, [])
        current.append(stm)

    clingo.ast.parse_string(program, add)
    return parts


class ClingoBackend:
    """Decides persons by grounding the rule set's ASP program with their facts.

    The program is parsed once; each call builds a fresh Control from the parsed statements
    (measured faster than multi-shot steps, whose grounding cost grows with every step) and
    grounds it once: gringo alone computes the model of the stratified program. The cost is
    per statement, so `decide_many` decides a batch with one grounding."""

    name = "clingo"

    def __init__(self, rs: ir.RuleSet) -> None:
        self.rs = rs
        self.program = translate(rs)
        self._parts = _parse_parts(self.program)
        # AST nodes must go before the clingo library at interpreter exit.
        weakref.finalize(self, self._parts.clear)

    def decide(self, person: Person) -> Decision:
        return self.decide_many([person])[0]

    def decide_many(self, persons: Sequence[Person]) -> list[Decision]:
        """Decisions for many persons, one grounding for the complete ones and one for the
        partial ones."""
        out: list[Decision | None] = [None] * len(persons)
        groups: dict[str, list[int]] = {"complete": [], "partial": []}
        for i, p in enumerate(persons):
            groups["complete" if all(n in p for n in self.rs.inputs) else "partial"].append(i)
        for part, members in groups.items():
            if members:
                for i, results in self._ground(part, [(i, persons[i]) for i in members]).items():
                    out[i] = Decision(results, dict(self.rs.resolved_options), self.name)
        return [d for d in out if d is not None]

    def _ground(self, part: str, persons: list[tuple[int, Person]]) -> dict[int, dict[str, OutputResult]]:
        ctl = clingo.Control(["--warn=none"])
        obs = _Observer()
        ctl.register_observer(obs, replace=True)
        with clingo.ast.ProgramBuilder(ctl) as builder:
            for stm in (*self._parts["base"], *self._parts[part]):
                builder.add(stm)
        facts = [f for k, p in persons for f in self.facts(k, p)]
        ctl.ground([("base", []), (part, [])], context=_Context(facts))
        return self._results(obs.atoms, [k for k, _ in persons])

    def facts(self, k: int, person: Person) -> list[clingo.Symbol]:
        """Person k as typed facts (fields not in the vocabulary are ignored)."""
        out = [_fact(PersonId, k)]
        for name, inp in self.rs.inputs.items():
            if name not in person:
                continue
            value, t = person[name], inp.type
            if isinstance(value, dt.date):
                out.append(_fact(InDate, k, name, value.year, value.month, value.day))
            elif isinstance(t, ir.BoolT):
                out.append(_fact(InBool, k, name, "true" if value else "false"))
            elif isinstance(t, ir.IntT):
                out.append(_fact(InInt, k, name, value))
            else:
                out.append(_fact(InEnum, k, name, value))
        return out

    def _results(self, atoms: list[clingo.Symbol], ks: list[int]) -> dict[int, dict[str, OutputResult]]:
        """Output results per person from the shown atoms (typed by clorm)."""
        status: dict[tuple[int, str], str] = {}
        values: dict[tuple[int, str], list[ir.Value]] = {}
        rules: dict[tuple[int, str], list[str]] = {}
        causes: dict[tuple[int, str], list[clingo.Symbol]] = {}
        for fact in unify(_RESULTS, atoms):
            match fact:
                case OStat(k=k, output=o, status=word):
                    status[k, o] = str(word)
                case OVal(k=k, output=o, value=v):
                    values.setdefault((k, o), []).append(_decode(v.symbol, self.rs.outputs[o].type))
                case ORule(k=k, output=o, rule=r):
                    rules.setdefault((k, o), []).append(r)
                case OCause(k=k, output=o, cause=w):
                    causes.setdefault((k, o), []).append(w.symbol)
        out: dict[int, dict[str, OutputResult]] = {}
        for k in ks:
            res = out[k] = {}
            for name in self.rs.outputs:
                st = status.get((k, name))
                if st is None:  # pragma: no cover - every output derives exactly one status
                    raise RuntimeError(f"clingo backend: no status for output {name}")
                if st == "unknown":
                    ws = causes.get((k, name), [])
                    missing = sorted({str(w.arguments[0].string) for w in ws if w.name == "miss"})
                    reasons = sorted({self._reason(w) for w in ws if w.name != "miss"}, key=str)
                    res[name] = OutputResult(name, "unknown", missing=tuple(missing), reasons=tuple(reasons))
                else:
                    vals = sort_values(values.get((k, name), []))
                    res[name] = OutputResult(name, _status(st), vals, tuple(sorted(rules.get((k, name), []))))
        return out

    def _reason(self, cause: clingo.Symbol) -> Reason:
        """A reason term as the typed reason eval gives."""
        args = cause.arguments
        if cause.name == "noparam":
            p = self.rs.params[args[0].string]
            key = tuple(_decode(s, t) for s, t in zip(args[1].arguments, p.key_types, strict=True))
            return no_parameter(p.name, key)
        if cause.name == "offcal":
            return off_calendar(args[0].string, args[1].number)
        if cause.name == "novalue":
            return Reason("no_value", args[0].string)
        if cause.name == "conflict":
            return Reason("conflict", args[0].string)
        raise RuntimeError(f"clingo backend: unknown reason {cause}")  # pragma: no cover


def _status(s: str) -> Status:
    match s:
        case "ok" | "none" | "gap" | "conflict" | "unknown":
            return s
    raise RuntimeError(f"clingo backend: unknown status {s}")  # pragma: no cover
