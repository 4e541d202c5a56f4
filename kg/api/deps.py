"""What every route shares: the graph, write protection and body limits, and the `Annotated`
aliases the routes declare them with (`graph: GraphDep`, `graph: WriterDep`...)."""

from __future__ import annotations

import hmac
from email.parser import BytesParser
from email.policy import HTTP
from typing import Annotated

from fastapi import Depends, Query, Request

from kg.errors import BodyTooLargeError, InputError, KGError
from kg.evaluation import Evaluator
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph

# The deepest page of search and the asset list, as Elasticsearch's default result window:
# past it, narrow the filters.
MAX_OFFSET = 10_000


class UnauthorizedError(KGError):
    status = 401
    title = "Unauthorized"


def graph_of(request: Request) -> KnowledgeGraph:
    graph = request.app.state.graph
    assert isinstance(graph, KnowledgeGraph)
    return graph


def evaluator_of(request: Request) -> Evaluator:
    evaluator = request.app.state.evaluator
    assert isinstance(evaluator, Evaluator)
    return evaluator


def has_write_token(request: Request) -> bool:
    """True when the caller may write: a valid bearer token, or writes are open."""
    tokens = graph_of(request).settings.tokens()
    if not tokens:
        return True
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and any(
        hmac.compare_digest(credentials.strip().encode(), t.encode()) for t in tokens
    )


def require_writer(request: Request) -> None:
    """Writes need `Authorization: Bearer <token>` when KG_API_TOKENS is set."""
    if has_write_token(request):
        return
    raise UnauthorizedError("this write needs an Authorization: Bearer token (KG_API_TOKENS)")


# The dependencies behind the aliases are `async` although they only look things up: FastAPI
# runs a plain `def` dependency in the threadpool, where it would wait behind the blocking
# work of other requests for a thread. None reads more than the Request, so none adds a
# parameter to the OpenAPI document.


async def current_graph(request: Request) -> KnowledgeGraph:
    return graph_of(request)


async def writable_graph(request: Request) -> KnowledgeGraph:
    """The graph, for a caller allowed to write it (require_writer: 401 otherwise)."""
    require_writer(request)
    return graph_of(request)


async def current_evaluator(request: Request) -> Evaluator:
    return evaluator_of(request)


GraphDep = Annotated[KnowledgeGraph, Depends(current_graph)]
WriterDep = Annotated[KnowledgeGraph, Depends(writable_graph)]
EvaluatorDep = Annotated[Evaluator, Depends(current_evaluator)]


async def read_body(request: Request) -> bytes:
    """The request body, refused once it passes KG_MAX_BODY bytes. kg.api.middleware has
    bounded (and inflated) it before the route; this count is the defence in depth."""
    limit = graph_of(request).settings.max_body
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"the body is {declared} bytes; the limit is {limit} (KG_MAX_BODY)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"the body passes the limit of {limit} bytes (KG_MAX_BODY)")
        chunks.append(chunk)
    return b"".join(chunks)


def facet_filters(
    type_: Annotated[
        list[str] | None, Query(alias="type", description="Classes, e.g. Dataset.")
    ] = None,
    owner: Annotated[list[str] | None, Query(description="Owner ids.")] = None,
    status: Annotated[list[str] | None, Query(description="Active, mlg:Deprecated...")] = None,
    stage: Annotated[list[str] | None, Query(description="Production, Staging...")] = None,
    tag: Annotated[list[str] | None, Query(description="Tags.")] = None,
    source: Annotated[
        list[str] | None,
        Query(description="Who described it: kg, openlineage, datahub, backstage, a graph IRI."),
    ] = None,
) -> dict[str, list[str]]:
    """The facet filters shared by search and the asset list, as the client gave them:
    `KnowledgeGraph.search` resolves types, statuses and stages by name in any case and refuses
    unknown ones and owners (400 naming the value and the known ones)."""
    return {
        "type": type_ or [],
        "owner": owner or [],
        "status": status or [],
        "stage": stage or [],
        "tag": tag or [],
        "source": source or [],
    }


FiltersDep = Annotated[dict[str, list[str]], Depends(facet_filters)]


def documents_of(
    body: bytes, content_type: str | None, name: str = "request body"
) -> list[Document]:
    """The documents of a request body: the body itself, or each file of a
    multipart/form-data body (named by its file name, typed by its own Content-Type)."""
    if not (content_type or "").lower().startswith("multipart/form-data"):
        return [Document(name, body, content_type or None)]
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    documents = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            media = part.get_content_type() if part.get("content-type") else None
            documents.append(
                Document(
                    part.get_filename() or "form part",
                    payload,
                    None if media == "application/octet-stream" else media,
                )
            )
    if not documents:
        raise InputError("the multipart body holds no document")
    return documents


GATE_DESCRIPTION = (
    "`enforce` refuses a write that adds governance Violations (422, naming them); `warn` "
    "writes and reports them; `off` writes without checking. Any caller allowed to write may "
    "ask it for a write, as `kg load --gate` does; default: KG_GATE."
)
# The `gate` query parameter of the write routes that FastAPI reads (see gate_asked for the rest)
GateParameter = Annotated[GateMode | None, Query(description=GATE_DESCRIPTION)]


def gate_asked(request: Request) -> GateMode | None:
    """The `gate` a writer asks for in the query string (GATE_DESCRIPTION), for the routes that
    read their parameters themselves (SPARQL Update, the Graph Store Protocol)."""
    asked = request.query_params.get("gate")
    if asked is None:
        return None
    try:
        return GateMode(asked)
    except ValueError:
        known = ", ".join(m.value for m in GateMode)
        raise InputError(f"unknown gate {asked!r}; use one of {known}") from None
