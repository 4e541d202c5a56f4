"""Every named query parses its header, binds its parameters and gives the known answer on the demo."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from pyshacl import validate
from rdflib import Graph

from kg import catalog, resources
from kg.errors import InputError, NotFoundError
from kg.graph import KnowledgeGraph

EXPECTED = {
    "upstream": ({"asset": "service/artwork"}, "upstream", {
        "model/artwork-personalization/v1", "model/artwork-personalization",
        "dataset/title-artwork", "feature/member-genre-affinity", "featureset/member-features",
        "dataset/viewing-history-daily", "dataset/member-profiles",
        "dataset/playback-events-clean", "dataset/playback-events-raw",
        "run/playback-etl-2026-11-26", "workflow/playback-etl",
        "model/content-embedding/v1", "model/content-embedding", "dataset/title-metadata",
    }),
    "downstream": ({"asset": "dataset/legacy-ratings"}, "downstream", {
        "dataset/ranking-training-set", "model/home-ranking/v1", "model/home-ranking/v2",
        "model/home-ranking/v3", "model/home-ranking/v4", "run/home-ranking-v3-training",
        "run/home-ranking-v4-training", "evaluation/home-ranking-v2",
        "evaluation/home-ranking-v3", "evaluation/home-ranking-v4", "service/homepage",
        "service/homepage-canary", "experiment/home-ranking-v4-ab",
    }),
    "unowned-assets": ({}, "asset", {"dataset/search-queries-raw"}),
    "production-without-evaluation": ({}, "version", {
        "model/artwork-personalization/v1", "model/content-embedding/v1",
    }),
    "experiments-running-model": ({"model": "model/home-ranking"}, "experiment", {
        "experiment/home-ranking-v4-ab",
    }),
    "experiments-running-model#version": ({"model": "model/artwork-personalization/v1"},
        "experiment", {"experiment/artwork-2026q3"}),
    "services-using-dataset": ({"dataset": "dataset/legacy-ratings"}, "service", {
        "service/homepage", "service/homepage-canary",
    }),
    "team-assets": ({"team": "team/experimentation"}, "asset", {
        "experiment/home-ranking-v4-ab", "experiment/ads-ctr-v2-ab", "experiment/artwork-2026q3",
    }),
}  # fmt: skip


def test_every_named_query_is_tested() -> None:
    tested = {name.split("#")[0] for name in EXPECTED}
    assert set(catalog.catalogue()) == {*tested, "most-reused-features"}


def test_headers_have_summaries_and_parameters() -> None:
    for query in catalog.catalogue().values():
        assert query.summary, query.name
    upstream = catalog.named_query("upstream")
    assert [(p.name, p.kind, p.required) for p in upstream.parameters] == [("asset", "iri", True)]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_query_answers(demo: KnowledgeGraph, name: str) -> None:
    params, column, expected = EXPECTED[name]
    result = demo.named_query(name.split("#")[0], params)
    assert isinstance(result, ox.QuerySolutions)
    found = {demo.short(row[column].value) for row in result}
    assert found == expected


def test_most_reused_features(demo: KnowledgeGraph) -> None:
    result = demo.named_query("most-reused-features", {})
    assert isinstance(result, ox.QuerySolutions)
    rows = [(demo.short(r["feature"].value), int(r["versions"].value)) for r in result]
    assert rows[:3] == [
        ("feature/member-genre-affinity", 4),
        ("feature/title-popularity-7d", 4),
        ("feature/title-genre", 3),
    ]
    assert len(rows) == 9


def test_parameters_are_bound_not_pasted(demo: KnowledgeGraph) -> None:
    # a value that would break (or inject into) a query pasted as text is just an odd IRI here
    result = demo.named_query("upstream", {"asset": "x> } ; DROP ALL ; #"})
    assert list(result) == []  # type: ignore[arg-type]
    assert demo.store.size() > 1000


def test_parameter_errors() -> None:
    query = catalog.named_query("upstream")
    with pytest.raises(InputError, match="needs the parameter 'asset'"):
        query.bind({}, "https://x/")
    with pytest.raises(InputError, match="has no parameter 'nope'"):
        query.bind({"asset": "a", "nope": "b"}, "https://x/")
    with pytest.raises(NotFoundError, match="no named query"):
        catalog.named_query("nope")


def test_shapes_pass_shacl_shacl() -> None:
    shapes = Graph()
    for path in resources.files("shapes", "*.ttl"):
        shapes.parse(path, format="turtle")
    conforms, _, text = validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, text
