"""A rule-set folder -> one typed RuleSet.

Every `*.yaml` below the folder is read (except cases/, samples/, reports/, accepted.yaml and
properties.yaml). Files are checked in path order; loading stops at the first file with errors and
reports all of that file's errors, each with file:line:col, what was expected and a hint."""

from __future__ import annotations

import datetime as dt
import graphlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel, ValidationError

from solver import dates, ir
from solver.errors import RuleError, RuleErrors, did_you_mean, excerpt, shorten
from solver.language import model as m
from solver.language.expressions import NameInfo, ParamInfo, Scope, parse
from solver.language.strict_yaml import Located, load
from solver.passes.calendar import CalendarBounds
from solver.passes.calendar import calls as calendar_calls
from solver.printer import to_text

SKIP_DIRS = {"cases", "samples", "reports"}
SKIP_FILES = {"accepted.yaml", "properties.yaml"}
BUILTIN_TYPES = ("bool", "int", "money", "date", "time")

T = TypeVar("T")


@dataclass
class _Item(Generic[T]):
    """A section entry with where it came from."""

    name: str
    value: T
    loc: ir.Loc
    src: Located
    path: tuple[str | int, ...]

    def at(self, *sub: str | int, key: bool = False) -> ir.Loc:
        return self.src.loc((*self.path, *sub), key=key)


@dataclass
class _Sections:
    meta: list[_Item[m.RuleSetMeta]] = field(default_factory=list)
    sources: dict[str, _Item[m.SourceM]] = field(default_factory=dict)
    clauses: dict[str, _Item[m.ClauseM]] = field(default_factory=dict)
    notes: dict[str, _Item[m.NoteM]] = field(default_factory=dict)
    types: dict[str, _Item[m.TypeM]] = field(default_factory=dict)
    inputs: dict[str, _Item[m.InputM]] = field(default_factory=dict)
    constraints: dict[str, _Item[m.ConstraintM]] = field(default_factory=dict)
    definitions: dict[str, _Item[m.DefinitionM]] = field(default_factory=dict)
    outputs: dict[str, _Item[m.OutputM]] = field(default_factory=dict)
    parameters: dict[str, _Item[m.ParamM]] = field(default_factory=dict)
    options: dict[str, _Item[m.OptionM]] = field(default_factory=dict)
    rules: dict[str, _Item[m.RuleM]] = field(default_factory=dict)


def rule_files(root: Path) -> list[Path]:
    def skipped(p: Path) -> bool:
        rel = p.relative_to(root)
        return p.name in SKIP_FILES or any(part in SKIP_DIRS for part in rel.parts[:-1])

    return sorted(p for p in root.rglob("*.yaml") if not skipped(p))


def validate(located: Located, model: type[BaseModel]) -> BaseModel:
    """Validate located data against a model; every problem becomes a positioned RuleError."""
    try:
        return model.model_validate(located.data)
    except ValidationError as e:
        raise RuleErrors([_pydantic_error(located, err, model) for err in e.errors()]) from None


def _pydantic_error(located: Located, err: Any, root: type[BaseModel]) -> RuleError:
    path = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = path[:-1]
        owner = m.model_at(parent, root)
        allowed = m.allowed_keys(owner) if owner else []
        key = str(path[-1])
        where = f" in {'/'.join(map(str, parent))}" if parent else " at the top of a rule file"
        return RuleError(
            located.loc(path, key=True),
            f"unknown key '{key}'{where}",
            expected="one of: " + ", ".join(allowed),
            hint=did_you_mean(key, allowed),
        )
    if kind == "string_pattern_mismatch" or (kind == "string_too_long" and path and path[-1] == "[key]"):
        is_key = bool(path) and path[-1] == "[key]"
        at = path[:-1] if is_key else path
        got = str(path[-2]) if is_key else _dig(located.data, at)
        is_id = err.get("ctx", {}).get("pattern") == m.ID_PATTERN
        return RuleError(
            located.loc(at, key=is_key),
            f"{excerpt(got)} is not {'an id' if is_id else 'a name'}",
            expected="dotted names like emp.age_limit"
            if is_id
            else "a name: letters A-Z a-z, digits and _, not first a digit",
            hint="rename it (names are used in expressions, so they follow the same rules)",
        )
    # Union members add their own names to the path; cut back to a path that exists in the file.
    real = path
    while real and real not in located.value_locs:
        real = real[:-1]
    label = "/".join(map(str, path[: len(real)])) or "file"
    if kind == "missing":
        return RuleError(located.loc(real), f"{label}: missing key '{path[-1]}'", expected=f"a value for '{path[-1]}'")
    got = _dig(located.data, real)
    return RuleError(located.loc(real), f"{label}: {err['msg']} (got {excerpt(got)})", expected=_expected_of(kind))


def _dig(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def _expected_of(kind: str) -> str:
    return {
        "string_type": "text",
        "int_type": "a whole number",
        "bool_type": "true or false",
        "list_type": "a list [...]",
        "dict_type": "a mapping {key: value}",
        "model_type": "a mapping {key: value}",
        "date_type": "a date YYYY-MM-DD",
        "literal_error": "one of the listed values",
        "too_short": "at least one entry",
    }.get(kind, "")


def load_ruleset(root: str | Path) -> ir.RuleSet:
    root = Path(root)
    where = ir.Loc(shorten(str(root)), 0, 0)
    try:
        if not root.is_dir():
            raise RuleError(
                where, "not a rule-set folder", hint="pass the folder that holds vocabulary.yaml, e.g. rules/shanghai"
            )
        files = rule_files(root)
    except OSError as e:  # a name too long, no permission
        raise RuleError(where, f"cannot read this folder: {e.strerror or e}") from None
    if not files:
        raise RuleError(ir.Loc(str(root), 0, 0), "no *.yaml rule files in this folder")
    sections = _Sections()
    for path in files:
        located = load(path, _display(path))
        parsed = cast(m.RuleFile, validate(located, m.RuleFile))
        _merge(sections, parsed, located)
    return _Builder(sections, root).build()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _merge(s: _Sections, f: m.RuleFile, src: Located) -> None:
    errors: list[RuleError] = []

    def put(table: dict[str, _Item[Any]], section: str, name: str, value: Any, path: tuple[str | int, ...]) -> None:
        loc = src.loc(path, key=not isinstance(path[-1], int))
        if name in table:
            first = table[name].loc
            errors.append(
                RuleError(
                    loc, f"{section} '{name}' is defined twice (first at {first})", hint="remove one, or rename it"
                )
            )
        else:
            table[name] = _Item(name, value, loc, src, path)

    if f.ruleset is not None:
        s.meta.append(_Item("ruleset", f.ruleset, src.loc(("ruleset",), key=True), src, ("ruleset",)))
    for sec in ("sources", "clauses", "types", "inputs", "definitions", "outputs", "parameters", "options"):
        for name, v in getattr(f, sec).items():
            put(getattr(s, sec), sec[:-1], name, v, (sec, name))
    for i, note in enumerate(f.notes):
        put(s.notes, "note", note.id, note, ("notes", i))
    for i, c in enumerate(f.constraints):
        put(s.constraints, "constraint", c.id, c, ("constraints", i))
    for i, r in enumerate(f.rules):
        put(s.rules, "rule", r.id, r, ("rules", i))
    if errors:
        raise RuleErrors(errors)


class _Builder:
    """Resolves names and types across the merged sections."""

    def __init__(self, s: _Sections, root: Path) -> None:
        self.s, self.root = s, root
        self.errors: list[RuleError] = []
        self.enums: dict[str, ir.EnumT] = {}
        self.inputs: dict[str, ir.Input] = {}
        self.options: dict[str, ir.OptionDecl] = {}
        self.params: dict[str, ir.Param] = {}
        self.output_types: dict[str, tuple[ir.Type, str]] = {}
        self.definitions: dict[str, ir.Definition] = {}
        self.typing_stack: list[str] = []
        self.in_reported_cycle: set[str] = set()
        self.failed_definitions: set[str] = set()

    def attempt(self, fn: Callable[..., T], *args: Any) -> T | None:
        """fn(*args), recording a RuleError instead of raising it (so all errors are reported)."""
        try:
            return fn(*args)
        except RuleErrors as e:
            self.errors.extend(e.errors)
        except RuleError as e:
            self.errors.append(e)
        return None

    def fail_if_errors(self) -> None:
        if not self.errors:
            return
        first_file = min(e.loc.file for e in self.errors)
        raise RuleErrors([e for e in self.errors if e.loc.file == first_file])

    # ------------------------------------------------------------ types and declarations
    def resolve_type(
        self, name: str, rng: list[int] | list[dt.date] | None, loc: ir.Loc, *, need_range: bool = False
    ) -> ir.Type:
        if name == "bool":
            return ir.BOOL
        if name in ("int", "money"):
            unit: Any = "yuan" if name == "money" else ""
            if rng is None:
                if need_range:
                    raise RuleError(
                        loc,
                        f"an {name} input needs a range",
                        expected="range: [lowest, highest]",
                        hint="every input has a finite domain so solvers can search it",
                    )
                return ir.IntT(ir.ANY_INT.lo, ir.ANY_INT.hi, unit)
            lo, hi = self.check_range(rng, int, loc)
            return ir.IntT(cast(int, lo), cast(int, hi), unit)
        if name == "time":
            return ir.TIME_OF_DAY
        if name == "date":
            if rng is None:
                return ir.ANY_DATE
            lo, hi = self.check_range(rng, dt.date, loc)
            if cast(dt.date, lo).year < 1901 or cast(dt.date, hi).year > 2099:
                raise RuleError(loc, "dates must lie between 1901-01-01 and 2099-12-31")
            return ir.DateT(cast(dt.date, lo), cast(dt.date, hi))
        if name in self.enums:
            return self.enums[name]
        known = [*BUILTIN_TYPES, *self.enums]
        raise RuleError(
            loc,
            f"unknown type '{name}'",
            expected="bool, int, money, date, time or an enum from types",
            hint=did_you_mean(name, known),
        )

    def input_type(self, v: m.InputM, loc: ir.Loc) -> ir.Type:
        return self.resolve_type(v.type, v.range, loc, need_range=True)

    @staticmethod
    def check_range(rng: list[Any], kind: type, loc: ir.Loc) -> tuple[Any, Any]:
        if len(rng) != 2 or not all(isinstance(v, kind) and not isinstance(v, bool) for v in rng):
            raise RuleError(
                loc, f"range must be two {'dates' if kind is dt.date else 'numbers'}", expected="[lowest, highest]"
            )
        if rng[0] > rng[1]:
            raise RuleError(loc, f"empty range: {rng[0]} > {rng[1]}", hint="swap the bounds")
        return rng[0], rng[1]

    def build_declarations(self) -> None:
        s = self.s
        for name, it in s.types.items():
            if len(set(it.value.values)) != len(it.value.values):
                self.errors.append(RuleError(it.at("values"), f"type {name} lists a value twice"))
            for v in it.value.labels:
                if v not in it.value.values:
                    self.errors.append(
                        RuleError(
                            it.at("labels", v, key=True),
                            f"label for unknown value '{v}' of {name}",
                            hint=did_you_mean(v, it.value.values),
                        )
                    )
            if name in BUILTIN_TYPES:
                self.errors.append(RuleError(it.loc, f"'{name}' is a built-in type name"))
            self.enums[name] = ir.EnumT(name, tuple(it.value.values))
        for name, inp in s.inputs.items():
            iv = inp.value
            t = self.attempt(self.input_type, iv, inp.at("type"))
            if t is not None:
                self.inputs[name] = ir.Input(name, t, ir.Labels(iv.zh, iv.en, iv.doc), inp.loc)
        for name, opt in s.options.items():
            ov = opt.value
            if ov.default not in ov.values:
                self.errors.append(
                    RuleError(
                        opt.at("default"),
                        f"default '{ov.default}' is not a value of option {name}",
                        expected=", ".join(ov.values),
                        hint=did_you_mean(ov.default, ov.values),
                    )
                )
            self.check_cites(ov.cites, opt, "cites")
            self.options[name] = ir.OptionDecl(
                name,
                ir.EnumT(name, tuple(ov.values)),
                ov.default,
                tuple(ov.values.items()),
                tuple(ov.cites),
                ov.note,
                opt.loc,
            )
        for name, p in s.parameters.items():
            self.attempt(self.build_param, name, p)
        for name, out in s.outputs.items():
            o = out.value
            t = self.attempt(self.resolve_type, o.type, None, out.at("type"))
            if t is None:
                continue
            if o.cardinality == "set" and not isinstance(t, ir.EnumT):
                self.errors.append(RuleError(out.at("cardinality"), f"set output {name} must have an enum type"))
            self.output_types[name] = (t, o.cardinality)
        taken: dict[str, str] = {}
        for sec in ("inputs", "definitions", "outputs", "options", "parameters"):
            for name, it in getattr(s, sec).items():
                if name in taken:
                    self.errors.append(
                        RuleError(
                            it.loc,
                            f"'{name}' is both {taken[name]} and {sec[:-1]}",
                            hint="names are shared by inputs, definitions, outputs, options and parameters",
                        )
                    )
                taken[name] = sec[:-1]

    def build_param(self, name: str, p: _Item[m.ParamM]) -> None:
        v = p.value
        key_types = tuple(self.resolve_type(k.type, None, p.at("keys", i, "type")) for i, k in enumerate(v.keys))
        vt = self.resolve_type(v.type, None, p.at("type"))
        rows = []
        seen: dict[tuple[Any, ...], int] = {}
        for i, row in enumerate(v.rows):
            if len(row.key) != len(key_types):
                raise RuleError(
                    p.at("rows", i, "key"), f"row key has {len(row.key)} part(s), table has {len(key_types)}"
                )
            key = tuple(
                self.check_value(k, t, p.at("rows", i, "key", j))
                for j, (k, t) in enumerate(zip(row.key, key_types, strict=True))
            )
            if key in seen:
                raise RuleError(p.at("rows", i), f"{name} has two rows for {key} (rows {seen[key] + 1} and {i + 1})")
            seen[key] = i
            self.check_cites(row.cites, p, "rows", i, "cites")
            rows.append(
                ir.ParamRow(
                    key, self.check_value(row.value, vt, p.at("rows", i, "value")), tuple(row.cites), p.at("rows", i)
                )
            )
        self.params[name] = ir.Param(
            name, tuple(k.name for k in v.keys), key_types, vt, tuple(rows), ir.Labels(v.zh, v.en, v.doc), p.loc
        )

    def check_value(self, value: Any, t: ir.Type, loc: ir.Loc) -> ir.Value:
        if isinstance(t, ir.IntT) and t.unit == "minute" and isinstance(value, str):
            minutes = ir.parse_time(value)
            if minutes is None:
                raise RuleError(loc, f"{value!r} is not a time of day", expected="HH:MM from 00:00 to 23:59")
            return minutes
        ok = {
            ir.BoolT: lambda: isinstance(value, bool),
            ir.IntT: lambda: isinstance(value, int) and not isinstance(value, bool),
            ir.DateT: lambda: isinstance(value, dt.date),
            ir.EnumT: lambda: isinstance(value, str) and value in cast(ir.EnumT, t).values,
        }[type(t)]()
        if not ok:
            expected = ", ".join(t.values) if isinstance(t, ir.EnumT) else str(t)
            hint = did_you_mean(str(value), t.values) if isinstance(t, ir.EnumT) else ""
            raise RuleError(loc, f"{value!r} is not a value of type {t}", expected=expected, hint=hint)
        return cast(ir.Value, value)

    def check_cites(self, cites: list[str], it: _Item[Any], *path: str | int) -> None:
        for i, c in enumerate(cites):
            if c not in self.s.clauses:
                self.errors.append(
                    RuleError(
                        it.at(*path, i),
                        f"cites unknown clause '{c}'",
                        expected="a clause id from the clauses section",
                        hint=did_you_mean(c, self.s.clauses),
                    )
                )

    # ------------------------------------------------------------ expressions
    def scope(self) -> Scope:
        return Scope(
            self.lookup_name,
            {n: ParamInfo(p.key_types, p.type) for n, p in self.params.items()},
            lambda: [*self.inputs, *self.s.definitions, *self.output_types, *self.options],
        )

    def lookup_name(self, name: str, loc: ir.Loc) -> NameInfo | None:
        if name in self.inputs:
            return NameInfo("input", self.inputs[name].type)
        if name in self.options:
            return NameInfo("option", self.options[name].type)
        if name in self.output_types:
            t, card = self.output_types[name]
            if card == "at_most_one":
                raise RuleError(
                    loc,
                    f"output '{name}' (at_most_one) cannot be used in an expression",
                    hint="make it exactly_one with a default, or a set output",
                )
            return NameInfo("output", t, set_valued=card == "set")
        if name in self.s.definitions:
            d = self.definition(name)
            return NameInfo("definition", d.type) if d else NameInfo("definition", ir.ANY_INT)
        return None

    def definition(self, name: str) -> ir.Definition | None:
        if name in self.definitions:
            return self.definitions[name]
        it = self.s.definitions[name]
        if name in self.in_reported_cycle:
            return None
        if name in self.failed_definitions:
            # Its error is already reported (at the definition): report it once, not at every use.
            raise RuleErrors([])
        if name in self.typing_stack:
            cycle = [*self.typing_stack[self.typing_stack.index(name) :], name]
            self.in_reported_cycle.update(cycle)
            raise RuleError(
                it.at("expr"),
                "definitions refer to each other in a cycle: " + " -> ".join(cycle),
                hint="a definition may only use names that do not depend on it",
            )
        self.typing_stack.append(name)
        try:
            want = self.resolve_type(it.value.type, None, it.at("type")) if it.value.type else None
            expr = parse(it.value.expr, it.at("expr"), self.scope(), want)
        except (RuleError, RuleErrors):
            self.failed_definitions.add(name)
            raise
        finally:
            self.typing_stack.pop()
        v = it.value
        self.check_cites(v.cites, it, "cites")
        d = ir.Definition(name, expr, expr.type, ir.Labels(v.zh, v.en, v.doc), tuple(v.cites), it.loc)
        self.definitions[name] = d
        return d

    def build_constraint(self, it: _Item[m.ConstraintM]) -> ir.Constraint:
        expr = parse(it.value.expr, it.at("expr"), self.scope(), ir.BOOL)
        return ir.Constraint(it.value.id, expr, it.value.doc, it.loc)

    # ------------------------------------------------------------ rules
    def build_rule(self, it: _Item[m.RuleM]) -> ir.Rule:
        r = it.value
        self.check_cites(r.cites, it, "cites")
        texts = [self.s.clauses[c].value.text for c in r.cites if c in self.s.clauses]
        if texts and not any(r.quote in t for t in texts):
            self.errors.append(
                RuleError(
                    it.at("quote"),
                    "the quote is not in the text of any clause it cites",
                    expected=f"an exact substring of {', '.join(r.cites)}",
                    hint="copy the words from the clause text; full-width punctuation matters",
                )
            )
        scope = self.scope()
        when = parse(r.when, it.at("when"), scope, ir.BOOL)
        then: list[tuple[str, ir.Expr]] = []
        for out_name, raw in r.then.items():
            loc = it.at("then", out_name)
            if out_name not in self.output_types:
                raise RuleError(
                    it.at("then", out_name, key=True),
                    f"unknown output '{out_name}'",
                    hint=did_you_mean(out_name, self.output_types),
                )
            t, _ = self.output_types[out_name]
            then.append((out_name, self.output_value(raw, t, loc, scope)))
        for i, u in enumerate(r.unless):
            if u not in self.s.rules:
                self.errors.append(
                    RuleError(
                        it.at("unless", i), f"unless names unknown rule '{u}'", hint=did_you_mean(u, self.s.rules)
                    )
                )
            elif u == r.id:
                self.errors.append(RuleError(it.at("unless", i), "a rule cannot be its own exception"))
        valid = self.validity(r.valid, it) if r.valid else None
        return ir.Rule(r.id, tuple(r.cites), r.quote, when, tuple(then), tuple(r.unless), valid, r.doc, it.loc)

    def output_value(self, raw: Any, t: ir.Type, loc: ir.Loc, scope: Scope) -> ir.Expr:
        if isinstance(t, ir.EnumT) and isinstance(raw, str) and raw in t.values:
            return ir.Const(raw, t, loc)
        if isinstance(raw, dt.date):
            return ir.Const(raw, ir.ANY_DATE, loc)
        if (
            isinstance(raw, str)
            and isinstance(t, ir.EnumT)
            and raw.isidentifier()
            and raw not in (*self.inputs, *self.s.definitions, *self.output_types, *self.options)
        ):
            raise RuleError(
                loc,
                f"'{raw}' is not a value of {t.name}",
                expected=", ".join(t.values),
                hint=did_you_mean(raw, t.values),
            )
        return parse(raw, loc, scope, t)

    def validity(self, v: m.ValidM, it: _Item[m.RuleM]) -> ir.Validity:
        on = v.on or (self.s.meta[0].value.time if self.s.meta else None)
        if on is None:
            raise RuleError(it.at("valid"), "valid needs `on:` (no ruleset.time is declared)")
        if on not in self.inputs:
            raise RuleError(
                it.at("valid", "on"), f"valid.on names unknown input '{on}'", hint=did_you_mean(on, self.inputs)
            )
        t = self.inputs[on].type
        for bound, name in ((v.from_, "from"), (v.to, "to")):
            if bound is None:
                continue
            ok = (isinstance(t, ir.DateT) and isinstance(bound, dt.date)) or (
                isinstance(t, ir.IntT) and isinstance(bound, int) and not isinstance(bound, bool)
            )
            if not ok:
                raise RuleError(it.at("valid", name), f"valid.{name} must be a {t} like the input '{on}'")
        if v.from_ is not None and v.to is not None and v.from_ > v.to:  # type: ignore[operator]
            raise RuleError(it.at("valid"), "empty validity interval (from is after to)")
        return ir.Validity(on, v.from_, v.to)

    # ------------------------------------------------------------ whole set
    def build(self) -> ir.RuleSet:
        s = self.s
        if len(s.meta) != 1:
            loc = s.meta[1].loc if len(s.meta) > 1 else ir.Loc(str(self.root), 0, 0)
            raise RuleError(
                loc,
                "a rule set declares `ruleset:` exactly once",
                expected="ruleset: {name: ..., time: ...} in one file (e.g. vocabulary.yaml)",
            )
        meta = s.meta[0].value
        for cid, c in s.clauses.items():
            if c.value.source not in s.sources:
                self.errors.append(
                    RuleError(
                        c.at("source"),
                        f"clause {cid} names unknown source '{c.value.source}'",
                        hint=did_you_mean(c.value.source, s.sources),
                    )
                )
        for src in s.sources.values():
            f = src.value.in_force
            if f is not None and f.to is not None and f.to < f.from_:
                self.errors.append(RuleError(src.at("in_force", "to"), "in force until a day before it starts"))
            if f is not None and f.insurance_years and f.insurance_years[0] > f.insurance_years[1]:
                self.errors.append(RuleError(src.at("in_force", "insurance_years"), "first year after the last"))
        for note in s.notes.values():
            self.check_cites(note.value.cites, note, "cites")
        self.build_declarations()
        if meta.time is not None and meta.time not in s.inputs:
            self.errors.append(RuleError(s.meta[0].at("time"), f"ruleset.time names unknown input '{meta.time}'"))
        self.fail_if_errors()
        for name in s.definitions:
            self.attempt(self.definition, name)
        constraints = [c for c in (self.attempt(self.build_constraint, it) for it in s.constraints.values()) if c]
        rules = [r for r in (self.attempt(self.build_rule, it) for it in s.rules.values()) if r]
        outputs: dict[str, ir.Output] = {}
        for name, it in s.outputs.items():
            if name not in self.output_types:
                continue
            t, _ = self.output_types[name]
            o = it.value
            default = None
            if o.default is not None:
                default = self.attempt(self.output_value, o.default, t, it.at("default"), self.scope())
            outputs[name] = ir.Output(name, t, o.cardinality, default, ir.Labels(o.zh, o.en, o.doc), it.loc)
        self.fail_if_errors()
        order = self.attempt(_order, self.definitions, outputs, rules)
        self.fail_if_errors()
        rs = ir.RuleSet(
            name=meta.name,
            title=meta.title,
            time=meta.time,
            types=self.enums,
            inputs=self.inputs,
            constraints=tuple(constraints),
            definitions=self.definitions,
            outputs=outputs,
            rules=tuple(rules),
            params=self.params,
            options=self.options,
            clauses={k: ir.Clause(k, c.value.source, c.value.where, c.value.text, c.loc) for k, c in s.clauses.items()},
            sources={
                k: ir.Source(
                    k, v.value.title, v.value.status, v.value.number, v.value.file, _in_force(v.value.in_force),
                    v.value.repeals,
                )
                for k, v in s.sources.items()
            },
            notes=tuple(
                ir.Note(n.value.id, n.value.kind, tuple(n.value.cites), n.value.text, n.loc) for n in s.notes.values()
            ),
            order=cast(tuple[str, ...], order),
            root=str(self.root),
            value_labels={
                name: {v: ir.Labels(lab.zh, lab.en) for v, lab in it.value.labels.items()}
                for name, it in s.types.items()
                if it.value.labels
            },
        )
        self.check_calendar(rs)
        return rs

    def check_calendar(self, rs: ir.RuleSet) -> None:
        """A date-making call whose bounds lie wholly off the calendar can never give a date."""
        bounds = CalendarBounds(rs)
        for call in calendar_calls(rs):
            off = bounds.never_on(call)
            if off is not None:
                years = f"{off[0] // 12}..{off[1] // 12}"
                self.errors.append(
                    RuleError(
                        call.loc,
                        f"{shorten(to_text(call))} never gives a date: its year lies in {years}",
                        expected=f"a date between {dates.FIRST} and {dates.LAST}",
                        hint="check the arithmetic on the year or the number of months",
                    )
                )
        self.fail_if_errors()


def rule_reads(rule: ir.Rule) -> set[str]:
    names = ir.refs(rule.when)
    for _, e in rule.then:
        names |= ir.refs(e)
    if rule.valid:
        names.add(rule.valid.on)
    return names


def _order(defs: dict[str, ir.Definition], outputs: dict[str, ir.Output], rules: list[ir.Rule]) -> tuple[str, ...]:
    """One topological order of definitions and outputs; a cycle is an error naming it."""
    by_id = {r.id: r for r in rules}
    unless_graph = {r.id: set(r.unless) for r in rules}
    try:
        tuple(graphlib.TopologicalSorter(unless_graph).static_order())
    except graphlib.CycleError as e:
        cycle = e.args[1]
        raise RuleError(
            by_id[cycle[0]].loc,
            "rules are exceptions of each other in a cycle: " + " -> ".join(cycle),
            hint="an exception must not (indirectly) be overridden by the rule it overrides",
        ) from None

    def rule_deps(rid: str, seen: set[str]) -> set[str]:
        if rid in seen:
            return set()
        seen.add(rid)
        r = by_id[rid]
        out = rule_reads(r)
        for u in r.unless:
            out |= rule_deps(u, seen)
        return out

    derived = set(defs) | set(outputs)
    graph: dict[str, set[str]] = {n: ir.refs(d.expr) & derived for n, d in defs.items()}
    for name, o in outputs.items():
        deps = ir.refs(o.default) if o.default else set()
        for r in rules:
            if name in r.outputs():
                deps |= rule_deps(r.id, set())
        graph[name] = deps & derived
    try:
        return tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        cycle = e.args[1]
        first = cycle[0]
        loc = defs[first].loc if first in defs else outputs[first].loc
        raise RuleError(
            loc,
            "a cycle through outputs and definitions: " + " -> ".join(cycle),
            hint="an output cannot depend on itself through the rules that give it",
        ) from None


def iter_yaml_list(located: Located) -> Iterator[tuple[int, Any]]:
    data = located.data
    if not isinstance(data, list):
        raise RuleError(located.loc(()), "expected a list of entries", expected="- id: ...")
    yield from enumerate(data)


def _in_force(f: m.InForceM | None) -> ir.InForce | None:
    if f is None:
        return None
    years = f.insurance_years or [f.from_.year, f.to.year if f.to else 9999]
    return ir.InForce(f.from_, f.to, (years[0], years[1]), f.quote)
