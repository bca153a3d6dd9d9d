"""The drafter pages: start a check or a diff with chosen readings, follow the job, read its findings or regions."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from solver.errors import InputError
from solver.web.api import check_diff
from solver.web.bodies import CheckIn, DiffIn, message
from solver.web.interview import first_goal
from solver.web.jobs import Busy, Job, Jobs
from solver.web.pages import State, page
from solver.web.service import Service


def drafter_routes(service: Service, jobs: Jobs) -> APIRouter:
    router = APIRouter()
    rs = service.rs
    default_goal = first_goal(rs)

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

    @router.get("/check", include_in_schema=False)
    def check_form() -> HTMLResponse:
        return HTMLResponse(page("Check the rule set", options_form("/check")))

    @router.post("/check", include_in_schema=False)
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

    @router.get("/diff", include_in_schema=False)
    def diff_form() -> HTMLResponse:
        defaults = {"year": "2023", "vs_year": "2025", "max_regions": "10"}
        return HTMLResponse(page("Diff two versions", options_form("/diff", diff_fields(defaults, {}))))

    @router.post("/diff", include_in_schema=False)
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
                errors[key] = message(e)
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
                check_diff(service, body)
            except InputError as e:
                errors[e.field if e.field in texts else "diff"] = message(e)
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

    @router.post("/jobs/{job_id}/cancel", include_in_schema=False)
    def cancel_page(job_id: str) -> Response:
        job = jobs.get(job_id)
        if job is not None:
            jobs.cancel(job)
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @router.get("/jobs/{job_id}", include_in_schema=False)
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

    return router
