"""The shapes of a rule set's side files that are not rule files (properties.yaml, accepted.yaml)
They are read through the same safe YAML layer and strict models as rule files, so every problem
is a RuleError with file:line:col, what was expected and a hint."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, RootModel, field_validator

from solver.language.model import ExprSrc, Id, Name, StrictModel

# ---------------------------------------------------------------- properties.yaml

# Key types a parameter property may range over: int / money / date or an enum type's name.
KeyType = Name


class PropertyM(StrictModel):
    """A drafter's invariant. Over persons: every valid person meeting `assume` makes `prove` true
    (known and true). Over parameter keys (`for` given): wherever the tables it reads have rows."""

    id: Id
    cites: list[str] = Field(min_length=1, description="clause ids the invariant restates")
    quote: str = Field(min_length=1, description="the words of a cited clause it restates, verbatim")
    doc: str = ""
    assume: ExprSrc = True
    prove: ExprSrc
    for_: dict[Name, KeyType] = Field(default_factory=dict, alias="for", description="key name -> type")


class PropertiesFile(StrictModel):
    properties: list[PropertyM] = Field(max_length=10_000)


# ---------------------------------------------------------------- accepted.yaml

FINDING_ID = re.compile(r"[a-z_]+:[0-9a-f]{10}")


class AcceptedM(StrictModel):
    """A reviewed finding. `accepted`: the law intends it; `open`: a known defect of the draft,
    reported to its authors, listed in every report and never failing the gate."""

    id: str = Field(description="the finding's id as `elig check` prints it: KIND:HASH")
    reason: str = Field(max_length=2_000, description="why the law (or the gap in the sources) intends it")
    status: Literal["accepted", "open"] = "accepted"
    note: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not FINDING_ID.fullmatch(v):
            raise ValueError("not a finding id: copy KIND:HASH (ten hex digits) from `elig check`")
        return v

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the reason is empty: say why the law intends this")
        return v


class AcceptedFile(RootModel[list[AcceptedM]]):
    root: list[AcceptedM] = Field(max_length=10_000)
