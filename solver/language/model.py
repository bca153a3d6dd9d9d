"""The shape of a rule file. Validation (unknown keys, wrong types) and the JSON Schema that
`elig schema` prints both come from these classes."""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

# Names (inputs, outputs, definitions, parameters, options, types, enum values) and ids (rules,
# constraints, notes): checked here so no name a file gives can mean anything but itself.
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=200)]
ExprSrc = Annotated[str, StringConstraints(max_length=20_000)] | bool | int
Scalar = str | bool | int | dt.date


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Labelled(StrictModel):
    zh: str = ""
    en: str = ""
    doc: str = ""


class RuleSetMeta(StrictModel):
    name: str
    title: str = ""
    time: Name | None = Field(None, description="input that `valid` intervals refer to by default")


class InForceM(StrictModel):
    """When a document is in force, as its text says (`quote`, verbatim from the seed): from the
    day it takes effect (施行, or the first day of the year a notice is for) to the last day it
    is valid (有效期至; none: no end stated). `insurance_years`, for a notice about given
    insurance years, says which: a rule dated on an int time axis (years) is compared with them,
    else with the calendar years from..to."""

    from_: dt.date = Field(alias="from")
    to: dt.date | None = None
    insurance_years: list[int] | None = Field(None, min_length=2, max_length=2, description="[first, last]")
    quote: str = Field(min_length=1, description="the seed's words that give the dates, verbatim")
    doc: str = ""


class SourceM(StrictModel):
    title: str
    status: Literal["draft", "enacted", "notice", "faq"]
    number: str = ""
    file: str = ""
    in_force: InForceM | None = None
    repeals: str = ""
    doc: str = ""


class ClauseM(StrictModel):
    source: str
    where: str = ""
    text: str = Field(description="the exact text of the clause, a substring of the source")


class NoteM(StrictModel):
    id: Id
    kind: Literal["defect", "ambiguity", "remark"]
    cites: list[str] = []
    text: str


class ValueLabel(StrictModel):
    zh: str = ""
    en: str = ""


class TypeM(StrictModel):
    values: list[Name] = Field(min_length=1)
    labels: dict[Name, ValueLabel] = {}
    doc: str = ""


class InputM(Labelled):
    type: Name = Field(description="bool, int, money, date or the name of an enum type")
    range: list[int] | list[dt.date] | None = None


class ConstraintM(StrictModel):
    id: Id
    expr: ExprSrc
    doc: str = ""


class DefinitionM(Labelled):
    expr: ExprSrc
    type: Name | None = None
    cites: list[str] = []


class OutputM(Labelled):
    type: Name
    cardinality: Literal["exactly_one", "at_most_one", "set"]
    default: Scalar | None = None


class ParamKeyM(StrictModel):
    name: Name
    type: Name


class ParamRowM(StrictModel):
    key: list[Scalar]
    value: Scalar
    cites: list[str] = Field(min_length=1)


class ParamM(Labelled):
    keys: list[ParamKeyM] = Field(min_length=1)
    type: Name
    rows: list[ParamRowM]


class OptionM(StrictModel):
    values: dict[Name, str] = Field(min_length=2, description="each reading and what it means")
    default: Name
    cites: list[str] = []
    note: str


class ValidM(StrictModel):
    on: Name | None = None
    from_: int | dt.date | None = Field(None, alias="from")
    to: int | dt.date | None = None


class RuleM(StrictModel):
    id: Id
    cites: list[str] = Field(min_length=1)
    quote: str
    when: ExprSrc
    then: dict[Name, Scalar] = Field(min_length=1)
    unless: list[Id] = []
    valid: ValidM | None = None
    doc: str = ""


class RuleFile(StrictModel):
    """One YAML file of a rule set: any of these sections."""

    ruleset: RuleSetMeta | None = None
    sources: dict[str, SourceM] = {}
    clauses: dict[str, ClauseM] = {}
    notes: list[NoteM] = []
    types: dict[Name, TypeM] = {}
    inputs: dict[Name, InputM] = {}
    constraints: list[ConstraintM] = []
    definitions: dict[Name, DefinitionM] = {}
    outputs: dict[Name, OutputM] = {}
    parameters: dict[Name, ParamM] = {}
    options: dict[Name, OptionM] = {}
    rules: list[RuleM] = []


class CaseM(StrictModel):
    """A worked case (cases/) or a sample person (samples/)."""

    id: str
    cites: list[str] = []
    worked: str = ""
    doc: str = ""
    person: dict[str, Any]
    options: dict[str, str] = {}
    expect: dict[str, Any] = {}


def model_at(path: tuple[str | int, ...], root: type[BaseModel] = RuleFile) -> type[BaseModel] | None:
    """The model class that validates the mapping at `path` (for naming its allowed keys)."""
    current: Any = root
    for step in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if step in (n, f.alias)), None)
            if field is None:
                return None
            current = field.annotation
        else:
            origin = typing.get_origin(current)
            if origin in (dict, list):
                current = typing.get_args(current)[-1]
            else:
                return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(t: Any) -> Any:
    """Optional[M] / M | None -> M (the first model among the union's members); a root model ->
    what it wraps."""
    if isinstance(t, type) and issubclass(t, RootModel):
        return t.model_fields["root"].annotation
    if typing.get_origin(t) in (typing.Union, types.UnionType):
        for arg in typing.get_args(t):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return t


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]
