"""A job's own process (`python -m solver.web.worker`, started by solver/web/jobs.py): reads the
question on stdin, runs `elig check` or `elig diff` in-process, writes its steps and the result.
Kept apart from jobs.py so that the server never imports the CLI (the CLI imports the server)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any


def _work() -> None:
    """In the job's process: the question on stdin; ["step", text] lines, then ["done", result]
    or ["error", message] on stdout."""
    from solver.errors import EligError

    def say(kind: str, payload: Any) -> None:
        print(json.dumps([kind, payload], ensure_ascii=False), flush=True)

    job = json.loads(sys.stdin.read())
    run = _check if job["kind"] == "check" else _diff
    try:
        say("done", run(job["rules"], job["params"], lambda text: say("step", text)))
    except EligError as e:
        say("error", str(e))


def _check(rules: str, params: dict[str, Any], step: Callable[[str], None]) -> Any:
    from explain.report import to_json
    from solver.checks import run_checks
    from solver.checks.engine import Settings
    from solver.language.loader import load_ruleset

    step("loading the rule set")
    rs = load_ruleset(rules)
    report = run_checks(rs, params.get("options") or {}, Settings(timeout_ms=params["timeout_ms"]), step)
    data = json.loads(to_json(report))
    data["exit_code"] = report.exit_code()
    return data


def _diff(rules: str, params: dict[str, Any], step: Callable[[str], None]) -> Any:
    """The CLI's own diff (two years or two readings of one folder), with its arguments."""
    from solver.commands.diff import run_diff
    from solver.diff import render
    from solver.diff.engine import DiffReport

    step("diff: encoding both versions")
    args = argparse.Namespace(
        rules=[rules],
        year=params.get("year"),
        vs_year=params.get("vs_year"),
        option=[f"{k}={v}" for k, v in (params.get("options") or {}).items()],
        vs_option=[f"{k}={v}" for k, v in (params.get("vs_options") or {}).items()],
        as_of=None,
        fix=[],
        output=list(params.get("outputs") or []),
        max_regions=params["max_regions"],
        timeout=params["timeout_ms"],
        quiet=True,
        population=None,
    )
    rep = run_diff(args, step)  # a step per output and per region found
    assert isinstance(rep, DiffReport)
    return json.loads(render.to_json(rep))


if __name__ == "__main__":
    _work()
