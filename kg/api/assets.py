"""The asset REST API for people and scripts that do not write RDF (load, list, read, replace,
delete), and asset IRIs that dereference (HTML for browsers, RDF for RDF clients)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from kg import protocol, views
from kg.api import models
from kg.api.deps import (
    MAX_OFFSET,
    FiltersDep,
    GateParameter,
    GraphDep,
    WriterDep,
    documents_of,
    read_body,
)
from kg.api.lineage import AsOf, moment_of
from kg.api.openapi import ASSET_EXAMPLES, ASSET_TYPES, TOKEN, WRITE, answer, body, problems
from kg.api.search import ExactFacets
from kg.graph import Document
from kg.portal import pages

router = APIRouter(tags=["assets"])
_RDF_MEDIA = set(protocol.GRAPH_TYPES) - {"text/plain"}


def _wants_rdf(request: Request) -> str | None:
    for media in protocol.accepted(request.headers.get("accept")):
        if media in _RDF_MEDIA:
            return media
        if media in ("application/json", "text/html", "*/*"):
            return None
    return None


def _rdf(triples: list[ox.Triple], media: str) -> Response:
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    body = ox.serialize(dataset, format=protocol.GRAPH_TYPES[media]) or b""
    return Response(body, media_type=media)


def _with_id(body: bytes, content_type: str, identifier: str) -> bytes:
    """A native document for PUT may leave out the id the path already gives."""
    media = content_type.split(";")[0].strip().lower()
    if media not in ("application/yaml", "application/x-yaml", "text/yaml", "application/json"):
        return body
    text = body.decode("utf-8", errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{") and '"id"' not in text:
        return text.replace("{", '{"id": ' + json.dumps(identifier) + ", ", 1).encode()
    if not stripped.startswith(("{", "[", "-", "assets:")) and not any(
        line.startswith("id:") for line in text.splitlines()
    ):
        # appended, so the lines of errors are the lines the client sent
        return f"{text.rstrip()}\nid: {json.dumps(identifier)}\n".encode()
    return body


@router.post(
    "/api/v1/assets",
    summary="Load assets",
    status_code=201,
    response_model=models.LoadReport,
    response_model_exclude_unset=True,  # `warnings` only when there are some
    responses=WRITE,
    openapi_extra=TOKEN | body(*ASSET_TYPES, "multipart/form-data", examples=ASSET_EXAMPLES),
)
async def post_assets(
    request: Request,
    graph: WriterDep,
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
    body = await read_body(request)
    documents = documents_of(body, request.headers.get("content-type"))
    report = await run_in_threadpool(graph.load, documents, gate, restore=restore)
    return report.as_dict()


@router.get(
    "/api/v1/assets",
    summary="List assets with filters and pagination",
    response_model=models.AssetList,
)
def list_assets(
    graph: GraphDep,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Results to skip.")] = 0,
    exact_facets: ExactFacets = False,
) -> dict[str, Any]:
    """Assets by type, owner, status (`Active`, `mlg:Deprecated`...), stage, tag or source
    (`kg`, `openlineage`...), with the facet counts of the whole selection (estimated past a
    few thousand assets, `facetsExact` false, unless `exactFacets`)."""
    result = graph.search("", filters, limit, offset, exact_facets=exact_facets)
    return {
        "total": result.total,
        "limit": limit,
        "offset": offset,
        "items": [views.hit(h) for h in result.hits],
        "facets": views.facets(result),
        "facetsExact": result.facets_exact,
    }


@router.get(
    "/api/v1/assets/{identifier:path}",
    summary="One asset with its relations",
    response_class=Response,
    responses=answer(
        200,
        "The asset (JSON), or its RDF by Accept.",
        "application/json",
        *_RDF_MEDIA,
        model=models.Asset,
    )
    | problems(400, 410)
    | problems(404, detail=True),
)
def get_asset(request: Request, graph: GraphDep, identifier: str, as_of: AsOf = None) -> Response:
    """The asset's statements, owners, status, and relations in both directions, the sources
    that described it and when, its classification, metrics (evaluations) and schema fields
    with their upstream fields (datasets) as JSON; or its RDF description when the client asks
    for an RDF media type. `asOf`: the asset as it was then."""
    moment = moment_of(as_of)
    media = _wants_rdf(request)
    if media is not None:
        return _rdf(graph.asset_rdf(identifier, as_of=moment), media)
    return JSONResponse(graph.asset(identifier, as_of=moment).as_dict())


@router.put(
    "/api/v1/assets/{identifier:path}",
    summary="Create or replace an asset",
    response_model=models.LoadReport,
    response_model_exclude_unset=True,  # `warnings` only when there are some
    responses=answer(
        201, "The asset is new: the ingestion report.", "application/json", model=models.LoadReport
    )
    | problems(403)
    | problems(404, detail=True)
    | WRITE,
    openapi_extra=TOKEN | body(*ASSET_TYPES, examples=ASSET_EXAMPLES),
)
async def put_asset(
    request: Request,
    response: Response,
    graph: WriterDep,
    identifier: str,
    gate: GateParameter = None,
) -> dict[str, object]:
    """The body (a native asset, where `id` may be left out, or RDF about this asset only)
    replaces everything known about the asset. 201 when it is new, 200 otherwise."""
    content_type = request.headers.get("content-type", "")
    body = _with_id(await read_body(request), content_type, identifier)
    document = Document("request body", body, content_type or None)
    created, report = await anyio.to_thread.run_sync(graph.put_asset, identifier, document, gate)
    response.status_code = 201 if created else 200
    return report.as_dict()


@router.delete(
    "/api/v1/assets/{identifier:path}",
    summary="Delete an asset",
    status_code=204,
    responses=answer(204, "Deleted.") | problems(403) | problems(404, detail=True) | WRITE,
    openapi_extra=TOKEN,
)
async def delete_asset(graph: WriterDep, identifier: str, gate: GateParameter = None) -> Response:
    """Its statements and edges go; assets that pointed at it keep the reference, which then
    shows as unresolved."""
    await anyio.to_thread.run_sync(graph.delete_asset, identifier, gate)
    return Response(status_code=204)


@router.get("/id/{path:path}", include_in_schema=False)
def dereference(request: Request, graph: GraphDep, path: str) -> Response:
    """Asset IRIs under the base IRI resolve here: HTML for a browser, RDF for RDF clients."""
    iri = graph.settings.base_iri + path
    media = _wants_rdf(request)
    if media is not None:
        return _rdf(graph.asset_rdf(iri), media)
    if "text/html" not in (protocol.accepted(request.headers.get("accept")) or ["text/html"])[:1]:
        return JSONResponse(graph.asset(iri).as_dict())
    return pages.asset_page(request, iri)
