"""The declarations of a rule set typed and checked: enum types, inputs, options, parameter tables, output types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from solver import ir
from solver.errors import RuleError, RuleErrors, did_you_mean
from solver.language import model as m
from solver.language.sections import Item, Sections

BUILTIN_TYPES = ("bool", "int", "money", "date", "time")

T = TypeVar("T")


class Declarations:
    """The merged sections' types and declarations; errors are collected, not raised one by one."""

    def __init__(self, s: Sections, root: Path) -> None:
        self.s, self.root = s, root
        self.errors: list[RuleError] = []
        self.enums: dict[str, ir.EnumT] = {}
        self.inputs: dict[str, ir.Input] = {}
        self.options: dict[str, ir.OptionDecl] = {}
        self.params: dict[str, ir.Param] = {}
        self.output_types: dict[str, tuple[ir.Type, str]] = {}
        self.definitions: dict[str, ir.Definition] = {}
        self.typing_stack: list[str] = []
        self.in_reported_cycle: set[str] = set()
        self.failed_definitions: set[str] = set()

    def attempt(self, fn: Callable[..., T], *args: Any) -> T | None:
        """fn(*args), recording a RuleError instead of raising it (so all errors are reported)."""
        try:
            return fn(*args)
        except RuleErrors as e:
            self.errors.extend(e.errors)
        except RuleError as e:
            self.errors.append(e)
        return None

    def fail_if_errors(self) -> None:
        if not self.errors:
            return
        first_file = min(e.loc.file for e in self.errors)
        raise RuleErrors([e for e in self.errors if e.loc.file == first_file])

    def resolve_type(
        self, name: str, rng: list[int] | list[dt.date] | None, loc: ir.Loc, *, need_range: bool = False
    ) -> ir.Type:
        if name == "bool":
            return ir.BOOL
        if name in ("int", "money"):
            unit: Any = "yuan" if name == "money" else ""
            if rng is None:
                if need_range:
                    raise RuleError(
                        loc,
                        f"an {name} input needs a range",
                        expected="range: [lowest, highest]",
                        hint="every input has a finite domain so solvers can search it",
                    )
                return ir.IntT(ir.ANY_INT.lo, ir.ANY_INT.hi, unit)
            lo, hi = self.check_range(rng, int, loc)
            return ir.IntT(cast(int, lo), cast(int, hi), unit)
        if name == "time":
            return ir.TIME_OF_DAY
        if name == "date":
            if rng is None:
                return ir.ANY_DATE
            lo, hi = self.check_range(rng, dt.date, loc)
            if cast(dt.date, lo).year < 1901 or cast(dt.date, hi).year > 2099:
                raise RuleError(loc, "dates must lie between 1901-01-01 and 2099-12-31")
            return ir.DateT(cast(dt.date, lo), cast(dt.date, hi))
        if name in self.enums:
            return self.enums[name]
        known = [*BUILTIN_TYPES, *self.enums]
        raise RuleError(
            loc,
            f"unknown type '{name}'",
            expected="bool, int, money, date, time or an enum from types",
            hint=did_you_mean(name, known),
        )

    def input_type(self, v: m.InputM, loc: ir.Loc) -> ir.Type:
        return self.resolve_type(v.type, v.range, loc, need_range=True)

    @staticmethod
    def check_range(rng: list[Any], kind: type, loc: ir.Loc) -> tuple[Any, Any]:
        if len(rng) != 2 or not all(isinstance(v, kind) and not isinstance(v, bool) for v in rng):
            raise RuleError(
                loc, f"range must be two {'dates' if kind is dt.date else 'numbers'}", expected="[lowest, highest]"
            )
        if rng[0] > rng[1]:
            raise RuleError(loc, f"empty range: {rng[0]} > {rng[1]}", hint="swap the bounds")
        return rng[0], rng[1]

    def build_declarations(self) -> None:
        s = self.s
        for name, it in s.types.items():
            if len(set(it.value.values)) != len(it.value.values):
                self.errors.append(RuleError(it.at("values"), f"type {name} lists a value twice"))
            for v in it.value.labels:
                if v not in it.value.values:
                    self.errors.append(
                        RuleError(
                            it.at("labels", v, key=True),
                            f"label for unknown value '{v}' of {name}",
                            hint=did_you_mean(v, it.value.values),
                        )
                    )
            if name in BUILTIN_TYPES:
                self.errors.append(RuleError(it.loc, f"'{name}' is a built-in type name"))
            self.enums[name] = ir.EnumT(name, tuple(it.value.values))
        for name, inp in s.inputs.items():
            iv = inp.value
            t = self.attempt(self.input_type, iv, inp.at("type"))
            if t is not None:
                self.inputs[name] = ir.Input(name, t, ir.Labels(iv.zh, iv.en, iv.doc), inp.loc)
        for name, opt in s.options.items():
            ov = opt.value
            if ov.default not in ov.values:
                self.errors.append(
                    RuleError(
                        opt.at("default"),
                        f"default '{ov.default}' is not a value of option {name}",
                        expected=", ".join(ov.values),
                        hint=did_you_mean(ov.default, ov.values),
                    )
                )
            self.check_cites(ov.cites, opt, "cites")
            self.options[name] = ir.OptionDecl(
                name,
                ir.EnumT(name, tuple(ov.values)),
                ov.default,
                tuple(ov.values.items()),
                tuple(ov.cites),
                ov.note,
                opt.loc,
            )
        for name, p in s.parameters.items():
            self.attempt(self.build_param, name, p)
        for name, out in s.outputs.items():
            o = out.value
            t = self.attempt(self.resolve_type, o.type, None, out.at("type"))
            if t is None:
                continue
            if o.cardinality == "set" and not isinstance(t, ir.EnumT):
                self.errors.append(RuleError(out.at("cardinality"), f"set output {name} must have an enum type"))
            self.output_types[name] = (t, o.cardinality)
        taken: dict[str, str] = {}
        for sec in ("inputs", "definitions", "outputs", "options", "parameters"):
            for name, it in getattr(s, sec).items():
                if name in taken:
                    self.errors.append(
                        RuleError(
                            it.loc,
                            f"'{name}' is both {taken[name]} and {sec[:-1]}",
                            hint="names are shared by inputs, definitions, outputs, options and parameters",
                        )
                    )
                taken[name] = sec[:-1]

    def build_param(self, name: str, p: Item[m.ParamM]) -> None:
        v = p.value
        key_types = tuple(self.resolve_type(k.type, None, p.at("keys", i, "type")) for i, k in enumerate(v.keys))
        vt = self.resolve_type(v.type, None, p.at("type"))
        rows = []
        seen: dict[tuple[Any, ...], int] = {}
        for i, row in enumerate(v.rows):
            if len(row.key) != len(key_types):
                raise RuleError(
                    p.at("rows", i, "key"), f"row key has {len(row.key)} part(s), table has {len(key_types)}"
                )
            key = tuple(
                self.check_value(k, t, p.at("rows", i, "key", j))
                for j, (k, t) in enumerate(zip(row.key, key_types, strict=True))
            )
            if key in seen:
                raise RuleError(p.at("rows", i), f"{name} has two rows for {key} (rows {seen[key] + 1} and {i + 1})")
            seen[key] = i
            self.check_cites(row.cites, p, "rows", i, "cites")
            rows.append(
                ir.ParamRow(
                    key, self.check_value(row.value, vt, p.at("rows", i, "value")), tuple(row.cites), p.at("rows", i)
                )
            )
        self.params[name] = ir.Param(
            name, tuple(k.name for k in v.keys), key_types, vt, tuple(rows), ir.Labels(v.zh, v.en, v.doc), p.loc
        )

    def check_value(self, value: Any, t: ir.Type, loc: ir.Loc) -> ir.Value:
        if isinstance(t, ir.IntT) and t.unit == "minute" and isinstance(value, str):
            minutes = ir.parse_time(value)
            if minutes is None:
                raise RuleError(loc, f"{value!r} is not a time of day", expected="HH:MM from 00:00 to 23:59")
            return minutes
        ok = {
            ir.BoolT: lambda: isinstance(value, bool),
            ir.IntT: lambda: isinstance(value, int) and not isinstance(value, bool),
            ir.DateT: lambda: isinstance(value, dt.date),
            ir.EnumT: lambda: isinstance(value, str) and value in cast(ir.EnumT, t).values,
        }[type(t)]()
        if not ok:
            expected = ", ".join(t.values) if isinstance(t, ir.EnumT) else str(t)
            hint = did_you_mean(str(value), t.values) if isinstance(t, ir.EnumT) else ""
            raise RuleError(loc, f"{value!r} is not a value of type {t}", expected=expected, hint=hint)
        return cast(ir.Value, value)

    def check_cites(self, cites: list[str], it: Item[Any], *path: str | int) -> None:
        for i, c in enumerate(cites):
            if c not in self.s.clauses:
                self.errors.append(
                    RuleError(
                        it.at(*path, i),
                        f"cites unknown clause '{c}'",
                        expected="a clause id from the clauses section",
                        hint=did_you_mean(c, self.s.clauses),
                    )
                )
