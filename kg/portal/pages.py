"""The portal's pages: each route answers the HTML shell of one page (kg.portal.shell); the
page's script reads the public API. Asset IRIs under the base IRI are pages too (kg.api.assets
answers them for browsers through `asset_page`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kg.api.deps import graph_of
from kg.errors import NotFoundError
from kg.graph import KnowledgeGraph
from kg.portal import shell
from kg.vocab import PREFIXES

router = APIRouter(include_in_schema=False)


def _data(graph: KnowledgeGraph, **extra: object) -> dict[str, object]:
    # whether writes need a token: the page asks for one before a write, not after a 401
    tokens = bool(graph.settings.tokens())
    return {"baseIri": graph.settings.base_iri, "prefixes": PREFIXES, "writeToken": tokens, **extra}


def page(
    request: Request, name: str, title: str, status: int = 200, **extra: object
) -> HTMLResponse:
    """The shell of page `name`, with the base IRI, the prefixes and `extra` as its data."""
    data = _data(graph_of(request), **extra)
    return HTMLResponse(shell.render(name, title, data), status_code=status)


def asset_page(request: Request, iri: str) -> HTMLResponse:
    """The page of the asset `iri` (404, still a page, when the graph does not hold it)."""
    graph = graph_of(request)
    try:
        asset = graph.asset(iri)
    except NotFoundError as exc:
        return page(request, "asset", "Not found", 404, asset=iri, missing=exc.message)
    return page(request, "asset", asset.label or graph.short(iri), asset=iri)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return page(request, "search", "Search")


@router.get("/asset", response_class=HTMLResponse)
def any_asset(request: Request, id: str = "") -> HTMLResponse:
    """Any asset's page by IRI, CURIE or local id, its own address or not."""
    if not id:
        return page(request, "search", "Search")
    return asset_page(request, graph_of(request).iri(id))


@router.get("/lineage", response_class=HTMLResponse)
def lineage(request: Request) -> HTMLResponse:
    return page(request, "lineage", "Lineage")


@router.get("/impact", response_class=HTMLResponse)
def impact(request: Request) -> HTMLResponse:
    return page(request, "impact", "Impact")


@router.get("/governance", response_class=HTMLResponse)
def governance(request: Request) -> HTMLResponse:
    return page(request, "governance", "Governance")


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """The OpenAPI document in Swagger UI, served from this origin (works offline)."""
    return page(request, "docs", "HTTP API")
