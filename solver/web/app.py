"""`elig serve`: the interview, the drafter pages and the JSON API of one rule set.

Every request body and query goes through the library's own readers (the person reader, the option
resolver, the output names): a typed error is a 4xx naming the field and its allowed values, and a
body over MAX_BODY bytes is refused before it is read."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from html import escape
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from fastapi import FastAPI, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from explain.decision import clauses_of, decision_json
from explain.derivation import Lang, Words
from solver import ir
from solver.errors import InputError, RuleError
from solver.language.strict_yaml import parse_yaml
from solver.web import pages
from solver.web.jobs import Busy, Job, Jobs
from solver.web.pages import State, page, tree
from solver.web.service import TIMEOUT_MS, Service

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


def create_app(rules: str | Path) -> FastAPI:
    service = Service(Path(rules))
    jobs = Jobs(str(rules))
    rs = service.rs

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        yield
        jobs.shutdown()

    app = FastAPI(
        title=f"elig: {rs.title or rs.name}",
        description="Decide, explain, consult, check and diff one rule set. Errors name the field and allowed values.",
        lifespan=lifespan,
    )

    @app.exception_handler(InputError)
    async def input_error(_: Request, e: InputError) -> JSONResponse:
        return JSONResponse({"error": str(e), "field": e.field, "allowed": e.allowed or None}, status_code=422)

    @app.exception_handler(RuleError)
    async def rule_error(_: Request, e: RuleError) -> JSONResponse:
        return JSONResponse({"error": str(e)}, status_code=422)

    # ------------------------------------------------------------------ JSON API

    @app.post("/api/decide", responses=ERRORS, tags=["api"])
    def api_decide(body: PersonIn) -> dict[str, Any]:
        """Every output of a person: value, status, rules, clauses, missing fields."""
        person = service.person(body.person)
        service.options(body.options)
        return decision_json(rs, "person", service.decide(person, body.options))

    @app.post("/api/explain", responses=ERRORS, tags=["api"])
    def api_explain(body: ExplainIn) -> dict[str, Any]:
        """Derivation trees; or why an output is not a value (why_not); or the smallest change
        that gives it (counterfactual)."""
        person = service.person(body.person)
        service.options(body.options)
        outputs = service.check_outputs(body.outputs)
        out: dict[str, Any] = {}
        if body.why_not is not None:
            value = service.output_value(body.why_not.output, body.why_not.value)
            out["why_not"] = service.why_not(person, body.options, body.why_not.output, value, body.lang).to_json()
        if body.counterfactual is not None:
            t = body.counterfactual
            value = service.output_value(t.output, t.value)
            cf, step = service.counterfactual(person, body.options, t.output, value, t.fix, body.lang)
            out["counterfactual"] = {**cf.to_json(), "steps": step.to_json()}
        if not out:
            out["derivations"] = [s.to_json() for s in service.explain(person, body.options, outputs, body.lang)]
        return out

    @app.post("/api/consult", responses=ERRORS, tags=["api"])
    def api_consult(body: ConsultIn) -> dict[str, Any]:
        """Which of these outputs are determined whatever the missing fields are; what to ask next."""
        person = service.person(body.person)
        service.options(body.options)
        outputs = service.check_outputs(body.outputs)
        return service.consult(person, body.options, outputs, body.timeout_ms).to_json()

    def start(kind: Literal["check", "diff"], params: dict[str, Any]) -> JSONResponse:
        try:
            job = jobs.start(kind, params)
        except Busy:
            return JSONResponse({"error": "another check or diff is running; cancel it or wait"}, status_code=429)
        return JSONResponse(job.to_json(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})

    @app.post("/api/check", status_code=202, responses={**ERRORS, 429: {"model": Problem}}, tags=["api"])
    def api_check(body: CheckIn) -> JSONResponse:
        """Start `elig check` in the background; poll /api/jobs/{id}, cancel with /api/jobs/{id}/cancel."""
        service.options(body.options)
        return start("check", body.model_dump())

    @app.post("/api/diff", status_code=202, responses={**ERRORS, 429: {"model": Problem}}, tags=["api"])
    def api_diff(body: DiffIn) -> JSONResponse:
        """Start `elig diff` (two years, or two readings, of this rule set) in the background."""
        check_diff(body)
        return start("diff", body.model_dump())

    def check_diff(body: DiffIn) -> None:
        service.options(body.options)
        service.options({**body.options, **body.vs_options})
        service.check_outputs(body.outputs)
        if body.vs_year is None and not body.vs_options:
            raise InputError("vs_year", "give vs_year (with year) or vs_options", allowed="an insurance year")
        if (body.year is None) != (body.vs_year is None) and body.vs_year is not None:
            raise InputError("year", "vs_year needs year", allowed="an insurance year")
        if body.year is not None and rs.time:
            service.from_text(rs.time, str(body.year))
            service.from_text(rs.time, str(body.vs_year))

    @app.get("/api/jobs/{job_id}", responses={404: {"model": Problem}}, tags=["api"])
    def api_job(job_id: Name) -> JSONResponse:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no job {job_id[:40]}"}, status_code=404)
        return JSONResponse(job.to_json())

    @app.post("/api/jobs/{job_id}/cancel", responses={404: {"model": Problem}}, tags=["api"])
    def api_cancel(job_id: Name) -> JSONResponse:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no job {job_id[:40]}"}, status_code=404)
        jobs.cancel(job)
        return JSONResponse(job.to_json())

    # ------------------------------------------------------------------ interview

    default_goal = [o for o in ("resident_category", "employee_is_employee") if o in rs.outputs] or [
        next(iter(rs.outputs))
    ]

    def read_state(q: Any, errors: dict[str, str]) -> State:
        """The state in the query; each bad part leaves an error beside its field and is dropped."""
        st = State(lang="en" if q.get("lang") == "en" else "zh")
        st.goal = [g for g in str(q.get("goal", "")).split(",") if g] or list(default_goal)
        bad = [g for g in st.goal if g not in rs.outputs]
        if bad:
            errors["goal"] = f"unknown output(s) {', '.join(bad)[:200]}; allowed: {', '.join(rs.outputs)}"
            st.goal = [g for g in st.goal if g in rs.outputs] or list(default_goal)
        st.skip = [s for s in str(q.get("skip", "")).split(",") if s in rs.inputs]
        for key, target in (("options", "options"), ("person", "person")):
            try:
                data = json.loads(q.get(key) or "{}")
                if not isinstance(data, dict):
                    raise ValueError
            except (ValueError, RecursionError):
                errors[key] = f"{key} is not a JSON mapping; allowed: a JSON object of " + (
                    "option -> reading" if key == "options" else "field -> value"
                )
                continue
            try:
                if target == "options":
                    service.options(data)
                    st.options = {str(k): str(v) for k, v in data.items()}
                else:
                    st.person = service.person(data)
            except InputError as e:
                errors[e.field if target == "person" else "options"] = _message(e)
                if target == "person":  # keep the good fields
                    st.person = service.person({k: v for k, v in data.items() if _fits(k, v)})
        return st

    def _fits(k: str, v: Any) -> bool:
        try:
            service.person({k: v})
            return True
        except InputError:
            return False

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/interview")

    @app.get("/interview", include_in_schema=False)
    def interview(request: Request) -> HTMLResponse:
        q = request.query_params
        errors: dict[str, str] = {}
        st = read_state(q, errors)
        asked = q.get("field", "")
        if asked:
            if q.get("skip_field"):
                if asked in rs.inputs:
                    st.skip.append(asked)
            elif "value" in q:
                try:
                    st.person[asked] = service.from_text(asked, q["value"])
                except InputError as e:
                    errors[asked] = _message(e)
        retry = asked if asked in errors and asked in rs.inputs else ""
        return HTMLResponse(interview_page(st, errors, retry, q.get("value", "")[:200] if retry else ""))

    def interview_page(st: State, errors: dict[str, str], retry: str, bad_text: str) -> str:
        words = Words(rs, st.lang)
        consultation = service.consult(st.person, st.options, st.goal)
        decision = service.decide(st.person, st.options)
        goal_status = {oc.output: oc for oc in consultation.outputs}
        ask = next((a for a in consultation.ask if a.field not in st.skip), None)
        field_name = retry or (ask.field if ask else "")
        if not field_name:  # nothing the goal needs: offer the goal's other missing fields
            field_name = next((f for f in consultation.missing if f not in st.skip), "")
        body = [f'<p class="muted">{escape(rs.title)} — {len(st.person)} field(s) answered</p>']
        body.append(_settings_form(st, {k: v for k, v in errors.items() if k != field_name}))
        body.append('<section id="question">')
        if field_name:
            t = rs.inputs[field_name].type
            lab = rs.inputs[field_name].labels
            why = (
                f" — decides {len(ask.outputs)} open output(s): " + ", ".join(ask.outputs) if ask and not retry else ""
            )
            current = bad_text
            err = errors.get(field_name, "")
            body.append(
                f'<form method="get" action="/interview" id="ask">{st.hidden()}'
                f'<input type="hidden" name="field" value="{escape(field_name)}">'
                f'<label for="answer"><b id="question-label">{escape(lab.zh or field_name)}</b> / '
                f"{escape(lab.en or field_name)} <code>{escape(field_name)}</code></label>"
                f'<p class="muted">{escape(pages.domain_hint(t))}{escape(why)}</p>'
                f"{pages.widget(rs, field_name, st.lang, current)} "
                f'<button id="next" type="submit">answer</button> '
                f'<button id="skip" type="submit" name="skip_field" value="1">skip</button>'
                + (f' <span class="error" id="error-{escape(field_name)}">{escape(err)}</span>' if err else "")
                + "</form>"
            )
        else:
            body.append('<p id="no-question">Nothing left to ask for these outputs.</p>')
        body.append("</section>")
        body.append('<section id="goal"><h2>Asked about</h2><ul>')
        for name in st.goal:
            oc = goal_status[name]
            text = words.result_text(name, oc.result) if oc.status == "determined" else oc.status
            deps = f" — depends on {', '.join(oc.deciders)}" if oc.deciders else ""
            body.append(
                f'<li class="goal-{oc.status}" data-output="{escape(name)}"><b>{escape(words.label(name))}</b>: '
                f'<span class="value">{escape(text)}</span>{escape(deps)}</li>'
            )
        body.append("</ul></section>")
        proved = [n for n in rs.outputs if goal_status.get(n) and goal_status[n].status == "determined"]
        proved += [n for n, r in decision.results.items() if r.status != "unknown" and n not in proved]
        body.append(f'<section id="proved"><h2>Proved ({len(proved)} of {len(rs.outputs)} outputs)</h2>')
        steps = service.explain(st.person, st.options, proved, st.lang) if proved else []
        readings = service.readings(st.person, st.options, proved, st.lang)
        for name, step in zip(proved, steps, strict=True):
            r = decision.results[name]
            det = goal_status.get(name)
            value = words.result_text(name, det.result if det else r)
            clauses = clauses_of(rs, (det.result if det else r).rules)
            cl = " ".join(f'<span class="clause">[{escape(c)}]</span>' for c in clauses)
            body.append(
                f'<details class="output" data-output="{escape(name)}"><summary><b>{escape(words.label(name))}</b>'
                f' = <span class="value">{escape(value)}</span> {cl} '
                f'<a class="more" href="{escape(st.url("/output", output=name))}">why not / smallest change</a>'
                f"</summary>{_readings(readings.get(name, {}), st.options)}{tree([step])}</details>"
            )
        body.append("</section>")
        body.append(_save_forms(st))
        return page("Interview / 咨询", "".join(body))

    def _settings_form(st: State, errors: dict[str, str]) -> str:
        goal_opts = "".join(
            f'<option value="{escape(o)}"{" selected" if o in st.goal else ""}>'
            f"{escape(pages.label(rs, o, st.lang))} ({escape(o)})</option>"
            for o in rs.outputs
        )
        msgs = "".join(
            f'<p class="error" id="error-{escape(k)}">{escape(k)}: {escape(v)}</p>' for k, v in errors.items()
        )
        return (
            f'<form method="get" action="/interview" id="settings"><fieldset><legend>settings</legend>'
            f"{st.hidden('lang', 'goal')}"
            f'<label>language <select name="lang"><option value="zh"{" selected" if st.lang == "zh" else ""}>中文'
            f'</option><option value="en"{" selected" if st.lang == "en" else ""}>English</option></select></label> '
            f'<label>ask about <select name="goal" id="goal-select">{goal_opts}</select></label> '
            f'<button type="submit" id="apply">apply</button> <a href="/interview?lang={st.lang}">start again</a>'
            f"</fieldset></form>{msgs}"
        )

    def _readings(readings: dict[str, dict[str, str]], choices: dict[str, str]) -> str:
        if not readings:
            return ""
        chosen = service.options(choices)
        rows = "".join(
            f"<tr><td>{escape(opt)}</td><td>{escape(reading)}{' (in force)' if chosen[opt] == reading else ''}</td>"
            f"<td>{escape(v)}</td></tr>"
            for opt, values in readings.items()
            for reading, v in values.items()
        )
        return f'<table class="readings"><tr><th>option</th><th>reading</th><th>value</th></tr>{rows}</table>'

    def _save_forms(st: State) -> str:
        return (
            '<section id="save"><h2>Save / load</h2>'
            f'<a id="save-yaml" href="{escape(st.url("/person.yaml"))}">save as YAML</a> · '
            f'<a id="save-json" href="{escape(st.url("/person.json"))}">save as JSON</a>'
            '<form method="post" action="/load" enctype="multipart/form-data" id="load">'
            f'{st.hidden("person")}<input type="file" name="file" id="load-file" accept=".yaml,.yml,.json"> '
            '<button type="submit" id="load-button">load</button></form></section>'
        )

    @app.get("/person.yaml", include_in_schema=False)
    @app.get("/person.json", include_in_schema=False)
    def save(request: Request) -> Response:
        errors: dict[str, str] = {}
        st = read_state(request.query_params, errors)
        data = json.loads(pages.person_json(st.person))
        if request.url.path.endswith(".json"):
            text, kind = json.dumps(data, ensure_ascii=False, indent=2) + "\n", "application/json"
        else:
            text, kind = yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "application/yaml"
        name = "person" + request.url.path[-5:].replace("/", ".").lstrip("n")
        return Response(text, media_type=kind, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.post("/load", include_in_schema=False)
    async def load(
        file: UploadFile, lang: Annotated[str, Form()] = "zh", goal: Annotated[str, Form()] = ""
    ) -> Response:
        raw = await file.read(MAX_UPLOAD + 1)
        st = State(lang="en" if lang == "en" else "zh")
        st.goal = [g for g in goal.split(",") if g in rs.outputs] or list(default_goal)
        try:
            if len(raw) > MAX_UPLOAD:
                raise InputError("file", f"over {MAX_UPLOAD} bytes", allowed=PERSON_FILE)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError("file", "not UTF-8 text", allowed=PERSON_FILE) from None
            data = parse_yaml(text, (file.filename or "upload")[:100]).data
            if not isinstance(data, dict):
                raise InputError("file", "not a mapping of fields", allowed=PERSON_FILE)
            st.person = service.person(data)
        except (InputError, RuleError) as e:
            msg = _message(e) if isinstance(e, InputError) else f"{e}; allowed: {PERSON_FILE}"
            body = f'<p class="error" id="error-file">{escape(msg)}</p><a href="/interview">back</a>'
            return HTMLResponse(page("Load a person", body), status_code=422)
        return RedirectResponse(st.url(), status_code=303)

    @app.get("/output", include_in_schema=False)
    def output_page(request: Request) -> HTMLResponse:
        """One output: its derivation, each reading's value, and why not / the smallest change."""
        q = request.query_params
        errors: dict[str, str] = {}
        st = read_state(q, errors)
        name = q.get("output", "")
        if name not in rs.outputs:
            body = f'<p class="error">unknown output; allowed: {escape(", ".join(rs.outputs))}</p>'
            return HTMLResponse(page("Output", body), status_code=422)
        words = Words(rs, st.lang)
        o = rs.outputs[name]
        parts = [f'<p><a id="back" href="{escape(st.url())}">back to the interview</a></p>']
        parts.append(tree(service.explain(st.person, st.options, [name], st.lang)))
        parts.append(
            "<h2>Each reading</h2>"
            + (
                _readings(service.readings(st.person, st.options, [name], st.lang).get(name, {}), st.options)
                or "<p>No option changes this value.</p>"
            )
        )
        wanted = q.get("value")
        values = (
            list(o.type.values)
            if isinstance(o.type, ir.EnumT)
            else ["true", "false"]
            if isinstance(o.type, ir.BoolT)
            else []
        )
        choice = (
            '<select name="value" id="target">'
            + "".join(
                f'<option value="{escape(v)}"{" selected" if v == wanted else ""}>'
                f"{escape(pages.value_label(rs, o.type, v, st.lang) if isinstance(o.type, ir.EnumT) else v)}</option>"
                for v in values
            )
            + "</select>"
            if values
            else f'<input name="value" id="target" value="{escape(wanted or "")}">'
        )
        parts.append(
            f'<h2>Why not … / smallest change</h2><form method="get" action="/output" id="whynot">'
            f'{st.hidden()}<input type="hidden" name="output" value="{escape(name)}">{words.label(name)} = {choice} '
            '<button type="submit" id="ask-whynot">why not, and what would change it</button></form>'
        )
        if wanted is not None:
            try:
                value = service.output_value(name, wanted)
                parts.append(
                    '<section id="why-not">'
                    + tree([service.why_not(st.person, st.options, name, value, st.lang)])
                    + "</section>"
                )
                cf, step = service.counterfactual(st.person, st.options, name, value, [], st.lang)
                link = ""
                if cf.status == "found":
                    changed = State(dict(cf.person), st.options, st.lang, st.goal, st.skip)
                    link = f'<p><a id="open-changed" href="{escape(changed.url())}">open the changed person</a></p>'
                parts.append(f'<section id="smallest-change">{tree([step])}{link}</section>')
            except InputError as e:
                parts.append(f'<p class="error" id="error-value">{escape(_message(e))}</p>')
        return HTMLResponse(page(f"{words.label(name)} ({name})", "".join(parts)))

    # ------------------------------------------------------------------ drafter pages

    def options_form(action: str, extra: str = "", errors: dict[str, str] | None = None) -> str:
        errors = errors or {}

        def beside(key: str) -> str:
            return (
                f' <span class="error" id="error-{escape(key)}">{escape(errors[key])}</span>' if key in errors else ""
            )

        rows = "".join(
            f'<tr><td>{escape(n)}</td><td><select name="option.{escape(n)}">'
            + "".join(
                f'<option value="{escape(v)}"{" selected" if v == o.default else ""}>{escape(v)}</option>'
                for v in o.type.values
            )
            + f"</select>{beside('option.' + n)}</td></tr>"
            for n, o in rs.options.items()
        )
        others = "".join(
            f'<p class="error" id="error-{escape(k)}">{escape(k)}: {escape(v)}</p>'
            for k, v in errors.items()
            if not (k.startswith("option.") and k[7:] in rs.options) and f'id="error-{k}"' not in extra
        )
        return (
            f'{others}<form method="post" action="{action}" id="start">{extra}'
            f"<details{' open' if any(k.startswith('option.') for k in errors) else ''}>"
            f"<summary>options (readings)</summary><table>{rows}</table></details>"
            '<button type="submit" id="run">run</button></form>'
        )

    def form_options(form: Any, errors: dict[str, str]) -> dict[str, str]:
        """The options chosen in a form (the defaults left out); each bad one is an error by its field."""
        out = {}
        for key, v in form.items():
            if not key.startswith("option."):
                continue
            name, value = key[7:], str(v)
            if name not in rs.options:
                errors[key[:100]] = f"no such option; allowed: {', '.join(rs.options)}"
            elif value not in rs.options[name].type.values:
                errors[key] = f"'{value[:100]}' is not a reading; allowed: {', '.join(rs.options[name].type.values)}"
            elif value != rs.options[name].default:
                out[name] = value
        return out

    @app.get("/check", include_in_schema=False)
    def check_form() -> HTMLResponse:
        return HTMLResponse(page("Check the rule set", options_form("/check")))

    @app.post("/check", include_in_schema=False)
    async def check_start(request: Request) -> Response:
        form = await request.form()
        errors: dict[str, str] = {}
        options = form_options(form, errors)
        if errors:
            return HTMLResponse(page("Check the rule set", options_form("/check", "", errors)), status_code=422)
        return _start_page("check", CheckIn(options=options))

    def diff_fields(form: Mapping[str, str], errors: dict[str, str]) -> str:
        if not rs.time:
            return ""

        def field(key: str, text: str, id_: str) -> str:
            value = escape(form.get(key, ""))
            err = f' <span class="error" id="error-{key}">{escape(errors[key])}</span>' if key in errors else ""
            return f'<label>{text} <input name="{key}" id="{id_}" value="{value}"></label>{err} '

        return (
            "<p>"
            + field("year", "year", "year")
            + field("vs_year", "vs year", "vs-year")
            + field("max_regions", "max regions per output", "max-regions")
            + "</p>"
        )

    @app.get("/diff", include_in_schema=False)
    def diff_form() -> HTMLResponse:
        defaults = {"year": "2023", "vs_year": "2025", "max_regions": "10"}
        return HTMLResponse(page("Diff two versions", options_form("/diff", diff_fields(defaults, {}))))

    @app.post("/diff", include_in_schema=False)
    async def diff_start(request: Request) -> Response:
        form = await request.form()
        errors: dict[str, str] = {}
        texts = {k: str(form.get(k) or "").strip()[:100] for k in ("year", "vs_year", "max_regions")}

        def year(key: str) -> int | None:
            if not texts[key] or not rs.time:
                return None
            try:
                value = service.from_text(rs.time, texts[key])
            except InputError as e:
                errors[key] = _message(e)
                return None
            return value if isinstance(value, int) else None

        body = None
        regions = texts["max_regions"] or "10"
        if not (regions.isdigit() and 1 <= int(regions) <= 100):
            errors["max_regions"] = f"'{regions}' is not a number of regions; allowed: a whole number from 1 to 100"
        years = year("year"), year("vs_year")
        options = form_options(form, errors)
        if not errors:
            try:
                body = DiffIn(year=years[0], vs_year=years[1], options=options, max_regions=int(regions))
                check_diff(body)
            except InputError as e:
                errors[e.field if e.field in texts else "diff"] = _message(e)
        if body is None or errors:
            html = options_form("/diff", diff_fields(texts, errors), errors)
            return HTMLResponse(page("Diff two versions", html), status_code=422)
        return _start_page("diff", body)

    def _start_page(kind: Literal["check", "diff"], body: BaseModel) -> Response:
        try:
            job = jobs.start(kind, body.model_dump())
        except Busy:
            msg = '<p class="error">Another check or diff is running: cancel it or wait.</p>'
            return HTMLResponse(page(kind, msg), status_code=429)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.post("/jobs/{job_id}/cancel", include_in_schema=False)
    def cancel_page(job_id: str) -> Response:
        job = jobs.get(job_id)
        if job is not None:
            jobs.cancel(job)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @app.get("/jobs/{job_id}", include_in_schema=False)
    def job_page(job_id: str) -> HTMLResponse:
        job = jobs.get(job_id)
        if job is None:
            return HTMLResponse(page("No such job", "<p>It ended long ago or never was.</p>"), status_code=404)
        head = (
            f'<p id="status" class="{job.status}">{escape(job.kind)} <b id="job-status">{job.status}</b> — '
            f'{job.steps} step(s), {job.to_json()["seconds"]} s; now: <span id="step">{escape(job.step)}</span></p>'
        )
        if job.status == "running":
            cancel = f'<form method="post" action="/jobs/{job.id}/cancel"><button id="cancel">cancel</button></form>'
            return HTMLResponse(page(f"{job.kind} running", head + cancel, refresh=1))
        if job.status != "done":
            return HTMLResponse(page(f"{job.kind} {job.status}", head + f"<p class='error'>{escape(job.error)}</p>"))
        body = _findings(job) if job.kind == "check" else _regions(job)
        return HTMLResponse(page(f"{job.kind} done", head + body))

    def witness_link(witness: dict[str, Any] | None, options: dict[str, str], goal: list[str], text: str) -> str:
        if not witness:
            return ""
        try:
            person = service.person(witness)
        except InputError:
            return ""
        goal = [g for g in goal if g in rs.outputs] or list(default_goal)
        url = State(person, {k: v for k, v in options.items() if k in rs.options}, "zh", goal).url()
        return f'<a class="witness" href="{escape(url)}">{escape(text)}</a>'

    def _subject_outputs(subject: str) -> list[str]:
        name = subject.partition("=")[0].strip()
        return [name] if name in rs.outputs else []

    def _findings(job: Job) -> str:
        data = job.result
        rows = []
        for f in data["findings"]:
            w = witness_link(
                f.get("witness"), f.get("options") or {}, _subject_outputs(f["subject"]), "open in interview"
            )
            state = "accepted" if f.get("accepted") else "known open" if f.get("known_open") else "NEW"
            clauses = " ".join(f'<span class="clause">[{escape(c)}]</span>' for c in f["clauses"])
            rows.append(
                f'<tr class="finding"><td>{escape(f["kind"])}<br><small>{escape(f["id"])}</small></td>'
                f"<td>{escape(state)}</td><td>{escape(f['subject'])}</td><td>{clauses}</td>"
                f"<td>{escape(f['explanation'][:600])}</td><td>{w}</td></tr>"
            )
        summary = f'<p id="summary">{len(data["findings"])} finding(s); exit code {data["exit_code"]}</p>'
        return (
            summary
            + '<table id="findings"><tr><th>kind</th><th>state</th><th>subject</th><th>clauses</th>'
            + "<th>explanation</th><th>witness</th></tr>"
            + "".join(rows)
            + "</table>"
        )

    def _regions(job: Job) -> str:
        data = job.result
        p = job.params
        old_opts, new_opts = p.get("options") or {}, {**(p.get("options") or {}), **(p.get("vs_options") or {})}
        parts = [
            f'<p id="summary">{escape(data["old"])} → {escape(data["new"])}: '
            f"{sum(len(o['regions']) for o in data['outputs'])} region(s); proof "
            f"{'complete' if data['complete'] else 'INCOMPLETE'}</p>"
        ]
        for o in data["outputs"]:
            if not o["regions"] and o["proof"] == "complete" and not o["presence"]:
                continue
            parts.append(
                f"<h2>{escape(o['output'])}</h2><p>proof: {escape(o['proof'])} {escape(o['reason'] or '')}</p>"
            )
            if not o["regions"]:
                continue
            parts.append(
                '<table class="regions"><tr><th>#</th><th>where</th><th>old</th><th>new</th><th>clauses</th>'
                "<th>count</th><th>witness</th></tr>"
            )
            for i, r in enumerate(o["regions"], 1):
                links = (
                    witness_link(r["witness_old"], old_opts, [o["output"]], "old side")
                    + " "
                    + witness_link(r["witness_new"], new_opts, [o["output"]], "new side")
                )
                clauses = " ".join(
                    f'<span class="clause">[{escape(c)}]</span>' for side in ("old", "new") for c in r[side]["clauses"]
                )
                count = r["count"] if r["count"] is not None else r["combinations"] or ""
                parts.append(
                    f'<tr class="region"><td>{i}</td><td>{escape(" and ".join(r["where"]) or "always")}</td>'
                    f"<td>{escape(r['old']['value'])}</td><td>{escape(r['new']['value'])}</td><td>{clauses}</td>"
                    f"<td>{escape(str(count))}</td><td>{links}</td></tr>"
                )
            parts.append("</table>")
        return "".join(parts)

    return app


def _message(e: InputError) -> str:
    return e.message + (f"; allowed: {e.allowed}" if e.allowed else "")


def serve(rules: str, port: int, host: str = "127.0.0.1") -> None:
    import uvicorn

    app = create_app(rules)
    uvicorn.run(BodyLimit(app), host=host, port=port, log_level="info")


@contextmanager
def running(rules: str | Path) -> Iterator[str]:
    """The app served by uvicorn on a free local port in a thread, for tests and benches: yields
    the base URL, and stops the server (and its jobs) on exit."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(guarded(rules), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def guarded(rules: str | Path) -> Any:
    """The app behind the body limit (what `elig serve` runs; tests use the same)."""
    return BodyLimit(create_app(rules))
