from __future__ import annotations

import json

import pytest

from kg.errors import InputError
from kg.graph import Document, KnowledgeGraph
from kg.ingest import datahub
from kg.write import importers
from kg.write.importers import Importer
from tests.conftest import BASE, GOLDEN, assert_golden, data_nquads, iri, shared

SAMPLE = GOLDEN / "datahub-metadata.json"


def ingest(graph: KnowledgeGraph, *documents: tuple[str, bytes]) -> importers.IngestReport:
    return importers.ingest(
        graph,
        Importer.DATAHUB,
        [Document(name, data) for name, data in documents],
        strict=True,
    )


def test_golden(graph: KnowledgeGraph) -> None:
    report = ingest(graph, (SAMPLE.name, SAMPLE.read_bytes()))
    assert report.counts()["items"] == 13
    assert {r.item.split(": ", 1)[1] for r in report.skipped} == {
        "aspect datasetProfile",
        "entity type chart",
    }
    assert_golden("datahub-metadata.nq", data_nquads(graph))


def test_the_model_with_its_features_training_data_owners_and_lineage(
    graph: KnowledgeGraph,
) -> None:
    ingest(graph, (SAMPLE.name, SAMPLE.read_bytes()))
    model = graph.asset("urn:li:mlModel:(urn:li:dataPlatform:mlflow,churn_3,PROD)")
    assert model.type == "https://w3id.org/mlg#ModelVersion"
    assert [r.node for r in model.owners] == [iri("person/ana")]
    up = {n.id: n.distance for n in graph.lineage(model.id).nodes}
    assert up[iri("dataset/postgres/analytics.public.clicks_clean")] == 1  # trained on
    assert up["urn:li:mlFeature:(user_features,clicks_7d)"] == 1  # uses feature
    assert up[iri("dataset/postgres/analytics.public.clicks_raw")] == 2  # upstream lineage
    impact = graph.impact("dataset/postgres/analytics.public.clicks_raw")
    services = [s.id for s in impact.production_services]
    assert services == [
        "urn:li:mlModelDeployment:(urn:li:dataPlatform:sagemaker,churn-endpoint,PROD)"
    ]
    column = graph.lineage("dataset/postgres/analytics.public.clicks_clean/field/clicked_at")
    assert iri("dataset/postgres/analytics.public.clicks_raw/field/ts") in {
        n.id for n in column.nodes
    }
    assert graph.asset("person/ana").label == "Ana Silva"


def test_an_aspect_update_keeps_the_other_aspects(graph: KnowledgeGraph) -> None:
    ingest(graph, (SAMPLE.name, SAMPLE.read_bytes()))
    update = [{
        "entityType": "dataset",
        "entityUrn": "urn:li:dataset:(urn:li:dataPlatform:postgres,analytics.public.clicks_clean,PROD)",
        "changeType": "UPSERT",
        "aspectName": "datasetProperties",
        "aspect": {"json": {"description": "Clicks, deduplicated"}},
    }]  # fmt: skip
    report = ingest(graph, ("update.json", json.dumps(update).encode()))
    assert report.counts()["updated"] == 1
    view = graph.asset("dataset/postgres/analytics.public.clicks_clean")
    assert view.description == "Clicks, deduplicated"
    assert [r.node for r in view.owners] == [iri("team/data-platform")]  # from the first file


def test_the_bootstrap_sample() -> None:
    path = shared("data", "datahub", "bootstrap_mce.json")
    read = datahub.read(path.read_bytes(), path.name, BASE)
    subjects = {s.value: ts for s, ts in read.description.items()}
    model = subjects["urn:li:mlModel:(urn:li:dataPlatform:science,scienceModel,PROD)"]
    predicates = {t.predicate.value.rsplit("#", 1)[-1] for t in model}
    assert {"trainedOn", "owner"} <= predicates
    features = [s for s, ts in subjects.items() if s.startswith("urn:li:mlFeature:")]
    assert len(features) == 20
    assert any(
        t.predicate.value.endswith("#derivedFrom")
        for t in subjects[iri("dataset/hive/fct_users_created")]
    )


def test_every_sample_file_loads() -> None:
    folder = shared("data", "datahub")
    from tests.conftest import settings

    graph = KnowledgeGraph.open(settings())
    files = sorted(folder.glob("*.json"))
    report = importers.ingest(
        graph, Importer.DATAHUB, [Document(p.name, p.read_bytes()) for p in files], strict=False
    )
    assert report.refused == []
    assert report.by_type()["mlg:ModelVersion"]["created"] == 4
    graph.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[{]", "not JSON"),
        (b'[{"foo": 1}]', "neither an MCE"),
        (b'[{"proposedSnapshot": {"a": {"aspects": []}}}]', "has no urn"),
        (
            b'[{"entityUrn": "urn:li:dataset:(urn:li:dataPlatform:x,y,PROD)", '
            b'"aspectName": "status", "aspect": {"value": "{broken"}}]',
            "aspect.value is not JSON",
        ),
        (
            b'[{"entityUrn": "not-an-urn", "aspectName": "status", "aspect": {"json": {}}}]',
            "not a DataHub URN",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    graph: KnowledgeGraph, body: bytes, message: str
) -> None:
    before = data_nquads(graph)
    with pytest.raises(InputError, match=message):
        ingest(graph, ("bad.json", body))
    assert data_nquads(graph) == before


DATASET = "urn:li:dataset:(urn:li:dataPlatform:kafka,events.users,PROD)"
UPSTREAM = "urn:li:dataset:(urn:li:dataPlatform:kafka,events.raw,PROD)"


def _field(dataset: str, path: str) -> str:
    return f"urn:li:schemaField:({dataset},{path})"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("[version=2.0].[type=boolean].field_bar", "field_bar"),
        ("[version=2.0].[type=struct].address.[type=string].zip", "address.zip"),
        ("[version=2.0].[key=True].[type=long].id", "id"),
        ("[version=2.0].[type=union].[type=struct].[type=array].[type=string].tags", "tags"),
        ("address.zip", "address.zip"),  # v1: the dotted names themselves
        ("plain", "plain"),
    ],
)
def test_field_paths_read_as_datahub_reads_them(path: str, name: str) -> None:
    records = [
        {
            "entityUrn": DATASET,
            "aspectName": "schemaMetadata",
            "aspect": {"json": {"fields": [{"fieldPath": path, "nativeDataType": "x"}]}},
        },
        {
            "entityUrn": DATASET,
            "aspectName": "upstreamLineage",
            "aspect": {
                "json": {
                    "upstreams": [{"dataset": UPSTREAM, "type": "TRANSFORMED"}],
                    "fineGrainedLineages": [
                        {
                            "upstreams": [_field(UPSTREAM, path)],
                            "downstreams": [_field(DATASET, path)],
                        }
                    ],
                }
            },
        },
    ]
    read = datahub.read(json.dumps(records).encode(), "v2.json", BASE)
    field = iri("dataset/kafka/events.users/field/" + name)
    origin = iri("dataset/kafka/events.raw/field/" + name)
    fields = {s.value: ts for s, ts in read.description.items() if "/field/" in s.value}
    assert set(fields) == {field}
    labels = {t.object.value for t in fields[field] if t.predicate.value.endswith("#label")}
    assert labels == {name}
    derived = {
        t.object.value for t in fields[field] if t.predicate.value.endswith("fieldDerivedFrom")
    }
    assert derived == {origin}


CLICKS_CLEAN = "urn:li:dataset:(urn:li:dataPlatform:postgres,analytics.public.clicks_clean,PROD)"
CLICKS_RAW = "urn:li:dataset:(urn:li:dataPlatform:postgres,analytics.public.clicks_raw,PROD)"


def _field_lineage(graph: KnowledgeGraph) -> set[tuple[str, str]]:
    rows = graph.sparql(
        "SELECT ?f ?u WHERE { GRAPH ?g { ?f <https://w3id.org/mlg#fieldDerivedFrom> ?u } }"
    )
    return {(row[0].value, row[1].value) for row in rows}  # type: ignore[union-attr,index]


@pytest.mark.parametrize("together", [False, True])
def test_a_restated_upstream_lineage_replaces_the_field_level_lineage(
    graph: KnowledgeGraph, together: bool
) -> None:
    restated = [{
        "entityUrn": CLICKS_CLEAN,
        "changeType": "UPSERT",
        "aspectName": "upstreamLineage",
        "aspect": {"json": {
            "upstreams": [{"dataset": CLICKS_RAW, "type": "TRANSFORMED"}],
            "fineGrainedLineages": [{
                "upstreams": [f"urn:li:schemaField:({CLICKS_RAW},uid)"],
                "downstreams": [f"urn:li:schemaField:({CLICKS_CLEAN},user_id)"],
            }],
        }},
    }]  # fmt: skip
    old = (
        iri("dataset/postgres/analytics.public.clicks_clean/field/clicked_at"),
        iri("dataset/postgres/analytics.public.clicks_raw/field/ts"),
    )
    new = (
        iri("dataset/postgres/analytics.public.clicks_clean/field/user_id"),
        iri("dataset/postgres/analytics.public.clicks_raw/field/uid"),
    )
    files = [(SAMPLE.name, SAMPLE.read_bytes()), ("restated.json", json.dumps(restated).encode())]
    if together:
        ingest(graph, *files)
    else:
        ingest(graph, files[0])
        assert old in _field_lineage(graph)
        ingest(graph, files[1])
    lineage = _field_lineage(graph)
    assert new in lineage
    assert old not in lineage
    # within one file, the later aspect wins too
    read = datahub.read(
        json.dumps([*json.loads(SAMPLE.read_bytes()), *restated]).encode(), "both.json", BASE
    )
    stated = {
        (t.subject.value, t.object.value)
        for ts in read.description.values()
        for t in ts
        if t.predicate.value.endswith("#fieldDerivedFrom")
    }
    assert new in stated
    assert old not in stated


@pytest.mark.parametrize("together", [False, True])
def test_an_upstream_lineage_with_no_upstreams_leaves_none(
    graph: KnowledgeGraph, together: bool
) -> None:
    cleared = [{
        "entityUrn": CLICKS_CLEAN,
        "aspectName": "upstreamLineage",
        "aspect": {"json": {"upstreams": []}},
    }]  # fmt: skip
    files = [(SAMPLE.name, SAMPLE.read_bytes()), ("cleared.json", json.dumps(cleared).encode())]
    if together:
        ingest(graph, *files)
    else:
        ingest(graph, files[0])
        ingest(graph, files[1])
    derived = graph.sparql(
        "SELECT ?u WHERE { GRAPH ?g { <"
        + iri("dataset/postgres/analytics.public.clicks_clean")
        + "> <https://w3id.org/mlg#derivedFrom> ?u } }"
    )
    assert list(derived) == []  # type: ignore[call-overload]
    assert not {f for f, _ in _field_lineage(graph) if "clicks_clean/field/" in f}
