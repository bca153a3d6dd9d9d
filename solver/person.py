"""Person data -> validated input values. Unknown fields and out-of-domain values are errors that
name what is allowed; a missing field (or null) is left out, so outputs needing it are unknown."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from solver import ir
from solver.errors import InputError, did_you_mean, excerpt, shorten

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def domain(t: ir.Type) -> str:
    if isinstance(t, ir.BoolT):
        return "true or false"
    if isinstance(t, ir.IntT) and t.unit == "minute":
        return "a time of day HH:MM from 00:00 to 23:59"
    if isinstance(t, ir.IntT):
        return f"a whole number{' of yuan' if t.unit else ''} from {t.lo} to {t.hi}"
    if isinstance(t, ir.DateT):
        return f"a date YYYY-MM-DD from {t.lo} to {t.hi}"
    return ", ".join(t.values)


def parse_value(name: str, t: ir.Type, raw: Any) -> ir.Value:
    def bad(msg: str) -> InputError:
        return InputError(name, msg, allowed=domain(t))

    if isinstance(t, ir.BoolT):
        if not isinstance(raw, bool):
            raise bad(f"{excerpt(raw)} is not a boolean")
        return raw
    if isinstance(t, ir.IntT) and t.unit == "minute" and isinstance(raw, str):
        minutes = ir.parse_time(raw)
        if minutes is None:
            raise bad(f"{excerpt(raw)} is not a time of day")
        return minutes
    if isinstance(t, ir.IntT):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise bad(f"{excerpt(raw)} is not a whole number")
        if not t.lo <= raw <= t.hi:
            raise bad(f"{shorten(str(raw))} is outside the domain")
        return raw
    if isinstance(t, ir.DateT):
        if isinstance(raw, str):
            try:  # exactly YYYY-MM-DD (fromisoformat would also take 20250101 and 2025-W01-1)
                if not _DATE.fullmatch(raw):
                    raise ValueError
                raw = dt.date.fromisoformat(raw)
            except ValueError:
                raise bad(f"{excerpt(raw)} is not a date") from None
        if isinstance(raw, dt.datetime) or not isinstance(raw, dt.date):
            raise bad(f"{excerpt(raw)} is not a date")
        if not t.lo <= raw <= t.hi:
            raise bad(f"{shorten(str(raw))} is outside the domain")
        return raw
    if not isinstance(raw, str) or raw not in t.values:
        hint = did_you_mean(str(raw)[:200], t.values)
        raise bad(f"{excerpt(raw)} is not one of the values" + (f" ({hint})" if hint else ""))
    return raw


def parse_person(rs: ir.RuleSet, data: Mapping[str, Any]) -> dict[str, ir.Value]:
    out: dict[str, ir.Value] = {}
    for name, raw in data.items():
        if name not in rs.inputs:
            hint = did_you_mean(str(name)[:200], rs.inputs)
            raise InputError(
                excerpt(str(name))[1:-1],
                "unknown field" + (f" ({hint})" if hint else ""),
                allowed=", ".join(sorted(rs.inputs)),
            )
        if raw is not None:
            out[name] = parse_value(name, rs.inputs[name].type, raw)
    return out
