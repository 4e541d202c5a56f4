"""kg errors -> HTTP responses, mapped once: problem+json for the API."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kg.errors import InputError, KGError
from kg.governance.gate import GateError


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


async def _kg_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KGError)
    request.state.problem = exc.message  # the reason the audit records (kg.audit.middleware)
    extra: dict[str, object] = {}
    if exc.status == 401:
        response = problem(exc.status, exc.title, exc.message)
        response.headers["WWW-Authenticate"] = 'Bearer realm="kg"'
        return response
    if isinstance(exc, InputError):
        extra = {"source": exc.source, "line": exc.line}
    if isinstance(exc, GateError):
        extra = {
            "violations": [
                {
                    "focusNode": r.focus.strip("<>"),
                    "shape": r.shape.strip("<>"),
                    "value": r.value,
                    "message": r.message,
                }
                for r in exc.report.results
            ]
        }
    return problem(exc.status, exc.title, exc.message, **extra)


def install(app: FastAPI) -> None:
    app.add_exception_handler(KGError, _kg_error)
