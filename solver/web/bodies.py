"""The request bodies of the web app: the JSON API's models, the body limit, an input error as one line."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from explain.derivation import Lang
from solver.errors import InputError
from solver.web.service import TIMEOUT_MS

MAX_BODY = 64 * 1024  # a person is a few KB; the largest useful body is far below this
MAX_UPLOAD = 64 * 1024
PERSON_FILE = "a person file: a YAML or JSON mapping of field -> value, UTF-8, at most 64 KB"

Name = Annotated[str, StringConstraints(max_length=100)]
Text = Annotated[str, StringConstraints(max_length=200)]
Scalar = bool | int | Text | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonIn(_Strict):
    person: dict[Name, Scalar] = Field(default_factory=dict, max_length=300, description="input field -> value")
    options: dict[Name, Name] = Field(default_factory=dict, max_length=100, description="option -> reading")


class Target(_Strict):
    output: Name
    value: Scalar
    fix: list[Name] = Field(default_factory=list, max_length=200, description="fields kept (counterfactual)")


class ExplainIn(PersonIn):
    outputs: list[Name] = Field(default_factory=list, max_length=200, description="default: every output")
    lang: Lang = "en"
    why_not: Target | None = None
    counterfactual: Target | None = None


class ConsultIn(PersonIn):
    outputs: list[Name] = Field(min_length=1, max_length=10, description="the outputs to consult about")
    lang: Lang = "en"
    timeout_ms: int = Field(default=TIMEOUT_MS, ge=1, le=20_000)


class CheckIn(_Strict):
    options: dict[Name, Name] = Field(default_factory=dict, max_length=100)
    timeout_ms: int = Field(default=20_000, ge=1, le=60_000)


class DiffIn(_Strict):
    year: int | None = Field(default=None, ge=1900, le=2100)
    vs_year: int | None = Field(default=None, ge=1900, le=2100)
    options: dict[Name, Name] = Field(default_factory=dict, max_length=100)
    vs_options: dict[Name, Name] = Field(default_factory=dict, max_length=100)
    outputs: list[Name] = Field(default_factory=list, max_length=200)
    max_regions: int = Field(default=10, ge=1, le=100)
    timeout_ms: int = Field(default=20_000, ge=1, le=60_000)


class Problem(BaseModel):
    error: str
    field: str | None = None
    allowed: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {422: {"model": Problem}, 413: {"model": Problem}}


class BodyLimit:
    """Refuses a request body over MAX_BODY bytes with 413, by its Content-Length or as it streams."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Any) -> None:
    body = json.dumps({"error": f"request body over {MAX_BODY} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def message(e: InputError) -> str:
    return e.message + (f"; allowed: {e.allowed}" if e.allowed else "")
