"""The named-query catalogue (queries/*.rq) as API operations: the list, and each one run."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kg import catalog, jobs, protocol
from kg.api import models
from kg.api.deps import EvaluatorDep, GraphDep
from kg.api.openapi import BUSY, RDF_TYPES, RESULT_TYPES, answer, problems

router = APIRouter(tags=["discovery"])


@router.get(
    "/api/v1/queries",
    summary="The named-query catalogue",
    response_model=list[models.NamedQuery],
)
def list_queries(graph: GraphDep) -> list[models.NamedQuery]:
    return [models.NamedQuery.of(q) for q in catalog.catalogue().values()]


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
async def run_query(
    request: Request, graph: GraphDep, evaluator: EvaluatorDep, name: str
) -> Response:
    """Parameters come as query parameters; results by `Accept` or `format` as on /sparql,
    under the same time budget, worker limit and row cap."""
    settings = graph.settings
    params = {k: v for k, v in request.query_params.items() if k not in protocol.FORMAT_PARAMETERS}
    query = catalog.named_query(name)
    answer = await evaluator.run(
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
