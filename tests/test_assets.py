"""The asset view: its sources and when they spoke, classification, metrics and schema fields."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyoxigraph as ox
import pytest

from kg.graph import Document, KnowledgeGraph
from kg.store import GraphWrite
from kg.write import importers
from kg.write.importers import Importer
from tests.conftest import GOLDEN, iri

PREFIXES = b"""@prefix mlg: <https://w3id.org/mlg#> . @prefix dqv: <http://www.w3.org/ns/dqv#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> . @base <https://w3id.org/mlg/id/> .
"""


def turtle(graph: KnowledgeGraph, text: bytes) -> None:
    graph.load([Document("input.ttl", PREFIXES + text, "text/turtle")])


def shown(graph: KnowledgeGraph, asset: str) -> dict[str, Any]:
    """The asset as the API and the CLI answer it."""
    return graph.asset(asset).as_dict()


def test_the_view_has_every_key_the_api_documents(demo: KnowledgeGraph) -> None:
    view = shown(demo, "dataset/viewing-history-daily")
    assert list(view) == [
        "id", "type", "label", "description", "tags", "owners", "status", "stage",
        "properties", "outgoing", "incoming", "classification", "sources", "metrics", "fields",
    ]  # fmt: skip
    assert (view["metrics"], view["fields"]) == ([], [])


def test_sources_say_who_described_it_and_when_they_last_did(graph: KnowledgeGraph) -> None:
    first = graph.load([Document("a.yaml", b"- {id: dataset/a, type: Dataset, name: A}\n")])
    graph.graph_write(
        "urn:batch:nightly",
        [Document("b.ttl", PREFIXES + b"<dataset/a> rdfs:label 'A again' .", "text/turtle")],
    )
    again = graph.load(
        [Document("a.yaml", b"- {id: dataset/a, type: Dataset, name: A, description: Later.}\n")]
    )
    assert again.load != first.load
    sources = shown(graph, "dataset/a")["sources"]
    assert [(s["source"], s["graph"]) for s in sources] == [
        ("kg", f"urn:kg:graph:asset:{iri('dataset/a')}"),
        ("urn:batch:nightly", "urn:batch:nightly"),
    ]
    native, named = sources
    assert native["load"] == again.load
    assert dt.datetime.fromisoformat(native["at"]) > dt.datetime.fromisoformat(named["at"])
    records = graph.query(
        f"SELECT ?at WHERE {{ GRAPH <urn:kg:graph:loads> {{ <{native['load']}> "
        "<http://www.w3.org/ns/prov#endedAtTime> ?at } }"
    )
    assert isinstance(records, ox.QuerySolutions)
    assert [row["at"].value for row in records] == [native["at"]]


def test_a_graph_no_load_wrote_has_no_time(graph: KnowledgeGraph) -> None:
    subject = ox.NamedNode(iri("dataset/elsewhere"))
    graph.store.commit(
        GraphWrite(
            replace={
                ox.NamedNode("urn:other:tool"): [
                    ox.Triple(subject, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("x"))
                ]
            }
        )
    )  # fmt: skip
    assert shown(graph, "dataset/elsewhere")["sources"] == [
        {"source": "urn:other:tool", "graph": "urn:other:tool", "at": None, "load": None}
    ]


def test_importers_are_sources_by_their_name(graph: KnowledgeGraph) -> None:
    events = GOLDEN / "openlineage-events.jsonl"
    importers.ingest(
        graph, Importer.OPENLINEAGE, [Document(events.name, events.read_bytes())], strict=True
    )
    dataset = "dataset/postgres/analytics.public.clicks_clean"
    [source] = shown(graph, dataset)["sources"]
    assert source["source"] == "openlineage"
    assert source["graph"] == f"urn:kg:graph:source:openlineage:{iri(dataset)}"
    assert source["at"] and source["load"].startswith("urn:kg:load:")


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (b"", None),
        (b"; mlg:classification mlg:PII", "mlg:PII"),
        (b"; mlg:classification mlg:Public", "mlg:Public"),
        # sources that disagree: the most sensitive, the safe reading
        (b"; mlg:classification mlg:Internal, mlg:Confidential, mlg:Public", "mlg:Confidential"),
    ],
)
def test_classification(graph: KnowledgeGraph, statements: bytes, expected: str | None) -> None:
    turtle(graph, b"<dataset/c> a mlg:Dataset " + statements + b" .")
    assert shown(graph, "dataset/c")["classification"] == expected


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        ("dataset/member-profiles", "mlg:PII"),
        ("dataset/title-metadata", "mlg:Public"),
        ("dataset/viewing-history-daily", None),
    ],
)
def test_classification_of_the_demo(demo: KnowledgeGraph, asset: str, expected: str) -> None:
    assert shown(demo, asset)["classification"] == expected


def test_metrics_of_a_native_evaluation(demo: KnowledgeGraph) -> None:
    assert shown(demo, "evaluation/home-ranking-v3")["metrics"] == [
        {"metric": iri("metric/ndcg_at_10"), "value": 0.337, "dataset": iri("dataset/ranking-eval-holdout")},
        {"metric": iri("metric/recall_at_20"), "value": 0.58, "dataset": iri("dataset/ranking-eval-holdout")},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("evaluation", "expected"),
    [
        # an integer, and a measurement computed on its own dataset
        (
            b"mlg:evaluatedOn <dataset/holdout> ; mlg:metric [ dqv:isMeasurementOf <metric/hits> ; dqv:value 12 ; dqv:computedOn <dataset/slice> ]",
            [{"metric": iri("metric/hits"), "value": 12, "dataset": iri("dataset/slice")}],
        ),
        # a value that is not a number stays text; two datasets: which one is not known
        (
            b"mlg:evaluatedOn <dataset/a>, <dataset/b> ; mlg:metric [ dqv:isMeasurementOf <metric/grade> ; dqv:value 'B+' ]",
            [{"metric": iri("metric/grade"), "value": "B+", "dataset": None}],
        ),
        # JSON has no NaN: kept as written
        (
            b"mlg:metric [ dqv:isMeasurementOf <metric/loss> ; dqv:value 'NaN'^^xsd:double ]",
            [{"metric": iri("metric/loss"), "value": "NaN", "dataset": None}],
        ),
        # a measurement naming no metric is left out
        (b"mlg:metric [ dqv:value 0.5 ]", []),
    ],
)
def test_metrics(graph: KnowledgeGraph, evaluation: bytes, expected: list[object]) -> None:
    turtle(graph, b"<evaluation/e> a mlg:Evaluation ; " + evaluation + b" .")
    assert shown(graph, "evaluation/e")["metrics"] == expected


def test_fields_with_their_column_lineage(graph: KnowledgeGraph) -> None:
    events = GOLDEN / "openlineage-events.jsonl"
    importers.ingest(
        graph, Importer.OPENLINEAGE, [Document(events.name, events.read_bytes())], strict=True
    )
    clean = iri("dataset/postgres/analytics.public.clicks_clean")
    daily = iri("dataset/s3/feature-store/user_features/daily")
    assert shown(graph, daily)["fields"] == [
        {"id": f"{daily}/field/clicks_7d", "name": "clicks_7d", "type": "INT", "description": "Clicks in the last 7 days", "upstream": [f"{clean}/field/clicked_at"]},
        {"id": f"{daily}/field/user_id", "name": "user_id", "type": "BIGINT", "description": None, "upstream": [f"{clean}/field/user_id"]},
    ]  # fmt: skip
    inputs = shown(graph, clean)["fields"]
    assert [(f["name"], f["type"], f["upstream"]) for f in inputs] == [
        ("clicked_at", "TIMESTAMP", []),
        ("user_id", "BIGINT", []),
    ]


def test_fields_given_as_rdf(graph: KnowledgeGraph) -> None:
    turtle(
        graph,
        b"<dataset/t> a mlg:Dataset ; mlg:field <dataset/t/field/order%20id>, "
        b"[ rdfs:label 'amount' ; mlg:dataType 'DECIMAL' ; dcterms:description 'In cents.' ] .",
    )
    assert shown(graph, "dataset/t")["fields"] == [
        {"id": None, "name": "amount", "type": "DECIMAL", "description": "In cents.", "upstream": []},
        {"id": iri("dataset/t/field/order%20id"), "name": "order id", "type": None, "description": None, "upstream": []},
    ]  # fmt: skip
