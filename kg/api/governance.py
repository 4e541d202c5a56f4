"""Validation over HTTP: the report of the graph (or a subset) in any format, and a dry run
of candidate documents."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from kg import jobs
from kg.api import models
from kg.api.deps import EvaluatorDep, GraphDep, WriterDep, read_body
from kg.api.lineage import AsOf, moment_of
from kg.api.openapi import (
    ASSET_EXAMPLES,
    ASSET_TYPES,
    BUSY,
    REPORT_TYPES,
    TOKEN,
    answer,
    body,
    problems,
)
from kg.errors import NotFoundError
from kg.evaluation import Evaluator
from kg.governance.model import Report, Severity
from kg.governance.render import MEDIA_TYPES, Format
from kg.governance.validation import Engine
from kg.graph import KnowledgeGraph
from kg.limits import Limits
from kg.protocol import accepted
from kg.store import OxigraphStore

router = APIRouter(tags=["governance"])
_REPORT = answer(
    200,
    "The report, by Accept or `format`; as JSON, the report or (`format=scorecard`) the "
    "results by team.",
    *REPORT_TYPES,
    model=models.ValidationReport | models.Scorecard,
    kg_conforms="`true` when nothing at or above `failOn` was found, else `false`.",
)

_BY_MEDIA = {
    "application/json": Format.JSON,
    "text/html": Format.HTML,
    "text/turtle": Format.TURTLE,
    "application/ld+json": Format.JSONLD,
    "application/sarif+json": Format.SARIF,
    "application/xml": Format.JUNIT,
    "text/xml": Format.JUNIT,
    "text/plain": Format.TEXT,
}


def _format(accept: str | None, explicit: Format | None) -> Format:
    if explicit is not None:
        return explicit
    for media in accepted(accept):
        if media in _BY_MEDIA:
            return _BY_MEDIA[media]
    return Format.JSON


def _answer(body: str, chosen: Format, report: Report, fail_on: Severity) -> Response:
    """The rendered report; `KG-Conforms` says the verdict in every format (as the CLI's exit
    code does), for clients that only look at headers."""
    verdict = "true" if report.conforms(fail_on) else "false"
    return Response(body, media_type=MEDIA_TYPES[chosen], headers={"kg-conforms": verdict})


async def _validation(
    graph: KnowledgeGraph,
    evaluator: Evaluator,
    focus: list[str] | None,
    as_of: dt.datetime | None = None,
) -> Report:
    state = None if as_of is None else await run_in_threadpool(graph.state, as_of)
    report = await evaluator.run(
        jobs.validation,
        [str(p) for p in graph.settings.shape_paths()],
        focus,
        Engine.COMPILED.value,
        budget=graph.settings.task_timeout,
        setting="KG_TASK_TIMEOUT",
        on=state if isinstance(state, OxigraphStore) and state is not graph.store else None,
    )
    assert isinstance(report, Report)
    return report


@router.get(
    "/api/v1/validation",
    summary="Validation report of the graph or a subset",
    response_class=Response,
    responses=_REPORT | problems(400, 404, 410) | BUSY,
)
async def get_validation(
    request: Request,
    graph: GraphDep,
    evaluator: EvaluatorDep,
    fmt: Annotated[Format | None, Query(alias="format", description="Overrides Accept.")] = None,
    fail_on: Annotated[Severity, Query(alias="failOn")] = Severity.VIOLATION,
    asset: Annotated[str | None, Query(description="Only this asset.")] = None,
    team: Annotated[str | None, Query(description="Only this team's assets.")] = None,
    lineage: Annotated[str | None, Query(description="This asset and its lineage.")] = None,
    as_of: AsOf = None,
) -> Response:
    """The report as JSON, HTML, Turtle or JSON-LD (a W3C sh:ValidationReport), SARIF 2.1.0,
    JUnit XML or text, chosen by `Accept` or `format`; `asOf`: governance as it stood then
    (the graph of then, today's shapes). Runs under KG_TASK_TIMEOUT; writes nothing (`POST`
    keeps the report)."""
    chosen = _format(request.headers.get("accept"), fmt)
    moment = moment_of(as_of)
    focus = await run_in_threadpool(graph.scope, asset, team, lineage, moment)
    report = await _validation(graph, evaluator, focus, moment)
    body = await run_in_threadpool(graph.render, report, chosen, fail_on)
    return _answer(body, chosen, report, fail_on)


@router.get(
    "/api/v1/rules",
    summary="The rule catalogue",
    response_model=models.Rules,
    response_model_exclude_unset=True,  # `counts` and `generatedAt` only when asked for
)
def get_rules(
    graph: GraphDep,
    counts: Annotated[
        bool, Query(description="Each rule's findings in the kept report (no new validation).")
    ] = False,
) -> dict[str, object]:
    """Every rule the shapes define (KG_SHAPES included): its IRI (as reports name it), name,
    description, message, severity, target classes and the node shape grouping it."""
    return graph.rules(counts)


@router.get(
    "/api/v1/validation/latest",
    summary="The kept validation report",
    response_class=Response,
    responses=_REPORT | problems(404),
)
async def get_kept_validation(
    request: Request,
    graph: GraphDep,
    fmt: Annotated[Format | None, Query(alias="format", description="Overrides Accept.")] = None,
    fail_on: Annotated[Severity, Query(alias="failOn")] = Severity.VIOLATION,
) -> Response:
    """The report `POST /api/v1/validation` (or `kg validate --save`) kept last, in the formats
    of `GET /api/v1/validation`; `generatedAt` says when it was made. Names and owners are
    the graph's as it is now. 404 while none is kept."""
    chosen = _format(request.headers.get("accept"), fmt)
    report = await run_in_threadpool(graph.kept_report)
    if report is None:
        raise NotFoundError(
            "no validation report is kept yet: POST /api/v1/validation (or kg validate --save) "
            "keeps one"
        )
    body = await run_in_threadpool(graph.render, report, chosen, fail_on)
    return _answer(body, chosen, report, fail_on)


@router.post(
    "/api/v1/validation",
    summary="Validate the whole graph and keep the report",
    response_class=Response,
    responses=_REPORT | problems(401) | BUSY,
    openapi_extra=TOKEN,
)
async def post_validation(
    request: Request,
    graph: WriterDep,
    evaluator: EvaluatorDep,
    fmt: Annotated[Format | None, Query(alias="format", description="Overrides Accept.")] = None,
    fail_on: Annotated[Severity, Query(alias="failOn")] = Severity.VIOLATION,
) -> Response:
    """A full validation, kept as the latest report in the named graph
    `urn:kg:graph:reports/latest` (writers only); answers the report like GET."""
    chosen = _format(request.headers.get("accept"), fmt)
    report = await _validation(graph, evaluator, None)
    await run_in_threadpool(graph.save_report, report)
    body = await run_in_threadpool(graph.render, report, chosen, fail_on)
    return _answer(body, chosen, report, fail_on)


@router.post(
    "/api/v1/validate",
    summary="Validate candidate documents without storing them",
    response_class=Response,
    responses=_REPORT,
    openapi_extra=body(*ASSET_TYPES, examples=ASSET_EXAMPLES),
)
async def post_validate(
    request: Request,
    graph: GraphDep,
    evaluator: EvaluatorDep,
    fmt: Annotated[Format | None, Query(alias="format")] = None,
    fail_on: Annotated[Severity, Query(alias="failOn")] = Severity.VIOLATION,
) -> Response:
    """Results for the assets the document would touch, as the graph would be with it."""
    data = await read_body(request)
    report = await evaluator.run(
        jobs.preview,
        data,
        "request body",
        request.headers.get("content-type"),
        [str(p) for p in graph.settings.shape_paths()],
        graph.settings.base_iri,
        Limits.from_settings(graph.settings),
        budget=graph.settings.task_timeout,
        setting="KG_TASK_TIMEOUT",
    )
    assert isinstance(report, Report)
    chosen = _format(request.headers.get("accept"), fmt)
    body = graph.render(report, chosen, fail_on)
    return _answer(body, chosen, report, fail_on)
