"""Search, "before you build", and the named-query catalogue as API operations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kg import catalog, jobs, protocol, views
from kg.api import models
from kg.api.deps import (
    MAX_OFFSET,
    evaluator_of,
    facet_filters,
    graph_of,
)
from kg.api.openapi import BUSY, RDF_TYPES, RESULT_TYPES, answer, problems
from kg.vocab import compact

router = APIRouter(tags=["discovery"])


@router.get(
    "/api/v1/search", summary="Full-text search with facets", response_model=models.SearchResult
)
def search(
    request: Request,
    filters: Annotated[dict[str, list[str]], Depends(facet_filters)],
    q: Annotated[str, Query(description="Words to find in names, tags, ids, descriptions.")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Results to skip.")] = 0,
) -> dict[str, Any]:
    """Ranked matches (every word must match; the last one may be a prefix), facet counts by
    type, owner, status, stage, tag and source, and filters on the same facets. Each hit has
    its description and a snippet: the words around the match, as `{text, match}` segments."""
    graph = graph_of(request)
    return views.search(q, graph.search(q, filters, limit, offset))


class Draft(BaseModel):
    name: str = Field(description="What you are about to build.")
    description: str = ""
    sources: list[str] = Field(default_factory=list, description="Datasets it would read.")
    type: str | None = Field(None, description="Dataset, Feature, FeatureSet, Model...")


@router.post(
    "/api/v1/search/similar",
    summary="Before you build: does it exist already?",
    response_model=models.Similar,
    responses=problems(400, detail=True),
)
def similar(
    request: Request, draft: Draft, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> dict[str, Any]:
    """The existing assets most likely to be the draft: similar names and descriptions, built
    from the same sources."""
    graph = graph_of(request)
    candidates = graph.before_you_build(
        draft.name, draft.description, draft.sources, draft.type, limit
    )
    for c in candidates:
        c["type"] = compact(str(c["type"])) if c["type"] else None
    return {"candidates": candidates}


@router.get(
    "/api/v1/queries",
    summary="The named-query catalogue",
    response_model=list[models.NamedQuery],
)
def list_queries() -> list[dict[str, Any]]:
    return [
        {
            "name": q.name,
            "summary": q.summary,
            "parameters": [
                {
                    "name": p.name,
                    "type": p.kind,
                    "required": p.required,
                    "default": p.default,
                    "description": p.description,
                }
                for p in q.parameters
            ],
            "href": f"/api/v1/queries/{q.name}",
            "text": q.text,
        }
        for q in catalog.catalogue().values()
    ]


@router.get(
    "/api/v1/queries/{name}",
    summary="Run a named query",
    response_class=Response,
    responses=answer(
        200,
        "The results by Accept or `format`, as /sparql answers them.",
        *RESULT_TYPES,
        *RDF_TYPES,
        model=models.SparqlResults,
        kg_truncated="`true` when the answer was cut at the row cap.",
    )
    | problems(404, detail=True)
    | BUSY,
)
async def run_query(request: Request, name: str) -> Response:
    """Parameters come as query parameters; results by `Accept` or `format` as on /sparql,
    under the same time budget, worker limit and row cap."""
    graph = graph_of(request)
    settings = graph.settings
    params = {k: v for k, v in request.query_params.items() if k not in protocol.FORMAT_PARAMETERS}
    query = catalog.named_query(name)
    answer = await evaluator_of(request).run(
        jobs.sparql,
        query.text,
        accept=request.headers.get("accept"),
        formats=[
            v for name in protocol.FORMAT_PARAMETERS for v in request.query_params.getlist(name)
        ],
        max_rows=settings.max_rows,
        substitutions=query.bind(params, settings.base_iri),
        budget=settings.query_timeout,
    )
    headers = {"kg-truncated": "true"} if answer.truncated else {}
    return Response(answer.body, media_type=answer.media, headers=headers)
