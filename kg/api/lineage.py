"""Lineage, impact and path over HTTP: each route only translates HTTP to kg.graph."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Union

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from kg import views
from kg.api import models
from kg.api.deps import GraphDep
from kg.api.openapi import problems
from kg.history.timeline import parse_moment
from kg.lineage import Direction
from kg.lineage.pages import MAX_LIMIT

router = APIRouter(tags=["lineage"])

AsOf = Annotated[
    str | None,
    Query(
        alias="asOf",
        description="ISO-8601 timestamp: the answer as it was then (410 before history starts).",
        examples=["2026-12-01T09:30:00Z"],
    ),
]
NodeId = Annotated[
    str,
    Query(
        alias="nodeId",
        description="Asset IRI, prefix:local name or local id.",
        examples=["service/homepage"],
    ),
]


def _large(*answers: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The 200 answer of a route whose answers can hold hundreds of thousands of nodes: its
    models document it, and the tests hold the answers to them, but it is not checked again on
    every request: kg.lineage.pages writes its JSON straight from the index."""
    model: Any = answers[0] if len(answers) == 1 else Union[answers]  # noqa: UP007
    return {200: {"model": model, "description": "Successful Response"}}


Limit = Annotated[
    int | None,
    Query(
        description=(
            f"Page the answer: its summary (counts by type, services, owners) and the first "
            f"`limit` nodes (1 to {MAX_LIMIT:,}) in order of distance, then IRI, with a "
            "`nextCursor` for the next page. Without it, the whole answer."
        ),
    ),
]
Cursor = Annotated[
    str | None,
    Query(
        description=(
            "The `nextCursor` of the previous page, with that page's other parameters; 410 "
            "when the graph changed since the first page (start again)."
        ),
    ),
]


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.get(
    "/api/v1/lineage",
    summary="Upstream and/or downstream lineage",
    response_class=JSONResponse,
    responses=_large(models.Lineage, models.LineagePage) | problems(400, 404, 410),
)
def get_lineage(
    graph: GraphDep,
    node_id: NodeId,
    direction: Direction = Direction.UPSTREAM,
    depth: Annotated[int | None, Query(ge=1, le=1000, description="Largest hop count.")] = None,
    type_: Annotated[
        list[str] | None, Query(alias="type", description="Keep only these classes.")
    ] = None,
    as_of: AsOf = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    """Every asset on the given side of `nodeId`, with its type, name, owners and shortest hop
    distance, and the lineage edges between them (`inEdges`, `outEdges`). `type` names mlg
    classes in any case (`dataset`, `mlg:Dataset`); an unknown one is a 400. `asOf`: the
    lineage as it was then (edges, names, owners and statuses of then). With `limit` or
    `cursor`: a page of it (`LineagePage`), the summary on the first."""
    moment = moment_of(as_of)
    return _json(
        graph.lineage_json(
            node_id, direction, depth, type_ or None, moment, limit=limit, cursor=cursor
        )
    )


@router.get(
    "/api/v1/impact",
    summary="Impact of a change to an asset",
    response_class=JSONResponse,
    responses=_large(models.Impact, models.ImpactPage) | problems(400, 404, 410),
)
def get_impact(
    graph: GraphDep,
    node_id: NodeId,
    as_of: AsOf = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    """Every downstream asset grouped by type, the production services and experiments affected,
    and the owners to notify; `asOf`: as it was then. With `limit` or `cursor`: a page of the
    affected assets (`ImpactPage`), the summary on the first."""
    return _json(graph.impact_json(node_id, moment_of(as_of), limit=limit, cursor=cursor))


@router.get(
    "/api/v1/path",
    summary="Why one asset depends on another",
    response_model=models.Paths,
    responses=problems(400, 404, 410),
)
def get_path(
    graph: GraphDep,
    origin: Annotated[str, Query(alias="from")],
    target: Annotated[str, Query(alias="to")],
    as_of: AsOf = None,
) -> dict[str, Any]:
    """The shortest dependency path(s) between two assets, in whichever direction exists;
    `asOf`: as they were then."""
    return views.paths(graph.paths(origin, target, as_of=moment_of(as_of)))


def moment_of(as_of: str | None) -> dt.datetime | None:
    return None if as_of is None else parse_moment(as_of, "asOf")
