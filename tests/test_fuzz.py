"""The fuzz harness (tests/fuzz/run.py) in the suite: a small seeded count of every input class,
which must give answers or typed errors only. ELIG_FUZZ_COUNT raises the count; the harness
itself runs longer from the command line (python tests/fuzz/run.py --count 10000)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

COUNT = int(os.environ.get("ELIG_FUZZ_COUNT", "40"))


def _harness() -> ModuleType:
    path = Path(__file__).parent / "fuzz" / "run.py"
    spec = importlib.util.spec_from_file_location("elig_fuzz_run", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def harness() -> ModuleType:
    return _harness()


def test_fuzzed_inputs_give_answers_or_typed_errors(harness: ModuleType) -> None:
    tally = harness.fuzz(COUNT, seed=7, subprocess_every=max(COUNT // 2, 1), compare_every=8, limit=120.0)
    report = harness.report(tally, 0.0)
    assert not tally.failures, report
    total = tally.total()
    assert sum(total.values()) >= COUNT and total["typed"] > 0 and total["ok"] > 0, report
    assert set(tally.by_kind) == set(harness.KINDS), report  # every input class was exercised
    assert tally.subprocess_runs >= 2


def test_the_harness_tells_a_crash_from_a_typed_error(harness: ModuleType, tmp_path: Path) -> None:
    """The classifier is not a check that cannot fail: a planted crash, hang and injection show."""
    work = harness.Work(tmp_path)
    runner = harness.Runner(work)

    def crash(case: object, compare: bool) -> None:
        raise RecursionError("planted")

    def hang(case: object, compare: bool) -> None:
        while True:
            pass

    def inject(case: object, compare: bool) -> None:
        work.marker.write_text("ran")

    for fn, want in ((crash, "crash"), (hang, "hang"), (inject, "injected")):
        runner.run_planted = fn
        outcome, _ = harness.classify(runner, {"kind": "planted"}, 0.5, compare=False)
        assert outcome == want
    bad_cli = {"kind": "cli", "argv": ["decide", "{MINI}", "{T}/bad.yaml"]}
    assert harness.classify(runner, bad_cli, 60.0, compare=False)[0] == "typed"
    assert harness.in_subprocess(work, bad_cli, 60.0)[0] == "typed"
    ok_cli = {"kind": "cli", "argv": ["decide", "{MINI}", "{T}/cases.yaml"]}
    assert harness.classify(runner, ok_cli, 60.0, compare=False)[0] == "ok"
