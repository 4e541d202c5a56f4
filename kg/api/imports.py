"""Imports over HTTP: the OpenLineage receiver and the catalog importers. Translation only."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kg import importing
from kg.api.deps import graph_of, read_body, require_writer
from kg.errors import InputError
from kg.graph import Document

router = APIRouter(tags=["import"])


async def _body(request: Request) -> bytes:
    """The body, inflated when the client compressed it (the OpenLineage transport may)."""
    body = await read_body(request)
    encoding = request.headers.get("content-encoding", "").lower()
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error) as exc:
        raise InputError(f"the body is not valid {encoding}: {exc}", source="request body") from exc
    if encoding not in ("", "identity"):
        raise InputError(f"unsupported Content-Encoding {encoding!r}", source="request body")
    return body


@router.post("/api/v1/lineage", status_code=201, summary="Receive OpenLineage events")
async def post_lineage(request: Request) -> dict[str, Any]:
    """OpenLineage RunEvent, DatasetEvent or JobEvent JSON, one event, an array or JSON lines, as
    the OpenLineage HTTP transport sends them (its default endpoint). Every event is checked
    against the OpenLineage schema first: one invalid event refuses the request (400, naming the
    event and the field) and nothing is stored. Answers the ingestion report."""
    require_writer(request)
    document = Document("request body", await _body(request), "application/json")
    graph = graph_of(request)
    report = await run_in_threadpool(importing.openlineage, graph, [document], strict=True)
    return report.as_dict()


@router.post("/api/v1/ingest/{importer}", status_code=201, summary="Import catalog metadata")
async def post_ingest(request: Request, importer: importing.Importer) -> dict[str, Any]:
    """A DataHub metadata file (MCE/MCP JSON as the file sink writes it), Backstage
    catalog-info YAML (multi-document), or OpenLineage events. All or nothing; answers the
    ingestion report."""
    require_writer(request)
    document = Document(f"request body ({importer.value})", await _body(request), None)
    graph = graph_of(request)
    report = await run_in_threadpool(importing.ingest, graph, importer, [document], strict=True)
    return report.as_dict()


class Equivalence(BaseModel):
    asset: str = Field(description="Asset IRI, prefix:local name or local id.")
    same_as: list[str] = Field(
        alias="sameAs", min_length=1, description="The same asset's other names."
    )
    remove: bool = Field(False, description="Withdraw the declaration instead.")


@router.post("/api/v1/equivalences", summary="Declare that two names are one asset")
async def post_equivalence(request: Request, body: Equivalence) -> dict[str, Any]:
    """Declare (or withdraw) owl:sameAs between an asset and its other names, for what the
    identity rules cannot match; lineage and impact follow it both ways."""
    require_writer(request)
    graph = graph_of(request)
    report = await run_in_threadpool(
        importing.declare_same, graph, body.asset, body.same_as, remove=body.remove
    )
    return report.as_dict()
