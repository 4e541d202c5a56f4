"""What every route shares: the graph, the caller's role and body limits, and the `Annotated`
aliases the routes declare them with (`graph: GraphDep` for a reader, `graph: WriterDep`,
`graph: AdminDep`, `principal: PrincipalDep`...)."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Query, Request

from kg.auth.authenticate import Authenticator
from kg.auth.context import act_as
from kg.auth.principal import Principal, Role
from kg.errors import BodyTooLargeError, ForbiddenError, InputError, UnauthorizedError
from kg.evaluation import Evaluator
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph

# The deepest page of search and the asset list, as Elasticsearch's default result window:
# past it, narrow the filters.
MAX_OFFSET = 10_000


def graph_of(request: Request) -> KnowledgeGraph:
    graph = request.app.state.graph
    assert isinstance(graph, KnowledgeGraph)
    return graph


def evaluator_of(request: Request) -> Evaluator:
    evaluator = request.app.state.evaluator
    assert isinstance(evaluator, Evaluator)
    return evaluator


def authenticator_of(request: Request) -> Authenticator:
    """What recognises callers under the graph's settings: loaded as the app starts, and again
    when the graph is given other settings (a SettingsError, 500, for files kg cannot use)."""
    settings = graph_of(request).settings
    found = getattr(request.app.state, "authenticator", None)
    if isinstance(found, Authenticator) and found.serves(settings):
        return found
    loaded = Authenticator.from_settings(settings)
    request.app.state.authenticator = loaded
    return loaded


async def principal_of(request: Request) -> Principal | None:
    """The request's principal, recognised once per request and acted as from then on (the
    write path names it); None for an anonymous caller who must give credentials."""
    if hasattr(request.state, "principal"):
        cached = request.state.principal
        assert cached is None or isinstance(cached, Principal)
        return cached
    authenticator = authenticator_of(request)
    header = request.headers.get("authorization")
    if authenticator.may_fetch(header):  # the issuer's keys may have to be fetched first
        principal = await anyio.to_thread.run_sync(authenticator.authenticate, header)
    else:
        principal = authenticator.authenticate(header)
    if principal is None:
        principal = authenticator.anonymous()
    request.state.principal = principal
    if principal is not None:
        act_as(principal)
    return principal


_ROLE_NAMES = {Role.READER: "a reader's", Role.WRITER: "a writer's", Role.ADMIN: "an admin's"}
_READS_CLOSED = (
    "reads need a reader's token here (KG_READ_OPEN=false): send Authorization: Bearer <token>; "
    "a browser needs a proxy in front of kg that adds it"
)


def demand(principal: Principal | None, needed: Role, what: str) -> Principal:
    """`principal`, when its role allows `needed`; else 401 for a caller without credentials
    and 403 for one whose role is too low, both naming the role `what` needs."""
    if principal is None:
        if needed is Role.READER:
            raise UnauthorizedError(_READS_CLOSED)
        raise UnauthorizedError(
            f"{what} needs {_ROLE_NAMES[needed]} token: send Authorization: Bearer <token>"
        )
    if principal.may(needed):
        return principal
    if principal.kind == "open":
        raise UnauthorizedError(
            f"{what} needs {_ROLE_NAMES[needed]} token: send Authorization: Bearer <token>"
        )
    raise ForbiddenError(
        f"{what} needs {_ROLE_NAMES[needed]} token; the token {principal.name!r} is a "
        f"{principal.role.value}"
    )


# The dependencies behind the aliases are `async` although they only look things up: FastAPI
# runs a plain `def` dependency in the threadpool, where it would wait behind the blocking
# work of other requests for a thread, and where the principal it acts as would stay behind
# (a context variable set there is lost). None reads more than the Request, so none adds a
# parameter to the OpenAPI document.


def _asked(request: Request) -> str:
    return "this read" if request.method in ("GET", "HEAD") else "this write"


async def reader(request: Request) -> Principal:
    return demand(await principal_of(request), Role.READER, _asked(request))


async def writer(request: Request) -> Principal:
    return demand(await principal_of(request), Role.WRITER, _asked(request))


async def admin(request: Request) -> Principal:
    return demand(await principal_of(request), Role.ADMIN, _asked(request))


async def readable_graph(request: Request) -> KnowledgeGraph:
    await reader(request)
    return graph_of(request)


async def writable_graph(request: Request) -> KnowledgeGraph:
    """The graph, for a caller allowed to write it (401 or 403 otherwise)."""
    await writer(request)
    return graph_of(request)


async def administered_graph(request: Request) -> KnowledgeGraph:
    await admin(request)
    return graph_of(request)


async def unchecked_graph(request: Request) -> KnowledgeGraph:
    """The graph, for a route that checks its caller itself (a signed webhook)."""
    return graph_of(request)


async def current_evaluator(request: Request) -> Evaluator:
    return evaluator_of(request)


GraphDep = Annotated[KnowledgeGraph, Depends(readable_graph)]  # a reader (anyone, reads open)
WriterDep = Annotated[KnowledgeGraph, Depends(writable_graph)]
AdminDep = Annotated[KnowledgeGraph, Depends(administered_graph)]
PrincipalDep = Annotated[Principal, Depends(reader)]  # who asks: at least a reader
SignedGraphDep = Annotated[KnowledgeGraph, Depends(unchecked_graph)]
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
