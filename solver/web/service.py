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
from explain.derivation import Lang, Step, explain
from explain.symbolic import Symbolic
from explain.why_not import why_not
from solver import ir
from solver.backends.base import Decision, Person
from solver.backends.eval_backend import EvalBackend
from solver.errors import InputError
from solver.language.loader import load_ruleset
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
    _option_reads: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rs = load_ruleset(self.path)

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

    def readings(self, person: Person, choices: Mapping[str, str], output: str) -> dict[str, dict[str, str]]:
        """For each option the output reads whose readings give it different values: reading ->
        the value (the decision under that reading, everything else as chosen)."""
        from explain.derivation import Words

        out: dict[str, dict[str, str]] = {}
        chosen = self.options(choices)
        words = Words(self.rs, "en")
        for name in sorted(self.option_reads(output)):
            values = {}
            for reading in self.rs.options[name].type.values:
                with self.lock:
                    p = self.prepared({**chosen, name: reading})
                    values[reading] = words.result_text(output, p.ev.decide(person)[output])
            if len(set(values.values())) > 1:
                out[name] = values
        return out

    def option_reads(self, output: str) -> frozenset[str]:
        """The options an output's rules, definitions and defaults read, directly or through others."""
        if output not in self._option_reads:
            rs = self.rs
            seen: set[str] = set()
            options: set[str] = set()
            todo = [output]
            while todo:
                n = todo.pop()
                if n in seen:
                    continue
                seen.add(n)
                exprs: list[ir.Expr] = []
                if n in rs.definitions:
                    exprs.append(rs.definitions[n].expr)
                elif n in rs.outputs:
                    o = rs.outputs[n]
                    exprs += [o.default] if o.default is not None else []
                    for r in rs.rules_for(n):
                        exprs += [r.when, *(v for _, v in r.then)]
                        for u in r.unless:
                            exprs.append(rs.rule(u).when)
                for e in exprs:
                    for node in ir.walk(e):
                        if isinstance(node, ir.Ref):
                            (options.add if node.kind == "option" else todo.append)(node.name)
            self._option_reads[output] = frozenset(options)
        return self._option_reads[output]

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
