"""An encoding with a hole in each parameter lookup, to ask "would this output still be unknown
were these missing rows in their tables?" (the missing rows of an undetermined check finding)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import z3

from solver import ir
from solver.semantics.symbolic import Encoding
from solver.semantics.terms import Sym, equal


class RowHoles(Encoding):
    """The encoding with a hole in each lookup: while its hole variable is true the lookup is known
    whatever rows the table has. Filling the holes at some keys asks about persons as if those rows
    were there (two tables with the same keys and rows have the same `known` term in Encoding, so
    the holes are made per lookup, not by rewriting that term)."""

    def __init__(self, rs: ir.RuleSet) -> None:
        self.holes: list[tuple[str, Callable[[tuple[ir.Value, ...]], z3.BoolRef], z3.BoolRef]] = []
        super().__init__(rs)

    def _lookup(self, p: ir.Param, keys: list[Sym]) -> Sym:
        sym = super()._lookup(p, keys)
        hole = z3.Bool(f"#row hole {len(self.holes)}")

        def at(key: tuple[ir.Value, ...]) -> z3.BoolRef:
            parts = zip(keys, key, p.key_types, strict=True)
            return z3.And(*(z3.And(k.known, equal(k.value, self.const_term(v, t))) for k, v, t in parts))

        self.holes.append((p.name, at, hole))
        return Sym(sym.value, z3.Or(sym.known, hole))

    def unknown_without(self, name: str, rows: Iterable[tuple[str, tuple[ir.Value, ...]]]) -> z3.BoolRef:
        """NAME is unknown even were ROWS (parameter, key) in their tables, with any value."""
        wanted: dict[str, list[tuple[ir.Value, ...]]] = {}
        for p, key in rows:
            wanted.setdefault(p, []).append(key)
        fill = [(hole, z3.Or(*(at(key) for key in wanted.get(p, [])))) for p, at, hole in self.holes]
        return z3.substitute(self.outputs[name].status["unknown"], *fill)
