"""The audit over HTTP, for admins: its entries page by page, and SPARQL queries over it.

Both routes only read. Nothing in the API writes the audit: kg.audit.middleware records what
the API answers, and this module wires it into the app (`install`, `open_log`, `close_log`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kg import protocol
from kg.api.deps import AdminDep, read_body
from kg.api.models import SparqlResults
from kg.api.openapi import BUSY, RESULT_TYPES, TOKEN, answer, problems
from kg.audit import vocab
from kg.audit.log import MAX_PAGE, AuditLog
from kg.audit.middleware import AuditMiddleware
from kg.config import Settings
from kg.errors import (
    AuditUnavailableError,
    ForbiddenError,
    InputError,
    UnsupportedQueryMediaError,
)

router = APIRouter(tags=["audit"])
_ADMIN = problems(401, 403)


class Outcome(StrEnum):
    written = vocab.WRITTEN
    refused = vocab.REFUSED
    failed = vocab.FAILED
    dropped = vocab.DROPPED


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuditPrincipal(_Answer):
    name: str
    role: str | None
    kind: str | None = Field(description="How it was recognised: token, jwt, open, local...")


class AuditEntry(_Answer):
    id: str = Field(description="The entry's id (its IRI is urn:kg:audit:<id>).")
    at: str | None = Field(description="When the request arrived (ISO 8601, UTC).")
    principal: AuditPrincipal | None = Field(description="None: no caller was recognised.")
    method: str | None
    path: str | None = Field(description="Path and query string, cut at 2,000 characters.")
    status: int | None
    outcome: str | None = Field(description="written, refused, failed, or dropped.")
    address: str | None = Field(description="The client's address as the connection gave it.")
    detail: str | None = Field(description="Why it was refused or failed, or what a count is.")
    loads: list[str] = Field(description="The load records the write made.")
    count: int | None = Field(
        description="A summary entry: how many refusals (or dropped entries) it stands for."
    )


class AuditPage(_Answer):
    entries: list[AuditEntry]
    next: str | None = Field(description="The cursor of the next page; None on the last one.")


def _log_of(request: Request) -> AuditLog:
    log = getattr(request.app.state, "audit", None)
    if not isinstance(log, AuditLog):
        raise AuditUnavailableError("this server keeps no audit (it was not opened)")
    return log


@router.get(
    "/api/v1/audit",
    summary="Who changed what, and what was refused (admins)",
    response_model=AuditPage,
    responses=_ADMIN,
    openapi_extra=TOKEN,
)
async def audit_entries(
    request: Request,
    graph: AdminDep,
    since: Annotated[datetime | None, Query(description="At or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="At or before (ISO 8601).")] = None,
    principal: Annotated[str | None, Query(description="The caller's name.")] = None,
    outcome: Outcome | None = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(description="`next` of the page before.")] = None,
) -> dict[str, Any]:
    """The audit's entries, newest first: every request that was not a plain read (writes,
    whatever their status) and every 401, 403 and 422, with who asked, from which address,
    the status, the reason of a refusal and the load record of a write."""
    log = _log_of(request)
    page = await run_in_threadpool(
        lambda: log.entries(
            since=since,
            until=until,
            principal=principal,
            outcome=None if outcome is None else outcome.value,
            status=status,
            limit=limit,
            cursor=cursor,
        )
    )
    return {"entries": page.entries, "next": page.next}


_SPARQL_ANSWER = answer(
    200,
    "SPARQL results by Accept or `format` (SELECT and ASK), or Turtle (CONSTRUCT).",
    *RESULT_TYPES,
    "text/turtle",
    model=SparqlResults,
)


_QUERY = {"name": "query", "in": "query", "schema": {"type": "string"},
          "example": "SELECT * WHERE { ?entry ?p ?o } LIMIT 10"}  # fmt: skip
_FORMAT = {"name": "format", "in": "query", "schema": {"type": "string"},
           "description": "json, xml, csv or tsv (instead of Accept)."}  # fmt: skip


@router.get(
    "/api/v1/audit/sparql",
    summary="SPARQL query over the audit (admins)",
    response_class=Response,
    responses=_SPARQL_ANSWER | _ADMIN | problems(400) | BUSY,
    openapi_extra=TOKEN | {"parameters": [_QUERY, _FORMAT]},
)
@router.post(
    "/api/v1/audit/sparql",
    summary="SPARQL query over the audit, by POST (admins)",
    response_class=Response,
    responses=_SPARQL_ANSWER | _ADMIN | problems(400, 415) | BUSY,
    openapi_extra=TOKEN
    | {
        "parameters": [_FORMAT],
        "requestBody": {
            "required": True,
            "content": {
                "application/sparql-query": {"schema": {"type": "string"}},
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "properties": {"query": {"type": "string"}}}
                },
            },
        },
    },
)
async def audit_sparql(request: Request, graph: AdminDep) -> Response:
    """The SPARQL 1.1 Protocol's query operation over the audit (`query` by GET, by POST form
    or as application/sparql-query), bounded as /sparql's queries are. The audit takes no
    update: it is written by kg alone."""
    log = _log_of(request)
    text = await _query_text(request)
    formats = [v for name in protocol.FORMAT_PARAMETERS for v in request.query_params.getlist(name)]
    found = await log.sparql(text, accept=request.headers.get("accept"), formats=formats)
    headers = {} if found.form == "ASK" else {"kg-row-limit": str(log.settings.max_rows)}
    if found.truncated:
        headers["kg-truncated"] = "true"
    return Response(found.body, media_type=found.media, headers=headers)


async def _query_text(request: Request) -> str:
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await read_body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("the request body must be UTF-8") from None
        if media == "application/sparql-query":
            pairs.append(("query", text))
        elif media == "application/x-www-form-urlencoded":
            pairs += parse_qsl(text, keep_blank_values=True)
        else:
            raise UnsupportedQueryMediaError(
                "send the query as application/sparql-query or as a form field 'query'"
            )
    if any(key == "update" for key, _ in pairs):
        raise ForbiddenError("the audit takes no update: only kg writes it")
    queries = [value for key, value in pairs if key == "query"]
    if len(queries) != 1:
        raise InputError("give one query (the `query` parameter)")
    return queries[0]


# -- wiring


def install(app: FastAPI) -> None:
    """Record what `app` answers in the audit it opens (`open_log`). Call it after every other
    middleware is added: the last added runs first, and the audit must see their answers."""

    def current() -> AuditLog | None:
        log = getattr(app.state, "audit", None)
        return log if isinstance(log, AuditLog) else None

    app.add_middleware(AuditMiddleware, audit=current)


def open_log(app: FastAPI, settings: Settings) -> AuditLog:
    """Open the audit of the served store (at start-up) where the middleware and routes find it."""
    log = AuditLog.open(settings)
    app.state.audit = log
    return log


def close_log(app: FastAPI) -> None:
    """Write what the audit still holds and close it (at shutdown)."""
    log = getattr(app.state, "audit", None)
    if isinstance(log, AuditLog):
        app.state.audit = None
        log.close()
