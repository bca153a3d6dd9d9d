"""Testing helpers other projects can use: a pytest plugin for YAML cases, and hypothesis
strategies that draw valid persons of a rule set (`from solver.testing import persons`).

The strategies load lazily, so the pytest plugin works without hypothesis installed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from solver.testing.strategies import persons, random_persons

__all__ = ["persons", "random_persons"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from solver.testing import strategies

        return getattr(strategies, name)
    raise AttributeError(f"module 'solver.testing' has no attribute '{name}'")
