"""Deciding persons under many option assignments without one compile per assignment.

The eval backend compiles the rule set once with the options as inputs
(passes.options.options_as_inputs) and each person carries the assignment; the other
backends get one backend per assignment, built on first use and kept."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from solver import ir
from solver.backends import make
from solver.backends.base import Backend, Decision, Person
from solver.passes.options import choices_with_defaults, options_as_inputs, resolve, with_options


class AnyOptions:
    """Decides persons of `rs` under any option assignment, compiling as little as it can."""

    def __init__(self, rs: ir.RuleSet, backend: str = "eval") -> None:
        self.rs = rs
        self.backend = backend
        self._shared: Backend | None = None  # eval: one compile, options as inputs
        self._per_options: dict[tuple[tuple[str, str], ...], Backend] = {}

    def decide(self, person: Person, options: Mapping[str, str]) -> Decision:
        chosen = choices_with_defaults(self.rs, options)  # checks the names and values
        if self.backend != "eval":
            key = tuple(sorted(chosen.items()))
            if key not in self._per_options:
                self._per_options[key] = make(self.backend, resolve(self.rs, chosen))
            return self._per_options[key].decide(person)
        if self._shared is None:
            self._shared = make("eval", options_as_inputs(self.rs))
        d = self._shared.decide(with_options(self.rs, person, chosen))
        return dataclasses.replace(d, options=chosen)
