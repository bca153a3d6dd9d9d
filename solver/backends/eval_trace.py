"""The eval backend's traced runs: the recorded value of every evaluated node."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from solver import ir
from solver.semantics.reasons import NOT_EVALUATED
from solver.semantics.values import Unknown


@dataclass(frozen=True)
class Trace:
    """Values of every evaluated expression node and of every rule's applicability."""

    node_values: Mapping[int, Any]  # id(node) -> value
    applies: Mapping[str, Any]  # rule id -> True / False / Unknown
    env: Mapping[str, Any]  # definitions and output values by name

    def value(self, e: ir.Expr) -> Any:
        return self.node_values.get(id(e), _NOT_EVALUATED)


_NOT_EVALUATED = Unknown(reasons=(NOT_EVALUATED,))
_UNSET = object()  # a traced node's value before (or without) its evaluation


class _NodeValues(Mapping[int, Any]):
    """id(node) -> value, over the tuple of per-node values a traced run returns."""

    def __init__(self, index: Mapping[int, int], values: tuple[Any, ...], nodes: list[ir.Expr]) -> None:
        # Keys are ids, so the nodes must outlive this map: codegen builds some nodes of its own
        # (validity tests, balanced chains), and once freed their ids go to new, unrelated nodes.
        self._index, self._values, self._nodes = index, values, nodes

    def __getitem__(self, key: int) -> Any:
        i = self._index[key]
        v = self._values[i] if i < len(self._values) else _UNSET
        if v is _UNSET:
            raise KeyError(key)
        return v

    def __iter__(self) -> Iterator[int]:
        return (k for k, i in self._index.items() if i < len(self._values) and self._values[i] is not _UNSET)

    def __len__(self) -> int:
        return sum(1 for _ in self)
