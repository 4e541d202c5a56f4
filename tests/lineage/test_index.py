"""The lineage index always agrees with the store, and walks over it give the store walk's answers."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction, LineageIndex, Walker, impact, lineage, paths
from tests.conftest import load_text


def store_edges(graph: KnowledgeGraph) -> set[tuple[str, str, str]]:
    fresh = LineageIndex(graph.ontology)
    fresh.rebuild(graph.store)
    return fresh.edges()


def test_index_follows_every_kind_of_write(demo: KnowledgeGraph) -> None:
    steps = [
        lambda: load_text(
            demo,
            "- {id: model/home-ranking/v3, type: ModelVersion, trainedOn: dataset/abuse-reports}\n",
        ),
        lambda: demo.delete_asset("dataset/ranking-training-set"),
        lambda: demo.sparql_update(
            "PREFIX mlg: <https://w3id.org/mlg#> INSERT DATA { <https://w3id.org/mlg/id/x> mlg:derivedFrom <https://w3id.org/mlg/id/y> }"
        ),
        lambda: demo.graph_write(
            "urn:batch:1",
            [
                Document(
                    "b.ttl",
                    b"<https://w3id.org/mlg/id/a> <https://w3id.org/mlg#usesModel> <https://w3id.org/mlg/id/x> .",
                )
            ],
        ),
        lambda: demo.graph_write("urn:batch:1", None),
        lambda: demo.load(
            [
                Document(
                    "demo.yaml",
                    (
                        __import__("kg.resources").resources.data_dir("examples") / "demo.yaml"
                    ).read_bytes(),
                )
            ]
        ),
    ]
    for step in steps:
        step()
        assert demo.lineage_index.edges() == store_edges(demo)


def test_indexed_walks_equal_store_walks(demo: KnowledgeGraph) -> None:
    reference = Walker(demo.store, demo.ontology)
    nodes = sorted(
        {
            t.subject.value
            for t in demo.store.triples(
                None,
                ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                ox.NamedNode("https://w3id.org/mlg#Asset"),
            )
        }
    )
    assert len(nodes) > 60
    for node in nodes:
        for direction in Direction:
            fast = demo.lineage(node, direction)
            slow = lineage(demo.store, demo.ontology, node, direction, walker=reference)
            assert fast == slow, (node, direction)
    assert demo.impact("dataset/title-metadata") == impact(
        demo.store, demo.ontology, demo.iri("dataset/title-metadata")
    )
    a, b = demo.iri("service/homepage"), demo.iri("dataset/legacy-ratings")
    assert demo.paths(a, b) == paths(demo.store, demo.ontology, a, b)


@pytest.mark.parametrize(
    "text",
    [
        "- {id: a, type: Dataset, derivedFrom: [b, b]}\n",
        "- {id: c, type: Service, dependsOn: d, deploys: d}\n",
    ],
)
def test_edge_multiplicity(graph: KnowledgeGraph, text: str) -> None:
    load_text(graph, text)
    trig = "<urn:g> { <https://w3id.org/mlg/id/a> <https://w3id.org/mlg#derivedFrom> <https://w3id.org/mlg/id/b> . }"
    graph.load([Document("x.trig", trig.encode())])  # the same edge in a second graph
    graph.graph_write("urn:g", None)  # removed from one graph, still in the other
    assert graph.lineage_index.edges() == store_edges(graph)


def test_snapshot_restores_the_same_index_and_is_ignored_when_stale(tmp_path: Path) -> None:
    from kg.config import Settings
    from kg.demo import load_demo

    settings = Settings(store=tmp_path / "store", gate="off")  # type: ignore[call-arg]
    graph = KnowledgeGraph.open(settings)
    load_demo(graph)
    built = graph.lineage_index.edges()
    attributes = dict(graph.lineage_index._attributes)
    graph.close()  # writes the snapshot
    snapshot = tmp_path / "store.lineage.pickle"
    assert snapshot.exists()

    graph = KnowledgeGraph.open(settings)
    assert not graph.lineage_index.changed  # restored, not rebuilt
    assert graph.lineage_index.edges() == built == store_edges(graph)
    assert graph.lineage_index._attributes == attributes
    load_text(graph, "id: dataset/new\ntype: Dataset\nderivedFrom: dataset/viewing-history-daily\n")
    graph.search_index.close()
    graph.store.close()  # a crash: no snapshot of the new state

    graph = KnowledgeGraph.open(settings)
    assert graph.lineage_index.changed  # the stale snapshot was not used
    assert graph.lineage_index.edges() == store_edges(graph)
    graph.close()
    snapshot.write_bytes(b"not a snapshot")
    graph = KnowledgeGraph.open(settings)
    assert graph.lineage_index.edges() == store_edges(graph)
    graph.close()
