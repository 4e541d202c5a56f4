"""The application factory: one KnowledgeGraph, the routers, the error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

import kg
from kg import client
from kg.api import (
    assets,
    discovery,
    errors,
    governance,
    gsp,
    imports,
    openapi,
    routes,
    sparql,
)
from kg.api.middleware import BodyLimits, SecurityHeaders
from kg.evaluation import Evaluator
from kg.graph import KnowledgeGraph
from kg.portal import files, pages


def create_app(
    graph: KnowledgeGraph, *, close_on_shutdown: bool = True, url: str | None = None
) -> FastAPI:
    """The app serving `graph`. With `url` (what `kg serve` listens at), an on-disk store's
    folder names the server while it runs, so the CLI beside it finds it (kg.client)."""
    evaluator = Evaluator(graph.store, lambda: graph.settings)
    folder = graph.settings.store_path() if url else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        evaluator.start()
        if folder is not None and url is not None:
            client.announce(folder, url)
        try:
            yield
        finally:  # before uvicorn hands a SIGTERM back to the process, which then ends
            if folder is not None:
                client.withdraw(folder)
            evaluator.close()
            if close_on_shutdown:
                graph.close()

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
    app.state.graph = graph
    app.state.evaluator = evaluator
    errors.install(app)
    # the last added runs first: headers on every answer, then the body bounds before any route
    app.add_middleware(BodyLimits, settings=lambda: graph.settings)
    app.add_middleware(SecurityHeaders)
    app.include_router(routes.router)
    app.include_router(sparql.router)
    app.include_router(governance.router)
    app.include_router(gsp.router)
    app.include_router(discovery.router)
    app.include_router(assets.router)
    app.include_router(imports.router)
    app.include_router(pages.router)
    app.include_router(files.router)
    return app


def _completed(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's OpenAPI document, with the components kg.api.openapi's responses refer to."""
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.complete(generate())
        return app.openapi_schema

    return document
