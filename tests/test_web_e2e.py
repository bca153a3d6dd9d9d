"""The web app end to end, in headless Chromium (Debian's binary, driven by Playwright) against the
server started for real (uvicorn on a free port). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import yaml

from explain.decision import clauses_of
from explain.derivation import Words
from explain.render import flat
from solver.backends.eval_backend import EvalBackend
from solver.language.loader import load_ruleset
from solver.passes.options import resolve
from solver.person import parse_person
from solver.web.app import running

RULES = "rules/shanghai"
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason="no /usr/bin/chromium (make browser)")


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with running(RULES) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, locale="zh-CN"
        )
        context.set_default_timeout(240_000)  # a page waits for z3 on a shared 2-core machine
        yield context
        context.close()


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def test_interview_to_a_decision(base: str, browser: Any) -> None:
    """A sample employee interviewed question by question (the page's own next question each time)
    until the asked-about output is proved; its value and a citation are read from the page."""
    sample = yaml.safe_load(Path(RULES, "samples", "employee_in_service_2026.yaml").read_text(encoding="utf-8"))
    goal = "employee_is_employee"
    page = browser.new_page()
    page.goto(f"{base}/interview?goal={goal}&lang=zh")
    # A bad answer first: the message beside the field names the allowed values.
    page.goto(f"{base}/interview?goal={goal}&field=insurance_year&value=1800")
    error = page.locator("#error-insurance_year").inner_text()
    assert "outside the domain" in error and "allowed: a whole number from 2023 to 2030" in error
    page.screenshot(path=str(ARTIFACTS / "interview-error.png"), full_page=True)

    page.goto(f"{base}/interview?goal={goal}&lang=zh")
    asked = []
    while page.locator(f'#goal li[data-output="{goal}"].goal-determined').count() == 0:
        assert page.locator("#ask").count() == 1, "the interview stopped asking before the output was decided"
        field = page.locator('#ask input[name="field"]').get_attribute("value")
        assert field is not None and field not in asked
        asked.append(field)
        if field in sample:
            answer = page.locator("#answer")
            if answer.evaluate("e => e.tagName") == "SELECT":
                answer.select_option(_text(sample[field]))
            else:
                answer.fill(_text(sample[field]))
            page.click("#next")
        else:
            page.click("#skip")
        page.wait_for_load_state()
    page.screenshot(path=str(ARTIFACTS / "interview-decided.png"), full_page=True)

    rs = load_ruleset(RULES)
    full = EvalBackend(resolve(rs, {})).decide(parse_person(rs, sample))[goal]
    shown = page.locator(f'#goal li[data-output="{goal}"] .value').inner_text()
    assert shown == Words(rs, "zh").result_text(goal, full)  # the partial interview agrees with the full person
    assert len([f for f in asked if f in sample]) < len(sample)
    proved = page.locator(f'details.output[data-output="{goal}"]')
    citation = proved.locator("summary .clause").first.inner_text().strip("[]")
    assert citation in clauses_of(rs, full.rules) and citation in rs.clauses
    proved.locator("summary b").click()  # the label, not the link beside it
    quote = proved.locator("q.quote").first.inner_text()
    assert quote and any(quote == flat(r.quote) for r in rs.rules_for(goal))  # the seed's words, verbatim
    page.screenshot(path=str(ARTIFACTS / "interview-derivation.png"), full_page=True)

    # Why not the other value, and the smallest change, on a click.
    proved.locator("a.more").click()
    page.select_option("#target", "false" if full.values == (True,) else "true")
    page.click("#ask-whynot")
    assert page.locator("#why-not li").count() > 0
    assert page.locator("#smallest-change li").count() > 0
    page.screenshot(path=str(ARTIFACTS / "why-not.png"), full_page=True)
    page.close()


def test_check_witness_opens_in_the_interview(base: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{base}/check")
    page.click("#run")
    page.wait_for_selector("#findings", timeout=600_000)  # the job page refreshes itself until done
    assert page.locator("#job-status").inner_text() == "done"
    page.screenshot(path=str(ARTIFACTS / "check-findings.png"), full_page=True)
    link = page.locator("a.witness").first
    href = link.get_attribute("href")
    assert href is not None
    witness = json.loads(parse_qs(urlparse(href).query)["person"][0])
    assert witness
    link.click()
    page.wait_for_selector("#proved")
    # Every witness value is in the interview's state, and the page counts them as answered.
    state = json.loads(parse_qs(urlparse(page.url).query)["person"][0])
    assert state == witness
    assert f"{len(witness)} field(s) answered" in page.content()
    page.screenshot(path=str(ARTIFACTS / "check-witness-interview.png"), full_page=True)
    page.close()


def test_save_and_load_a_person(base: str, browser: Any, tmp_path: Path) -> None:
    person = {"emp_work_status": "in_service", "as_of": "2026-04-01", "emp_veteran_status": "none"}
    page = browser.new_page()
    query = urlencode({"person": json.dumps(person), "goal": "employee_is_employee"})
    page.goto(f"{base}/interview?{query}")
    for kind in ("yaml", "json"):
        with page.expect_download() as download:
            page.click(f"#save-{kind}")
        saved = tmp_path / f"person.{kind}"
        download.value.save_as(saved)
        loaded = yaml.safe_load(saved.read_text(encoding="utf-8"))
        assert {k: _text(v) for k, v in loaded.items()} == person
        page.goto(f"{base}/interview?goal=employee_is_employee")
        page.set_input_files("#load-file", str(saved))
        page.click("#load-button")
        page.wait_for_selector("#proved")
        assert json.loads(parse_qs(urlparse(page.url).query)["person"][0]) == person
        assert "3 field(s) answered" in page.content()
    # A file that does not fit the vocabulary: the message names the field and its allowed values.
    bad = tmp_path / "bad.yaml"
    bad.write_text("hukou: mars\n", encoding="utf-8")
    page.set_input_files("#load-file", str(bad))
    page.click("#load-button")
    error = page.locator("#error-file").inner_text()
    assert "'mars' is not one of the values" in error and "shanghai, other_province, none" in error
    page.close()


def test_diff_witness_opens_in_the_interview(base: str, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{base}/diff")
    page.fill("#year", "2023")
    page.fill("#vs-year", "2025")
    page.click("#run")
    page.wait_for_selector("#summary", timeout=600_000)
    assert page.locator("#job-status").inner_text() == "done"
    assert page.locator("tr.region").count() > 0
    page.screenshot(path=str(ARTIFACTS / "diff-regions.png"), full_page=True)
    link = page.locator("a.witness").first
    href = link.get_attribute("href")
    assert href is not None
    witness = json.loads(parse_qs(urlparse(href).query)["person"][0])
    link.click()
    page.wait_for_selector("#proved")
    assert json.loads(parse_qs(urlparse(page.url).query)["person"][0]) == witness
    page.close()
