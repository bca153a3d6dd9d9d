"""The one z3 query runner: questions asked of an encoding's terms, typed answers back.

A `Query` is one z3 solver over shared facts (an encoding's domains and constraints, a scope).
Questions are asked under assumption literals rather than push/pop, so what z3 learns for one
question helps the next. A named part is one assumption literal (`part`), so an unsat answer
names the parts in its core. The answer is `Sat` (with the model), `Unsat` (with the core's part
names) or `Unknown` (with z3's reason); a timeout or resource limit is always `Unknown`, never a
yes or a no. Every consumer (checks, diffs, explanations, fixtures, strategies) asks through here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import z3

Model = z3.ModelRef


class Sat:
    """A model exists. It is built on first use, and only before the solver's next check: most
    questions need only the yes (and building a model creates terms, which can change z3's later
    choices among equally good answers)."""

    def __init__(self, read: Callable[[], z3.ModelRef]) -> None:
        self._read: Callable[[], z3.ModelRef] | None = read
        self._model: z3.ModelRef | None = None

    @property
    def model(self) -> z3.ModelRef:
        if self._model is None:
            assert self._read is not None
            self._model = self._read()
        return self._model

    def expire(self) -> None:
        self._read = None if self._model is None else self._read

    def holds(self, term: z3.BoolRef) -> bool:
        """term is true in the model (a variable the model leaves free counts as false)."""
        return bool(z3.is_true(self.model.eval(term, model_completion=True)))

    def number(self, term: z3.ArithRef) -> int:
        return int(self.model.eval(term, model_completion=True).as_long())


@dataclass(frozen=True)
class Unsat:
    core: tuple[str, ...] = ()  # the named parts in z3's core, in z3's order


@dataclass(frozen=True)
class Unknown:
    reason: str  # z3's reason: "timeout", "max. resource limit exceeded", "canceled", ...


Answer = Sat | Unsat | Unknown


class Query:
    """One z3 solver over `facts`. `timeout_ms` and `rlimit` bound every check (0 / None: no
    bound); `minimize_core` asks z3 for a smaller core of named parts; `settings` are further
    z3 solver parameters (e.g. {"arith.solver": 2})."""

    def __init__(
        self,
        *facts: z3.BoolRef,
        timeout_ms: int | None = None,
        rlimit: int = 0,
        minimize_core: bool = False,
        settings: Mapping[str, bool | int | str] | None = None,
    ) -> None:
        self._s = z3.Solver()
        if timeout_ms:
            self._s.set("timeout", timeout_ms)
        if rlimit:
            self._s.set("rlimit", rlimit)
        if minimize_core:
            self._s.set("core.minimize", True)
        for key, value in (settings or {}).items():
            self._s.set(key, value)
        self._s.add(*facts)
        self._parts: dict[str, z3.BoolRef] = {}
        self._part_ids: set[int] = set()
        self._last: Sat | None = None  # its model can be read until the next check
        self._asked = 0

    def add(self, *facts: z3.BoolRef) -> None:
        self._s.add(*facts)

    def part(self, name: str, term: z3.BoolRef) -> z3.BoolRef:
        """A named part: term holds whenever the returned literal is assumed."""
        lit = z3.Bool(name)
        self._s.add(z3.Implies(lit, term))
        self._parts[name] = lit
        self._part_ids.add(lit.get_id())
        return lit

    def check(self, *assumptions: z3.BoolRef, timeout_ms: int | None = None) -> Answer:
        """Is there a model of the facts under the assumptions? `timeout_ms` bounds this and
        every later check."""
        if timeout_ms is not None:
            self._s.set("timeout", timeout_ms)
        res = self._s.check(*assumptions)
        if self._last is not None:
            self._last.expire()
            self._last = None
        if res == z3.sat:
            self._last = Sat(self._s.model)
            return self._last
        if res == z3.unsat:
            if not any(a.get_id() in self._part_ids for a in assumptions):
                return Unsat()
            return Unsat(tuple(n for n in map(str, self._s.unsat_core()) if n in self._parts))
        return Unknown(self._s.reason_unknown())

    def ask(self, *goal: z3.BoolRef) -> Answer:
        """Is there a model meeting every goal? The goal sits behind a fresh assumption literal, so
        it does not stay asserted for the next question."""
        self._asked += 1
        lit = z3.Bool(f"goal!{self._asked}")
        self._s.add(z3.Implies(lit, z3.And(*goal)))
        return self.check(lit)

    def core(self, parts: Mapping[str, z3.BoolRef]) -> Answer:
        """Do the named parts hold together? Unsat names the parts of a core."""
        return self.check(*(self.part(name, term) for name, term in parts.items()))

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Facts and parts added inside the `with` block are dropped at its end, and so is the
        last answer's model unless it was read inside (z3 reuses the ids of terms no longer
        held, so holding them would change its later choices as well as the memory used)."""
        parts = dict(self._parts)
        self._s.push()
        try:
            yield
        finally:
            self._s.pop()
            self._parts = parts
            self._part_ids = {lit.get_id() for lit in parts.values()}
            if self._last is not None:
                self._last.expire()
                self._last = None


def minimize(facts: Sequence[z3.BoolRef], objectives: Sequence[z3.ArithRef], timeout_ms: int | None = None) -> Answer:
    """A model of the facts minimizing the objectives lexicographically (z3 Optimize)."""
    opt = z3.Optimize()
    if timeout_ms:
        opt.set(timeout=timeout_ms)
    opt.add(*facts)
    for o in objectives:
        opt.minimize(o)
    res = opt.check()
    if res == z3.sat:
        return Sat(opt.model)
    if res == z3.unsat:
        return Unsat()
    return Unknown(opt.reason_unknown())


# ---------------------------------------------------------------- fewest changes

Engine = Literal["search", "optimize"]
SMALL_CHANGES = 2  # change counts tried with a bound before one unbounded call


def fewest_changes(
    hard: Sequence[z3.BoolRef],
    changed: Sequence[z3.BoolRef],
    dist: z3.ArithRef,
    timeout_ms: int | None = None,
    engine: Engine = "search",
) -> Answer:
    """A model of `hard` with the fewest `changed` goals true, then the least `dist` (the
    lexicographic optimum a counterfactual asks for). `engine`: "search" (incremental solver
    calls) or "optimize" (z3 Optimize); both find the same optimum, which may differ only in ties."""
    solve = _fewest_by_optimize if engine == "optimize" else _fewest_by_search
    return solve(hard, changed, dist, timeout_ms)


def _fewest_by_optimize(
    hard: Sequence[z3.BoolRef], changed: Sequence[z3.BoolRef], dist: z3.ArithRef, timeout_ms: int | None
) -> Answer:
    """z3 Optimize with two lexicographic objectives: the count of changed fields, then distance."""
    count = z3.Sum([z3.If(c, 1, 0) for c in changed]) if changed else z3.IntVal(0)
    return minimize(hard, [count, dist], timeout_ms)


def _fewest_by_search(
    hard: Sequence[z3.BoolRef], changed: Sequence[z3.BoolRef], dist: z3.ArithRef, timeout_ms: int | None
) -> Answer:
    """The same lexicographic optimum by incremental solver calls: the least k with `at most k
    fields changed` (every smaller k refuted), then the least distance under that k (galloping
    up from k, then bisection; the final bound refuted). Every answer is proven, as Optimize's
    is; on the Shanghai employee slices it is 2-4x faster (bench/explain.py). `timeout_ms`
    bounds the whole search, not each call."""
    deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms else None
    s = Query(*hard)

    def check(*extra: z3.BoolRef) -> Answer:
        if deadline is None:
            return s.check(*extra)
        left = int((deadline - time.monotonic()) * 1000)
        if left <= 0:
            return Unknown("timeout")
        got = s.check(*extra, timeout_ms=left)
        return Unknown("timeout") if isinstance(got, Unknown) and time.monotonic() >= deadline else got

    # Fewest changed fields: try 0, 1, 2 first (small changes are the usual answer, and a bound
    # on the changes makes each call cheaper); beyond that, one unbounded call gives an upper
    # bound and the remaining counts are tried in order.
    model: z3.ModelRef | None = None
    k_hi = 0
    for k in range(min(SMALL_CHANGES, len(changed)) + 1 if changed else 1):
        res = check(z3.AtMost(*changed, k)) if changed else check()
        if isinstance(res, Unknown):
            return res
        if isinstance(res, Sat):
            model, k_hi = res.model, k
            break
    if model is None:
        if not changed or len(changed) <= SMALL_CHANGES:
            return Unsat()
        res = check()
        if not isinstance(res, Sat):
            return res
        model = res.model
        k_hi = model.eval(z3.Sum([z3.If(c, 1, 0) for c in changed]), model_completion=True).as_long()
        for k in range(SMALL_CHANGES + 1, k_hi):
            res = check(z3.AtMost(*changed, k))
            if isinstance(res, Unknown):
                return res
            if isinstance(res, Sat):
                model, k_hi = res.model, k
                break
    if changed:
        s.add(z3.AtMost(*changed, k_hi))
    best = model.eval(dist, model_completion=True).as_long()
    # Exactly k_hi fields change, each at least 1 away: the distance is >= k_hi. Gallop up from
    # that bound (the usual answer, found in one call) and bisect once a bound holds.
    lo, width = k_hi, 1
    while lo < best:
        mid = min(lo + width - 1, (lo + best) // 2)
        res = check(dist <= mid)
        if isinstance(res, Unknown):
            return res
        if isinstance(res, Sat):
            model = res.model
            best = model.eval(dist, model_completion=True).as_long()
        else:
            lo, width = mid + 1, width * 2
    found = model
    return Sat(lambda: found)
