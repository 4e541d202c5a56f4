"""The application factory: kg's routers, its error mapping and its bounds over one graph."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

from fastapi import FastAPI

import kg
from kg import client
from kg.api import (
    assets,
    audit,
    errors,
    governance,
    gsp,
    history,
    imports,
    lineage,
    openapi,
    queries,
    search,
    sources,
    sparql,
    system,
)
from kg.api.middleware import BodyLimits, SecurityHeaders
from kg.auth.authenticate import Authenticator
from kg.config import Settings, load_settings
from kg.evaluation import Evaluator
from kg.graph import KnowledgeGraph
from kg.portal import files, pages
from kg.sources.service import Hydration

# One router per resource; the portal's pages and files last.
ROUTERS: Final = (
    system.router,
    lineage.router,
    search.router,
    queries.router,
    history.router,  # before assets: /api/v1/assets/{id}/history is its
    assets.router,
    sparql.router,
    gsp.router,
    governance.router,
    imports.router,
    sources.router,
    audit.router,
    pages.router,
    files.router,
)


def create_app(
    settings: Settings | None = None,
    *,
    graph: KnowledgeGraph | None = None,
    close_graph: bool = False,
    url: str | None = None,
) -> FastAPI:
    """The app serving one graph.

    Without `graph`, the app opens the graph of `settings` (by default the environment's, KG_*)
    as it starts and closes it as it stops, so that uvicorn can build it by itself
    (`uvicorn --factory kg.api.app:create_app`). A `graph` given is served as it is, already
    open, and left open unless `close_graph`: `kg serve` opens its graph first (to refuse a
    store in use, to load the demo) and hands it over, since after a SIGTERM nothing but the
    app's shutdown runs. With `url` (what `kg serve` listens at), an on-disk store's folder
    names the server while it runs, so the CLI beside it finds it (kg.client)."""
    if graph is not None and settings is not None:
        raise TypeError("create_app takes settings to open a graph with, or a graph: not both")
    to_open = None if graph is not None else settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if graph is not None:
            served = graph
        else:
            assert to_open is not None
            served = _serve(app, KnowledgeGraph.open(to_open))
        evaluator = _evaluator(app)
        evaluator.start()
        hydration = app.state.hydration
        hydration.start()
        audit.open_log(app, served.settings)
        folder = served.settings.store_path() if url else None
        if folder is not None and url is not None:
            client.announce(folder, url)
        try:
            yield
        finally:  # before uvicorn hands a SIGTERM back to the process, which then ends
            if folder is not None:
                client.withdraw(folder)
            evaluator.close()
            hydration.close()
            audit.close_log(app)
            if graph is None or close_graph:
                served.close()

    app = FastAPI(
        title="kg",
        version=kg.__version__,
        summary="The ML lifecycle knowledge graph: lineage, impact and SPARQL over your ML assets.",
        lifespan=lifespan,
        docs_url=None,  # the portal's own /docs works offline (kg.portal.pages)
        redoc_url=None,
        responses=openapi.COMMON,  # every route: the body bounds of kg.api.middleware
    )
    app.openapi = _completed(app)  # type: ignore[method-assign]
    if graph is not None:  # served at once: a TestClient outside `with` runs no lifespan
        _serve(app, graph)

    def current_settings() -> Settings:
        served = getattr(app.state, "graph", None)  # read on every request: tests change them
        if isinstance(served, KnowledgeGraph):
            return served.settings
        assert to_open is not None
        return to_open

    errors.install(app)
    # the last added runs first: headers on every answer, then the body bounds before any route
    app.add_middleware(BodyLimits, settings=current_settings)
    app.add_middleware(SecurityHeaders)
    audit.install(app)  # last added, first to run: it sees every answer, 413s and 401s too
    for router in ROUTERS:
        app.include_router(router)
    return app


def _serve(app: FastAPI, graph: KnowledgeGraph) -> KnowledgeGraph:
    """Put `graph`, and the evaluator of its queries and tasks, where the routes find them
    (kg.api.deps)."""
    app.state.graph = graph
    # a bad tokens file or OIDC setting stops the start (SettingsError), not the first request
    app.state.authenticator = Authenticator.from_settings(graph.settings)
    app.state.evaluator = Evaluator(graph.store, lambda: graph.settings)
    app.state.hydration = Hydration.open(graph, graph.settings)
    return graph


def _evaluator(app: FastAPI) -> Evaluator:
    evaluator = app.state.evaluator
    assert isinstance(evaluator, Evaluator)
    return evaluator


def _completed(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's OpenAPI document, with the components kg.api.openapi's responses refer to."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.complete(generate())
        return app.openapi_schema

    return document
