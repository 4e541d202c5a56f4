"""Imports and exports over HTTP: the OpenLineage receiver, the catalog importers, declared
equivalences, the standard exports and kg's JSON-LD context. Translation only."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kg import exports, jobs
from kg.api import models
from kg.api.deps import (
    EvaluatorDep,
    GateParameter,
    GraphDep,
    WriterDep,
    documents_of,
    read_body,
)
from kg.api.lineage import AsOf, moment_of
from kg.api.openapi import (
    BUSY,
    EXPORT_TYPES,
    OPENLINEAGE_EXAMPLE,
    RDF_TYPES,
    TOKEN,
    WRITE,
    answer,
    body,
    problems,
)
from kg.errors import NotFoundError
from kg.graph import Document
from kg.lineage import Direction
from kg.store import OxigraphStore
from kg.write import importers

router = APIRouter(tags=["import"])


async def _body(request: Request) -> bytes:
    """The body, already inflated when the client compressed it (the OpenLineage transport may):
    kg.api.middleware undoes gzip and deflate, bounded by KG_MAX_BODY, before any route."""
    return await read_body(request)


@router.post(
    "/api/v1/lineage",
    status_code=201,
    summary="Receive OpenLineage events",
    response_model=models.IngestReport,
    responses=WRITE,
    openapi_extra=TOKEN
    | body(
        "application/json",
        "application/x-ndjson",
        examples={"application/json": OPENLINEAGE_EXAMPLE},
    ),
)
async def post_lineage(request: Request, graph: WriterDep) -> dict[str, Any]:
    """OpenLineage RunEvent, DatasetEvent or JobEvent JSON, one event, an array or JSON lines, as
    the OpenLineage HTTP transport sends them (its default endpoint). Every event is checked
    against the OpenLineage schema first: one invalid event refuses the request (400, naming the
    event and the field) and nothing is stored. Answers the ingestion report."""
    document = Document("request body", await _body(request), "application/json")
    report = await run_in_threadpool(importers.openlineage, graph, [document], strict=True)
    return report.as_dict()


@router.post(
    "/api/v1/ingest/{importer}",
    status_code=201,
    summary="Import catalog metadata",
    response_model=models.IngestReport,
    responses=problems(404, detail=True) | WRITE,
    openapi_extra=TOKEN | body("application/json", "application/yaml", "multipart/form-data"),
)
async def post_ingest(
    request: Request,
    graph: WriterDep,
    importer: importers.Importer,
    gate: GateParameter = None,
    partial: Annotated[
        bool,
        Query(
            description="With several files: `true` refuses a file with invalid input whole "
            "and loads the others (the report lists what was refused), as `kg ingest` does; "
            "default: all or nothing."
        ),
    ] = False,
) -> dict[str, Any]:
    """A DataHub metadata file (MCE/MCP JSON as the file sink writes it), Backstage
    catalog-info YAML (multi-document), or OpenLineage events; several as the files of a
    multipart/form-data body. All or nothing unless `partial`; answers the ingestion report."""
    body = await _body(request)
    documents = documents_of(
        body, request.headers.get("content-type"), f"request body ({importer.value})"
    )
    report = await run_in_threadpool(
        importers.ingest, graph, importer, documents, strict=not partial, gate=gate
    )
    return report.as_dict()


class Equivalence(BaseModel):
    asset: str = Field(description="Asset IRI, prefix:local name or local id.")
    same_as: list[str] = Field(
        alias="sameAs", min_length=1, description="The same asset's other names."
    )
    remove: bool = Field(False, description="Withdraw the declaration instead.")


@router.post(
    "/api/v1/equivalences",
    summary="Declare that two names are one asset",
    response_model=models.LoadReport,
    response_model_exclude_unset=True,  # `warnings` only when there are some
    responses=problems(400, detail=True) | problems(404) | WRITE,
    openapi_extra=TOKEN,
)
async def post_equivalence(graph: WriterDep, body: Equivalence) -> dict[str, Any]:
    """Declare (or withdraw) owl:sameAs between an asset and its other names, for what the
    identity rules cannot match; lineage and impact follow it both ways."""
    for name in [body.asset, *body.same_as]:
        if not graph.exists(graph.iri(name)):
            raise NotFoundError(f"no asset {name} in the graph")
    report = await run_in_threadpool(
        importers.declare_same, graph, body.asset, body.same_as, remove=body.remove
    )
    return report.as_dict()


@router.get(
    "/api/v1/export",
    summary="The graph in a standard form",
    response_class=Response,
    responses=answer(
        200,
        "The export, in the media type of its format.",
        *EXPORT_TYPES,
        content_disposition="inline, with a file name.",
    )
    | problems(404)
    | BUSY,
)
async def get_export(
    graph: GraphDep,
    evaluator: EvaluatorDep,
    fmt: Annotated[exports.ExportFormat, Query(alias="format")] = exports.ExportFormat.TURTLE,
    team: Annotated[str | None, Query(description="Only this team's assets.")] = None,
    node_id: Annotated[str | None, Query(alias="nodeId", description="Only its lineage.")] = None,
    direction: Direction = Direction.UPSTREAM,
    as_of: AsOf = None,
) -> Response:
    """The whole graph, a team's assets or an asset's lineage as a DCAT 3 catalog, PROV-O,
    JSON-LD with kg's context, Turtle, or TriG keeping each source's graphs; `asOf`: as it was
    then. Runs under KG_TASK_TIMEOUT like a validation."""
    moment = moment_of(as_of)
    nodes = await run_in_threadpool(graph.export_nodes, team, node_id, direction, moment)
    state = None if moment is None else await run_in_threadpool(graph.state, moment)
    data = await evaluator.run(
        jobs.export,
        fmt.value,
        None if nodes is None else sorted(nodes),
        graph.settings.base_iri,
        budget=graph.settings.task_timeout,
        setting="KG_TASK_TIMEOUT",
        on=state if isinstance(state, OxigraphStore) and state is not graph.store else None,
    )
    name = f"kg-export.{exports.EXTENSIONS[fmt]}"
    return Response(
        data,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get(
    "/api/v1/dump",
    summary="The whole store, every graph",
    response_class=Response,
    responses=answer(
        200,
        "N-Quads (default) or TriG with every named graph, kg's own included; a graph format "
        "(Turtle, N-Triples...) gives the union of the graphs.",
        *RDF_TYPES,
    )
    | problems(401)
    | BUSY,
    openapi_extra=TOKEN,
)
async def get_dump(request: Request, graph: WriterDep, evaluator: EvaluatorDep) -> Response:
    """What `kg dump` writes, by `Accept`: a backup another kg restores with `kg load`. Runs
    under KG_TASK_TIMEOUT like an export. The whole store in one answer is an operator's tool:
    when KG_API_TOKENS is set, it needs a write token (401 otherwise)."""
    accept = request.headers.get("accept")
    dumped = await evaluator.run(
        jobs.dump,
        None if accept in (None, "", "*/*") else accept,
        budget=graph.settings.task_timeout,
        setting="KG_TASK_TIMEOUT",
    )
    return Response(dumped.body, media_type=dumped.media)


@router.get(
    "/context.jsonld",
    summary="kg's JSON-LD context",
    response_class=Response,
    responses=answer(200, "The context.", "application/ld+json"),
)
def get_context(graph: GraphDep) -> Response:
    """The JSON-LD context of kg's exports: the mlg terms by local name."""
    body = json.dumps(exports.context(graph.ontology), indent=2)
    return Response(body, media_type="application/ld+json")
