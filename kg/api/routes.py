"""Lineage, impact, path, asset upload and health routes: each only translates HTTP to kg.graph."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from kg import jobs, views
from kg.api import models
from kg.api.deps import (
    GateParameter,
    documents_of,
    evaluator_of,
    read_body,
    require_writer,
)
from kg.api.openapi import ASSET_EXAMPLES, ASSET_TYPES, BUSY, TOKEN, WRITE, body, problems
from kg.graph import KnowledgeGraph
from kg.lineage import Direction

router = APIRouter()


def _large(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The 200 answer of a route whose answers can hold hundreds of thousands of nodes: its
    model documents it, and tests/api/test_models.py holds the answers to it, but it is not
    checked again on every request (a third of the time of an 18k-node lineage answer)."""
    return {200: {"model": model, "description": "Successful Response"}}


def _graph(request: Request) -> KnowledgeGraph:
    graph = request.app.state.graph
    assert isinstance(graph, KnowledgeGraph)
    return graph


NodeId = Annotated[
    str,
    Query(
        alias="nodeId",
        description="Asset IRI, prefix:local name or local id.",
        examples=["service/homepage"],
    ),
]


@router.get("/healthz", tags=["ops"], summary="Liveness", response_model=models.Health)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/api/v1/lineage",
    tags=["lineage"],
    summary="Upstream and/or downstream lineage",
    response_class=JSONResponse,
    responses=_large(models.Lineage) | problems(400, 404),
)
def get_lineage(
    request: Request,
    node_id: NodeId,
    direction: Direction = Direction.UPSTREAM,
    depth: Annotated[int | None, Query(ge=1, le=1000, description="Largest hop count.")] = None,
    type_: Annotated[
        list[str] | None, Query(alias="type", description="Keep only these classes.")
    ] = None,
) -> JSONResponse:
    """Every asset on the given side of `nodeId`, with its type, name, owners and shortest hop
    distance, and the lineage edges between them (`inEdges`, `outEdges`). `type` names mlg
    classes in any case (`dataset`, `mlg:Dataset`); an unknown one is a 400."""
    graph = _graph(request)
    return JSONResponse(views.lineage(graph.lineage(node_id, direction, depth, type_ or None)))


@router.get(
    "/api/v1/impact",
    tags=["lineage"],
    summary="Impact of a change to an asset",
    response_class=JSONResponse,
    responses=_large(models.Impact) | problems(404),
)
def get_impact(request: Request, node_id: NodeId) -> JSONResponse:
    """Every downstream asset grouped by type, the production services and experiments affected,
    and the owners to notify."""
    return JSONResponse(views.impact(_graph(request).impact(node_id)))


@router.get(
    "/api/v1/path",
    tags=["lineage"],
    summary="Why one asset depends on another",
    response_model=models.Paths,
    responses=problems(404),
)
def get_path(
    request: Request,
    origin: Annotated[str, Query(alias="from")],
    target: Annotated[str, Query(alias="to")],
) -> dict[str, Any]:
    """The shortest dependency path(s) between two assets, in whichever direction exists."""
    return views.paths(_graph(request).paths(origin, target))


@router.post(
    "/api/v1/assets",
    tags=["assets"],
    summary="Load assets",
    status_code=201,
    response_model=models.LoadReport,
    response_model_exclude_unset=True,  # `warnings` only when there are some
    responses=WRITE,
    openapi_extra=TOKEN | body(*ASSET_TYPES, "multipart/form-data", examples=ASSET_EXAMPLES),
)
async def post_assets(
    request: Request,
    gate: GateParameter = None,
    restore: Annotated[
        bool,
        Query(
            description="`true`: leave out kg's own graphs (load records, derived triples, "
            "reports: a dump of another kg) with a warning each, instead of refusing them."
        ),
    ] = False,
) -> dict[str, object]:
    """Load a native asset document (YAML/JSON) or RDF, chosen by Content-Type, or several as
    the files of a multipart/form-data body (each typed by its Content-Type or its file name),
    through the write pipeline. All or nothing: a refused document leaves the graph as it
    was."""
    require_writer(request)
    body = await read_body(request)
    documents = documents_of(body, request.headers.get("content-type"))
    graph = _graph(request)
    from starlette.concurrency import run_in_threadpool

    report = await run_in_threadpool(graph.load, documents, gate, restore=restore)
    return report.as_dict()


async def _stats(request: Request) -> dict[str, object]:
    graph = _graph(request)
    return await evaluator_of(request).run(
        jobs.stats, graph.settings.base_iri, budget=graph.settings.query_timeout
    )


@router.get(
    "/api/v1/stats",
    tags=["ops"],
    summary="Graph size and assets by type",
    response_model=models.Stats,
    responses=BUSY,
)
async def get_stats(request: Request) -> dict[str, object]:
    return await _stats(request)
