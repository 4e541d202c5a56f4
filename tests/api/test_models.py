"""The response models of kg.api.models describe the answers exactly: every answer validates,
and comes out of its model with the same keys, in the same order, with the same values (FastAPI
serializes the answers through the models)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from kg import views
from kg.api import models
from kg.governance.render import Format
from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction
from kg.write import importers
from kg.write.importers import Importer
from tests.conftest import GOLDEN


def same(model: type[BaseModel], data: object) -> None:
    """`data` validates against `model` and serializes back to the very same JSON text."""
    checked = model.model_validate(data).model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert json.dumps(checked) == json.dumps(data)


def _ingested(graph: KnowledgeGraph) -> dict[str, Any]:
    events = GOLDEN / "openlineage-events.jsonl"
    report = importers.ingest(
        graph, Importer.OPENLINEAGE, [Document(events.name, events.read_bytes())], strict=True
    )
    return report.as_dict()


def _warned(graph: KnowledgeGraph) -> dict[str, object]:
    turtle = b'<https://w3id.org/mlg/id/d> a <https://w3id.org/mlg#Dataset> ; <https://example.org/size> "abc"^^<http://www.w3.org/2001/XMLSchema#integer> .'
    report = graph.load([Document("w.ttl", turtle, "text/turtle")]).as_dict()
    assert report["warnings"]
    return report


CASES: list[tuple[str, type[BaseModel], Callable[[KnowledgeGraph], object]]] = [
    ("lineage", models.Lineage, lambda g: views.lineage(g.lineage("service/homepage", Direction.BOTH))),
    ("lineage, depth", models.Lineage, lambda g: views.lineage(g.lineage("service/homepage", depth=1))),
    ("impact", models.Impact, lambda g: views.impact(g.impact("dataset/legacy-ratings"))),
    ("path", models.Paths, lambda g: views.paths(g.paths("service/homepage", "dataset/legacy-ratings"))),
    ("no path", models.Paths, lambda g: views.paths(g.paths("dataset/legacy-ratings", "team/search"))),
    ("search", models.SearchResult, lambda g: views.search("home ranking", g.search("home ranking"))),
    ("search, no words", models.SearchResult, lambda g: views.search("", g.search("", limit=200))),
    ("stats", models.Stats, lambda g: g.stats()),
    ("load report", models.LoadReport, lambda g: g.load([Document("a.yaml", b"- {id: a, type: Dataset, name: A}\n")]).as_dict()),
    ("load report with warnings", models.LoadReport, _warned),
    ("declared equivalence", models.LoadReport, lambda g: importers.declare_same(g, "dataset/legacy-ratings", ["dataset/title-metadata"]).as_dict()),
    ("ingestion report", models.IngestReport, _ingested),
    ("validation report", models.ValidationReport, lambda g: json.loads(g.render(g.validate(), Format.JSON))),
    ("scorecard", models.Scorecard, lambda g: json.loads(g.render(g.validate(), Format.SCORECARD))),
]  # fmt: skip


@pytest.mark.parametrize(("model", "build"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_answers_match_their_models(
    demo: KnowledgeGraph, model: type[BaseModel], build: Callable[[KnowledgeGraph], object]
) -> None:
    same(model, build(demo))


def test_every_asset_matches_the_asset_model(demo: KnowledgeGraph) -> None:
    _ingested(demo)  # fields with column lineage, several sources
    listed = demo.search("", limit=1000).hits
    assert len(listed) > 90
    for hit in listed:
        same(models.Asset, demo.asset(hit.id).as_dict())


@pytest.mark.parametrize(
    ("url", "model"),
    [
        ("/api/v1/assets?limit=1000", models.AssetList),
        ("/api/v1/queries", models.NamedQuery),
        ("/healthz", models.Health),
        ("/api/v1/queries/unowned-assets", models.SparqlResults),
        ("/api/v1/rules", models.Rules),
        ("/api/v1/rules?counts=true", models.Rules),
    ],
)
def test_answers_over_http_match_their_models(
    client: TestClient, url: str, model: type[BaseModel]
) -> None:
    data = client.get(url).json()
    for item in data if isinstance(data, list) else [data]:
        same(model, item)


def test_similar_over_http_matches_its_model(client: TestClient) -> None:
    draft = {"name": "member genre preference", "sources": ["dataset/viewing-history-daily"]}
    same(models.Similar, client.post("/api/v1/search/similar", json=draft).json())


def test_an_answer_with_a_key_the_model_does_not_name_is_refused() -> None:
    with pytest.raises(ValueError, match="extra"):
        models.Health.model_validate({"status": "ok", "more": 1})
