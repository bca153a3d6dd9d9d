"""A parsed YAML file checked against its pydantic model: every problem a positioned RuleError."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from solver.errors import RuleError, RuleErrors, did_you_mean, excerpt
from solver.language import model as m
from solver.language.strict_yaml import Located


def validate(located: Located, model: type[BaseModel]) -> BaseModel:
    """Validate located data against a model; every problem becomes a positioned RuleError."""
    try:
        return model.model_validate(located.data)
    except ValidationError as e:
        raise RuleErrors([_pydantic_error(located, err, model) for err in e.errors()]) from None


def _pydantic_error(located: Located, err: Any, root: type[BaseModel]) -> RuleError:
    path = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        parent = path[:-1]
        owner = m.model_at(parent, root)
        allowed = m.allowed_keys(owner) if owner else []
        key = str(path[-1])
        where = f" in {'/'.join(map(str, parent))}" if parent else " at the top of a rule file"
        return RuleError(
            located.loc(path, key=True),
            f"unknown key '{key}'{where}",
            expected="one of: " + ", ".join(allowed),
            hint=did_you_mean(key, allowed),
        )
    if kind == "string_pattern_mismatch" or (kind == "string_too_long" and path and path[-1] == "[key]"):
        is_key = bool(path) and path[-1] == "[key]"
        at = path[:-1] if is_key else path
        got = str(path[-2]) if is_key else _dig(located.data, at)
        is_id = err.get("ctx", {}).get("pattern") == m.ID_PATTERN
        return RuleError(
            located.loc(at, key=is_key),
            f"{excerpt(got)} is not {'an id' if is_id else 'a name'}",
            expected="dotted names like emp.age_limit"
            if is_id
            else "a name: letters A-Z a-z, digits and _, not first a digit",
            hint="rename it (names are used in expressions, so they follow the same rules)",
        )
    # Union members add their own names to the path; cut back to a path that exists in the file.
    real = path
    while real and real not in located.value_locs:
        real = real[:-1]
    label = "/".join(map(str, path[: len(real)])) or "file"
    if kind == "missing":
        return RuleError(located.loc(real), f"{label}: missing key '{path[-1]}'", expected=f"a value for '{path[-1]}'")
    got = _dig(located.data, real)
    return RuleError(located.loc(real), f"{label}: {err['msg']} (got {excerpt(got)})", expected=_expected_of(kind))


def _dig(data: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        data = data[p]
    return data


def _expected_of(kind: str) -> str:
    return {
        "string_type": "text",
        "int_type": "a whole number",
        "bool_type": "true or false",
        "list_type": "a list [...]",
        "dict_type": "a mapping {key: value}",
        "model_type": "a mapping {key: value}",
        "date_type": "a date YYYY-MM-DD",
        "literal_error": "one of the listed values",
        "too_short": "at least one entry",
    }.get(kind, "")
