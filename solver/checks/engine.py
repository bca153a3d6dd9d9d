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
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.checks.citations import citations_out_of_force
from solver.checks.findings import Finding, Kind
from solver.errors import EligError
from solver.passes.deps import deps, input_cones
from solver.passes.timeline import Span, compact, time_inputs
from solver.passes.timeline import spans as timeline_spans
from solver.printer import to_text
from solver.query import Answer, Query, Sat, Unknown, Unsat
from solver.semantics import goals
from solver.semantics.goals import Goal, holds
from solver.semantics.holes import RowHoles
from solver.semantics.reasons import Reason, joined, no_parameter
from solver.semantics.slices import Slicer
from solver.semantics.symbolic import Encoding

ANY = "whole timeline"
# An extra check run per interval (properties): (checker, interval, interval term) -> findings.
SpanCheck = Callable[["Checker", Span, Goal], list[Finding]]


class BackendDisagreement(EligError):
    """z3 produced a witness that eval, the reference, does not confirm: a backend bug."""


@dataclass(frozen=True)
class Settings:
    timeout_ms: int = 20_000
    max_conflicts_per_output: int = 12
    rlimit: int = 0  # z3's deterministic resource limit per solver (0: none); past it: undecided
    # table_incomplete (one question per missing key): off by default until it is fast enough for
    # the Shanghai set (about 13 s of z3 for its 77 missing rows).
    table_rows: bool = False


def conjuncts(e: ir.Expr) -> list[ir.Expr]:
    """Top-level conjuncts: `a and b` holds (is known true) iff both hold, also in Kleene logic."""
    if isinstance(e, ir.Binary) and e.op == "and":
        return conjuncts(e.left) + conjuncts(e.right)
    return [e]


@dataclass
class _Marks:
    """What one interval's persons have witnessed so far (first witness of each)."""

    rules: dict[str, dict[str, ir.Value]] = field(default_factory=dict)
    values: dict[tuple[str, str], dict[str, ir.Value]] = field(default_factory=dict)
    gaps: dict[str, dict[str, ir.Value]] = field(default_factory=dict)
    conflicts: dict[tuple[str, tuple[str, ...]], dict[str, ir.Value]] = field(default_factory=dict)


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

        everywhere = _Marks()
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
                marks = _Marks()
                self.on_step(f"{span}: gaps and unknowns")
                add(self.gaps(s, marks, str(span), names, maybe))
                self.on_step(f"{span}: conflicts")
                add(self.conflicts(s, marks, str(span), [n for n in names if ("conflict", n) in maybe]))
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
        add(self.dead_exceptions(s, goals.TRUE, ANY, everywhere))
        self.on_step("rules: reachability")
        add(self.reachability(s, goals.TRUE, everywhere, ANY))
        self.on_step("rules: values")
        add(self.values(s, everywhere, ANY))
        self.on_step("rules: redundancy")
        add(self.redundant(s, everywhere, ANY))
        if self.settings.table_rows:
            self.on_step("parameters: missing rows")
            add(self.tables_incomplete(whole, maybe))
        self.on_step("inputs: unhandled values")
        add(self.unhandled_values(s))
        self.on_step("citations: in force")
        add(citations_out_of_force(self, everywhere.rules))
        add(self.switched_off_findings())
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
        # sorted: a set's order follows the string hash seed, and term order steers z3's witnesses
        return [goals.sound(self.enc, u) for u in sorted(self.upstream[name])]

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

    def mark(self, person: dict[str, ir.Value], marks: _Marks) -> None:
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
        marks: _Marks | None = None,
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
    def reachability(self, s: Query, scope: Goal, marks: _Marks, label: str) -> list[Finding]:
        """Ask for a person to whom each not-yet-seen rule applies; each answer marks every rule
        it witnesses, so most rules need no query of their own."""
        out: list[Finding] = []
        answers: dict[str, Answer] = {}
        for r in self.active:
            if r.id in marks.rules:
                continue  # witnessed by an earlier answer
            res, person = self.ask(s, self.enc.applying(r.id), marks=marks, reads=self.rule_cones[r.id])
            if isinstance(res, Sat) and r.id not in marks.rules:
                raise BackendDisagreement(f"z3 says {r.id} applies to {person}; eval says it does not")
            answers[r.id] = res
        for r in self.active:
            if r.id in marks.rules:
                continue
            if isinstance(answers[r.id], Unknown):
                out.append(self.undecided(r.id, [r.id], f"can {r.id} apply?", label))
                continue
            core = self.core(scope, self.rule_parts(r))
            text, _, clauses = self.describe_core(core or [])
            why = f"no valid person meets it: {text}" if text else "no valid person meets its conditions"
            out.append(self.finding("unreachable_rule", r.id, [r.id], why, label, clauses=clauses))
        return out

    def enum_outputs(self) -> list[tuple[ir.Output, ir.EnumT]]:
        return [(o, o.type) for o in self.rs.outputs.values() if isinstance(o.type, ir.EnumT)]

    def values(self, s: Query, marks: _Marks, label: str) -> list[Finding]:
        out: list[Finding] = []
        for o, t in self.enum_outputs():
            givers = {v: [r.id for r in self.rs.rules_for(o.name) if _gives(r, o.name, v)] for v in t.values}
            for v in t.values:
                if (o.name, v) in marks.values:
                    continue
                goal = goals.output_is(self.enc, o.name, v)
                res, person = self.ask(s, goal, marks=marks, reads=self.cones[o.name])
                subject = f"{o.name}={v}"
                if isinstance(res, Sat):
                    if (o.name, v) not in marks.values:
                        raise BackendDisagreement(f"z3 says {subject} for {person}; eval does not")
                elif isinstance(res, Unknown):
                    out.append(self.undecided(subject, givers[v], f"can {subject} occur?", label))
                else:
                    rules = givers[v]
                    dead = [r for r in rules if r not in marks.rules]
                    if not rules:
                        why = "no rule gives this value" + (" and the default is another" if o.default else "")
                    elif len(dead) == len(rules):
                        why = f"every rule that gives it can never apply: {', '.join(rules)}"
                    else:
                        why = (
                            f"the rules that give it ({', '.join(rules)}) apply only where another value "
                            "is also given (a conflict) or the value is unknown"
                        )
                    out.append(self.finding("unreachable_value", subject, rules, why, label))
        return out

    def gaps(
        self, s: Query, marks: _Marks, label: str, names: Iterable[str], maybe: set[tuple[str, str]]
    ) -> list[Finding]:
        """Gaps and own unknowns of the outputs NAMES (only the checks MAYBE leaves open)."""
        out: list[Finding] = []
        for o in (self.rs.outputs[n] for n in names):
            sym = self.enc.outputs[o.name]
            rules = [r.id for r in self.rs.rules_for(o.name)]
            if o.cardinality == "exactly_one" and o.default is None and ("gap", o.name) in maybe:
                if o.name not in marks.gaps:
                    res, _ = self.ask(s, sym.status["gap"], marks=marks, reads=self.cones[o.name])
                    if isinstance(res, Unknown):
                        out.append(self.undecided(o.name, rules, f"can {o.name} have no value?", label))
                if o.name in marks.gaps:
                    gap_person = marks.gaps[o.name]
                    if self.ref.decide(gap_person)[o.name].status != "gap":
                        raise BackendDisagreement(f"{o.name} has no gap for {gap_person} by eval")
                    why = f"no rule gives {o.name} a value for this person, and it has no default"
                    out.append(self.finding("gap", o.name, [], why, label, gap_person))
            # Unknown for its own reason (a missing parameter row, ...), not only because an output
            # it reads has a gap, a conflict or is unknown: those are reported at their source.
            if ("unknown", o.name) not in maybe:
                continue
            res, person = self.ask(
                s, sym.status["unknown"], *self.sound_upstream(o.name), person=True, reads=self.cones[o.name]
            )
            if isinstance(res, Unknown):
                out.append(self.undecided(o.name, rules, f"can {o.name} be unknown?", label))
            elif person is not None:
                got = self.ref.decide(person)[o.name]
                if got.status != "unknown":
                    raise BackendDisagreement(f"{o.name} is known for {person} by eval")
                why = f"{o.name} is unknown for a complete person: {joined(got.reasons) or 'a value is unknown'}"
                keys, complete = self.missing_rows(s, o.name, got.reasons)
                found = self.finding("undetermined", o.name, [], why, label, person, _param_cites(self.rs, got))
                out.append(dataclasses.replace(found, keys=keys))
                if not complete:
                    what = f"can {o.name} be unknown for a missing row other than {', '.join(keys)}?"
                    out.append(self.undecided(o.name, rules, what, label))
        return out

    def missing_rows(self, s: Query, name: str, reasons: Iterable[Reason]) -> tuple[tuple[str, ...], bool]:
        """Every missing parameter row that leaves NAME unknown (for a reason of its own) for some
        valid person of S's scope: the first witness's rows, then a person for whom NAME would stay
        unknown were those rows there, until there is none. They go into the finding's id, so that
        accepting one missing row does not accept another. False when z3 gave up (or past
        MAX_MISSING_ROWS): the list may be short."""
        own = [*self.sound_upstream(name)]
        found: dict[tuple[str, tuple[ir.Value, ...]], None] = {}
        while True:
            new = [(r.name, r.key) for r in reasons if r.kind == "no_parameter" and (r.name, r.key) not in found]
            if not new:
                return _row_names(sorted(found, key=str)), True
            found.update(dict.fromkeys(new))
            if len(found) > MAX_MISSING_ROWS:
                return _row_names(sorted(found, key=str)), False
            res, person = self.ask(s, self.unknown_without(name, found), *own, person=True, reads=self.cones[name])
            if isinstance(res, Unknown):
                return _row_names(sorted(found, key=str)), False
            if person is None:
                return _row_names(sorted(found, key=str)), True
            reasons = self.ref.decide(person)[name].reasons

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

    def conflicts(self, s: Query, marks: _Marks, label: str, names: Iterable[str]) -> list[Finding]:
        out: list[Finding] = []
        for o in (self.rs.outputs[n] for n in names):
            sym = self.enc.outputs[o.name]
            blocked: list[Goal] = []
            for (name, rules), _ in marks.conflicts.items():
                if name == o.name:
                    blocked.append(goals.negate(goals.all_apply(self.enc, o.name, rules)))
            for _ in range(self.settings.max_conflicts_per_output):
                res, person = self.ask(s, sym.status["conflict"], *blocked, marks=marks, reads=self.cones[o.name])
                if isinstance(res, Unknown):
                    out.append(self.undecided(o.name, [], f"can {o.name} get two values?", label))
                    break
                if person is None:
                    break
                got = self.ref.decide(person)[o.name]
                if got.status != "conflict":
                    raise BackendDisagreement(f"z3 says {o.name} conflicts for {person}; eval says {got.status}")
                blocked.append(goals.negate(goals.all_apply(self.enc, o.name, got.rules)))
            for (name, rules), person in marks.conflicts.items():
                if name != o.name:
                    continue
                vals = self.ref.decide(person)[o.name].values
                shown = ", ".join(map(str, vals))
                both = "both apply" if len(rules) == 2 else "all apply"
                why = f"{' and '.join(rules)} {both} and give {shown}; neither is an exception of the other"
                out.append(self.finding("conflict", o.name, list(rules), why, label, person))
        return out

    def dead_exceptions(self, s: Query, scope: Goal, label: str, marks: _Marks) -> list[Finding]:
        """Each exception must overlap its rule; the person showing it also marks what it witnesses."""
        out: list[Finding] = []
        for r in self.active:
            base = self.rule_parts(r, exceptions=False)
            for u in r.unless:
                if u in self.inactive:
                    continue
                reads = self.rule_cones[r.id] | self.rule_cones[u]
                res, _ = self.ask(s, *base.values(), self.enc.applying(u), marks=marks, reads=reads)
                if isinstance(res, Sat):
                    continue
                subject = f"{r.id} unless {u}"
                if isinstance(res, Unknown):
                    out.append(self.undecided(subject, [r.id, u], f"does {u} overlap {r.id}?", label))
                    continue
                tracked = {**base, **self.rule_parts(self.by_id[u])}
                text, _, clauses = self.describe_core(self.core(scope, tracked) or [])
                why = f"{u} never applies where {r.id} would, so the exception changes nothing" + (
                    f": {text}" if text else ""
                )
                out.append(self.finding("dead_exception", subject, [r.id, u], why, label, clauses=clauses))
        return out

    def redundant(self, s: Query, marks: _Marks, label: str) -> list[Finding]:
        """r is redundant when every person it applies to also gets the same outcome from another
        rule; of two equivalent rules only the second (by id) is reported."""
        out: list[Finding] = []
        groups: dict[tuple[tuple[str, str], ...], list[ir.Rule]] = {}
        for r in self.active:
            if r.id in marks.rules and r.then and all(isinstance(v, ir.Const) for _, v in r.then):
                key = tuple(sorted((o, repr(cast(ir.Const, v).value)) for o, v in r.then))
                groups.setdefault(key, []).append(r)
        subsumed: dict[tuple[str, str], bool] = {}
        # The persons already found settle most pairs without a query: one to whom a applies and
        # b does not shows that a is not within b.
        seen = [self.ref.applies(p) for p in {id(p): p for p in marks.rules.values()}.values()]

        def within(a: str, b: str) -> bool:
            if (a, b) not in subsumed and any(ap[a] is True and ap[b] is not True for ap in seen):
                subsumed[(a, b)] = False
            if (a, b) not in subsumed:
                reads = self.rule_cones[a] | self.rule_cones[b]
                res, _ = self.ask(s, self.enc.applying(a), goals.negate(self.enc.applying(b)), reads=reads)
                subsumed[(a, b)] = isinstance(res, Unsat)  # unknown: redundancy is advice, not claimed
            return subsumed[(a, b)]

        for rules in groups.values():
            for r in rules:
                for other in rules:
                    if other.id == r.id or not within(r.id, other.id):
                        continue
                    if within(other.id, r.id) and r.id < other.id:
                        continue  # equivalent pair: reported once, under the larger id
                    why = (
                        f"wherever {r.id} applies, {other.id} applies too and gives the same "
                        f"{', '.join(o for o, _ in r.then)}; {r.id} changes no decision"
                    )
                    out.append(self.finding("redundant_rule", r.id, [r.id, other.id], why, label))
                    break
        return out

    def unhandled_values(self, s: Query) -> list[Finding]:
        """An input's enum value that no expression and no table row names: no rule can tell its
        holders apart, so they fall to no value or the default. Reported with such a person and the
        outputs that read the input and give them nothing of their own."""
        out: list[Finding] = []
        named = named_values(self.rs)
        for i in self.rs.inputs.values():
            if not isinstance(i.type, ir.EnumT):
                continue
            readers = [o for o in self.rs.outputs if i.name in self.cones[o]]
            for v in i.type.values:
                if (i.type.name, v) in named or not readers:
                    continue
                goal = goals.equals(self.enc, self.enc.inputs[i.name].value, v, i.type)
                _, person = self.ask(s, goal, person=True, reads=[i.name])
                if person is None:
                    continue  # no valid person holds it (an input constraint excludes it)
                decision = self.ref.decide(person)
                fallen = [o for o in readers if decision[o].status == "none" or not decision[o].rules]
                why = f"no rule, definition or table names {i.name} = {v!r}; for such a person " + (
                    f"{', '.join(fallen)} get no value of their own (none or the default)"
                    if fallen
                    else "every output it reads is decided by rules that do not look at the value"
                )
                f = self.finding("unhandled_value", f"{i.name}={v}", [], why, ANY, person)
                out.append(dataclasses.replace(f, shown=(i.name, *f.shown)))
        return out

    def tables_incomplete(self, s: Query, maybe: set[tuple[str, str]]) -> list[Finding]:
        """One finding per key combination a table has no row for while a valid person makes a
        rule read exactly that row (the output is then unknown for a reason of its own)."""
        unknown = [n for c, n in maybe if c == "unknown"]
        if not unknown:
            return []
        reads = goals.any_of(
            goals.all_of([goals.status_is(self.enc, n, "unknown"), *self.sound_upstream(n)]) for n in unknown
        )
        out: list[Finding] = []
        for name, looks in sorted(self.lookups().items()):
            table = self.rs.params[name].table()
            domains = [_key_domain(k.type) for k in looks[0].keys]
            if any(d is None for d in domains) or _size(domains) > MAX_TABLE_KEYS:
                continue  # an unbounded or huge key: undetermined findings still show the hole
            for key in itertools.product(*cast(list[list[ir.Value]], domains)):
                if key in table:
                    continue
                _, person = self.ask(s, reads, self.reads_row(name, key), person=True)
                if person is None:
                    continue
                shown = ", ".join(str(v) for v in key)
                reason = no_parameter(name, key)
                decision = self.ref.decide(person)
                hit = [n for n in unknown if reason in decision[n].reasons]
                if not hit:
                    continue  # unknown for another reason here; that one is reported as undetermined
                why = f"{name} has no row for ({shown}), which {', '.join(hit)} read for this person"
                cites = [c for row in self.rs.params[name].rows for c in row.cites][:4]
                out.append(self.finding("table_incomplete", f"{name}({shown})", [], why, ANY, person, cites))
        return out

    def switched_off_findings(self) -> list[Finding]:
        """Rules the options in force switch off: each must be accepted (the other reading of an
        ambiguity), so that a rule switched off by accident shows."""
        return [
            self.finding("switched_off", rid, [rid], f"`{test}` is false under the options in force", ANY)
            for rid, test in self.inactive.items()
        ]


MAX_TABLE_KEYS = 400  # key combinations of one table checked for missing rows
MAX_MISSING_ROWS = 200  # missing rows listed in one undetermined finding (more: undecided)


def _row_names(rows: Iterable[tuple[str, tuple[ir.Value, ...]]]) -> tuple[str, ...]:
    return tuple(f"{p}({', '.join(str(v) for v in key)})" for p, key in rows)


def _key_domain(t: ir.Type) -> list[ir.Value] | None:
    if isinstance(t, ir.EnumT):
        return list(t.values)
    if isinstance(t, ir.BoolT):
        return [False, True]
    if isinstance(t, ir.IntT) and t.hi - t.lo < MAX_TABLE_KEYS:
        return list(range(t.lo, t.hi + 1))
    return None


def _size(domains: Sequence[Sequence[ir.Value] | None]) -> int:
    n = 1
    for d in domains:
        n *= len(d or ())
    return n


def named_values(rs: ir.RuleSet) -> set[tuple[str, str]]:
    """(enum type, value) for every enum constant an expression names and every enum key of a
    parameter row."""
    exprs: list[ir.Expr] = [c.expr for c in rs.constraints] + [d.expr for d in rs.definitions.values()]
    exprs += [o.default for o in rs.outputs.values() if o.default is not None]
    exprs += [e for r in rs.rules for e in (r.when, *(v for _, v in r.then))]
    out = {
        (n.type.name, n.value)
        for e in exprs
        for n in ir.walk(e)
        if isinstance(n, ir.Const) and isinstance(n.type, ir.EnumT) and isinstance(n.value, str)
    }
    for p in rs.params.values():
        for pos, t in enumerate(p.key_types):
            if isinstance(t, ir.EnumT):
                out |= {(t.name, str(row.key[pos])) for row in p.rows}
    return out


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


def _gives(r: ir.Rule, output: str, value: str) -> bool:
    e = dict(r.then)[output]
    if isinstance(e, ir.Const):
        return e.value == value
    return any(isinstance(n, ir.Const) and n.value == value for n in ir.walk(e))


def _param_cites(rs: ir.RuleSet, res: Any) -> list[str]:
    names = {r.name for r in res.reasons if r.kind == "no_parameter"}
    return [c for n in sorted(names) if n in rs.params for row in rs.params[n].rows for c in row.cites][:4]


def with_definitions(rs: ir.RuleSet, extra: Mapping[str, ir.Expr]) -> ir.RuleSet:
    """rs with extra definitions appended (evaluated last): lets eval re-check any expression."""
    defs = dict(rs.definitions)
    for name, e in extra.items():
        defs[name] = ir.Definition(name, e, e.type)
    return dataclasses.replace(rs, definitions=defs, order=(*rs.order, *extra))
