"""A SPARQL 1.1 Protocol query endpoint at /sparql (read-only)."""

from __future__ import annotations

from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from kg.errors import KGError
from kg.graph import KnowledgeGraph

router = APIRouter(tags=["sparql"])

_RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
_GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def accepted(header: str | None) -> list[str]:
    """Media types of an Accept header, best first (q-values honoured, q=0 dropped)."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((-quality, position, media.lower()))
    return [media for _, _, media in sorted(ranked)]


def _choose(
    header: str | None, table: dict[str, ox.QueryResultsFormat | ox.RdfFormat], default: str
) -> str:
    for media in accepted(header):
        if media in table:
            return media
        if media in ("*/*", "application/*", "text/*"):
            return default
    return default


def _answer(graph: KnowledgeGraph, query: str, accept: str | None) -> Response:
    try:
        result = graph.query(query)
        if isinstance(result, ox.QueryTriples):
            media = _choose(accept, _GRAPH_TYPES, "text/turtle")  # type: ignore[arg-type]
            body = result.serialize(format=_GRAPH_TYPES[media])
        else:
            media = _choose(accept, _RESULT_TYPES, "application/sparql-results+json")  # type: ignore[arg-type]
            body = result.serialize(format=_RESULT_TYPES[media])
    except KGError as exc:
        return PlainTextResponse(exc.message, status_code=400)
    return Response(body or b"", media_type=media)


@router.get("/sparql", summary="SPARQL query (GET)")
def sparql_get(request: Request, query: Annotated[str | None, Query()] = None) -> Response:
    if not query:
        return PlainTextResponse("missing the 'query' parameter", status_code=400)
    return _answer(request.app.state.graph, query, request.headers.get("accept"))


@router.post("/sparql", summary="SPARQL query (POST form or application/sparql-query)")
async def sparql_post(request: Request) -> Response:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/sparql-query":
        query = (await request.body()).decode("utf-8", errors="replace")
    elif content_type == "application/x-www-form-urlencoded":
        form = await request.form()
        value = form.get("query")
        query = value if isinstance(value, str) else ""
    else:
        return PlainTextResponse(
            "send the query as application/sparql-query or as a form field 'query'",
            status_code=415,
        )
    if not query:
        return PlainTextResponse("missing the 'query' parameter", status_code=400)
    graph = request.app.state.graph
    return await run_in_threadpool(_answer, graph, query, request.headers.get("accept"))
