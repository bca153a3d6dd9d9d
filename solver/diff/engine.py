"""The semantic diff of two versions of a rule set: for every output, the regions of the input
space where its value differs, each named by the rules that decide it on either side, with a
witness re-decided by eval, and a proof that no other valid person's decision differs.

Both versions are encoded with the shared z3 encoding over one person: inputs of the same name
are linked (enums by value name, so an added category does not shift the others), and each side
may pin inputs of its own (the insurance year asked about). A region is the pair (status and
applying rules on the old side, the same on the new side); regions are found one at a time,
each blocked once found, until the solver answers unsat: that unsat is the completeness proof."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

from solver import ir
from solver.backends.base import STATUSES, OutputResult
from solver.backends.eval_backend import EvalBackend
from solver.checks.engine import conjuncts
from solver.passes.deps import deps
from solver.printer import to_text
from solver.query import Query, Sat, Unknown, Unsat
from solver.semantics import goals
from solver.semantics.goals import Goal, Pins
from solver.semantics.symbolic import Encoding
from solver.semantics.terms import evaluate

Side = Literal["old", "new"]


@dataclass(frozen=True)
class Version:
    """One side of a diff: a resolved rule set, a label, and the inputs it pins."""

    rs: ir.RuleSet
    label: str
    pinned: Mapping[str, ir.Value] = field(default_factory=dict)


@dataclass(frozen=True)
class Decider:
    """How one side decides inside a region: the output's status and the rules that apply."""

    status: str
    rules: tuple[str, ...]
    value: str  # the value as text ('varies: EXPR' when it is not constant in the region)
    clauses: tuple[str, ...]
    quotes: tuple[str, ...]

    def describe(self) -> str:
        by = ", ".join(self.rules) if self.rules else ("default" if self.status == "ok" else "no rule")
        return f"{self.value} ({by})"


@dataclass(frozen=True)
class Region:
    output: str
    condition: tuple[str, ...]  # readable atoms over the inputs (a conjunction)
    old: Decider
    new: Decider
    witness_old: Mapping[str, ir.Value]
    witness_new: Mapping[str, ir.Value]
    confirmed: bool  # eval under both versions gives the region's deciders and different values
    fields: tuple[str, ...]  # the inputs the region's condition reads
    count: int | None = None  # persons of the population in the region
    combinations: str = ""  # distinct values of the finite fields the region depends on
    member: str = ""  # set outputs: the value whose membership differs

    @property
    def key(self) -> tuple[object, ...]:
        """What identifies a region independent of z3's witness choice."""
        o, n = self.old, self.new
        return (self.output, self.member, o.status, o.rules, o.value, n.status, n.rules, n.value)

    def swapped(self) -> tuple[object, ...]:
        o, n = self.old, self.new
        return (self.output, self.member, n.status, n.rules, n.value, o.status, o.rules, o.value)


Proof = Literal["complete", "unknown", "truncated"]


@dataclass(frozen=True)
class OutputDiff:
    output: str
    regions: tuple[Region, ...]
    proof: Proof
    reason: str = ""  # why unknown / truncated
    presence: str = ""  # 'added' / 'removed' when only one side has the output


@dataclass(frozen=True)
class DiffReport:
    old: str
    new: str
    outputs: tuple[OutputDiff, ...]
    seconds: float = 0.0
    population: str = ""
    population_size: int = 0
    times: frozenset[str] = frozenset()  # the inputs that are times of day (shown as HH:MM)

    @property
    def regions(self) -> tuple[Region, ...]:
        return tuple(r for o in self.outputs for r in o.regions)

    @property
    def equivalent(self) -> bool:
        return self.complete and not self.regions and not any(o.presence for o in self.outputs)

    @property
    def complete(self) -> bool:
        return all(o.proof == "complete" for o in self.outputs)


# ---------------------------------------------------------------- the pair encoding


class Pair:
    """Two versions encoded over one person."""

    def __init__(self, old: Version, new: Version, fix: Mapping[str, ir.Value], timeout_ms: int) -> None:
        self.old, self.new = old, new
        self.eo = Encoding(old.rs, prefix="old!")
        self.en = Encoding(new.rs, prefix="new!")
        base: list[Goal] = [self.eo.valid, self.en.valid]
        for name in set(old.rs.inputs) & set(new.rs.inputs):
            if name in old.pinned or name in new.pinned:
                continue
            base.append(goals.inputs_equal(self.eo, self.en, name))
        for enc, v in ((self.eo, old), (self.en, new)):
            base += goals.pinned(goals.pins(enc, {**fix, **v.pinned}))
        self.solver = Query(*base, timeout_ms=timeout_ms)
        self.fix = dict(fix)

    def enc(self, side: Side) -> Encoding:
        return self.eo if side == "old" else self.en

    def version(self, side: Side) -> Version:
        return self.old if side == "old" else self.new

    def differs(self, name: str) -> Goal:
        return goals.output_differs(self.eo, self.en, name)


def _read_decider(answer: Sat, enc: Encoding, name: str, member: str | None) -> tuple[str, tuple[str, ...]]:
    status = next(s for s in STATUSES if answer.holds(goals.status_is(enc, name, s)))
    applying = goals.applying_rules(enc, name, member)
    rules = tuple(sorted(r for r, a in applying.items() if answer.holds(a)))
    return status, rules


# ---------------------------------------------------------------- regions


class _Differ:
    def __init__(self, pair: Pair, max_regions: int, on_step: Callable[[str], None] | None) -> None:
        self.pair, self.max_regions, self.on_step = pair, max_regions, on_step
        self.eval = {s: EvalBackend(pair.version(s).rs) for s in ("old", "new")}

    def output(self, name: str) -> OutputDiff:
        pair = self.pair
        if name not in pair.new.rs.outputs:
            return OutputDiff(name, (), "complete", presence="removed")
        if name not in pair.old.rs.outputs:
            return OutputDiff(name, (), "complete", presence="added")
        regions: list[Region] = []
        if pair.old.rs.outputs[name].cardinality == "set" and pair.new.rs.outputs[name].cardinality == "set":
            # A set output differs value by value: one family of regions per value, so the regions
            # name the rules that add or drop that value instead of every combination of members.
            o, n = pair.eo.outputs[name], pair.en.outputs[name]
            for v in dict.fromkeys([*o.members, *n.members]):
                proof, why = self._enumerate(name, goals.member_differs(pair.eo, pair.en, name, v), regions, v)
                if proof != "complete":
                    return OutputDiff(name, tuple(regions), proof, why)
            proof, why = self._enumerate(name, goals.status_differs(pair.eo, pair.en, name), regions, None)
            return OutputDiff(name, tuple(regions), proof, why)
        proof, why = self._enumerate(name, pair.differs(name), regions, None)
        return OutputDiff(name, tuple(regions), proof, why)

    def _enumerate(
        self, name: str, differs: Goal, regions: list[Region], member: str | None
    ) -> tuple[Proof, str]:
        s = self.pair.solver
        with s.scope():
            s.add(differs)
            while True:
                answer = s.check()
                if isinstance(answer, Unsat):
                    regions.sort(key=lambda r: repr(r.key))  # an order that does not depend on z3's models
                    return "complete", ""
                if isinstance(answer, Unknown):
                    return "unknown", answer.reason
                if len(regions) >= self.max_regions:
                    return "truncated", f"more than {self.max_regions} regions (--max-regions)"
                region, block = self._region(name, answer, differs, member)
                regions.append(region)
                s.add(goals.negate(block))

    def _region(
        self, name: str, answer: Sat, differs: Goal, member: str | None
    ) -> tuple[Region, Goal]:
        pair = self.pair
        (so, ro), (sn, rn) = _read_decider(answer, pair.eo, name, member), _read_decider(answer, pair.en, name, member)
        block = goals.all_of(
            [goals.decided_by(pair.eo, name, so, ro, member), goals.decided_by(pair.en, name, sn, rn, member)]
        )
        inside = goals.all_of([block, differs])
        old = self._decider("old", name, answer, so, ro, inside, member)
        new = self._decider("new", name, answer, sn, rn, inside, member)
        wo = pair.eo.person_from_model(answer.model)
        wn = pair.en.person_from_model(answer.model)
        confirmed = self._confirm(name, wo, wn, old, new, member)
        condition, fields = self._condition(name, ro, rn)
        region = Region(name, condition, old, new, wo, wn, confirmed, fields, member=member or "")
        if self.on_step:
            self.on_step(f"{name}: {old.describe()} -> {new.describe()}")
        return region, block

    def _decider(
        self,
        side: Side,
        name: str,
        answer: Sat,
        status: str,
        rules: tuple[str, ...],
        inside: Goal,
        member: str | None,
    ) -> Decider:
        rs = self.pair.version(side).rs
        enc = self.pair.enc(side)
        osym, out = enc.outputs[name], rs.outputs[name]
        clauses = tuple(dict.fromkeys(c for r in rules for c in rs.rule(r).cites))
        quotes = tuple(dict.fromkeys(rs.rule(r).quote for r in rules))
        if status != "ok":
            return Decider(status, rules, status, clauses, quotes)
        if member is not None:
            has = member in osym.members and answer.holds(osym.members[member])
            return Decider(status, rules, f"with {member}" if has else f"without {member}", clauses, quotes)
        if out.cardinality == "set":
            members = [v for v, m in osym.members.items() if answer.holds(m)]
            fixed = goals.members_are(enc, name, members)
            constant = self._always(goals.all_of([inside, goals.negate(fixed)]))
            text = "{" + ", ".join(members) + "}"
        else:
            got = enc.decode(evaluate(answer.model, osym.value.value), out.type)
            constant = self._always(goals.all_of([inside, goals.negate(goals.value_equals(enc, name, got))]))
            text = value_text(got, out.type)
        if not constant:
            exprs = [to_text(dict(rs.rule(r).then)[name]) for r in rules]
            if not rules and out.default is not None:
                exprs = [to_text(out.default)]
            text = "varies: " + " | ".join(exprs)
        return Decider(status, rules, text, clauses, quotes)

    def _always(self, counter: Goal) -> bool:
        """counter is impossible (inside the pair's base): a property of the whole region."""
        s = self.pair.solver
        with s.scope():
            s.add(counter)
            return isinstance(s.check(), Unsat)

    def _confirm(
        self,
        name: str,
        wo: Mapping[str, ir.Value],
        wn: Mapping[str, ir.Value],
        old: Decider,
        new: Decider,
        member: str | None,
    ) -> bool:
        ro = self.eval["old"].decide(wo)[name]
        rn = self.eval["new"].decide(wn)[name]
        if member is not None:
            # eval names every applying rule; the region names those giving the member
            return (
                (ro.status, rn.status) == (old.status, new.status)
                and (member in ro.values) != (member in rn.values)
                and set(old.rules) <= set(ro.rules)
                and set(new.rules) <= set(rn.rules)
            )
        return _decides(ro, old) and _decides(rn, new) and _result_key(ro) != _result_key(rn)

    def _condition(
        self, name: str, ro: tuple[str, ...], rn: tuple[str, ...]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The deciding rules' own conditions on both sides, each atom once, without the atoms the
        pinned inputs settle (the insurance year on each side)."""
        atoms: dict[str, None] = {}
        fields: set[str] = set()
        po, pn = self.pair.old.pinned, self.pair.new.pinned
        # Inputs pinned differently on the two sides: an atom reading them means different things
        # on each side (the age at the end of 2023 vs of 2025), so it is named with its side.
        split = {k for k in set(po) | set(pn) if po.get(k) != pn.get(k)}
        for side, rules in (("old", ro), ("new", rn)):
            rs = self.pair.version(cast(Side, side)).rs
            enc = self.pair.enc(cast(Side, side))
            pins = self._pins(cast(Side, side))
            for rid in rules:
                r = rs.rule(rid)
                for atom in conjuncts(r.when):
                    if self._settled(enc, atom, pins):
                        continue
                    text = to_text(atom)
                    text = f"({text})" if isinstance(atom, ir.Binary) and atom.op == "or" else text
                    read = deps(rs).inputs_read(atom)
                    if read & split:
                        text = f"[{self.pair.version(cast(Side, side)).label}] {text}"
                    atoms[text] = None
                    fields |= read
                if r.valid and r.valid.on not in self.pair.version(cast(Side, side)).pinned:
                    lo = "" if r.valid.lo is None else f"{value_text(r.valid.lo)} <= "
                    hi = "" if r.valid.hi is None else f" <= {value_text(r.valid.hi)}"
                    atoms[f"{lo}{r.valid.on}{hi}"] = None
                    fields.add(r.valid.on)
                for u in r.unless:
                    atoms[f"not {u}"] = None
                fields |= deps(rs).inputs_read(dict(r.then)[name])
        if ro == rn and ro and len(ro) == 1:
            rs = self.pair.new.rs
            then = dict(rs.rule(ro[0]).then)[name]
            if not isinstance(then, ir.Const):
                atoms[f"{to_text(then)} differs"] = None
        return tuple(atoms), tuple(sorted(fields - set(self.pair.fix) - set(po) - set(pn)))

    def _pins(self, side: Side) -> Pins:
        return goals.pins(self.pair.enc(side), {**self.pair.fix, **self.pair.version(side).pinned})

    @staticmethod
    def _settled(enc: Encoding, atom: ir.Expr, pins: Pins) -> bool:
        return goals.truth(goals.holds(enc.expr(atom)), pins) is True


def _decides(r: OutputResult, d: Decider) -> bool:
    """eval's result has the decider's status and rules (an unknown result names no rules)."""
    return r.status == d.status and (r.status == "unknown" or r.rules == d.rules)


def _result_key(r: OutputResult) -> tuple[object, ...]:
    return (r.status, r.values if r.status in ("ok", "conflict") else ())


def value_text(v: object, t: ir.Type | None = None) -> str:
    if t is not None and ir.is_time(t) and isinstance(v, int):
        return ir.time_text(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


# ---------------------------------------------------------------- the diff


def diff(
    old: Version,
    new: Version,
    *,
    outputs: Sequence[str] | None = None,
    fix: Mapping[str, ir.Value] | None = None,
    max_regions: int = 40,
    timeout_ms: int = 20_000,
    on_step: Callable[[str], None] | None = None,
) -> DiffReport:
    import time

    start = time.perf_counter()
    pair = Pair(old, new, fix or {}, timeout_ms)
    differ = _Differ(pair, max_regions, on_step)
    names = list(outputs) if outputs else list(dict.fromkeys([*old.rs.outputs, *new.rs.outputs]))
    results = []
    for i, n in enumerate(names, 1):
        if on_step:
            on_step(f"output {i}/{len(names)}: {n}")
        results.append(differ.output(n))
    times = frozenset(n for v in (old, new) for n, i in v.rs.inputs.items() if ir.is_time(i.type))
    return DiffReport(old.label, new.label, tuple(results), time.perf_counter() - start, times=times)


# ---------------------------------------------------------------- counts


def combinations(report: DiffReport, old: Version, new: Version, limit: int = 10_000) -> DiffReport:
    """Without a population: per region, how many value combinations its finite fields have."""
    import dataclasses

    def finite(t: ir.Type) -> int | None:
        if isinstance(t, ir.BoolT):
            return 2
        if isinstance(t, ir.EnumT):
            return len(t.values)
        if isinstance(t, ir.IntT) and t.hi - t.lo < 1000:
            return t.hi - t.lo + 1
        return None

    outs = []
    for od in report.outputs:
        regions = []
        for r in od.regions:
            sizes = []
            unbounded = []
            for f in r.fields:
                inp = old.rs.inputs.get(f) or new.rs.inputs.get(f)
                n = finite(inp.type) if inp else None
                if n is None:
                    unbounded.append(f)
                else:
                    sizes.append(n)
            total = 1
            for n in sizes:
                total *= n
            text = f"{total} combinations of {len(sizes)} finite field(s)" if sizes else ""
            if unbounded:
                text += ("; " if text else "") + "dates/large ranges: " + ", ".join(unbounded)
            regions.append(dataclasses.replace(r, combinations=text or "no field (whole space)"))
        outs.append(dataclasses.replace(od, regions=tuple(regions)))
    return dataclasses.replace(report, outputs=tuple(outs))


def count_population(report: DiffReport, old: Version, new: Version, population: str) -> DiffReport:
    """How many persons of a population file fall in each region: the whole file decided in SQL
    (solver/batch.py) under both versions, and each person placed by its deciders (status and
    applying rules on each side; for a set output, per member whose membership differs, the rules
    giving that member) where its result differs."""
    import dataclasses
    from pathlib import Path

    from solver.backends.sql_backend import DUCKDB, connect
    from solver.batch import decide_population

    q, lit = DUCKDB.ident, DUCKDB.string
    con = connect()
    names = [od.output for od in report.outputs if not od.presence]
    columns = {}
    for label, v in (("old", old), ("new", new)):
        rel = decide_population(v.rs, Path(population), con, names, v.pinned)
        rel.create(f"decided_{label}")  # one pass per version, then read once per output
        columns[label] = set(rel.columns)
    size = con.execute("SELECT count(*) FROM decided_old").fetchone()[0]
    joined = "FROM decided_old o JOIN decided_new n USING (_row)"
    keys: dict[tuple[object, ...], int | None] = {}
    for od in report.outputs:
        if od.presence:
            continue
        name = od.output
        st, val, rules, vals = q(name + "__status"), q(name), q(name + "__rules"), name + "__values"
        is_set = old.rs.outputs[name].cardinality == "set" and new.rs.outputs[name].cardinality == "set"
        if is_set:
            differs = [f"o.{st} <> n.{st}"]
            for member in {r.member for r in od.regions if r.member}:
                givers = [_givers(v.rs, name, member) for v in (old, new)]
                if None in givers:  # a rule gives a computed member: no count rather than a wrong one
                    keys.update({_count_key(r): None for r in od.regions if r.member == member})
                    continue
                o_ids, n_ids = (", ".join(lit(g) for g in ids or ()) or "NULL" for ids in givers)
                has = f"list_contains(o.{val}, {lit(member)}) <> list_contains(n.{val}, {lit(member)})"
                for so, ro, sn, rn, count in con.execute(
                    f"SELECT 'ok', list_filter(o.{rules}, lambda r: r IN ({o_ids})), 'ok', "
                    f"list_filter(n.{rules}, lambda r: r IN ({n_ids})), count(*) {joined} "
                    f"WHERE o.{st} = 'ok' AND n.{st} = 'ok' AND {has} GROUP BY ALL"
                ).fetchall():
                    keys[(name, member, so, tuple(ro), sn, tuple(rn))] = count
        else:
            differs = [f"o.{st} <> n.{st}", f"(o.{st} = 'ok' AND n.{st} = 'ok' AND o.{val} IS DISTINCT FROM n.{val})"]
            if vals in columns["old"] and vals in columns["new"]:
                differs.append(f"(o.{st} = 'conflict' AND n.{st} = 'conflict' AND o.{q(vals)} <> n.{q(vals)})")
        for so, ro, sn, rn, count in con.execute(
            f"SELECT o.{st}, o.{rules}, n.{st}, n.{rules}, count(*) {joined} WHERE {' OR '.join(differs)} GROUP BY ALL"
        ).fetchall():
            keys[(name, "", so, tuple(ro), sn, tuple(rn))] = count
    con.close()
    outs = []
    for od in report.outputs:
        regions = tuple(dataclasses.replace(r, count=keys.get(_count_key(r), 0)) for r in od.regions)
        outs.append(dataclasses.replace(od, regions=regions))
    return dataclasses.replace(report, outputs=tuple(outs), population_size=size)


def _count_key(r: Region) -> tuple[object, ...]:
    """A region as a population row sees it: an unknown result names no rules (as in eval)."""
    sides = [(d.status, () if d.status == "unknown" else d.rules) for d in (r.old, r.new)]
    return (r.output, r.member, *sides[0], *sides[1])


def _givers(rs: ir.RuleSet, output: str, member: str) -> list[str] | None:
    """The rules giving `member` to a set output (None when a rule's value is computed)."""
    out = []
    for r in rs.rules_for(output):
        value = dict(r.then)[output]
        if not isinstance(value, ir.Const):
            return None
        if value_text(value.value) == member:
            out.append(r.id)
    return out
