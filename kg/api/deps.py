"""What every route shares: the graph, write protection and body limits."""

from __future__ import annotations

import hmac

from fastapi import Request

from kg.errors import KGError
from kg.graph import KnowledgeGraph


class UnauthorizedError(KGError):
    status = 401
    title = "Unauthorized"


class BodyTooLargeError(KGError):
    status = 413
    title = "Request body too large"


def graph_of(request: Request) -> KnowledgeGraph:
    graph = request.app.state.graph
    assert isinstance(graph, KnowledgeGraph)
    return graph


def require_writer(request: Request) -> None:
    """Writes need `Authorization: Bearer <token>` when KG_API_TOKENS is set."""
    tokens = graph_of(request).settings.tokens()
    if not tokens:
        return
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and any(
        hmac.compare_digest(credentials.strip().encode(), t.encode()) for t in tokens
    ):
        return
    raise UnauthorizedError("this write needs an Authorization: Bearer token (KG_API_TOKENS)")


async def read_body(request: Request) -> bytes:
    """The request body, refused once it passes KG_MAX_BODY bytes."""
    limit = graph_of(request).settings.max_body
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"the body is {declared} bytes; the limit is {limit} (KG_MAX_BODY)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"the body passes the limit of {limit} bytes (KG_MAX_BODY)")
        chunks.append(chunk)
    return b"".join(chunks)
