"""The SPARQL 1.1 Protocol endpoint at /sparql (and /query): queries for everyone, updates for
writers, the service description on a plain GET, and a query page for browsers."""

from __future__ import annotations

import functools
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import MultiDict

from kg import jobs, protocol, sparqltext
from kg.api.deps import (
    EvaluatorDep,
    GraphDep,
    PrincipalDep,
    demand,
    gate_asked,
    read_body,
)
from kg.api.models import SparqlResults
from kg.api.openapi import RDF_TYPES, RESULT_TYPES, TOKEN_FOR_UPDATES, answer, problems
from kg.auth.principal import Principal, Role
from kg.errors import InputError, KGError
from kg.evaluation import Evaluator
from kg.graph import KnowledgeGraph
from kg.history.timeline import parse_moment
from kg.portal import pages
from kg.store import OxigraphStore
from kg.write import sparql_update

router = APIRouter(tags=["sparql"])
PATHS = ("/sparql", "/sparql/", "/query", "/query/")
_GRAPHS = {"type": "array", "items": {"type": "string"}}
_SELECT = "SELECT * WHERE { ?s ?p ?o } LIMIT 10"
_UPDATE = 'INSERT DATA { GRAPH <https://example.org/g> { <https://example.org/s> <urn:p> "o" } }'
_DATASET = [  # the protocol's dataset of a query; URL parameters on GET and POST alike
    {"name": "default-graph-uri", "in": "query", "schema": _GRAPHS},
    {"name": "named-graph-uri", "in": "query", "schema": _GRAPHS},
    {"name": "format", "in": "query", "schema": {"type": "string"}, "description": "json, xml, "
     "csv, tsv (results) or turtle, ntriples, rdfxml, jsonld, nquads, trig (graphs)."},
]  # fmt: skip
_RESULTS = answer(
    200,
    "Query results by Accept or `format` (SELECT and ASK: SPARQL results; CONSTRUCT and "
    "DESCRIBE: RDF); with no query, the service description (RDF) or the query page (HTML).",
    *RESULT_TYPES,
    *RDF_TYPES,
    "text/html",
    model=SparqlResults,
    kg_row_limit="The row cap of the answer (KG_MAX_ROWS).",
    kg_truncated="`true` when the answer was cut at the row cap.",
)
# the protocol's own errors are text/plain; kg's (tokens, read-only graphs, governance, the
# body bounds) problem+json
_ERRORS = problems(400, 405, 413, 415, 503, text=True) | problems(401, 403, 404, 422)


def _bad(message: str, status: int = 400) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=status)


def _utf8(body: bytes, content_type: str) -> str:
    charset = next(
        (p.split("=", 1)[1].strip().lower() for p in content_type.split(";")[1:] if "charset" in p),
        "utf-8",
    )
    if charset not in ("utf-8", "utf8"):
        raise UnicodeDecodeError(charset, b"", 0, 0, "only UTF-8 is accepted")
    return body.decode("utf-8")


async def _parameters(request: Request) -> MultiDict | Response:
    """All protocol parameters of a request (URL and form), or an error response."""
    params = MultiDict(request.query_params.multi_items())
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    body = await read_body(request)
    try:
        if media == "application/sparql-query":
            params.append("query", _utf8(body, content_type))
        elif media == "application/sparql-update":
            params.append("update", _utf8(body, content_type))
        elif media == "application/x-www-form-urlencoded":
            from urllib.parse import parse_qsl

            for key, value in parse_qsl(_utf8(body, content_type), keep_blank_values=True):
                params.append(key, value)
        else:
            return _bad(
                "send a query as application/sparql-query or a form field 'query', and an update "
                "as application/sparql-update or a form field 'update'",
                415,
            )
    except UnicodeDecodeError:
        return _bad("the request body must be UTF-8")
    return params


@router.get(
    PATHS[0],
    summary="SPARQL 1.1 query, or the service description",
    response_class=Response,
    responses=_RESULTS | _ERRORS,
    openapi_extra={
        "parameters": [
            {"name": "query", "in": "query", "schema": {"type": "string"}, "example": _SELECT},
            *_DATASET,
        ]
    },
)
@router.post(
    PATHS[0],
    summary="SPARQL 1.1 query and update",
    response_class=Response,
    responses=_RESULTS
    | answer(204, "The update was applied.", kg_load="The load record of the update.")
    | _ERRORS,
    openapi_extra=TOKEN_FOR_UPDATES
    | {
        "parameters": _DATASET,
        "requestBody": {
            "required": True,
            "content": {
                "application/sparql-query": {"schema": {"type": "string"}, "example": _SELECT},
                "application/sparql-update": {"schema": {"type": "string"}, "example": _UPDATE},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "query": {"type": "string"},
                            "update": {"type": "string"},
                            "default-graph-uri": _GRAPHS,
                            "named-graph-uri": _GRAPHS,
                            "using-graph-uri": _GRAPHS,
                            "using-named-graph-uri": _GRAPHS,
                        },
                    }
                },
            },
        },
    },
)
@router.api_route(PATHS[1], methods=["GET", "POST"], include_in_schema=False)
@router.api_route(PATHS[2], methods=["GET", "POST"], include_in_schema=False)
@router.api_route(PATHS[3], methods=["GET", "POST"], include_in_schema=False)
async def sparql(
    request: Request, graph: GraphDep, evaluator: EvaluatorDep, principal: PrincipalDep
) -> Response:
    """SPARQL 1.1 Protocol: `query` by GET, POST form or POST application/sparql-query, with
    `default-graph-uri` / `named-graph-uri`; `update` by POST form or application/sparql-update
    (writers only), with `using-graph-uri` / `using-named-graph-uri`. Results by `Accept` or
    `format`. `kg-as-of` (an ISO-8601 timestamp, kg's own parameter): the query runs over the
    graph as it stood then (410 before history starts). With no query: the service
    description; for a browser (HTML first in Accept, no `format`), the workbench, with the
    query in it."""
    params = await _parameters(request)
    if isinstance(params, Response):
        return params
    queries, updates = params.getlist("query"), params.getlist("update")
    if len(queries) > 1 or len(updates) > 1:
        return _bad("give one query or one update per request")
    if queries and updates:
        return _bad("give a query or an update, not both")
    if updates:
        if request.method != "POST":
            return _bad("updates must be sent with POST", 405)
        if params.getlist(AS_OF):
            return _bad(f"an update changes the graph as it is now: leave out {AS_OF}")
        return await _update(request, graph, evaluator, updates[0], params, principal)
    if not queries:
        return await _describe(request, graph, evaluator)
    if request.method == "GET" and _wants_page(request):  # a link to the workbench, prefilled
        return pages.page(request, "workbench", "SPARQL workbench")
    return await _query(request, graph, evaluator, queries[0], params, principal)


def _wants_page(request: Request) -> bool:
    """A browser following a link: HTML first in Accept, then XHTML, as browsers send it (a
    client preferring HTML but naming an RDF or results type gets that), and no `format`."""
    if any(name in request.query_params for name in protocol.FORMAT_PARAMETERS):
        return False
    accepted = protocol.accepted(request.headers.get("accept"))
    return accepted[:1] == ["text/html"] and "application/xhtml+xml" in accepted


# kg:asOf: a query over the graph as it stood at a moment, as a dataset of its own (every
# graph then, kg's derived triples then; the versions and later load records left out).
AS_OF = "kg-as-of"


async def _as_of(graph: KnowledgeGraph, params: MultiDict) -> OxigraphStore | None:
    """The store as of the `kg-as-of` parameter (an ISO-8601 timestamp), or None: now."""
    given = params.getlist(AS_OF)
    if not given:
        return None
    if len(given) > 1:
        raise InputError(f"give {AS_OF} once, not {len(given)} times")
    moment = parse_moment(given[0], AS_OF)
    state = await anyio.to_thread.run_sync(graph.state, moment)
    return state if isinstance(state, OxigraphStore) and state is not graph.store else None


async def _query(
    request: Request,
    graph: KnowledgeGraph,
    evaluator: Evaluator,
    query: str,
    params: MultiDict,
    principal: Principal,
) -> Response:
    settings = graph.settings
    base = str(request.url).split("?", 1)[0]
    try:
        masked = sparqltext.check_size_and_depth(
            query, max_bytes=settings.max_query, max_depth=settings.max_depth, kind="query"
        )
        federated = sparqltext.check_outbound(
            query,
            settings.federation_prefixes(),
            trusted=principal.may(Role.WRITER),  # outbound calls: writers only
            masked=masked,
            base_iri=base,
        )
        state = await _as_of(graph, params)
        answer = await evaluator.run(
            jobs.sparql,
            query,
            accept=request.headers.get("accept"),
            formats=[v for name in protocol.FORMAT_PARAMETERS for v in params.getlist(name)],
            max_rows=settings.max_rows,
            default_graphs=params.getlist("default-graph-uri"),
            named_graphs=params.getlist("named-graph-uri"),
            base_iri=base,
            federated=federated,
            budget=settings.query_timeout,
            on=state,
        )
    except KGError as exc:
        return _bad(exc.message, exc.status)
    headers = {}
    if state is not None:
        headers["kg-as-of"] = params.getlist(AS_OF)[0]
    if answer.form != "ASK":
        headers["kg-row-limit"] = str(settings.max_rows)
    if answer.truncated:
        headers["kg-truncated"] = "true"
    return Response(answer.body, media_type=answer.media, headers=headers)


async def _update(
    request: Request,
    graph: KnowledgeGraph,
    evaluator: Evaluator,
    update: str,
    params: MultiDict,
    principal: Principal,
) -> Response:
    demand(principal, Role.WRITER, "an update")  # queries are for readers, updates for writers
    base = str(request.url).split("?", 1)[0]

    def planner(_: object, text: str, **options: Any) -> sparql_update.Plan:
        # The plan is the update's reading part (its WHERE): in a worker over a view of the
        # store as it is under the write lock, stopped at KG_QUERY_TIMEOUT like a query.
        budget = graph.settings.query_timeout
        run = functools.partial(evaluator.run, sparql_update.plan_update, text, budget=budget)
        plan = anyio.from_thread.run(functools.partial(run, **options))
        assert isinstance(plan, sparql_update.Plan)
        return plan

    try:
        gate = gate_asked(request)
        report = await anyio.to_thread.run_sync(
            lambda: graph.sparql_update(
                update,
                params.getlist("using-graph-uri"),
                params.getlist("using-named-graph-uri"),
                base_iri=base,
                gate=gate,
                planner=planner,
            )
        )
    except KGError as exc:
        if exc.status >= 401:
            raise
        return _bad(exc.message)
    headers = {"kg-load": report.load} if report is not None else {}
    return Response(status_code=204, headers=headers)


async def _describe(request: Request, graph: KnowledgeGraph, evaluator: Evaluator) -> Response:
    if "text/html" in protocol.accepted(request.headers.get("accept"))[:1]:
        return pages.page(request, "workbench", "SPARQL workbench")
    endpoint = str(request.url).split("?", 1)[0]
    try:
        sizes = await evaluator.run(jobs.graph_sizes, budget=graph.settings.query_timeout)
    except KGError as exc:
        return _bad(exc.message, exc.status)
    turtle = protocol.service_description(endpoint, sizes)
    media = protocol.graph_media(request.headers.get("accept"), None)
    if media != "text/turtle":
        dataset = ox.Dataset(ox.parse(turtle, ox.RdfFormat.TURTLE))
        turtle = ox.serialize(dataset, format=protocol.GRAPH_TYPES[media]) or b""
    return Response(turtle, media_type=media)
