"""The service itself: liveness and the graph's size."""

from __future__ import annotations

from fastapi import APIRouter

from kg import jobs
from kg.api import models
from kg.api.deps import EvaluatorDep, GraphDep
from kg.api.openapi import BUSY

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="Liveness", response_model=models.Health)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/api/v1/stats",
    summary="Graph size and assets by type",
    response_model=models.Stats,
    responses=BUSY,
)
async def get_stats(graph: GraphDep, evaluator: EvaluatorDep) -> dict[str, object]:
    return await evaluator.run(
        jobs.stats, graph.settings.base_iri, budget=graph.settings.query_timeout
    )
