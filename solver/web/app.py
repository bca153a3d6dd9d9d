"""`elig serve`: the interview, the drafter pages and the JSON API of one rule set.

Every request body and query goes through the library's own readers (the person reader, the option
resolver, the output names): a typed error is a 4xx naming the field and its allowed values, and a
body over MAX_BODY bytes is refused before it is read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from solver.errors import InputError, RuleError
from solver.web.api import api_routes
from solver.web.bodies import MAX_BODY, BodyLimit
from solver.web.drafter import drafter_routes
from solver.web.interview import interview_routes
from solver.web.jobs import Jobs
from solver.web.service import Service

__all__ = ["MAX_BODY", "create_app", "guarded", "running", "serve"]


def create_app(rules: str | Path) -> FastAPI:
    service = Service(Path(rules))
    jobs = Jobs(str(rules))
    rs = service.rs

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> Any:
        yield
        jobs.shutdown()

    app = FastAPI(
        title=f"elig: {rs.title or rs.name}",
        description="Decide, explain, consult, check and diff one rule set. Errors name the field and allowed values.",
        lifespan=lifespan,
    )

    @app.exception_handler(InputError)
    async def input_error(_: Request, e: InputError) -> JSONResponse:
        return JSONResponse({"error": str(e), "field": e.field, "allowed": e.allowed or None}, status_code=422)

    @app.exception_handler(RuleError)
    async def rule_error(_: Request, e: RuleError) -> JSONResponse:
        return JSONResponse({"error": str(e)}, status_code=422)

    app.include_router(api_routes(service, jobs))
    app.include_router(interview_routes(service))
    app.include_router(drafter_routes(service, jobs))
    return app


def serve(rules: str, port: int, host: str = "127.0.0.1") -> None:
    import uvicorn

    app = create_app(rules)
    uvicorn.run(BodyLimit(app), host=host, port=port, log_level="info")


@contextmanager
def running(rules: str | Path) -> Iterator[str]:
    """The app served by uvicorn on a free local port in a thread, for tests and benches: yields
    the base URL, and stops the server (and its jobs) on exit."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(guarded(rules), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def guarded(rules: str | Path) -> Any:
    """The app behind the body limit (what `elig serve` runs; tests use the same)."""
    return BodyLimit(create_app(rules))
