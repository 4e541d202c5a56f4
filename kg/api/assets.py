"""The asset REST API for people and scripts that do not write RDF, and asset IRIs that
dereference (HTML for browsers, RDF for RDF clients)."""

from __future__ import annotations

import json
from html import escape
from typing import Annotated, Any
from urllib.parse import quote

import anyio.to_thread
import pyoxigraph as ox
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from kg import protocol, views
from kg.api.deps import (
    MAX_OFFSET,
    GateParameter,
    facet_filters,
    graph_of,
    read_body,
    require_writer,
)
from kg.api.openapi import ASSET_EXAMPLES, ASSET_TYPES, WRITE, answer, body, problems
from kg.governance.render import linkable
from kg.graph import Document, KnowledgeGraph
from kg.vocab import compact

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


@router.get("/api/v1/assets", summary="List assets with filters and pagination")
def list_assets(
    request: Request,
    filters: Annotated[dict[str, list[str]], Depends(facet_filters)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Results to skip.")] = 0,
) -> dict[str, Any]:
    """Assets by type, owner, status (`Active`, `mlg:Deprecated`...), stage or tag, with the
    facet counts of the whole selection."""
    graph = graph_of(request)
    result = graph.search("", filters, limit, offset)
    return {
        "total": result.total,
        "limit": limit,
        "offset": offset,
        "items": [views.hit(h) for h in result.hits],
        "facets": views.facets(result),
    }


@router.get(
    "/api/v1/assets/{identifier:path}",
    summary="One asset with its relations",
    response_class=Response,
    responses=answer(
        200, "The asset (JSON), or its RDF by Accept.", "application/json", *_RDF_MEDIA
    )
    | problems(404, detail=True),
)
def get_asset(request: Request, identifier: str) -> Response:
    """The asset's statements, owners, status, and relations in both directions (JSON), or its
    RDF description when the client asks for an RDF media type."""
    graph = graph_of(request)
    media = _wants_rdf(request)
    if media is not None:
        return _rdf(graph.asset_rdf(identifier), media)
    return JSONResponse(graph.asset(identifier).as_dict())


@router.put(
    "/api/v1/assets/{identifier:path}",
    summary="Create or replace an asset",
    dependencies=[Depends(require_writer)],
    responses=answer(201, "The asset is new: the ingestion report.", "application/json")
    | problems(403)
    | problems(404, detail=True)
    | WRITE,
    openapi_extra=body(*ASSET_TYPES, examples=ASSET_EXAMPLES),
)
async def put_asset(
    request: Request,
    identifier: str,
    gate: GateParameter = None,
) -> JSONResponse:
    """The body (a native asset, where `id` may be left out, or RDF about this asset only)
    replaces everything known about the asset. 201 when it is new, 200 otherwise."""
    graph = graph_of(request)
    content_type = request.headers.get("content-type", "")
    body = _with_id(await read_body(request), content_type, identifier)
    document = Document("request body", body, content_type or None)
    created, report = await anyio.to_thread.run_sync(graph.put_asset, identifier, document, gate)
    return JSONResponse(report.as_dict(), status_code=201 if created else 200)


@router.delete(
    "/api/v1/assets/{identifier:path}",
    summary="Delete an asset",
    dependencies=[Depends(require_writer)],
    status_code=204,
    responses=answer(204, "Deleted.") | problems(403) | problems(404, detail=True) | WRITE,
)
async def delete_asset(
    request: Request,
    identifier: str,
    gate: GateParameter = None,
) -> Response:
    """Its statements and edges go; assets that pointed at it keep the reference, which then
    shows as unresolved."""
    graph = graph_of(request)
    await anyio.to_thread.run_sync(graph.delete_asset, identifier, gate)
    return Response(status_code=204)


@router.get("/id/{path:path}", include_in_schema=False)
def dereference(request: Request, path: str) -> Response:
    """Asset IRIs under the base IRI resolve here: HTML for a browser, RDF for RDF clients."""
    graph = graph_of(request)
    iri = graph.settings.base_iri + path
    media = _wants_rdf(request)
    if media is not None:
        return _rdf(graph.asset_rdf(iri), media)
    if "text/html" not in (protocol.accepted(request.headers.get("accept")) or ["text/html"])[:1]:
        return JSONResponse(graph.asset(iri).as_dict())
    return HTMLResponse(asset_page(graph, iri))


def _link(graph: KnowledgeGraph, iri: str, label: str | None) -> str:
    """A link to the asset's page, or to the IRI itself when it is http, https or urn; any
    other scheme (javascript:, data:...) is shown as text."""
    base = graph.settings.base_iri
    text = escape(label or graph.short(iri))
    if iri.startswith(base):
        href = "/id/" + quote(iri[len(base) :], safe="/:@")
    elif linkable(iri):
        href = iri
    else:
        return text
    return f'<a href="{escape(href)}">{text}</a>'


def asset_page(graph: KnowledgeGraph, iri: str) -> str:
    asset = graph.asset(iri)

    def rows(relations: list[Any], key: str) -> str:
        return (
            "".join(
                f"<tr><td>{escape(compact(r.property))}</td><td>{_link(graph, r.node, r.label)}"
                f"{'' if r.resolved else ' <em>(unresolved)</em>'}</td>"
                f"<td>{escape(compact(r.type) if r.type else '')}</td></tr>"
                for r in relations
            )
            or f"<tr><td colspan=3>no {key}</td></tr>"
        )

    owners = ", ".join(_link(graph, o.node, o.label) for o in asset.owners) or "<em>no owner</em>"
    lineage = f"/api/v1/lineage?nodeId={quote(iri, safe='')}"
    impact = f"/api/v1/impact?nodeId={quote(iri, safe='')}"
    title = escape(asset.label or graph.short(iri))
    kind = escape(compact(asset.type) if asset.type else "untyped")
    status = escape(compact(asset.status) if asset.status else "-")
    stage = escape(compact(asset.stage) if asset.stage else "-")
    tags = escape(", ".join(asset.tags) or "-")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title}</title><style>body{{font-family:system-ui,sans-serif;margin:2em}}
table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px 8px}}</style>
</head><body><h1>{title}</h1>
<p><code>{escape(iri)}</code> — {kind}</p>
<p>{escape(asset.description or "")}</p>
<p>Owner: {owners}. Status: {status}. Stage: {stage}. Tags: {tags}.</p>
<p><a href="{escape(lineage)}">lineage</a> · <a href="{escape(impact)}">impact</a></p>
<h2>Depends on</h2><table>{rows(asset.outgoing, "dependencies")}</table>
<h2>Used by</h2><table>{rows(asset.incoming, "dependents")}</table></body></html>"""
