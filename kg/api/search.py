"""Search and "before you build": finding what exists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from kg import views
from kg.api import models
from kg.api.deps import MAX_OFFSET, FiltersDep, GraphDep
from kg.api.openapi import problems
from kg.vocab import compact

router = APIRouter(tags=["discovery"])

ExactFacets = Annotated[
    bool,
    Query(
        alias="exactFacets",
        description="Count every match's facets, however many (slower on common words).",
    ),
]


@router.get(
    "/api/v1/search", summary="Full-text search with facets", response_model=models.SearchResult
)
def search(
    graph: GraphDep,
    filters: FiltersDep,
    q: Annotated[str, Query(description="Words to find in names, tags, ids, descriptions.")] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Results to skip.")] = 0,
    exact_facets: ExactFacets = False,
) -> dict[str, Any]:
    """Ranked matches (every word must match; the last one may be a prefix), facet counts by
    type, owner, status, stage, tag and source, and filters on the same facets. Each hit has
    its description and a snippet: the words around the match, as `{text, match}` segments.
    Past a few thousand matches the facet counts are estimated (`facetsExact` false)."""
    return views.search(q, graph.search(q, filters, limit, offset, exact_facets=exact_facets))


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
    graph: GraphDep, draft: Draft, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> dict[str, Any]:
    """The existing assets most likely to be the draft: similar names and descriptions, built
    from the same sources."""
    candidates = graph.before_you_build(
        draft.name, draft.description, draft.sources, draft.type, limit
    )
    for c in candidates:
        c["type"] = compact(str(c["type"])) if c["type"] else None
    return {"candidates": candidates}
