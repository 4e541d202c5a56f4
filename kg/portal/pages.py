"""The portal's pages: each route answers the HTML shell of one page (kg.portal.shell); the
page's script reads the public API. Asset IRIs under the base IRI are pages too (kg.api.assets
answers them for browsers through `asset_page`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from kg.api.deps import authenticator_of, graph_of, reader
from kg.errors import InputError, NotFoundError
from kg.graph import KnowledgeGraph
from kg.portal import shell
from kg.vocab import PREFIXES

# Pages are reads: a reader's, when KG_READ_OPEN=false (a browser then goes through a proxy
# that adds the token).
router = APIRouter(include_in_schema=False, dependencies=[Depends(reader)])


def _data(request: Request, graph: KnowledgeGraph, **extra: object) -> dict[str, object]:
    # whether writes need a token: the page asks for one before a write, not after a 401
    tokens = authenticator_of(request).configured()
    return {"baseIri": graph.settings.base_iri, "prefixes": PREFIXES, "writeToken": tokens, **extra}


def page(
    request: Request, name: str, title: str, status: int = 200, **extra: object
) -> HTMLResponse:
    """The shell of page `name`, with the base IRI, the prefixes and `extra` as its data."""
    data = _data(request, graph_of(request), **extra)
    return HTMLResponse(shell.render(name, title, data), status_code=status)


def asset_page(request: Request, iri: str) -> HTMLResponse:
    """The page of the asset `iri` (404, still a page, when the graph does not hold it; as of
    a moment, `?asOf=`, the page's script asks the API whether it was there then)."""
    graph = graph_of(request)
    try:
        asset = graph.asset(iri)
    except NotFoundError as exc:
        if request.query_params.get("asOf"):  # gone now, perhaps there then
            return page(request, "asset", graph.short(iri), asset=iri)
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
    try:
        iri = graph_of(request).iri(id)
    except InputError as exc:  # a browser gets the page saying so, not a problem document
        return page(request, "asset", "Not found", 400, asset=id, missing=exc.message)
    return asset_page(request, iri)


# the pages whose data is their URL's query (read by their script): path, page, title
_PLAIN: Final = (
    ("/lineage", "lineage", "Lineage"),
    ("/impact", "impact", "Impact"),
    ("/governance", "governance", "Governance"),
    ("/docs", "docs", "HTTP API"),  # Swagger UI on /openapi.json, from this origin (offline too)
)


def _plain(name: str, title: str) -> Callable[[Request], HTMLResponse]:
    def show(request: Request) -> HTMLResponse:
        return page(request, name, title)

    return show


for _path, _name, _title in _PLAIN:
    router.add_api_route(_path, _plain(_name, _title), response_class=HTMLResponse)
