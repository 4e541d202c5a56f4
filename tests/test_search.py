"""The search index: snippets, descriptions, the source facet, the layout of the index file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kg import views
from kg.graph import Document, KnowledgeGraph
from kg.search import SearchIndex, Segment, segments
from kg.vocab import MLG, RDF_TYPE
from kg.write import importers
from kg.write.importers import Importer
from tests.conftest import GOLDEN, iri, load_text, settings

DOCS = """
- {id: dataset/plays, type: Dataset, name: Playback events, description: "Every play of a title, deduplicated and sessionised by the nightly job.", tags: [streaming]}
- {id: dataset/bare, type: Dataset, name: Bare table, tags: [orphaned]}
- {id: dataset/marked, type: Dataset, name: "Odd \ue000name\ue001", description: "Has \ue001markers\ue000 inside."}
"""


@pytest.fixture
def docs(graph: KnowledgeGraph) -> KnowledgeGraph:
    load_text(graph, DOCS)
    return graph


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("", []),
        ("no match at all", [("no match at all", False)]),
        ("the \ue000home\ue001 page", [("the ", False), ("home", True), (" page", False)]),
        ("\ue000Home\ue001", [("Home", True)]),
        (
            "\ue000home\ue001 \ue000ranking\ue001 v2",
            [("home", True), (" ", False), ("ranking", True), (" v2", False)],
        ),
        (
            "…deduplicated and \ue000sess\ue001ionised…",
            [("…deduplicated and ", False), ("sess", True), ("ionised…", False)],
        ),
    ],
)
def test_segments_split_on_the_markers(marked: str, expected: list[tuple[str, bool]]) -> None:
    assert segments(marked) == [Segment(text, match) for text, match in expected]


@pytest.mark.parametrize(
    ("words", "asset", "expected"),
    [
        # in the description: the words around the match
        (
            "sessionised",
            "dataset/plays",
            [
                ("Every play of a title, deduplicated and ", False),
                ("sessionised", True),
                (" by the nightly job.", False),
            ],
        ),
        # in the name only: the name, highlighted
        ("playback", "dataset/plays", [("Playback", True), (" events", False)]),
        # a prefix, as the last word is one
        (
            "dedup",
            "dataset/plays",
            [
                ("Every play of a title, ", False),
                ("deduplicated", True),
                (" and sessionised by the nightly job.", False),
            ],
        ),
        # in a tag only: the start of the description, nothing marked
        (
            "streaming",
            "dataset/plays",
            [("Every play of a title, deduplicated and sessionised by the nightly job.", False)],
        ),
        # in a tag, and no description: the name
        ("orphaned", "dataset/bare", [("Bare table", False)]),
        # kg's markers in a user's text are not read as matches
        ("markers", "dataset/marked", [("Has ", False), ("markers", True), (" inside.", False)]),
    ],
)
def test_snippets_show_where_the_words_matched(
    docs: KnowledgeGraph, words: str, asset: str, expected: list[tuple[str, bool]]
) -> None:
    hits = docs.search(words).hits
    assert [h.id for h in hits] == [iri(asset)]
    assert hits[0].snippet == [Segment(text, match) for text, match in expected]


def test_hits_carry_their_description_and_no_snippet_without_words(docs: KnowledgeGraph) -> None:
    listed = {h.id: h for h in docs.search("").hits}
    assert listed[iri("dataset/plays")].description.startswith("Every play")  # type: ignore[union-attr]
    assert listed[iri("dataset/bare")].description is None
    assert all(h.snippet == [] for h in listed.values())
    shown = views.hit(docs.search("sessionised").hits[0])
    assert shown["snippet"][1] == {"text": "sessionised", "match": True}
    assert shown["description"] == listed[iri("dataset/plays")].description
    assert shown["sources"] == ["kg"]


TURTLE = b"""@prefix mlg: <https://w3id.org/mlg#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/mlg/id/dataset/plays> a mlg:Dataset ; rdfs:label "Zebra crossing" ."""


def _native(graph: KnowledgeGraph) -> None:
    load_text(graph, DOCS)


def _named_graph(graph: KnowledgeGraph) -> None:
    graph.graph_write("urn:batch:nightly", [Document("b.ttl", TURTLE, "text/turtle")])


def _openlineage(graph: KnowledgeGraph) -> None:
    events = GOLDEN / "openlineage-events.jsonl"
    importers.ingest(
        graph, Importer.OPENLINEAGE, [Document(events.name, events.read_bytes())], strict=True
    )


@pytest.mark.parametrize(
    ("writes", "asset", "sources"),
    [
        ([_native], "dataset/plays", ["kg"]),
        ([_named_graph], "dataset/plays", ["urn:batch:nightly"]),
        ([_native, _named_graph], "dataset/plays", ["kg", "urn:batch:nightly"]),
        # a native write after another source keeps what that source said
        ([_named_graph, _native], "dataset/plays", ["kg", "urn:batch:nightly"]),
        ([_openlineage], "dataset/postgres/analytics.public.clicks_clean", ["openlineage"]),
    ],
)
def test_the_source_facet_names_who_described_an_asset(
    graph: KnowledgeGraph, writes: list[object], asset: str, sources: list[str]
) -> None:
    for write in writes:
        write(graph)  # type: ignore[operator]
    hit = next(h for h in graph.search("").hits if h.id == iri(asset))
    assert hit.sources == sources
    filtered = graph.search("", {"source": sources[-1:]})
    assert iri(asset) in {h.id for h in filtered.hits}
    assert filtered.facets["source"][sources[-1]] == filtered.total


def test_every_source_is_searchable_after_a_write_of_another(graph: KnowledgeGraph) -> None:
    _named_graph(graph)
    _native(graph)
    assert [h.id for h in graph.search("zebra").hits] == [iri("dataset/plays")]
    assert [h.id for h in graph.search("sessionised").hits] == [iri("dataset/plays")]


def test_source_facet_counts_and_filters_over_http(docs: KnowledgeGraph) -> None:
    from fastapi.testclient import TestClient

    from kg.api.app import create_app

    _openlineage(docs)
    with TestClient(create_app(graph=docs)) as client:
        listing = client.get("/api/v1/assets", params={"source": "openlineage"}).json()
        searched = client.get("/api/v1/search", params={"q": "clicks", "source": "kg"}).json()
        everything = client.get("/api/v1/search").json()
    assert listing["total"] == listing["facets"]["source"]["openlineage"] > 0
    assert all("openlineage" in item["sources"] for item in listing["items"])
    assert searched["total"] == 0
    assert set(everything["facets"]["source"]) == {"kg", "openlineage"}


def test_an_index_of_an_older_layout_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "store.search.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        old.execute("INSERT INTO meta VALUES ('layout', '2'), ('load', 'urn:kg:load:old')")
        old.execute("CREATE TABLE facets (iri TEXT, facet TEXT, value TEXT)")
    old.close()
    store = tmp_path / "store"
    graph = KnowledgeGraph.open(settings(memory=False, store=store))
    try:
        load_text(graph, DOCS)
        assert graph.search_index.stamp() != "urn:kg:load:old"
        assert graph.search("sessionised").hits[0].sources == ["kg"]
    finally:
        graph.close()
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert "facets" not in tables  # the old layout's table went with it


def test_a_fresh_index_has_the_source_facet(graph: KnowledgeGraph) -> None:
    index = SearchIndex(None, graph.ontology)
    try:
        assert "source" in index.search("").facets
    finally:
        index.close()


MANY = "".join(
    f"- {{id: dataset/m{i}, type: {'Dataset' if i % 3 else 'Feature'}, name: Metric {i}, "
    f"owner: team/t{i % 4}, status: {'Deprecated' if i % 10 == 0 else 'Active'}}}\n"
    for i in range(300)
) + "".join(f"- {{id: team/t{t}, type: Team, name: T{t}}}\n" for t in range(4))


def test_past_the_threshold_facets_are_estimated_and_exact_on_request(
    graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_text(graph, MANY)
    exact = graph.search("metric", limit=5)
    assert exact.facets_exact and exact.total == 300
    assert exact.facets["type"] == {f"{MLG}Dataset": 200, f"{MLG}Feature": 100}
    monkeypatch.setattr(graph.search_index, "exact_facets_up_to", 40)
    estimated = graph.search("metric", limit=5)
    assert not estimated.facets_exact
    # the same hits and total; every facet value found, its count estimated near the true one
    assert estimated.total == 300 and estimated.hits == exact.hits
    for facet, counts in exact.facets.items():
        guessed = estimated.facets[facet]
        assert set(guessed) <= set(counts), facet
        for value, n in guessed.items():
            assert 1 <= n <= 300 and abs(n - counts[value]) <= 150, (facet, value, n)
    assert set(estimated.facets["type"]) == set(exact.facets["type"])
    asked = graph.search("metric", limit=5, exact_facets=True)
    assert asked.facets_exact and asked.facets == exact.facets
    # under the threshold, exact as ever
    few = graph.search("metric 7")
    assert few.facets_exact and few.total == sum(few.facets["type"].values())


def test_estimated_facets_over_http(graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from kg.api.app import create_app

    load_text(graph, MANY)
    monkeypatch.setattr(graph.search_index, "exact_facets_up_to", 40)
    with TestClient(create_app(graph=graph)) as client:
        body = client.get("/api/v1/search", params={"q": "metric"}).json()
        assert body["facetsExact"] is False and body["total"] == 300
        body = client.get("/api/v1/search", params={"q": "metric", "exactFacets": "true"}).json()
        assert body["facetsExact"] is True
        assert body["facets"]["type"] == {"mlg:Dataset": 200, "mlg:Feature": 100}
        listed = client.get("/api/v1/assets", params={"type": "Dataset", "exactFacets": "1"})
        assert listed.json()["facetsExact"] is True
        datasets = [i for i in range(300) if i % 3]
        assert sum(listed.json()["facets"]["owner"].values()) == len(datasets)


@pytest.mark.parametrize("count", [5, 4, 0])
def test_a_bulk_load_is_indexed_a_chunk_at_a_time_and_stamped_at_the_end(
    graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    from kg import search

    monkeypatch.setattr(search, "_BULK_CHUNK", 2)
    label, kind = "http://www.w3.org/2000/01/rdf-schema#label", str(RDF_TYPE.value)
    described = [
        (iri(f"dataset/chunk{i}"), [kind, f"{MLG}Dataset", label, f"Chunked {i}"])
        for i in range(count)
    ]
    graph.search_index.add_described(described, "the stamp")
    assert graph.search_index.stamp() == "the stamp"
    found = graph.search("chunked", limit=10)
    assert sorted(h.id for h in found.hits) == sorted(i for i, _ in described)
