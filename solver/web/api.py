"""The JSON API of the web app: decide, explain, consult; check and diff as background jobs."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from explain.decision import decision_json
from solver.errors import InputError
from solver.web.bodies import ERRORS, CheckIn, ConsultIn, DiffIn, ExplainIn, Name, PersonIn, Problem
from solver.web.jobs import Busy, Jobs
from solver.web.service import Service


def check_diff(service: Service, body: DiffIn) -> None:
    """A diff request's options, outputs and years, each checked by the service's readers."""
    rs = service.rs
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


def api_routes(service: Service, jobs: Jobs) -> APIRouter:
    router = APIRouter()
    rs = service.rs

    @router.post("/api/decide", responses=ERRORS, tags=["api"])
    def api_decide(body: PersonIn) -> dict[str, Any]:
        """Every output of a person: value, status, rules, clauses, missing fields."""
        person = service.person(body.person)
        service.options(body.options)
        return decision_json(rs, "person", service.decide(person, body.options))

    @router.post("/api/explain", responses=ERRORS, tags=["api"])
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

    @router.post("/api/consult", responses=ERRORS, tags=["api"])
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

    @router.post("/api/check", status_code=202, responses={**ERRORS, 429: {"model": Problem}}, tags=["api"])
    def api_check(body: CheckIn) -> JSONResponse:
        """Start `elig check` in the background; poll /api/jobs/{id}, cancel with /api/jobs/{id}/cancel."""
        service.options(body.options)
        return start("check", body.model_dump())

    @router.post("/api/diff", status_code=202, responses={**ERRORS, 429: {"model": Problem}}, tags=["api"])
    def api_diff(body: DiffIn) -> JSONResponse:
        """Start `elig diff` (two years, or two readings, of this rule set) in the background."""
        check_diff(service, body)
        return start("diff", body.model_dump())

    @router.get("/api/jobs/{job_id}", responses={404: {"model": Problem}}, tags=["api"])
    def api_job(job_id: Name) -> JSONResponse:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no job {job_id[:40]}"}, status_code=404)
        return JSONResponse(job.to_json())

    @router.post("/api/jobs/{job_id}/cancel", responses={404: {"model": Problem}}, tags=["api"])
    def api_cancel(job_id: Name) -> JSONResponse:
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": f"no job {job_id[:40]}"}, status_code=404)
        jobs.cancel(job)
        return JSONResponse(job.to_json())

    return router
