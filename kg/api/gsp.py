"""The SPARQL 1.1 Graph Store Protocol at /store: `?graph=IRI` or `?default`; GET, HEAD, PUT,
POST (merge, or create a new graph when no graph is named), DELETE. Writes go through the
pipeline and need write rights.

The default graph is the union of the data graphs. kg's own graphs (urn:kg:graph:loads,
ontology, shapes, reports/..., derived:...) answer GET and HEAD like any named graph (what
SPARQL shows of them too), and refuse PUT, POST and DELETE with 403: only kg writes them.
A write reads what it needs (the graph it merges with, whether the graph exists: 201 or 204)
under the write lock it commits under."""

from __future__ import annotations

import uuid

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from kg import jobs
from kg.api.deps import EvaluatorDep, GraphDep, WriterDep, documents_of, gate_asked, read_body
from kg.api.openapi import RDF_EXAMPLES, RDF_TYPES, TOKEN, answer, body, problems
from kg.errors import KGError
from kg.graph import KnowledgeGraph

router = APIRouter(tags=["graph store"])
_TARGET = {  # indirect identification: the graph a request is about
    "parameters": [
        {"name": "graph", "in": "query", "schema": {"type": "string"}, "description": "Its IRI.",
         "example": "https://example.org/graph"},
        {"name": "default", "in": "query", "schema": {"type": "string"}, "allowEmptyValue": True,
         "description": "The default graph (any value, or none)."},
    ]
}  # fmt: skip
_READ = answer(200, "The graph, by Accept.", *RDF_TYPES)
# the protocol's own errors are text/plain; kg's (tokens, read-only graphs, governance, input
# that does not parse, the body bounds) problem+json
_ERRORS = problems(400, 404, text=True) | problems(413, 415)
_WRITE_ERRORS = _ERRORS | problems(401, 403, 422)
_WRITE_BODY = body(*RDF_TYPES, "multipart/form-data", examples=RDF_EXAMPLES)


def _names_default(request: Request) -> bool:
    return any(p.split("=", 1)[0] == "default" for p in request.url.query.split("&"))


def _target(request: Request) -> tuple[str | None, Response | None]:
    """The graph a request names: (IRI, None), (None, None) for the default graph, or an error."""
    if request.path_params.get("path"):  # direct identification: the URL is the graph IRI
        return str(request.url).split("?", 1)[0], None
    params = request.query_params
    graphs = params.getlist("graph")
    if _names_default(request) and graphs:
        return None, PlainTextResponse("give ?graph=IRI or ?default, not both", status_code=400)
    if len(graphs) > 1:
        return None, PlainTextResponse("give one ?graph=IRI", status_code=400)
    if graphs:
        try:
            return ox.NamedNode(graphs[0]).value, None
        except ValueError:
            return None, PlainTextResponse(f"{graphs[0]!r} is not an IRI", status_code=400)
    return None, None


@router.get(
    "/store",
    summary="Graph Store Protocol: read a graph",
    response_class=Response,
    responses=_READ | _ERRORS,
    openapi_extra=_TARGET,
)
@router.head(
    "/store",
    summary="Graph Store Protocol: a graph's headers",
    response_class=Response,
    responses=_READ | _ERRORS,
    openapi_extra=_TARGET,
)
@router.api_route("/store/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def gsp_get(request: Request, graph: GraphDep, evaluator: EvaluatorDep) -> Response:
    graph_iri, error = _target(request)
    if error is not None:
        return error
    if graph_iri is None and not _names_default(request):
        return PlainTextResponse("give ?graph=IRI or ?default", status_code=400)
    try:  # the default graph is every data graph: read under the budget, in a worker
        answer = await evaluator.run(
            jobs.graph_triples,
            graph_iri,
            request.headers.get("accept"),
            budget=graph.settings.task_timeout,
            setting="KG_TASK_TIMEOUT",
        )
    except KGError as exc:
        return PlainTextResponse(exc.message, status_code=exc.status)
    if answer is None:
        return PlainTextResponse(f"no graph {graph_iri}", status_code=404)
    if request.method == "HEAD":
        return Response(
            status_code=200,
            media_type=answer.media,
            headers={"content-length": str(len(answer.body))},
        )
    return Response(answer.body, media_type=answer.media)


async def _write(request: Request, graph: KnowledgeGraph, *, merge: bool) -> Response:
    graph_iri, error = _target(request)
    if error is not None:
        return error
    created_iri = None
    if graph_iri is None and not _names_default(request):
        if not merge:
            return PlainTextResponse("PUT needs ?graph=IRI or ?default", status_code=400)
        created_iri = f"{graph.settings.base_iri}graph/{uuid.uuid4()}"  # POST creates a graph
        graph_iri = created_iri
    body = await read_body(request)
    documents = documents_of(body, request.headers.get("content-type", ""))

    gate = gate_asked(request)

    def run() -> bool:
        # Whether the graph existed (201 or 204) is decided by the write that commits: under
        # the write lock, with the writes, so two PUTs of a new graph cannot both create it.
        with graph.writing:
            existed = graph_iri is not None and graph.graph_read(graph_iri) is not None
            graph.graph_write(graph_iri, documents, merge=merge, gate=gate)
            return existed

    existed = await anyio.to_thread.run_sync(run)
    if created_iri is not None:
        return Response(status_code=201, headers={"location": created_iri})
    return Response(status_code=204 if existed or graph_iri is None else 201)


@router.put(
    "/store",
    summary="Graph Store Protocol: replace a graph",
    status_code=204,
    responses=answer(201, "The graph is new.") | answer(204, "Replaced.") | _WRITE_ERRORS,
    openapi_extra=_TARGET | _WRITE_BODY | TOKEN,
)
@router.put("/store/{path:path}", include_in_schema=False)
async def gsp_put(request: Request, graph: WriterDep) -> Response:
    return await _write(request, graph, merge=False)


@router.post(
    "/store",
    summary="Graph Store Protocol: add to a graph, or create one",
    status_code=204,
    responses=answer(
        201,
        "A new graph; without ?graph or ?default, at Location.",
        location="The new graph's IRI.",
    )
    | answer(204, "Added to the graph.")
    | _WRITE_ERRORS,
    openapi_extra=_TARGET | _WRITE_BODY | TOKEN,
)
@router.post("/store/{path:path}", include_in_schema=False)
async def gsp_post(request: Request, graph: WriterDep) -> Response:
    return await _write(request, graph, merge=True)


@router.delete(
    "/store",
    summary="Graph Store Protocol: delete a graph",
    status_code=204,
    responses=answer(204, "Deleted.") | _WRITE_ERRORS,
    openapi_extra=_TARGET | TOKEN,
)
@router.delete("/store/{path:path}", include_in_schema=False)
async def gsp_delete(request: Request, graph: WriterDep) -> Response:
    graph_iri, error = _target(request)
    if error is not None:
        return error
    if graph_iri is None and not _names_default(request):
        return PlainTextResponse("give ?graph=IRI or ?default", status_code=400)
    gate = gate_asked(request)
    report = await anyio.to_thread.run_sync(lambda: graph.graph_write(graph_iri, None, gate=gate))
    if report is None:
        return PlainTextResponse(f"no graph {graph_iri}", status_code=404)
    return Response(status_code=204)
