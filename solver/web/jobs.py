"""Long questions (check, diff) as background jobs: each runs in a process of its own
(`python -m solver.web.worker`), so a cancel ends it at once (even inside a z3 call) and the server's
own solver lock stays free. The process writes one JSON line per step and one with the result; the
page and the status endpoint show the last step."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import IO, Any, Literal

Status = Literal["running", "done", "failed", "cancelled"]
# Two cores: one job at a time; another start is refused (429) until it ends or is cancelled.
MAX_RUNNING = 1
KEEP = 20  # finished jobs kept for their pages


@dataclass
class Job:
    id: str
    kind: Literal["check", "diff"]
    params: dict[str, Any]
    status: Status = "running"
    steps: int = 0
    step: str = "starting"
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    result: Any = None
    error: str = ""
    process: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "params": self.params,
            "steps": self.steps,
            "step": self.step,
            "seconds": round(self.seconds or time.time() - self.started, 1),
            "result": self.result,
            "error": self.error or None,
        }


class Busy(Exception):
    """Another job is running."""


class Jobs:
    def __init__(self, rules: str) -> None:
        self.rules = rules
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, kind: Literal["check", "diff"], params: dict[str, Any]) -> Job:
        with self._lock:
            if sum(j.status == "running" for j in self.jobs.values()) >= MAX_RUNNING:
                raise Busy
            job = Job(f"{kind}-{next(self._ids)}", kind, params)
            job.process = subprocess.Popen(
                [sys.executable, "-m", "solver.web.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
            assert job.process.stdin is not None
            job.process.stdin.write(json.dumps({"kind": kind, "rules": self.rules, "params": params}))
            job.process.stdin.close()
            self.jobs[job.id] = job
            while len(self.jobs) > KEEP:
                oldest = next(iter(self.jobs.values()))
                if oldest.status == "running":
                    break
                self.jobs.popitem(last=False)
        threading.Thread(target=self._follow, args=(job, job.process.stdout), daemon=True).start()
        return job

    def _follow(self, job: Job, lines: IO[str]) -> None:
        for line in lines:
            try:  # a line the library printed itself is not ours: pass it by
                kind, payload = json.loads(line)
            except ValueError:
                continue
            if kind == "step":
                job.steps += 1
                job.step = str(payload)[:200]
                continue
            if job.status == "running":
                job.result, job.error = (payload, "") if kind == "done" else (None, str(payload))
                job.status = "done" if kind == "done" else "failed"
        job.process.wait()
        if job.status == "running":  # the process ended without a result
            job.status, job.error = "failed", f"the job's process ended with exit code {job.process.returncode}"
        job.seconds = time.time() - job.started

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def cancel(self, job: Job) -> None:
        if job.status == "running":
            job.status = "cancelled"
            job.process.terminate()

    def shutdown(self) -> None:
        for job in self.jobs.values():
            self.cancel(job)
