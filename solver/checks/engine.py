"""`elig check`: questions about the rule set itself, asked of z3 over the whole input domain.

Per timeline interval (solver/passes/timeline.py), so that a rule that ends and one that starts
never look like a conflict. Each model z3 returns is decided by eval, marking everything else it
happens to witness (rules that apply, values that occur, conflicts, gaps), so most questions are
answered by an earlier model instead of a query of their own. Every witness is re-checked by
eval before it is reported; a disagreement is a backend bug and stops the check
(BackendDisagreement). An unsatisfiable question is explained by
its unsat core, mapped back to the rule conditions, exceptions and input constraints (and their
clauses) that make it impossible. A timeout is `undecided`, never a pass."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.checks.basics import ANY, BackendDisagreement, Marks, conjuncts
from solver.checks.citations import citations_out_of_force
from solver.checks.domains import tables_incomplete, unhandled_values
from solver.checks.findings import Finding, Kind
from solver.checks.outputs import conflicts, gaps
from solver.checks.rules import dead_exceptions, reachability, redundant, switched_off_findings, values
from solver.passes.deps import deps, input_cones
from solver.passes.timeline import Span, compact, time_inputs
from solver.passes.timeline import spans as timeline_spans
from solver.printer import to_text
from solver.query import Answer, Query, Sat, Unsat
from solver.semantics import goals
from solver.semantics.goals import Goal, holds
from solver.semantics.holes import RowHoles
from solver.semantics.slices import Slicer
from solver.semantics.symbolic import Encoding

__all__ = [
    "ANY",
    "BackendDisagreement",
    "Checker",
    "Settings",
    "SpanCheck",
    "conjuncts",
    "outputs_read",
    "switched_off",
    "with_definitions",
]

# An extra check run per interval (properties): (checker, interval, interval term) -> findings.
SpanCheck = Callable[["Checker", Span, Goal], list[Finding]]


@dataclass(frozen=True)
class Settings:
    timeout_ms: int = 20_000
    max_conflicts_per_output: int = 12
    rlimit: int = 0  # z3's deterministic resource limit per solver (0: none); past it: undecided
    # table_incomplete (one question per missing key): off by default until it is fast enough for
    # the Shanghai set (about 13 s of z3 for its 77 missing rows).
    table_rows: bool = False


class Checker:
    """All checks of one resolved rule set. `on_step` is told each step's name (for progress)."""

    def __init__(
        self,
        rs: ir.RuleSet,
        settings: Settings | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> None:
        self.rs, self.settings = rs, settings or Settings()
        self.on_step = on_step or (lambda _: None)
        self.enc = Encoding(rs)
        self.ref = EvalBackend(rs)
        self.by_id = {r.id: r for r in rs.rules}
        self.inactive = switched_off(rs, self.enc)
        self.upstream = outputs_read(rs)
        self.cones = input_cones(rs)
        self.active = [r for r in rs.rules if r.id not in self.inactive]
        self.times = time_inputs(rs)
        self._solvers: dict[str, Query] = {}
        self._slicer = Slicer(rs, self.enc, self._query)
        self.rule_cones = {rid: r.cone for rid, r in deps(rs).rules.items()}
        self._boxes: dict[str, Span] = {}  # label -> box, of every box asked about
        self._lookups: dict[str, list[ir.Lookup]] | None = None
        self._holed: RowHoles | None = None  # built on the first undetermined output

    # ------------------------------------------------------------ driver
    def spans(self, on: Sequence[str] | None = None) -> list[Span]:
        """The boxes of the timeline over the time inputs ON (default: all the rules are dated on)."""
        boxes = timeline_spans(self.rs, self.times if on is None else on)
        self._boxes.update((str(b), b) for b in boxes)
        return boxes

    def run(self, extra: Iterable[SpanCheck] = ()) -> list[Finding]:
        """Conflicts, gaps, unknowns and properties hold per box of the timeline (every time input
        the rules are dated on, each in one interval); reachability, exceptions and redundancy are
        about the rules themselves, over the whole timeline (a rule that only applies from 2026 is
        not unreachable in 2025). A box only labels where a finding holds, so each output is asked
        once over the whole timeline first, and per box (of the time inputs it depends on) only
        where that finds something."""
        found: dict[tuple[str, ...], Finding] = {}

        def add(fs: Iterable[Finding]) -> None:
            for f in fs:
                k = f.merge_key
                found[k] = found[k].merged(f) if k in found else f

        everywhere = Marks()
        whole = self.solver(goals.TRUE)
        self.on_step("whole timeline: gaps, unknowns and conflicts")
        maybe = self.possible(whole)
        by_times: dict[tuple[str, ...], list[str]] = {}
        for name in self.rs.outputs:
            if any((check, name) in maybe for check in ("gap", "unknown", "conflict")):
                # Split on the time input (parameter rows change with it) and on every other
                # time input the output depends on.
                on = tuple(t for t in self.times if t == self.rs.time or t in self.cones[name])
                by_times.setdefault(on, []).append(name)
        for on, names in by_times.items():
            for span in self.spans(on):
                s = self.solver(self.span_term(span))
                marks = Marks()
                self.on_step(f"{span}: gaps and unknowns")
                add(gaps(self, s, marks, str(span), names, maybe))
                self.on_step(f"{span}: conflicts")
                add(conflicts(self, s, marks, str(span), [n for n in names if ("conflict", n) in maybe]))
                for rid, p in marks.rules.items():
                    everywhere.rules.setdefault(rid, p)
                for key, p in marks.values.items():
                    everywhere.values.setdefault(key, p)
        extra = list(extra)
        if extra:
            for span in self.spans():
                self.on_step(f"{span}: properties")
                scope = self.span_term(span)
                for more in extra:
                    add(more(self, span, scope))
        s = whole
        self.on_step("rules: exceptions")
        add(dead_exceptions(self, s, goals.TRUE, ANY, everywhere))
        self.on_step("rules: reachability")
        add(reachability(self, s, goals.TRUE, everywhere, ANY))
        self.on_step("rules: values")
        add(values(self, s, everywhere, ANY))
        self.on_step("rules: redundancy")
        add(redundant(self, s, everywhere, ANY))
        if self.settings.table_rows:
            self.on_step("parameters: missing rows")
            add(tables_incomplete(self, whole, maybe))
        self.on_step("inputs: unhandled values")
        add(unhandled_values(self, s))
        self.on_step("citations: in force")
        add(citations_out_of_force(self, everywhere.rules))
        add(
            switched_off_findings(
                self,
            )
        )
        return sorted((self.compacted(f) for f in found.values()), key=lambda f: (f.kind, f.subject, f.id))

    def compacted(self, f: Finding) -> Finding:
        """F with the boxes it holds in written as briefly as they are exact."""
        held = [self._boxes[label] for label in f.intervals if label in self._boxes]
        if len(held) != len(f.intervals):
            return f
        return dataclasses.replace(f, intervals=tuple(str(b) for b in compact(self.rs, held)))

    def possible(self, s: Query) -> set[tuple[str, str]]:
        """(check, output) for each gap, own unknown and conflict some valid person somewhere on the
        timeline may have; z3 giving up counts as possible (the per-box question then reports it)."""
        out: set[tuple[str, str]] = set()
        for o in self.rs.outputs.values():
            st = self.enc.outputs[o.name].status
            questions = {"unknown": goals.all_of([st["unknown"], *self.sound_upstream(o.name)])}
            if o.cardinality == "exactly_one" and o.default is None:
                questions["gap"] = st["gap"]
            if o.cardinality != "set" and len(self.rs.rules_for(o.name)) >= 2:
                questions["conflict"] = st["conflict"]
            cone = self.cones[o.name]
            for check, goal in questions.items():
                if not isinstance(self.ask(s, goal, reads=cone)[0], Unsat):
                    out.add((check, o.name))
        return out

    def sound_upstream(self, name: str) -> list[Goal]:
        """Every output NAME reads has a value: its unknowns are then its own, not inherited."""
        return [goals.sound(self.enc, u) for u in self.upstream[name]]

    def span_term(self, span: Span) -> Goal:
        return goals.all_of(goals.input_within(self.enc, p.on, p.lo, p.hi) for p in span.parts)

    def solver(self, scope: Goal) -> Query:
        """The solver of a scope, made once: questions are assumption literals, so checks share it
        (and what z3 learns for one helps the next)."""
        key = scope.sexpr()
        if key not in self._solvers:
            self._solvers[key] = self._new_solver(scope)
            self._slicer.scope(self._solvers[key], key, scope)
        return self._solvers[key]

    def _new_solver(self, scope: Goal) -> Query:
        return self._query(self.enc.valid, scope)

    def _query(self, *facts: Goal) -> Query:
        return Query(*facts, timeout_ms=self.settings.timeout_ms, rlimit=self.settings.rlimit)

    def mark(self, person: dict[str, ir.Value], marks: Marks) -> None:
        applies = self.ref.applies(person)
        for rid, a in applies.items():
            if a is True:
                marks.rules.setdefault(rid, person)
        decision = self.ref.decide(person)
        for name, o in self.rs.outputs.items():
            res = decision[name]
            if res.status == "ok":
                for v in res.values:
                    if isinstance(v, str):
                        marks.values.setdefault((name, v), person)
            elif res.status == "gap":
                marks.gaps.setdefault(name, person)
            elif res.status == "conflict":
                marks.conflicts.setdefault((name, res.rules), person)
            del o

    def ask(
        self,
        s: Query,
        *goal: Goal,
        marks: Marks | None = None,
        person: bool = False,
        reads: Iterable[str] | None = None,
    ) -> tuple[Answer, dict[str, Any] | None]:
        """Is there a valid person in the interval meeting the goal? (result, the person found,
        when `person` or `marks` asks for it). The person is checked against the input
        constraints by eval and, with `marks`, decided by eval to mark all it witnesses.
        READS, the inputs the goal can depend on, sends the question to the solver of its slice
        (solver/semantics/slices.py): the same answer, from far fewer assertions."""
        sliced = self._slicer.slice(s, reads) if reads is not None else None
        res = (sliced or s).ask(*goal)
        found = None
        if isinstance(res, Sat) and (person or marks is not None):
            found = self._slicer.person(sliced, res.model) if sliced else self.enc.person_from_model(res.model)
            if not self.ref.satisfies_constraints(found):
                raise BackendDisagreement(f"z3 found a person that breaks the input constraints by eval: {found}")
            if marks is not None:
                self.mark(found, marks)
        return res, found

    def undecided(self, subject: str, rules: Sequence[str], what: str, label: str) -> Finding:
        return self.finding(
            "undecided", subject, rules, f"z3 gave up on: {what} (timeout {self.settings.timeout_ms} ms)", label
        )

    def finding(
        self,
        kind: Kind,
        subject: str,
        rules: Sequence[str],
        explanation: str,
        label: str,
        witness: Mapping[str, ir.Value] | None = None,
        clauses: Iterable[str] = (),
    ) -> Finding:
        cites = [c for r in rules for c in self.by_id[r].cites] if rules else []
        subject_output = subject.partition("=")[0]
        names = set(self.cones.get(subject_output, set()))
        for rid in rules:
            r = self.by_id[rid]
            for n in ir.refs(r.when) | {n for _, e in r.then for n in ir.refs(e)}:
                names |= {n} if n in self.rs.inputs else self.cones.get(n, set())
        return Finding(
            kind,
            subject,
            tuple(rules),
            tuple(dict.fromkeys([*cites, *clauses])),
            explanation,
            (label,),
            dict(witness) if witness is not None else None,
            dict(self.rs.resolved_options),
            shown=tuple(n for n in self.rs.inputs if n in names),
        )

    # ------------------------------------------------------------ explanations from cores
    def core(self, scope: Goal, tracked: Mapping[str, Goal]) -> list[str] | None:
        """The names of a minimal unsatisfiable subset of the tracked assertions (with the domain
        and interval always asserted), or None when z3 finds them satisfiable or gives up."""
        q = Query(self.enc.domain, scope, timeout_ms=self.settings.timeout_ms, minimize_core=True)
        parts = {f"constraint:{c.id}": self.enc.constraints[c.id] for c in self.rs.constraints}
        answer = q.core({**parts, **tracked})
        return sorted(answer.core) if isinstance(answer, Unsat) else None

    def rule_parts(self, r: ir.Rule, *, exceptions: bool = True) -> dict[str, Goal]:
        """Named assertions that together say: rule r applies."""
        parts: dict[str, Goal] = {}
        for i, c in enumerate(conjuncts(r.when)):
            parts[f"when:{r.id}:{i}"] = holds(self.enc.expr(c))
        if r.valid:
            on = r.valid.on
            if r.valid.lo is not None:
                parts[f"valid:{r.id}:>="] = goals.input_within(self.enc, on, lo=r.valid.lo)
            if r.valid.hi is not None:
                parts[f"valid:{r.id}:<="] = goals.input_within(self.enc, on, hi=r.valid.hi)
        if exceptions:
            for u in r.unless:
                parts[f"unless:{r.id}:{u}"] = goals.fails(self.enc.applies[u])
        return parts

    def describe_core(self, core: Sequence[str]) -> tuple[str, list[str], list[str]]:
        """Core names -> (text, rule ids, clause ids)."""
        lines: list[str] = []
        rules: list[str] = []
        clauses: list[str] = []
        for name in core:
            kind, _, rest = name.partition(":")
            if kind == "constraint":
                c = next(c for c in self.rs.constraints if c.id == rest)
                lines.append(f"input constraint {c.id}: {to_text(c.expr)}" + (f" ({c.doc})" if c.doc else ""))
                continue
            rid, _, idx = rest.rpartition(":")
            r = self.by_id[rid]
            rules.append(rid)
            if kind == "when":
                cond = conjuncts(r.when)[int(idx)]
                lines.append(f"{rid} [{', '.join(r.cites)}] needs {to_text(cond)}")
                clauses += r.cites
                for n in sorted(ir.refs(cond)):
                    if n in self.rs.definitions:
                        clauses += self.rs.definitions[n].cites
            elif kind == "valid":
                assert r.valid is not None
                lines.append(f"{rid} is valid only for {r.valid.on} {r.valid.lo or ''}..{r.valid.hi or ''}")
            elif kind == "unless":
                u = self.by_id[idx]
                lines.append(f"{rid} yields to its exception {idx} [{', '.join(u.cites)}], which then applies")
                rules.append(idx)
                clauses += r.cites + u.cites
        return "; ".join(lines), list(dict.fromkeys(rules)), list(dict.fromkeys(clauses))

    # ------------------------------------------------------------ the checks
    def enum_outputs(self) -> list[tuple[ir.Output, ir.EnumT]]:
        return [(o, o.type) for o in self.rs.outputs.values() if isinstance(o.type, ir.EnumT)]

    def unknown_without(self, name: str, rows: Iterable[tuple[str, tuple[ir.Value, ...]]]) -> Goal:
        """NAME is unknown for a reason of its own even were ROWS in their tables (with any value)."""
        if self._holed is None:
            self._holed = RowHoles(self.rs)
        return self._holed.unknown_without(name, rows)

    def reads_row(self, param: str, key: tuple[ir.Value, ...]) -> Goal:
        """Some lookup of PARAM in the rules in force reads the row KEY."""
        return goals.any_of(goals.reads_at(self.enc, look, key) for look in self.lookups().get(param, []))

    def lookups(self) -> dict[str, list[ir.Lookup]]:
        """Parameter -> its lookup sites in definitions, the active rules and the defaults."""
        if self._lookups is None:
            sites: dict[str, list[ir.Lookup]] = {}
            exprs = [d.expr for d in self.rs.definitions.values()] + [v for r in self.active for _, v in r.then]
            exprs += [r.when for r in self.active] + [o.default for o in self.rs.outputs.values() if o.default]
            for e in exprs:
                for n in ir.walk(e):
                    if isinstance(n, ir.Lookup) and n not in sites.setdefault(n.param, []):
                        sites[n.param].append(n)
            self._lookups = sites
        return self._lookups


def outputs_read(rs: ir.RuleSet) -> dict[str, set[str]]:
    """Output -> the other outputs its value can depend on directly (through its rules, their
    exceptions, its default and the definitions these read), from solver/passes/deps.py."""
    d = deps(rs)
    out: dict[str, set[str]] = {}
    for o in rs.outputs.values():
        todo, seen = [r.id for r in rs.rules_for(o.name)], set()
        while todo:
            rid = todo.pop()
            if rid not in seen:
                seen.add(rid)
                todo += rs.rule(rid).unless
        reads = [d.outputs[o.name], *(d.rules[r] for r in seen)]
        defs = d.definitions_read(n for r in reads for n in r.definitions)
        names = {n for r in [*reads, *(d.definitions[x] for x in defs)] for n in r.outputs}
        out[o.name] = names - {o.name}
    return out


def switched_off(rs: ir.RuleSet, enc: Encoding) -> dict[str, str]:
    """Rules that the options in force switch off: a conjunct of `when` that reads no input (only
    option values, now constants) and is false. They are the other reading of an ambiguity, not
    defects, so reachability and exception checks leave them out and the report lists them."""
    out: dict[str, str] = {}
    for r in rs.rules:
        for c in conjuncts(r.when):
            if not ir.refs(c) and not ir.params_used(c) and goals.truth(holds(enc.expr(c))) is False:
                out[r.id] = to_text(c)
                break
    return out


def with_definitions(rs: ir.RuleSet, extra: Mapping[str, ir.Expr]) -> ir.RuleSet:
    """rs with extra definitions appended (evaluated last): lets eval re-check any expression."""
    defs = dict(rs.definitions)
    for name, e in extra.items():
        defs[name] = ir.Definition(name, e, e.type)
    return dataclasses.replace(rs, definitions=defs, order=(*rs.order, *extra))
