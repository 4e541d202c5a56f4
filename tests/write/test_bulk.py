"""The bulk path (kg.write.bulk) leaves the store, the lineage index and the search index as
the write pipeline would, refuses what the pipeline refuses (naming the line), and a refused
bulk load leaves the store as it was."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import InputError
from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction
from tests.conftest import BASE, settings, snapshot

pytestmark = pytest.mark.embedded_only("the bulk path loads into the embedded store on disk")

MLG = "https://w3id.org/mlg#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DQV = "http://www.w3.org/ns/dqv#"


def _i(local: str) -> str:
    return f"<{BASE}{local}>"


def _m(term: str) -> str:
    return f"<{MLG}{term}>"


# Every kind of line the pipeline treats specially: super-classes and super-properties derived,
# owl:sameAs both ways, blank nodes hanging off an asset (two levels), escapes and languages in
# literals, a typed literal, an ill-typed one (kept, with a warning), comments, blank lines and a
# line that is not in canonical form (tabs), an edge to an asset not described.
GRAPH = "\n".join(
    [
        "# a comment line",
        f"{_i('team/a')} <{RDF}type> {_m('Team')} .",
        f'{_i("team/a")} <{RDFS}label> "Team A" .',
        f"{_i('dataset/raw')} <{RDF}type> {_m('Dataset')} .",
        f'{_i("dataset/raw")} <{RDFS}label> "Raw \\"events\\" caf\\u00E9" .',
        f'{_i("dataset/raw")} <http://purl.org/dc/terms/description> "événements bruts"@fr .',
        f'{_i("dataset/raw")} <http://www.w3.org/ns/dcat#keyword> "events" .',
        f"{_i('dataset/raw')} {_m('owner')} {_i('team/a')} .",
        f"{_i('dataset/raw')} {_m('status')} {_m('Deprecated')} .",
        "",
        f"{_i('dataset/clean')}\t<{RDF}type>\t{_m('Dataset')} .",
        f"{_i('dataset/clean')} {_m('derivedFrom')} {_i('dataset/raw')} .",
        f"{_i('dataset/clean')} {_m('derivedFrom')} {_i('dataset/missing')} .",
        f"{_i('dataset/clean')} <http://www.w3.org/2002/07/owl#sameAs> {_i('dataset/clean-copy')} .",
        f"{_i('features/f')} <{RDF}type> {_m('FeatureSet')} .",
        f"{_i('features/f')} {_m('derivedFrom')} {_i('dataset/clean')} .",
        f"{_i('model/m')} <{RDF}type> {_m('Model')} .",
        f"{_i('model/m/v1')} <{RDF}type> {_m('ModelVersion')} .",
        f"{_i('model/m/v1')} {_m('versionOf')} {_i('model/m')} .",
        f"{_i('model/m/v1')} {_m('trainedOn')} {_i('features/f')} .",
        f'{_i("model/m/v1")} <{RDFS}label> "v1" .',
        f"{_i('model/m/v1')} {_m('metric')} _:m1 .",
        f"_:m1 <{DQV}isMeasurementOf> {_i('metric/auc')} .",
        f'_:m1 <{DQV}value> "0.91"^^<http://www.w3.org/2001/XMLSchema#double> .',
        f"_:m1 <{RDFS}seeAlso> _:m2 .",
        f'_:m2 <{RDFS}label> "nested" .',
        f'{_i("model/m/v1")} <{RDFS}comment> "abc"^^<http://www.w3.org/2001/XMLSchema#integer> .',
        f"{_i('service/s')} <{RDF}type> {_m('Service')} .",
        f"{_i('service/s')} {_m('deploys')} {_i('model/m/v1')} .",
        f"{_i('service/s')} {_m('stage')} {_m('Production')} .",
        "",
    ]
)


def _open(folder: Path, name: str) -> KnowledgeGraph:
    return KnowledgeGraph.open(settings(memory=False, store=folder / name))


def _write(folder: Path, text: str, name: str = "input.nt") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _data(graph: KnowledgeGraph) -> list[str]:
    """The data and derived graphs, blank nodes canonicalized."""
    kept = ("urn:kg:graph:asset:", "urn:kg:graph:derived:", "urn:kg:graph:inferred:")
    dataset = ox.Dataset(
        q
        for q in graph.store.quads(None, None, None)
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(kept)
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in dataset)


def _attributes(graph: KnowledgeGraph) -> dict[str, tuple[object, ...]]:
    index = graph.lineage_index
    found = {}
    for node in range(index.size()):
        a = index.attributes(node)
        if a is not None:
            found[index.name(node)] = (sorted(a.types), a.label, a.owners, a.status, a.stage)
    return found


@pytest.fixture
def pair(tmp_path: Path) -> tuple[KnowledgeGraph, KnowledgeGraph]:
    """The same input loaded by the pipeline and by the bulk path."""
    source = _write(tmp_path, GRAPH)
    piped = _open(tmp_path, "piped")
    piped.load([Document(source.name, source.read_bytes())])
    bulked = _open(tmp_path, "bulked")
    report = bulked.bulk_load(source)
    assert report.assets == 7
    yield piped, bulked
    piped.close()
    bulked.close()


def test_the_store_is_the_pipelines(pair: tuple[KnowledgeGraph, KnowledgeGraph]) -> None:
    piped, bulked = pair
    assert _data(bulked) == _data(piped)
    assert len(_data(bulked)) > 40


def test_the_indexes_are_the_pipelines(pair: tuple[KnowledgeGraph, KnowledgeGraph]) -> None:
    piped, bulked = pair
    assert bulked.lineage_index.edges() == piped.lineage_index.edges()
    assert _attributes(bulked) == _attributes(piped)
    for words in ["events", "café", "v1", "team", "nested"]:
        a, b = piped.search(words, limit=100), bulked.search(words, limit=100)
        assert (b.total, b.facets) == (a.total, a.facets), words
        assert sorted(h.id for h in b.hits) == sorted(h.id for h in a.hits), words
    version = BASE + "model/m/v1"
    for direction in Direction:
        assert bulked.lineage(version, direction) == piped.lineage(version, direction)
    assert bulked.impact(BASE + "dataset/raw") == piped.impact(BASE + "dataset/raw")


def test_the_report_and_the_change_log(tmp_path: Path) -> None:
    source = _write(tmp_path, GRAPH)
    graph = _open(tmp_path, "kg")
    report = graph.bulk_load(source)
    assert report.position == 1
    assert report.triples == len([line for line in GRAPH.splitlines() if line and line[0] != "#"])
    assert [r.target for r in report.unresolved] == [BASE + "dataset/missing"]
    assert any("ill-typed" in w for w in report.warnings)
    changes = graph.changes()
    assert {c.subject for c in changes.changes} >= {BASE + "dataset/raw", BASE + "service/s"}
    # a write after it goes through the pipeline as ever, and the indexes stay in step
    graph.load([Document("more.nt", f"{_i('dataset/x')} <{RDF}type> {_m('Dataset')} .\n".encode())])
    graph.close()
    again = _open(tmp_path, "kg")
    rebuilt = _open(tmp_path, "fresh")
    rebuilt.load([Document(source.name, source.read_bytes())])
    assert again.lineage_index.edges() == rebuilt.lineage_index.edges()
    assert again.search("events").total == rebuilt.search("events").total == 1
    again.close()
    rebuilt.close()


def test_turtle_is_read_through_oxigraph(tmp_path: Path) -> None:
    text = (
        f"@prefix mlg: <{MLG}> . @prefix id: <{BASE}> .\n"
        'id:dataset\\/a a mlg:Dataset ; <http://www.w3.org/2000/01/rdf-schema#label> "A" .\n'
        "id:dataset\\/b a mlg:Dataset ; mlg:derivedFrom id:dataset\\/a .\n"
    )
    source = _write(tmp_path, text, "input.ttl")
    graph = _open(tmp_path, "kg")
    report = graph.bulk_load(source, ox.RdfFormat.TURTLE)
    assert report.assets == 2
    answer = graph.lineage(BASE + "dataset/b")
    assert {n.id for n in answer.nodes} == {BASE + "dataset/a", BASE + "dataset/b"}
    graph.close()


_OK = f"{_i('dataset/ok')} <{RDF}type> {_m('Dataset')} .\n"
REFUSED = [
    # (the offending line, what the message says, its line number in the file)
    (f"{_i('dataset/a')} {_m('noSuchProperty')} {_i('dataset/b')} .", "unknown property", 2),
    (f"{_i('dataset/a')} <{RDF}type> {_m('NoSuchClass')} .", "unknown asset type", 2),
    (f'{_i("dataset/a")} {_m("derivedFrom")} "a literal" .', "must point at an asset", 2),
    (f'{_i("dataset/a")} {_m("metric")} _:loose .\n_:other <{RDFS}label> "x" .', "blank node", 3),
    (f"{_i('service/s')} {_m('deploys')} {_i('dataset/ok')} .", "expects mlg:ModelVersion", 2),
    (f'{_i("dataset/a")} <{RDFS}label> "never closed .', "not valid N-Triples", 2),
    (f"{_i('dataset/a')} <{RDFS}label> <relative> .", "not valid N-Triples", 2),
]


@pytest.mark.parametrize(("line", "message", "number"), REFUSED)
def test_refused_naming_the_line_and_nothing_changes(
    tmp_path: Path, line: str, message: str, number: int
) -> None:
    graph = _open(tmp_path, "kg")
    graph.load(
        [Document("before.nt", f"{_i('dataset/before')} <{RDF}type> {_m('Dataset')} .\n".encode())]
    )
    before = snapshot(graph)
    edges = graph.lineage_index.edges()
    position = graph.position
    with pytest.raises(InputError) as refused:
        graph.bulk_load(_write(tmp_path, _OK + line + "\n"))
    assert message in str(refused.value)
    assert refused.value.line == number
    assert snapshot(graph) == before
    assert graph.lineage_index.edges() == edges
    assert graph.position == position
    assert graph.search("ok").total == 0
    graph.close()


def test_assets_already_in_the_store_are_refused(tmp_path: Path) -> None:
    graph = _open(tmp_path, "kg")
    graph.load([Document("first.nt", _OK.encode())])
    before = snapshot(graph)
    with pytest.raises(InputError, match="already in the store"):
        graph.bulk_load(_write(tmp_path, _OK))
    assert snapshot(graph) == before
    graph.close()


def test_quads_and_stores_elsewhere_are_refused(tmp_path: Path) -> None:
    graph = _open(tmp_path, "kg")
    with pytest.raises(InputError, match="named graphs of its own"):
        graph.bulk_load(_write(tmp_path, _OK, "input.nq"), ox.RdfFormat.N_QUADS)
    graph.close()
    memory = KnowledgeGraph.open(settings())
    with pytest.raises(InputError, match="embedded store on disk"):
        memory.bulk_load(_write(tmp_path, _OK))
    memory.close()


def test_kg_load_bulk(tmp_path: Path) -> None:
    from tests.test_cli import run

    source = _write(tmp_path, GRAPH)
    store = str(tmp_path / "kg")
    code, out = run("load", "--bulk", "--store", store, str(source))
    assert code == 0, out
    assert "loaded 7 assets" in out and "by the bulk path" in out
    code, out = run("lineage", "--store", store, "model/m/v1", "--format", "json")
    assert code == 0 and BASE + "dataset/raw" in out
    code, out = run("load", "--bulk", "--store", store, str(source))
    assert code == 1 and "already in the store" in out
    code, out = run("load", "--bulk", "--store", store, str(source), str(source))
    assert code == 2 and "one file at a time" in out
