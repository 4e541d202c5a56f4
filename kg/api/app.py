"""The application factory: one KnowledgeGraph, the routers, the error mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

import kg
from kg.api import assets, discovery, errors, governance, gsp, imports, routes, sparql
from kg.graph import KnowledgeGraph


def create_app(graph: KnowledgeGraph, *, close_on_shutdown: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if close_on_shutdown:
            graph.close()

    app = FastAPI(
        title="kg",
        version=kg.__version__,
        summary="The ML lifecycle knowledge graph: lineage, impact and SPARQL over your ML assets.",
        lifespan=lifespan,
    )
    app.state.graph = graph
    app.state.query_limiter = anyio.CapacityLimiter(graph.settings.query_workers)
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(sparql.router)
    app.include_router(governance.router)
    app.include_router(gsp.router)
    app.include_router(discovery.router)
    app.include_router(assets.router)
    app.include_router(imports.router)
    return app
