"""The search index: snippets, descriptions, the source facet, the layout of the index file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kg import views
from kg.errors import StoreLockedError
from kg.graph import Document, KnowledgeGraph
from kg.search import SearchIndex, Segment, segments
from kg.search_tantivy import TextIndex
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


# -- Tantivy's index (kg.search_tantivy): ranking, counts and facets of searches with words

RANKED = """
- {id: dataset/ranked-name, type: Dataset, name: Quasar feed}
- {id: dataset/ranked-tag, type: Dataset, name: Other feed, tags: [quasar]}
- {id: dataset/ranked-text, type: Dataset, name: Third feed, description: "Once mentions quasar."}
- {id: model/quasimodo, type: Model, name: Quasimodo bells, owner: team/bells}
- {id: team/bells, type: Team, name: Bells}
"""


def _on_disk(tmp_path: Path) -> KnowledgeGraph:
    return KnowledgeGraph.open(settings(memory=False, store=tmp_path / "store"))


def test_the_name_outranks_tags_and_tags_the_description(graph: KnowledgeGraph) -> None:
    load_text(graph, RANKED)
    found = graph.search("quasar")
    assert [h.id for h in found.hits] == [
        iri("dataset/ranked-name"),
        iri("dataset/ranked-tag"),
        iri("dataset/ranked-text"),
    ]
    assert found.hits[0].score > found.hits[1].score > found.hits[2].score > 0


def test_the_last_word_is_a_prefix_and_every_word_must_match(graph: KnowledgeGraph) -> None:
    load_text(graph, RANKED)
    assert {h.id for h in graph.search("qua").hits} == {
        iri("dataset/ranked-name"),
        iri("dataset/ranked-tag"),
        iri("dataset/ranked-text"),
        iri("model/quasimodo"),
    }
    assert [h.id for h in graph.search("quasi").hits] == [iri("model/quasimodo")]
    # a word before the last is a whole word
    assert graph.search("qua feed").total == 0
    assert [h.id for h in graph.search("quasar fe").hits][:1] == [iri("dataset/ranked-name")]
    assert graph.search("quasar bells").total == 0
    # case and accents folded, as FTS5's unicode61 did
    assert graph.search("QUÀSAR").total == 3
    # a prefix longer than the indexed prefixes still matches only what it starts
    load_text(graph, "- {id: dataset/long, type: Dataset, name: Supercalifragilistic}\n")
    assert graph.search("supercalifragilis").total == 1
    assert graph.search("supercalifragilix").total == 0


def test_filters_narrow_the_ranked_matches_and_their_facets(graph: KnowledgeGraph) -> None:
    load_text(graph, RANKED)
    found = graph.search("qua", {"type": [f"{MLG}Model"]})
    assert [h.id for h in found.hits] == [iri("model/quasimodo")]
    assert found.total == 1 and found.facets["type"] == {f"{MLG}Model": 1}
    assert found.facets["owner"] == {iri("team/bells"): 1}
    assert found.owner_names == {iri("team/bells"): "Bells"}
    both = graph.search("qua", {"type": [f"{MLG}Model", f"{MLG}Dataset"]})
    assert both.total == 4 and both.facets["type"] == {f"{MLG}Dataset": 3, f"{MLG}Model": 1}
    assert graph.search("quasar", {"owner": [iri("team/bells")]}).total == 0


def test_pages_follow_the_ranking(graph: KnowledgeGraph) -> None:
    load_text(graph, RANKED)
    whole = [h.id for h in graph.search("quasar").hits]
    pages = [h.id for at in range(3) for h in graph.search("quasar", limit=1, offset=at).hits]
    assert pages == whole
    assert graph.search("quasar", limit=0).hits == [] and graph.search("quasar", limit=0).total == 3


def test_a_write_is_searchable_before_it_returns_and_a_change_replaces_it(
    tmp_path: Path,
) -> None:
    graph = _on_disk(tmp_path)
    try:
        load_text(graph, RANKED)
        assert graph.search("bells").total == 2
        load_text(graph, "- {id: model/quasimodo, type: Model, name: Esmeralda}\n")
        assert [h.id for h in graph.search("bells").hits] == [iri("team/bells")]
        assert [h.id for h in graph.search("esmeralda").hits] == [iri("model/quasimodo")]
        graph.delete_asset("model/quasimodo")
        assert graph.search("esmeralda").total == 0
    finally:
        graph.close()


def test_the_same_write_twice_leaves_the_scores_alone(graph: KnowledgeGraph) -> None:
    load_text(graph, RANKED)
    before = graph.search("quasar").hits
    load_text(graph, RANKED)  # nothing changed: no document replaced
    assert graph.search("quasar").hits == before


def _ranked_on_disk(tmp_path: Path) -> Path:
    """RANKED loaded into a store on disk, closed: its Tantivy folder."""
    graph = _on_disk(tmp_path)
    try:
        load_text(graph, RANKED)
    finally:
        graph.close()
    return tmp_path / "store.search.tantivy"


def test_a_tantivy_index_behind_sqlite_is_rebuilt_from_it_at_start(tmp_path: Path) -> None:
    folder = _ranked_on_disk(tmp_path)
    assert folder.is_dir() and (folder / "kg-state").exists()
    # as if killed before its commit: the state it records is not SQLite's
    (folder / "kg-state").write_text("another file 7")
    graph = _on_disk(tmp_path)
    try:
        assert [h.id for h in graph.search("quasimodo").hits] == [iri("model/quasimodo")]
        assert graph.search("quasar").total == 3
        # the search committed the rebuild, which records SQLite's state
        assert (folder / "kg-state").read_text() != "another file 7"
    finally:
        graph.close()


def test_an_index_of_another_file_or_layout_is_made_afresh(tmp_path: Path) -> None:
    folder = _ranked_on_disk(tmp_path)
    (folder / "kg-layout").write_text("0")
    graph = _on_disk(tmp_path)
    try:
        assert graph.search("quasar").total == 3
    finally:
        graph.close()
    # a search file made afresh (deleted by hand): a new epoch, so Tantivy follows it
    (tmp_path / "store.search.sqlite").unlink()
    graph = _on_disk(tmp_path)
    try:
        assert graph.search("quasar").total == 3  # rebuilt from the store
        assert graph.search_index.in_step(graph.stamp)
    finally:
        graph.close()


def test_snippets_of_long_descriptions_are_a_window_around_the_words(
    graph: KnowledgeGraph,
) -> None:
    words = " ".join(f"w{i}" for i in range(60))
    load_text(
        graph,
        f"- {{id: dataset/long, type: Dataset, name: Long, description: '{words} needle {words}'}}\n",
    )
    snippet = graph.search("needle").hits[0].snippet
    text = "".join(s.text for s in snippet)
    assert [s.text for s in snippet if s.match] == ["needle"]
    assert text.startswith("…") and text.endswith("…") and len(text.split()) == 24
    # no word in the description (a name match): the description's start
    assert graph.search("long").hits[0].snippet == [Segment("Long", True)]


def test_related_finds_any_shared_word_by_type(graph: KnowledgeGraph) -> None:
    load_text(graph, RANKED)
    found = graph.search_index.related("quasar bells", None)
    assert {i for i, _ in found} == {
        iri("dataset/ranked-name"),
        iri("dataset/ranked-tag"),
        iri("dataset/ranked-text"),
        iri("model/quasimodo"),
        iri("team/bells"),
    }
    models = graph.search_index.related("quasar bells", f"{MLG}Model")
    assert [i for i, _ in models] == [iri("model/quasimodo")]


def test_a_search_index_another_process_writes_is_refused_clearly(tmp_path: Path) -> None:
    graph = _on_disk(tmp_path)
    try:
        # as a second process with the same folder would find it (a remote store's CLI)
        with pytest.raises(StoreLockedError, match="in use by another process"):
            TextIndex(tmp_path / "store.search.tantivy")
    finally:
        graph.close()
