"""A rule-set folder -> one typed RuleSet.

Every `*.yaml` below the folder is read (except cases/, samples/, reports/, accepted.yaml and
properties.yaml). Files are checked in path order; loading stops at the first file with errors and
reports all of that file's errors, each with file:line:col, what was expected and a hint."""

from __future__ import annotations

import datetime as dt
import graphlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from solver import dates, ir
from solver.errors import RuleError, RuleErrors, did_you_mean, shorten
from solver.language import model as m
from solver.language.declarations import Declarations
from solver.language.expressions import NameInfo, ParamInfo, Scope, parse
from solver.language.sections import Item, Sections, merge, rule_files
from solver.language.strict_yaml import Located, load
from solver.language.validate import validate
from solver.passes.calendar import CalendarBounds
from solver.passes.calendar import calls as calendar_calls
from solver.printer import to_text


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
    sections = Sections()
    for path in files:
        located = load(path, _display(path))
        parsed = cast(m.RuleFile, validate(located, m.RuleFile))
        merge(sections, parsed, located)
    return _Builder(sections, root).build()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Builder(Declarations):
    """Resolves names and types across the merged sections: definitions, constraints, rules, the whole set."""

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

    def build_constraint(self, it: Item[m.ConstraintM]) -> ir.Constraint:
        expr = parse(it.value.expr, it.at("expr"), self.scope(), ir.BOOL)
        return ir.Constraint(it.value.id, expr, it.value.doc, it.loc)

    # ------------------------------------------------------------ rules
    def build_rule(self, it: Item[m.RuleM]) -> ir.Rule:
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

    def validity(self, v: m.ValidM, it: Item[m.RuleM]) -> ir.Validity:
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
                    k,
                    v.value.title,
                    v.value.status,
                    v.value.number,
                    v.value.file,
                    _in_force(v.value.in_force),
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
