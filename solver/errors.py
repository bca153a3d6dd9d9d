"""One error hierarchy. Every message says what was expected and how to fix it."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from solver.ir import Loc

EXCERPT = 80  # characters of a bad value quoted back in an error


def shorten(text: str, limit: int = EXCERPT) -> str:
    """text cut to `limit` characters with an ellipsis (errors never echo a huge value)."""
    return text if len(text) <= limit else text[:limit] + "…"


def excerpt(value: object, limit: int = EXCERPT) -> str:
    """repr(value), cut to `limit` characters."""
    return shorten(repr(value), limit)


class EligError(Exception):
    """Base of every error elig raises on purpose."""


class RuleError(EligError):
    """A problem in a rule file, at a position."""

    def __init__(self, loc: Loc, message: str, *, expected: str = "", hint: str = "") -> None:
        self.loc, self.message, self.expected, self.hint = loc, message, expected, hint
        super().__init__(self.render())

    def render(self) -> str:
        parts = [f"{self.loc}: {self.message}"]
        if self.expected:
            parts.append(f"  expected: {self.expected}")
        if self.hint:
            parts.append(f"  hint: {self.hint}")
        return "\n".join(parts)


class RuleErrors(EligError):
    """All the errors found in one rule file (loading stops at the first file with errors)."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        self.errors = tuple(sorted(errors, key=lambda e: e.loc))
        super().__init__("\n".join(e.render() for e in self.errors))


class InputError(EligError):
    """A person's data does not fit the vocabulary."""

    def __init__(self, field: str, message: str, *, allowed: str = "") -> None:
        self.field, self.message, self.allowed = field, message, allowed
        text = f"field '{field}': {message}"
        if allowed:
            text += f"\n  allowed: {allowed}"
        super().__init__(text)


class SolverUnknown(EligError):
    """A solver gave up (timeout or resource limit): the answer is unknown, never 'ok'."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
