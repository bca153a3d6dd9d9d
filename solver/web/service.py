"""What the web app asks of the library, for one rule set: the same calls `elig decide` and
`elig explain` make (decide, derivation, why-not, counterfactual, consult), with the compiled
backends and z3 encodings kept per option assignment. z3's context is not thread-safe, so every
solver call runs under one lock."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explain.consult import Consultant, Consultation
from explain.counterfactual import Counterfactual, counterfactual
from explain.counterfactual import steps as cf_steps
from explain.derivation import Lang, Step, Words, explain
from explain.symbolic import Symbolic
from explain.why_not import why_not
from solver import ir
from solver.backends.base import Decision, Person
from solver.backends.eval_backend import EvalBackend
from solver.compiled import AnyOptions
from solver.errors import InputError
from solver.language.loader import load_ruleset
from solver.passes.deps import deps
from solver.passes.options import choices_with_defaults, resolve
from solver.person import parse_person, parse_value

# A solver question past this many ms is answered "unknown" (a page must come back).
TIMEOUT_MS = 5_000
_WHOLE = re.compile(r"-?[0-9]{1,40}")


@dataclass
class Prepared:
    """One option assignment: the resolved rule set, its eval backend and (on first use) z3."""

    rs: ir.RuleSet
    ev: EvalBackend
    _sym: Symbolic | None = None
    _consultant: Consultant | None = None

    @property
    def sym(self) -> Symbolic:
        if self._sym is None:
            self._sym = Symbolic(self.rs)
        return self._sym

    @property
    def consultant(self) -> Consultant:
        if self._consultant is None:
            self._consultant = Consultant(self.rs, self.ev, self.sym)
        return self._consultant


@dataclass
class Service:
    path: Path
    rs: ir.RuleSet = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _prepared: dict[tuple[tuple[str, str], ...], Prepared] = field(default_factory=dict)
    _option_cones: dict[str, frozenset[str]] = field(default_factory=dict)
    _any_options: AnyOptions | None = None

    def __post_init__(self) -> None:
        self.rs = load_ruleset(self.path)

    @property
    def any_options(self) -> AnyOptions:
        """One eval compile with the options as inputs: a person under any reading."""
        if self._any_options is None:
            self._any_options = AnyOptions(self.rs)
        return self._any_options

    # ------------------------------------------------------------ input

    def options(self, choices: Mapping[str, str]) -> dict[str, str]:
        """Every option with its reading (the given ones checked, defaults for the rest)."""
        return choices_with_defaults(self.rs, choices)

    def prepared(self, choices: Mapping[str, str]) -> Prepared:
        key = tuple(sorted(self.options(choices).items()))
        if key not in self._prepared:
            resolved = resolve(self.rs, dict(key))
            self._prepared[key] = Prepared(resolved, EvalBackend(resolved))
        return self._prepared[key]

    def person(self, data: Mapping[str, Any]) -> dict[str, ir.Value]:
        return parse_person(self.rs, data)

    def from_text(self, name: str, text: str) -> ir.Value:
        """A form field's text as the value of input `name` (the person reader checks it)."""
        if name not in self.rs.inputs:
            raise InputError(name, "unknown field", allowed=", ".join(sorted(self.rs.inputs)))
        return parse_value(name, self.rs.inputs[name].type, coerce(self.rs.inputs[name].type, text))

    def output_value(self, name: str, raw: Any) -> ir.Value:
        """A value of output `name` (what why-not and counterfactual ask about)."""
        if name not in self.rs.outputs:
            raise InputError("output", f"unknown output '{name}'", allowed=", ".join(self.rs.outputs))
        t = self.rs.outputs[name].type
        return parse_value(name, t, coerce(t, raw) if isinstance(raw, str) else raw)

    def check_outputs(self, names: Sequence[str]) -> list[str]:
        for n in names:
            if n not in self.rs.outputs:
                raise InputError("outputs", f"unknown output '{n}'", allowed=", ".join(self.rs.outputs))
        return list(names)

    # ------------------------------------------------------------ answers

    def decide(self, person: Person, choices: Mapping[str, str]) -> Decision:
        with self.lock:
            return self.prepared(choices).ev.decide(person)

    def explain(
        self, person: Person, choices: Mapping[str, str], outputs: Sequence[str] | None, lang: Lang
    ) -> list[Step]:
        with self.lock:
            p = self.prepared(choices)
            decision, trace = p.ev.decide_traced(person)
            return explain(p.rs, decision, trace, list(outputs) if outputs else None, lang, self.rs)

    def why_not(self, person: Person, choices: Mapping[str, str], output: str, value: ir.Value, lang: Lang) -> Step:
        with self.lock:
            p = self.prepared(choices)
            decision, trace = p.ev.decide_traced(person)
            return why_not(
                p.rs, decision, trace, output, value, lang, symbolic=p.sym, timeout_ms=TIMEOUT_MS, source=self.rs
            )

    def counterfactual(
        self,
        person: Person,
        choices: Mapping[str, str],
        output: str,
        value: ir.Value,
        fix: Sequence[str],
        lang: Lang,
    ) -> tuple[Counterfactual, Step]:
        for f in fix:
            if f not in self.rs.inputs:
                raise InputError("fix", f"unknown input '{f}'", allowed=", ".join(sorted(self.rs.inputs)))
        with self.lock:
            p = self.prepared(choices)
            cf = counterfactual(p.sym, p.ev, person, output, value, list(fix), TIMEOUT_MS)
            return cf, cf_steps(cf, p.rs, p.ev, lang, self.rs)

    def consult(
        self, person: Person, choices: Mapping[str, str], outputs: Sequence[str], timeout_ms: int = TIMEOUT_MS
    ) -> Consultation:
        with self.lock:
            return self.prepared(choices).consultant.consult(person, list(outputs) or None, timeout_ms)

    def readings(
        self, person: Person, choices: Mapping[str, str], outputs: Sequence[str], lang: Lang = "en"
    ) -> dict[str, dict[str, dict[str, str]]]:
        """output -> option -> reading -> value, for each output and each option in its cone whose
        readings give it different values (one option changed at a time, the rest as chosen). Only
        the options some output reads are tried, each reading one eval decision of the person."""
        chosen = self.options(choices)
        cones = {o: self.option_cone(o) for o in outputs}
        decided: dict[tuple[str, str], Decision] = {}
        with self.lock:
            for name in sorted(set().union(*cones.values())):
                for reading in self.rs.options[name].type.values:
                    decided[name, reading] = self.any_options.decide(person, {**chosen, name: reading})
        words = Words(self.rs, lang)
        out: dict[str, dict[str, dict[str, str]]] = {}
        for o, cone in cones.items():
            for name in sorted(cone):
                results = {r: decided[name, r][o] for r in self.rs.options[name].type.values}
                if len({(x.status, x.values) for x in results.values()}) > 1:
                    out.setdefault(o, {})[name] = {r: words.result_text(o, x) for r, x in results.items()}
        return out

    def option_cone(self, output: str) -> frozenset[str]:
        """The options an output can depend on: read by its rules (and their exceptions), default
        and the definitions and outputs they read, from the dependency pass."""
        if output not in self._option_cones:
            d, rs = deps(self.rs), self.rs
            seen: set[str] = set()
            options: set[str] = set()
            todo = [output]
            while todo:
                n = todo.pop()
                if n in seen:
                    continue
                seen.add(n)
                reads = [d.definitions[n]] if n in rs.definitions else []
                if n in rs.outputs:
                    reads = [d.outputs[n], *(d.rules[u] for r in rs.rules_for(n) for u in r.unless)]
                for r in reads:
                    options |= r.options
                    todo += [*r.definitions, *r.outputs]
            self._option_cones[output] = frozenset(options)
        return self._option_cones[output]

    def depends_on(self, output: str, choices: Mapping[str, str]) -> frozenset[str]:
        """The inputs an output reads (its slice, before input constraints add their fields)."""
        with self.lock:
            return self.prepared(choices).sym.slice([output]).reads


def coerce(t: ir.Type, text: str) -> Any:
    """Form text as the raw value a person file would hold for a field of type t; anything else is
    passed on as text, and the person reader's error names the allowed values."""
    text = text.strip()
    if isinstance(t, ir.BoolT) and text in ("true", "false"):
        return text == "true"
    if isinstance(t, ir.IntT) and _WHOLE.fullmatch(text):
        return int(text)
    return text
