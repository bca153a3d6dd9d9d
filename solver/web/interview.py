"""The interview pages: one question at a time, what is proved, why not, the smallest change; save and load."""

from __future__ import annotations

import json
from html import escape
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from explain.decision import clauses_of
from explain.derivation import Words
from solver import ir
from solver.errors import InputError, RuleError
from solver.language.strict_yaml import parse_yaml
from solver.web import pages
from solver.web.bodies import MAX_UPLOAD, PERSON_FILE, message
from solver.web.pages import State, page, tree
from solver.web.service import Service


def first_goal(rs: ir.RuleSet) -> list[str]:
    """What the interview asks about when the query names no goal."""
    return [o for o in ("resident_category", "employee_is_employee") if o in rs.outputs] or [next(iter(rs.outputs))]


def interview_routes(service: Service) -> APIRouter:
    router = APIRouter()
    rs = service.rs

    default_goal = first_goal(rs)

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
                errors[e.field if target == "person" else "options"] = message(e)
                if target == "person":  # keep the good fields
                    st.person = service.person({k: v for k, v in data.items() if _fits(k, v)})
        return st

    def _fits(k: str, v: Any) -> bool:
        try:
            service.person({k: v})
            return True
        except InputError:
            return False

    @router.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/interview")

    @router.get("/interview", include_in_schema=False)
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
                    errors[asked] = message(e)
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

    @router.get("/person.yaml", include_in_schema=False)
    @router.get("/person.json", include_in_schema=False)
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

    @router.post("/load", include_in_schema=False)
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
            msg = message(e) if isinstance(e, InputError) else f"{e}; allowed: {PERSON_FILE}"
            body = f'<p class="error" id="error-file">{escape(msg)}</p><a href="/interview">back</a>'
            return HTMLResponse(page("Load a person", body), status_code=422)
        return RedirectResponse(st.url(), status_code=303)

    @router.get("/output", include_in_schema=False)
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
                parts.append(f'<p class="error" id="error-value">{escape(message(e))}</p>')
        return HTMLResponse(page(f"{words.label(name)} ({name})", "".join(parts)))

    return router
