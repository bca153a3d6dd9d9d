"""Request bodies generated from the web API's own OpenAPI spec (schemathesis: bodies that fit the
schema and bodies that break it), sent to the real server: every answer is 2xx or 4xx, never 5xx.

The default run sends ELIG_WEB_BODIES=120 bodies; `ELIG_WEB_BODIES=1000` is the long run."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver.web.app import running

BODIES = int(os.environ.get("ELIG_WEB_BODIES", "120"))


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running("rules/shanghai") as url:
        yield url


def test_no_body_gets_a_server_error(base: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    cases = st.one_of(
        schema.as_strategy(schemathesis.GenerationMode.POSITIVE),
        schema.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )
    statuses: Counter[int] = Counter()
    operations: Counter[str] = Counter()
    session = requests.Session()

    @settings(
        max_examples=BODIES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=cases)
    def send(case: schemathesis.Case) -> None:
        response = case.call(base_url=base, session=session, timeout=300)
        statuses[response.status_code] += 1
        operations[f"{case.method} {case.path}"] += 1
        assert response.status_code < 500, (case.method, case.path, case.body, response.text[:500])

    send()
    sent = sum(statuses.values())
    print(f"\n{sent} requests over {len(operations)} operations; statuses {dict(sorted(statuses.items()))}")
    assert sent >= BODIES * 0.9  # hypothesis may stop a little early when it runs out of distinct cases
    assert len(operations) >= 7 and all(200 <= s < 500 for s in statuses)
