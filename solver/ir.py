"""The typed intermediate representation: one set of frozen dataclasses that every pass and
backend reads. Nothing here knows about YAML or any solver."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypeAlias

# ---------------------------------------------------------------- positions


@dataclass(frozen=True, order=True)
class Loc:
    """A place in a rule file (1-based line and column)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Loc("<builtin>", 0, 0)

# ---------------------------------------------------------------- types


@dataclass(frozen=True)
class BoolT:
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class IntT:
    lo: int
    hi: int
    unit: Literal["", "yuan", "minute"] = ""

    def __str__(self) -> str:
        if self.unit == "minute":
            return "time"
        return ("money" if self.unit else "int") + f"[{self.lo}..{self.hi}]"


@dataclass(frozen=True)
class DateT:
    lo: dt.date = dt.date(1901, 1, 1)
    hi: dt.date = dt.date(2040, 12, 31)

    def __str__(self) -> str:
        return f"date[{self.lo}..{self.hi}]"


@dataclass(frozen=True)
class EnumT:
    name: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


Type: TypeAlias = BoolT | IntT | DateT | EnumT
Value: TypeAlias = bool | int | dt.date | str

BOOL = BoolT()
# Ints produced by arithmetic are unbounded for typing purposes; bounds matter only for inputs.
ANY_INT = IntT(-(10**9), 10**9)
ANY_DATE = DateT()
# A time of day to the minute (deadlines such as "12月25日17:30"), held as minutes after midnight.
TIME_OF_DAY = IntT(0, 23 * 60 + 59, "minute")
MONTH_END = EnumT("month_end_rule", ("clamp", "roll"))


def time_text(minutes: int) -> str:
    """Minutes after midnight as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def is_time(t: Type) -> bool:
    return isinstance(t, IntT) and t.unit == "minute"


def parse_time(text: str) -> int | None:
    """HH:MM (00:00..23:59) as minutes after midnight; None when the text is not such a time."""
    m = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", text)
    return int(m.group(1)) * 60 + int(m.group(2)) if m else None


def same_kind(a: Type, b: Type) -> bool:
    """Whether values of a and b can be compared (ranges and units do not matter)."""
    if isinstance(a, EnumT) and isinstance(b, EnumT):
        return a.name == b.name
    return type(a) is type(b)


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True)
class Const:
    value: Value
    type: Type
    loc: Loc = field(default=NOWHERE, compare=False)
    option: str = field(default="", compare=False, repr=False)  # the option whose reading this is (printing only)


@dataclass(frozen=True)
class Ref:
    """A name: input, definition, output or option (kind says which, after resolution)."""

    name: str
    kind: Literal["input", "definition", "output", "option"]
    type: Type
    loc: Loc = field(default=NOWHERE, compare=False)


UnaryOp = Literal["not", "neg"]
BinaryOp = Literal["and", "or", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "//", "%"]


@dataclass(frozen=True)
class Unary:
    op: UnaryOp
    arg: Expr
    type: Type
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Binary:
    op: BinaryOp
    left: Expr
    right: Expr
    type: Type
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class In:
    """item in [choices...] (a literal list)."""

    item: Expr
    choices: tuple[Expr, ...]
    type: Type = BOOL
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Has:
    """'value' in set_output."""

    output: str
    value: str
    type: Type = BOOL
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Ite:
    cond: Expr
    then: Expr
    other: Expr
    type: Type
    loc: Loc = field(default=NOWHERE, compare=False)


Builtin = Literal[
    "year",
    "month",
    "day",
    "date",
    "age_at",
    "year_end_age",
    "month_index",
    "first_of_next_month",
    "add_months",
    "days_between",
    "min",
    "max",
]


@dataclass(frozen=True)
class Call:
    fn: Builtin
    args: tuple[Expr, ...]
    type: Type
    loc: Loc = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Lookup:
    param: str
    keys: tuple[Expr, ...]
    type: Type
    loc: Loc = field(default=NOWHERE, compare=False)


Expr: TypeAlias = Const | Ref | Unary | Binary | In | Has | Ite | Call | Lookup


def children(e: Expr) -> tuple[Expr, ...]:
    match e:
        case Unary(arg=a):
            return (a,)
        case Binary(left=a, right=b):
            return (a, b)
        case In(item=a, choices=cs):
            return (a, *cs)
        case Ite(cond=c, then=a, other=b):
            return (c, a, b)
        case Call(args=args) | Lookup(keys=args):
            return args
    return ()


def walk(e: Expr) -> Iterator[Expr]:
    """Every node of e, parents before children."""
    yield e
    for c in children(e):
        yield from walk(c)


def refs(e: Expr) -> set[str]:
    """Names (inputs, definitions, outputs, options) that e reads directly, including set outputs."""
    out: set[str] = set()
    for n in walk(e):
        if isinstance(n, Ref):
            out.add(n.name)
        elif isinstance(n, Has):
            out.add(n.output)
    return out


def params_used(e: Expr) -> set[str]:
    return {n.param for n in walk(e) if isinstance(n, Lookup)}


# ---------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Labels:
    zh: str = ""
    en: str = ""
    doc: str = ""


@dataclass(frozen=True)
class Input:
    name: str
    type: Type
    labels: Labels = Labels()
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Constraint:
    id: str
    expr: Expr
    doc: str = ""
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Definition:
    name: str
    expr: Expr
    type: Type
    labels: Labels = Labels()
    cites: tuple[str, ...] = ()
    loc: Loc = NOWHERE


Cardinality = Literal["exactly_one", "at_most_one", "set"]


@dataclass(frozen=True)
class Output:
    name: str
    type: Type
    cardinality: Cardinality
    default: Expr | None = None
    labels: Labels = Labels()
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Validity:
    """The rule holds while input `on` lies in [lo, hi] (either end open when None)."""

    on: str
    lo: int | dt.date | None
    hi: int | dt.date | None


@dataclass(frozen=True)
class Rule:
    id: str
    cites: tuple[str, ...]
    quote: str
    when: Expr
    then: tuple[tuple[str, Expr], ...]
    unless: tuple[str, ...] = ()
    valid: Validity | None = None
    doc: str = ""
    loc: Loc = NOWHERE

    def outputs(self) -> tuple[str, ...]:
        return tuple(o for o, _ in self.then)


@dataclass(frozen=True)
class ParamRow:
    key: tuple[Value, ...]
    value: Value
    cites: tuple[str, ...]
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Param:
    name: str
    key_names: tuple[str, ...]
    key_types: tuple[Type, ...]
    type: Type
    rows: tuple[ParamRow, ...]
    labels: Labels = Labels()
    loc: Loc = NOWHERE

    def table(self) -> dict[tuple[Value, ...], Value]:
        return {r.key: r.value for r in self.rows}


@dataclass(frozen=True)
class OptionDecl:
    name: str
    type: EnumT
    default: str
    descriptions: tuple[tuple[str, str], ...]
    cites: tuple[str, ...] = ()
    note: str = ""
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class Clause:
    id: str
    source: str
    where: str
    text: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class InForce:
    """When a source is in force (sources.yaml `in_force`, quoting the source's own words)."""

    lo: dt.date
    hi: dt.date | None  # None: the source states no end
    years: tuple[int, int]  # the insurance years it governs (int time axes are compared with these)
    quote: str = ""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    status: str
    number: str = ""
    file: str = ""
    in_force: InForce | None = None
    repeals: str = ""


@dataclass(frozen=True)
class Note:
    id: str
    kind: str
    cites: tuple[str, ...]
    text: str
    loc: Loc = NOWHERE


@dataclass(frozen=True)
class RuleSet:
    name: str
    title: str
    time: str | None
    types: Mapping[str, EnumT]
    inputs: Mapping[str, Input]
    constraints: tuple[Constraint, ...]
    definitions: Mapping[str, Definition]
    outputs: Mapping[str, Output]
    rules: tuple[Rule, ...]
    params: Mapping[str, Param]
    options: Mapping[str, OptionDecl]
    clauses: Mapping[str, Clause]
    sources: Mapping[str, Source]
    notes: tuple[Note, ...]
    # Every definition and output name, each after everything it reads (a topological order).
    order: tuple[str, ...] = ()
    # Options already substituted by the resolve pass (name -> chosen value); empty before.
    resolved_options: Mapping[str, str] = field(default_factory=dict)
    root: str = ""
    # Labels of enum values from `types: NAME: labels:` (type name -> value -> labels), for explanations.
    value_labels: Mapping[str, Mapping[str, Labels]] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule:
        return self._rule_index[0][rule_id]

    def rules_for(self, output: str) -> tuple[Rule, ...]:
        return self._rule_index[1].get(output, ())

    @cached_property
    def _rule_index(self) -> tuple[dict[str, Rule], dict[str, tuple[Rule, ...]]]:
        """Rules by id and by output, built once per rule set (checks ask for them thousands of times)."""
        targeting: dict[str, list[Rule]] = {}
        for r in self.rules:
            for o in dict.fromkeys(r.outputs()):
                targeting.setdefault(o, []).append(r)
        return {r.id: r for r in reversed(self.rules)}, {o: tuple(rs) for o, rs in targeting.items()}
