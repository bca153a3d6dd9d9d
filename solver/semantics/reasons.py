"""Why a value is unknown, as a typed value, and the one catalogue of its wording (zh/en).

Every backend builds the same `Reason` for the same cause; code compares and reads the fields,
and only the edge (a report, an explanation, JSON) turns a reason into text with `text(lang)`.
An unknown *input* is not a reason: it travels as a missing field name beside the reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from solver import dates
from solver.ir import Value

ReasonKind = Literal[
    "no_parameter",  # a parameter table has no row for the (known) key
    "off_calendar",  # a date function's result leaves the calendar
    "no_value",  # a referred output has no value (a gap)
    "conflict",  # a referred output has conflicting values
    "no_single_value",  # a referred output has no single value (gap or conflict, not told apart)
    "not_evaluated",  # eval did not need the expression (a short-circuit)
    "unexplained",  # the backend knows it is unknown but not why
]
Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Reason:
    """A cause of unknown. `name` is the parameter or output; `key` the parameter key that has
    no row (empty when the backend cannot say which); `call` the date call and where it is
    written, `year` the year it falls in (both empty / None when the backend cannot say)."""

    kind: ReasonKind
    name: str = ""
    key: tuple[Value, ...] = ()
    call: str = ""
    year: int | None = None

    def text(self, lang: Lang = "en") -> str:
        return render(self, lang)

    def __str__(self) -> str:
        return render(self, "en")


def no_parameter(name: str, key: tuple[Value, ...] = ()) -> Reason:
    return Reason("no_parameter", name, key=key)


def off_calendar(call: str = "", year: int | None = None) -> Reason:
    return Reason("off_calendar", call=call, year=year)


NOT_EVALUATED = Reason("not_evaluated")
UNEXPLAINED = Reason("unexplained")

_CALENDAR = f"{dates.FIRST}..{dates.LAST}"

# The catalogue: kind -> (zh, en); {name}, {key}, {call}, {year} and {calendar} are filled in.
# Variants for a reason a backend can only partly name are keyed (kind, which parts are known).
_TEXT: dict[tuple[str, ...], tuple[str, str]] = {
    ("no_parameter", "key"): ("参数表 {name} 没有 ({key}) 这一行", "no parameter {name} for ({key})"),
    ("no_parameter",): ("参数表 {name} 缺少所需的行", "no parameter row in {name}"),
    ("off_calendar", "call", "year"): (
        "日期超出范围：{call} 落在 {year} 年，不在 {calendar} 之内",
        "date out of range in {call}: the year {year} is outside {calendar}",
    ),
    ("off_calendar",): ("日期超出范围：不在 {calendar} 之内", "date out of range: outside {calendar}"),
    ("no_value",): ("{name} 没有值", "{name} has no value"),
    ("conflict",): ("{name} 的值相互冲突", "{name} has conflicting values"),
    ("no_single_value",): ("{name} 没有唯一的值", "{name} has no single value"),
    ("not_evaluated",): ("未求值", "not evaluated"),
    ("unexplained",): ("某个参数或值未知", "a parameter or value is unknown"),
}


def render(r: Reason, lang: Lang = "en") -> str:
    parts: tuple[str, ...] = (r.kind,)
    if r.kind == "no_parameter" and r.key:
        parts += ("key",)
    if r.kind == "off_calendar" and r.call and r.year is not None:
        parts += ("call", "year")
    zh, en = _TEXT[parts]
    return (zh if lang == "zh" else en).format(
        name=r.name, key=", ".join(str(k) for k in r.key), call=r.call, year=r.year, calendar=_CALENDAR
    )


def texts(reasons: tuple[Reason, ...] | list[Reason], lang: Lang = "en") -> list[str]:
    return [render(r, lang) for r in reasons]


def joined(reasons: tuple[Reason, ...] | list[Reason], lang: Lang = "en") -> str:
    return "; ".join(texts(reasons, lang))
