"""Every named query parses its header, binds its parameters and gives the known answer on the
demo, and on a generated graph the same answer as an independent computation (kg's lineage
index, or the triples read in Python)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyoxigraph as ox
import pytest
from pyshacl import validate
from rdflib import Graph

from bench.generate import BASE, generate
from kg import catalog, resources
from kg.errors import InputError, NotFoundError
from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction
from kg.vocab import (
    MEMBER_OF,
    MLG,
    OWL,
    OWNER,
    RDF_TYPE,
    RDFS,
    RDFS_LABEL,
    STAGE,
    STATUS,
    mlg,
    value,
)
from tests.conftest import settings

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


# -- every query against an independent answer, on a generated graph

# Declared equivalences on top of the generated graph: an alias of a dataset upstream of the
# deepest version (so upstream must cross owl:sameAs), and an alias of the root dataset that a
# new model version is trained on, deployed by a production service and tested by an experiment
# (so downstream, services-using-dataset and experiments-running-model cross it too); and an
# unowned feature set (also a dataset: listed once, by its most specific type).
EXTRA = """
<{b}dataset/alias-up> a <{m}Dataset> ; <{r}label> "Alias up" ; <{m}owner> <{b}team/t0> ;
  <{o}sameAs> <{b}{up}> ; <{m}derivedFrom> <{b}dataset/d1> .
<{b}dataset/alias-down> a <{m}Dataset> ; <{r}label> "Alias down" ; <{o}sameAs> <{b}dataset/d0> .
<{b}model/alias-model> a <{m}Model> ; <{r}label> "Alias model" ; <{m}owner> <{b}team/t1> .
<{b}model/alias-model/v1> a <{m}ModelVersion> ; <{r}label> "Alias model v1" ;
  <{m}versionOf> <{b}model/alias-model> ; <{m}trainedOn> <{b}dataset/alias-down> ;
  <{m}stage> <{m}Production> ; <{m}owner> <{b}person/p1> .
<{b}service/alias-service> a <{m}Service> ; <{r}label> "Alias service" ;
  <{m}deploys> <{b}model/alias-model/v1> ; <{m}stage> <{m}Production> ; <{m}owner> <{b}team/t1> .
<{b}experiment/alias-test> a <{m}Experiment> ; <{m}tests> <{b}model/alias-model/v1> .
<{b}featureset/unowned> a <{m}FeatureSet> ; <{r}label> "Unowned features" ;
  <{m}derivedFrom> <{b}dataset/alias-down> .
"""

Row = tuple[str | None, ...]


@pytest.fixture(scope="module")
def generated() -> Iterator[tuple[KnowledgeGraph, dict[str, str]]]:
    """A 1k-asset generated graph with the EXTRA triples, and the assets the cases pick by role."""
    lines, info = generate(1000)
    graph = KnowledgeGraph.open(settings())
    graph.load([Document("generated.nt", ("\n".join(lines) + "\n").encode())])
    up = next(  # a dataset the deepest version depends on
        n.id.removeprefix(BASE)
        for n in graph.lineage(info.deepest_version).nodes
        if n.id.removeprefix(BASE).startswith("dataset/")
    )
    extra = EXTRA.format(b=BASE, m=MLG, r=RDFS, o=OWL, up=up)
    graph.load([Document("extra.ttl", extra.encode())])
    source = _objects(graph, BASE + "featureset/fs0", mlg("derivedFrom"))[0]
    yield graph, {"deepest": info.deepest_version, "fs0-source": source.removeprefix(BASE)}
    graph.close()


def _objects(graph: KnowledgeGraph, subject: str, predicate: ox.NamedNode) -> list[str]:
    return sorted(
        value(t.object) for t in graph.store.triples(ox.NamedNode(subject), predicate, None)
    )


def _subjects(graph: KnowledgeGraph, predicate: ox.NamedNode, obj: str) -> list[str]:
    return sorted(value(t.subject) for t in graph.store.triples(None, predicate, ox.NamedNode(obj)))


def _label(graph: KnowledgeGraph, node: str) -> str | None:
    return next(iter(_objects(graph, node, RDFS_LABEL)), None)


def _type(graph: KnowledgeGraph, node: str) -> str | None:
    return graph.ontology.specific_type(_objects(graph, node, RDF_TYPE))


def _lineage_rows(graph: KnowledgeGraph, asset: str, direction: Direction) -> list[Row]:
    """kg's lineage index: every node but the asset, with its type and label."""
    nodes = graph.lineage(asset, direction).nodes
    return sorted(
        (graph.iri(asset), n.id, n.type, n.label) for n in nodes if n.id != graph.iri(asset)
    )


def _services(graph: KnowledgeGraph, dataset: str) -> list[Row]:
    """kg's impact report: the services among everything downstream, one row per owner."""
    iri = graph.iri(dataset)
    return sorted(
        (iri, s.id, s.label, s.stage, owner)
        for s in graph.impact(dataset).services
        for owner in (s.owners or [None])
    )


def _experiments(graph: KnowledgeGraph, model: str) -> list[Row]:
    iri = graph.iri(model)
    versions = _subjects(graph, mlg("versionOf"), iri)
    if MLG + "ModelVersion" in _objects(graph, iri, RDF_TYPE):
        versions.append(iri)
    rows = {
        (iri, x, _label(graph, x), v, next(iter(_objects(graph, x, STATUS)), None))
        for v in versions
        for x in _subjects(graph, mlg("tests"), v)
    }
    return sorted(rows, key=lambda r: (r[1], r[3]))


def _team_assets(graph: KnowledgeGraph, team: str) -> list[Row]:
    iri = graph.iri(team)
    rows = {
        (iri, a, _type(graph, a), _label(graph, a), owner)
        for owner in [iri, *_subjects(graph, MEMBER_OF, iri)]
        for a in _subjects(graph, OWNER, owner)
        if _type(graph, a) is not None
    }
    return sorted(rows, key=lambda r: (r[2] or "", r[1]))


def _unowned(graph: KnowledgeGraph) -> list[Row]:
    rows = [
        (a, _type(graph, a), _label(graph, a))
        for a in _subjects(graph, RDF_TYPE, MLG + "Asset")
        if not _objects(graph, a, OWNER) and _type(graph, a) not in (None, MLG + "Asset")
    ]
    return sorted(rows, key=lambda r: (r[1] or "", r[0]))


def _production_without_evaluation(graph: KnowledgeGraph) -> list[Row]:
    production = _subjects(graph, STAGE, MLG + "Production")
    candidates = {*production, *(v for s in production for v in _objects(graph, s, mlg("deploys")))}
    return sorted(
        (v, _label(graph, v), owner)
        for v in candidates
        if MLG + "ModelVersion" in _objects(graph, v, RDF_TYPE)
        and not _subjects(graph, mlg("evaluates"), v)
        for owner in _objects(graph, v, OWNER) or [None]
    )


def _most_reused_features(graph: KnowledgeGraph) -> list[Row]:
    uses: dict[str, set[str]] = {}
    for t in graph.store.triples(None, mlg("usesFeature"), None):
        uses.setdefault(value(t.object), set()).add(value(t.subject))
    counts = [
        (f, len(vs), len({m for v in vs for m in _objects(graph, v, mlg("versionOf"))}))
        for f, vs in uses.items()
    ]
    counts.sort(key=lambda c: (-c[1], -c[2], c[0]))
    return [(f, _label(graph, f), str(n), str(m)) for f, n, m in counts[:20]]


def _every(row: Row) -> tuple[str, ...]:
    return tuple(x or "" for x in row)


def _rows(result: object) -> list[Row]:
    assert isinstance(result, ox.QuerySolutions)
    return [tuple(None if t is None else t.value for t in row) for row in result]


DEEPEST = "deepest"  # the generated graph's deepest model version
FS0_SOURCE = "fs0-source"  # the dataset the first feature set is derived from
Key = Callable[[Row], tuple[object, ...]]


def _upstream(g: KnowledgeGraph, p: dict[str, str]) -> list[Row]:
    return _lineage_rows(g, p["asset"], Direction.UPSTREAM)


def _downstream(g: KnowledgeGraph, p: dict[str, str]) -> list[Row]:
    return _lineage_rows(g, p["asset"], Direction.DOWNSTREAM)


# query, parameters, the independent answer, and the order its ORDER BY gives (None: unordered)
REFERENCES: list[tuple[str, dict[str, str], Callable[[KnowledgeGraph, dict[str, str]], list[Row]], Key | None]] = [
    ("upstream", {"asset": DEEPEST}, _upstream, None),
    ("upstream", {"asset": "dataset/alias-up"}, _upstream, None),
    ("upstream", {"asset": "service/alias-service"}, _upstream, None),
    ("upstream", {"asset": "dataset/d0"}, _upstream, None),
    ("downstream", {"asset": "dataset/d0"}, _downstream, None),
    ("downstream", {"asset": "dataset/d3"}, _downstream, None),
    ("downstream", {"asset": FS0_SOURCE}, _downstream, None),
    ("downstream", {"asset": "featureset/fs0"}, _downstream, None),
    ("downstream", {"asset": DEEPEST}, _downstream, None),
    ("services-using-dataset", {"dataset": "dataset/d0"}, lambda g, p: _services(g, p["dataset"]), lambda r: (r[1],)),
    ("services-using-dataset", {"dataset": "dataset/d3"}, lambda g, p: _services(g, p["dataset"]), lambda r: (r[1],)),
    ("services-using-dataset", {"dataset": "dataset/alias-down"}, lambda g, p: _services(g, p["dataset"]), lambda r: (r[1],)),
    ("experiments-running-model", {"model": "model/m0"}, lambda g, p: _experiments(g, p["model"]), lambda r: (r[1], r[3])),
    ("experiments-running-model", {"model": "model/alias-model"}, lambda g, p: _experiments(g, p["model"]), lambda r: (r[1], r[3])),
    ("experiments-running-model", {"model": "model/alias-model/v1"}, lambda g, p: _experiments(g, p["model"]), lambda r: (r[1], r[3])),
    ("team-assets", {"team": "team/t0"}, lambda g, p: _team_assets(g, p["team"]), lambda r: (r[2], r[1])),
    ("team-assets", {"team": "team/t1"}, lambda g, p: _team_assets(g, p["team"]), lambda r: (r[2], r[1])),
    ("unowned-assets", {}, lambda g, p: _unowned(g), lambda r: (r[1], r[0])),
    ("production-without-evaluation", {}, lambda g, p: _production_without_evaluation(g), None),
    ("most-reused-features", {}, lambda g, p: _most_reused_features(g), lambda r: (-int(r[2] or 0), -int(r[3] or 0), r[0])),
]  # fmt: skip


def test_every_named_query_has_a_reference() -> None:
    assert {name for name, *_ in REFERENCES} == set(catalog.catalogue())


@pytest.mark.parametrize(
    ("name", "params", "reference", "order"),
    REFERENCES,
    ids=[f"{name}-{'-'.join(p.values()) or 'all'}" for name, p, *_ in REFERENCES],
)
def test_named_query_equals_an_independent_answer(
    generated: tuple[KnowledgeGraph, dict[str, str]],
    name: str,
    params: dict[str, str],
    reference: Callable[[KnowledgeGraph, dict[str, str]], list[Row]],
    order: Key | None,
) -> None:
    graph, picked = generated
    params = {k: picked.get(v, v) for k, v in params.items()}
    found = _rows(graph.named_query(name, params))
    expected = reference(graph, params)
    assert expected, "the case checks something"
    assert len(found) == len(set(found)), "no row twice"
    assert sorted(found, key=_every) == sorted(expected, key=_every)
    if order is not None:  # in the order of the query's ORDER BY (sorted() is stable)
        assert found == sorted(found, key=order)
