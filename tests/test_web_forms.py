"""The HTML pages' forms fuzzed (hypothesis) against the real server: interview answers and state,
person uploads (YAML, JSON, bytes), the check and diff forms, an output's why-not form. No answer is
5xx, and a refused form (422) shows each message beside its field, naming the allowed values.

The default run sends ELIG_WEB_FORMS=40 requests; `ELIG_WEB_FORMS=1000` is the long run."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.language.loader import load_ruleset
from solver.web.app import running

RULES = "rules/shanghai"
FORMS = int(os.environ.get("ELIG_WEB_FORMS", "40"))
RS = load_ruleset(RULES)
ERROR = re.compile(r'class="error"(?: id="error-([^"]*)")?>(.*?)</(?:p|span)>', re.S)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running(RULES) as url:
        yield url


names = st.sampled_from(sorted(RS.inputs)) | st.text(max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3000, 3000)
    | st.text(max_size=12)
    | st.sampled_from(["2025-06-30", "2026-02-29", "17:29", "shanghai", "mars", "true", "none"])
)
values = scalars | st.lists(scalars, max_size=2)
persons = st.dictionaries(names, values, max_size=5)
readings = st.sampled_from([v for o in RS.options.values() for v in o.type.values]) | st.text(max_size=8)
option_keys = st.sampled_from([f"option.{n}" for n in RS.options]) | st.text(max_size=10).map("option.".__add__)
option_forms = st.dictionaries(option_keys, readings, max_size=3)
texts = st.text(max_size=20) | st.sampled_from(["2023", "2025", "2031", "0", "100", "101", "-1", " 2026 "])
json_or_text = persons.map(lambda p: json.dumps(p)) | st.text(max_size=30)


def interview() -> st.SearchStrategy[tuple[str, str, dict[str, Any]]]:
    query = st.fixed_dictionaries(
        {},
        optional={
            "lang": st.sampled_from(["zh", "en", "fr"]),
            "goal": st.sampled_from(["resident_category", "employee_is_employee", "nope", ""]),
            "person": json_or_text,
            "options": json_or_text,
            "field": names,
            "value": texts,
            "skip": st.text(max_size=20),
            "skip_field": st.just("1"),
        },
    )
    return query.map(lambda q: ("GET", "/interview", {"params": q}))


def output() -> st.SearchStrategy[tuple[str, str, dict[str, Any]]]:
    query = st.fixed_dictionaries(
        {"output": st.sampled_from(["employee_is_employee", "nope"])}, optional={"value": texts, "person": json_or_text}
    )
    return query.map(lambda q: ("GET", "/output", {"params": q}))


def upload() -> st.SearchStrategy[tuple[str, str, dict[str, Any]]]:
    content = (
        persons.map(lambda p: json.dumps(p).encode())
        | persons.map(lambda p: "\n".join(f"{k}: {v}" for k, v in p.items()).encode())
        | st.binary(max_size=40)
        | st.text(max_size=40).map(str.encode)
    )
    return st.tuples(content, st.text(max_size=10)).map(
        lambda c: ("POST", "/load", {"files": {"file": (c[1] or "x.yaml", c[0])}, "data": {"lang": "en"}})
    )


def check() -> st.SearchStrategy[tuple[str, str, dict[str, Any]]]:
    return option_forms.map(lambda f: ("POST", "/check", {"data": f}))


def diff() -> st.SearchStrategy[tuple[str, str, dict[str, Any]]]:
    fields = st.fixed_dictionaries({}, optional={"year": texts, "vs_year": texts, "max_regions": texts})
    return st.tuples(fields, option_forms).map(lambda f: ("POST", "/diff", {"data": {**f[0], **f[1]}}))


def test_no_form_gets_a_server_error_and_refusals_name_the_allowed_values(base: str) -> None:
    statuses: Counter[tuple[str, int]] = Counter()
    session = requests.Session()

    @settings(
        max_examples=FORMS, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(request=st.one_of(interview(), output(), upload(), check(), diff()))
    def send(request: tuple[str, str, dict[str, Any]]) -> None:
        method, path, kwargs = request
        r = session.request(method, base + path, allow_redirects=False, timeout=300, **kwargs)
        statuses[path, r.status_code] += 1
        assert r.status_code < 500, (method, path, kwargs, r.text[:500])
        if r.status_code == 303 and r.headers["location"].startswith("/jobs/"):  # a valid form started a job
            session.post(base + r.headers["location"] + "/cancel", allow_redirects=False, timeout=60)
        if r.status_code == 422 or path == "/interview":
            errors = ERROR.findall(r.text)
            assert errors or r.status_code != 422, (path, kwargs, r.text[:500])
            for field, message in errors:
                assert "allowed: " in unescape(message), (path, kwargs, field, message)
        if r.status_code == 422 and path in ("/check", "/diff"):
            assert all(field for field, _ in ERROR.findall(r.text)), r.text[:500]  # each beside a field

    send()
    print(f"\n{sum(statuses.values())} form requests; {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) >= FORMS * 0.9
    assert {path for path, _ in statuses} == {"/interview", "/output", "/load", "/check", "/diff"}
