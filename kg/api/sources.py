"""Hydration over HTTP: thin events in (202, queued durably), the MLflow webhook, sync on
demand, the sources' status; and the inference rules. Translation only."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kg.api import models
from kg.api.deps import GraphDep, SignedGraphDep, WriterDep, read_body
from kg.api.openapi import TOKEN, WRITE, body, problems
from kg.errors import InputError, NotFoundError, UnauthorizedError
from kg.graph import KnowledgeGraph
from kg.limits import Limits, check_json
from kg.sources.service import Hydration, parse_events

router = APIRouter(tags=["sources"])


def hydration_of(request: Request) -> Hydration:
    found = request.app.state.hydration
    assert isinstance(found, Hydration)
    return found


def _json(data: bytes, graph: KnowledgeGraph, where: str) -> Any:
    check_json(data, Limits.from_settings(graph.settings), where)
    try:
        return json.loads(data)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"not JSON: {exc}", source=where, line=line) from exc


@router.post(
    "/api/v1/events",
    status_code=202,
    summary="Queue thin change events to hydrate",
    response_model=models.EventsAccepted,
    responses=WRITE,
    openapi_extra=TOKEN
    | body(
        "application/json",
        examples={
            "application/json": {"source": "mlflow", "entity": "model_version", "id": "churn/2"}
        },
    ),
)
async def post_events(request: Request, graph: WriterDep) -> dict[str, Any]:
    """`{"source": "mlflow", "entity": "model_version", "id": "churn-model/2"}`, or a list of
    them. Answers 202 once the events are queued on disk: the worker then asks the source for
    each entity as it is now and writes it, so events sent twice or out of order end the same.
    An unknown source or entity kind refuses the whole request (400), queuing nothing."""
    hydration = hydration_of(request)
    data = _json(await read_body(request), graph, "request body")
    refs = parse_events(data, hydration.sources)
    accepted = await run_in_threadpool(hydration.accept, refs)
    return {
        "accepted": accepted,
        "pending": sum(hydration.queue.pending(n) for n in hydration.sources),
    }


@router.post(
    "/api/v1/events/mlflow",
    status_code=202,
    summary="Receive MLflow model-registry webhooks",
    response_model=models.EventsAccepted,
    responses=problems(401, 404) | WRITE,
    openapi_extra=body("application/json"),
)
async def post_mlflow_webhook(request: Request, graph: SignedGraphDep) -> dict[str, Any]:
    """MLflow's webhook deliveries, signed with the webhook's secret (KG_MLFLOW_WEBHOOK_SECRET):
    a delivery whose signature does not verify is refused (401) before its body is read as
    JSON. Each event becomes the thin events of the entities it changed."""
    # The signature is the credential (MLflow sends no bearer token): no role is asked for.
    hydration = hydration_of(request)
    source = hydration.sources.get("mlflow")
    if source is None:
        raise NotFoundError("no MLflow source is configured (KG_MLFLOW_URI)")
    secret = graph.settings.mlflow_webhook_secret
    if not secret:
        raise UnauthorizedError(
            "MLflow webhooks need KG_MLFLOW_WEBHOOK_SECRET set to the webhook's secret"
        )
    data = await read_body(request)
    source.verify_webhook(secret, request.headers, data)  # type: ignore[attr-defined]
    payload = _json(data, graph, "webhook body")
    if not isinstance(payload, dict):
        raise InputError("a webhook delivery is a JSON object", source="webhook body")
    refs = source.webhook_events(payload)  # type: ignore[attr-defined]
    accepted = await run_in_threadpool(hydration.accept, refs)
    return {"accepted": accepted, "pending": hydration.queue.pending("mlflow")}


@router.get(
    "/api/v1/sources",
    summary="The sources kg hydrates from, and how far it is",
    response_model=list[models.SourceStatus],
)
async def get_sources(request: Request, graph: GraphDep) -> list[dict[str, Any]]:
    """Per source: its last sync, the events pending (and those retrying, with why), the
    entities given up on with the reason, and how many were hydrated."""
    return await run_in_threadpool(hydration_of(request).status)


@router.post(
    "/api/v1/sources/{source}/sync",
    status_code=202,
    summary="Reconcile everything with a source",
    response_model=models.SyncReport,
    responses=problems(404, 502, 503) | WRITE,
    openapi_extra=TOKEN,
)
async def post_sync(source: str, request: Request, graph: WriterDep) -> dict[str, Any]:
    """Lists what the source has now and queues all of it, and what kg holds of it that the
    source no longer has (hydrated as deletions). Answers once queued."""
    report = await run_in_threadpool(hydration_of(request).sync, source)
    return report.as_dict()


@router.get(
    "/api/v1/inference/rules",
    summary="The inference rules and what they concluded",
    response_model=list[models.InferenceRule],
)
async def get_inference_rules(graph: GraphDep) -> list[dict[str, object]]:
    return await run_in_threadpool(graph.inference_rules)


@router.post(
    "/api/v1/inference",
    summary="Recompute every inference rule whole",
    response_model=models.InferenceReport,
    responses=WRITE,
    openapi_extra=TOKEN,
)
async def post_inference(graph: WriterDep) -> dict[str, object]:
    """What `kg infer --all` does: every rule over the whole graph, writing what changed."""
    report = await run_in_threadpool(graph.infer)
    if report is None:
        return {"changed": {}, "load": None}
    return {"changed": report.inferred_rules, "load": report.load}
