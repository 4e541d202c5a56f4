from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from kg.graph import Document, KnowledgeGraph
from kg.write import importers
from kg.write.importers import Importer
from tests.conftest import GOLDEN, data_nquads, settings

SAMPLES = {
    Importer.OPENLINEAGE: "openlineage-events.jsonl",
    Importer.DATAHUB: "datahub-metadata.json",
    Importer.BACKSTAGE: "backstage-catalog.yaml",
}
LOADS = ox.NamedNode("urn:kg:graph:loads")


def _ingest(graph: KnowledgeGraph, importer: Importer) -> importers.IngestReport:
    path = GOLDEN / SAMPLES[importer]
    return importers.ingest(graph, importer, [Document(path.name, path.read_bytes())], strict=True)


def _load_records(graph: KnowledgeGraph) -> int:
    return len(graph.store.graph(LOADS))


@pytest.mark.parametrize("namespace_owners", [{}, {"airflow-prod": "team:airflow"}])
@pytest.mark.parametrize("importer", list(Importer))
def test_an_unchanged_re_ingest_reports_unchanged_and_writes_nothing(
    importer: Importer, namespace_owners: dict[str, str]
) -> None:
    graph = KnowledgeGraph.open(settings(namespace_owners=namespace_owners))
    first = _ingest(graph, importer)
    assert first.created and first.load is not None
    data, records = data_nquads(graph), _load_records(graph)
    again = _ingest(graph, importer)
    assert (again.created, again.updated) == ({}, {})
    assert sorted(again.unchanged) == sorted({**first.created, **first.updated})
    assert again.load is None
    assert _load_records(graph) == records  # no load record
    assert data_nquads(graph) == data
    report = again.as_dict()
    assert report["counts"]["unchanged"] == len(again.unchanged) > 0
    assert report["unchanged"] == sorted(again.unchanged)
    assert all(n["unchanged"] for n in report["byType"].values())
    text = again.lines()
    assert f"0 created, 0 updated, {len(again.unchanged)} unchanged" in text[0]
    graph.close()


def test_a_changed_subject_is_written_and_the_others_reported_unchanged() -> None:
    graph = KnowledgeGraph.open(settings())
    _ingest(graph, Importer.DATAHUB)
    update = [{
        "entityUrn": "urn:li:dataset:(urn:li:dataPlatform:postgres,analytics.public.clicks_clean,PROD)",
        "aspectName": "datasetProperties",
        "aspect": {"json": {"description": "Clicks, deduplicated"}},
    }]  # fmt: skip
    path = GOLDEN / SAMPLES[Importer.DATAHUB]
    records = [*json.loads(path.read_bytes()), *update]
    report = importers.ingest(
        graph,
        Importer.DATAHUB,
        [Document("again.json", json.dumps(records).encode())],
        strict=True,
    )
    assert list(report.updated) == [
        "https://w3id.org/mlg/id/dataset/postgres/analytics.public.clicks_clean"
    ]
    assert report.unchanged and report.load is not None
    graph.close()
