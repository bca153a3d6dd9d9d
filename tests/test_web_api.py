"""The JSON API against the real server: answers, typed 4xx errors naming the allowed values, the
body limit, and a check job that reports progress and can be cancelled."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from explain.decision import readings
from solver.cases import collect
from solver.web.app import MAX_BODY, running
from solver.web.service import Service

RULES = "rules/shanghai"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running(RULES) as url:
        yield url


def call(url: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    if data is not None:
        req.method = "POST"
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


SAMPLE = {"emp_work_status": "in_service", "emp_veteran_status": "none", "emp_land_requisition_pensioner": False}


def test_decide_explain_consult(base: str) -> None:
    status, d = call(f"{base}/api/decide", {"person": {**SAMPLE, "as_of": "2026-04-01"}})
    assert status == 200
    out = d["outputs"]["employee_is_employee"]
    assert out["values"] == [True] and "001:1.2.1" in out["clauses"]
    status, e = call(f"{base}/api/explain", {"person": SAMPLE, "outputs": ["employee_is_employee"], "lang": "zh"})
    assert status == 200 and e["derivations"][0]["kind"] == "output"
    status, c = call(f"{base}/api/consult", {"person": {}, "outputs": ["employee_is_employee"]})
    assert status == 200 and c["ask"][0]["field"] in c["missing"]
    body = {"person": SAMPLE, "why_not": {"output": "employee_is_employee", "value": False}}
    status, w = call(f"{base}/api/explain", body)
    assert status == 200 and w["why_not"]["kind"] == "output"


@pytest.mark.parametrize(
    ("body", "field", "allowed"),
    [
        ({"person": {"hukou": "mars"}}, "hukou", "shanghai, other_province, none"),
        ({"person": {"insurance_year": 1800}}, "insurance_year", "a whole number from 2023 to 2030"),
        ({"person": {"nonsense": 1}}, "nonsense", "as_of"),
        ({"options": {"no_such_option": "x"}}, "option no_such_option", "category_age_basis"),
    ],
)
def test_bad_input_names_the_field_and_allowed_values(base: str, body: Any, field: str, allowed: str) -> None:
    status, err = call(f"{base}/api/decide", body)
    assert status == 422
    assert err["field"] == field and allowed in err["allowed"]


def test_bodies_the_models_refuse_and_the_size_limit(base: str) -> None:
    assert call(f"{base}/api/decide", {"person": {"hukou": [1, 2]}})[0] == 422  # not a scalar
    assert call(f"{base}/api/consult", {"outputs": []})[0] == 422  # at least one output
    assert call(f"{base}/api/decide", raw=b"[" * 30_000)[0] == 400  # not JSON (deep nesting)
    assert call(f"{base}/api/decide", raw=b" " * (MAX_BODY + 1))[0] == 413


@pytest.mark.parametrize(
    ("kind", "body", "progress"),
    [
        ("check", {"timeout_ms": 20_000}, ""),
        # a diff step is an output's "output i/N" or a region found in it; the latest one is polled, so
        # any diff step shows progress (waiting for one particular step misses it when regions come fast)
        ("diff", {"year": 2023, "vs_year": 2025}, ""),
    ],
)
def test_long_jobs_report_progress_and_can_be_cancelled(base: str, kind: str, body: Any, progress: str) -> None:
    status, job = call(f"{base}/api/{kind}", body)
    assert status == 202 and job["status"] == "running" and job["kind"] == kind
    assert call(f"{base}/api/check", {})[0] == 429  # one job at a time
    assert call(f"{base}/api/diff", {"year": 2023, "vs_year": 2025})[0] == 429
    deadline = time.time() + 180
    while not (job["steps"] and progress in job["step"]) and job["status"] == "running" and time.time() < deadline:
        time.sleep(0.5)
        job = call(f"{base}/api/jobs/{job['id']}")[1]
    assert job["steps"] > 0 and progress in job["step"]  # progress is reported while it runs
    status, job = call(f"{base}/api/jobs/{job['id']}/cancel", {})
    assert status == 200 and job["status"] == "cancelled"
    time.sleep(1)  # the process is gone: nothing it might still print changes the status
    assert call(f"{base}/api/jobs/{job['id']}")[1]["status"] == "cancelled"
    assert call(f"{base}/api/jobs/no-such-job")[0] == 404


def test_a_bad_job_request_is_refused_before_it_starts(base: str) -> None:
    status, again = call(f"{base}/api/check", {"options": {"newborn_backpay_conflict": "nonsense"}})
    assert status == 422 and "not a reading" in again["error"]
    status, again = call(f"{base}/api/diff", {"year": 2023})
    assert status == 422 and again["field"] == "vs_year"


def page_status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=300) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_pages_take_bad_queries_with_a_message(base: str) -> None:
    goal = "goal=employee_is_employee"
    status, html = page_status(f"{base}/interview?{goal}&person=%5B1%5D&options=x&field=nope&value=1")
    assert status == 200
    assert "person is not a JSON mapping" in html and "options is not a JSON mapping" in html
    assert "unknown field" in html  # the asked field that does not exist, named with the allowed ones
    status, html = page_status(f"{base}/interview?{goal}&person=%7B%22hukou%22%3A%22mars%22%2C%22as_of%22%3A1%7D")
    assert status == 200 and "shanghai, other_province, none" in html
    assert page_status(f"{base}/interview?goal=nope")[0] == 200
    assert page_status(f"{base}/output?output=nope")[0] == 422
    status, html = page_status(f"{base}/output?output=employee_is_employee&value=maybe")
    assert status == 200 and "not a boolean" in html
    assert page_status(f"{base}/jobs/none")[0] == 404
    status, text = page_status(f"{base}/person.yaml?person=%7B%22hukou%22%3A%22shanghai%22%7D")
    assert status == 200 and text == "hukou: shanghai\n"


def test_readings_shown_are_those_of_every_option_tried_on_every_output() -> None:
    """The pages try only the options in an output's cone; on every sample that finds exactly the
    (output, option) pairs `elig decide` finds by trying every option against every output."""
    service = Service(Path(RULES))
    for _, case in collect([Path(RULES, "samples")]):
        person = service.person(case.person)
        shown = service.readings(person, case.options, list(service.rs.outputs))
        decision = service.any_options.decide(person, case.options)
        every = readings(service.rs, decision, lambda o, p=person: service.any_options.decide(p, o))
        assert {(o, n) for o, m in shown.items() for n in m} == {(o, r.option) for o, rs in every.items() for r in rs}


def test_the_interview_shows_each_reading_of_every_proved_output(base: str) -> None:
    sample = yaml.safe_load(Path(RULES, "samples", "spouse_other_province_2026.yaml").read_text(encoding="utf-8"))
    query = urlencode({"person": json.dumps(sample, default=str), "goal": "resident_category", "lang": "en"})
    status, html = page_status(f"{base}/interview?{query}")
    assert status == 200
    # benefit_start_date is not the output asked about; it is proved, and the waiting-period reading changes it.
    start = html.index('<details class="output" data-output="benefit_start_date">')
    shown = html[start : html.index("</details>", start)]
    assert '<table class="readings">' in shown
    assert "variable_waiting_reading" in shown and "per_gap_year" in shown and "beyond_first" in shown
