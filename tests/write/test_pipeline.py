from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.errors import InputError, KGError
from kg.governance.gate import GateError, GateMode
from kg.graph import Document, KnowledgeGraph
from kg.graphs import is_data_graph
from kg.write import pipeline
from kg.write.pipeline import STAGES, Stage
from kg.write.records import LoadReport
from tests.conftest import iri, load_text, snapshot

MLG = "https://w3id.org/mlg#"
DEPENDS_ON = ox.NamedNode(MLG + "dependsOn")

TURTLE = """@prefix mlg: <https://w3id.org/mlg#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix id: <https://w3id.org/mlg/id/> .
id:v1 a mlg:ModelVersion ; rdfs:label "v1" ; mlg:trainedOn id:raw .
id:raw a mlg:Dataset ; rdfs:label "raw" .
"""
NTRIPLES = """<https://w3id.org/mlg/id/v1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/mlg#ModelVersion> .
<https://w3id.org/mlg/id/v1> <http://www.w3.org/2000/01/rdf-schema#label> "v1" .
<https://w3id.org/mlg/id/v1> <https://w3id.org/mlg#trainedOn> <https://w3id.org/mlg/id/raw> .
<https://w3id.org/mlg/id/raw> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/mlg#Dataset> .
<https://w3id.org/mlg/id/raw> <http://www.w3.org/2000/01/rdf-schema#label> "raw" .
"""
JSONLD = """{"@context": {"mlg": "https://w3id.org/mlg#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
  "@base": "https://w3id.org/mlg/id/"},
 "@graph": [
  {"@id": "v1", "@type": "mlg:ModelVersion", "rdfs:label": "v1", "mlg:trainedOn": {"@id": "raw"}},
  {"@id": "raw", "@type": "mlg:Dataset", "rdfs:label": "raw"}]}
"""
RDFXML = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xmlns:mlg="https://w3id.org/mlg#">
  <mlg:ModelVersion rdf:about="https://w3id.org/mlg/id/v1">
    <rdfs:label>v1</rdfs:label>
    <mlg:trainedOn rdf:resource="https://w3id.org/mlg/id/raw"/>
  </mlg:ModelVersion>
  <mlg:Dataset rdf:about="https://w3id.org/mlg/id/raw"><rdfs:label>raw</rdfs:label></mlg:Dataset>
</rdf:RDF>
"""
NATIVE = """assets:
  - {id: v1, type: ModelVersion, name: v1, trainedOn: raw}
  - {id: raw, type: Dataset, name: raw}
"""

SAME_GRAPH_IN_EVERY_FORMAT = [
    ("model.ttl", TURTLE, None),
    ("model.nt", NTRIPLES, None),
    ("model.nq", NTRIPLES, None),
    ("model.trig", TURTLE, None),
    ("model.jsonld", JSONLD, None),
    ("model.json", JSONLD, None),
    ("model.rdf", RDFXML, None),
    ("model.yaml", NATIVE, None),
    ("request", TURTLE, "text/turtle"),
    ("request", JSONLD, "application/ld+json"),
    ("request", NATIVE, "application/yaml"),
    (
        "request",
        '{"assets": [{"id": "v1", "type": "ModelVersion", "name": "v1", "trainedOn": "raw"},'
        '{"id": "raw", "type": "Dataset", "name": "raw"}]}',
        "application/json",
    ),
]


@pytest.mark.parametrize(("name", "text", "media_type"), SAME_GRAPH_IN_EVERY_FORMAT)
def test_every_format_gives_the_same_graph(
    graph: KnowledgeGraph, name: str, text: str, media_type: str | None
) -> None:
    reference = KnowledgeGraph.open(graph.settings)
    reference.load([Document("model.ttl", TURTLE.encode())])
    graph.load([Document(name, text.encode(), media_type)])
    assert snapshot(graph) == snapshot(reference)
    reference.close()


def test_one_graph_per_asset_and_derived_edges(graph: KnowledgeGraph) -> None:
    report = load_text(graph, NATIVE)
    assert isinstance(report, LoadReport)
    assert report.assets == 2
    v1 = ox.NamedNode(iri("v1"))
    assert set(graph.store.graph(ox.NamedNode("urn:kg:graph:asset:" + v1.value))) >= {
        ox.Triple(v1, ox.NamedNode(MLG + "trainedOn"), ox.NamedNode(iri("raw")))
    }
    derived = graph.store.graph(ox.NamedNode("urn:kg:graph:derived:urn:kg:graph:asset:" + v1.value))
    assert ox.Triple(v1, DEPENDS_ON, ox.NamedNode(iri("raw"))) in derived
    # super-classes are materialized too
    assert (
        ox.Triple(
            v1,
            ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode(MLG + "Asset"),
        )
        in derived
    )
    ask = graph.query(
        "ASK { <https://w3id.org/mlg/id/v1> <https://w3id.org/mlg#dependsOn>+ "
        "<https://w3id.org/mlg/id/raw> }"
    )
    assert bool(ask)


def test_loading_twice_changes_nothing_but_the_load_records(graph: KnowledgeGraph) -> None:
    load_text(graph, NATIVE)
    first = snapshot(graph)
    load_text(graph, NATIVE)
    assert snapshot(graph) == first
    loads = graph.query("SELECT ?l WHERE { ?l a <https://w3id.org/mlg#Load> }")
    assert len(list(loads)) == 2  # type: ignore[arg-type]


def test_blank_nodes_do_not_pile_up_on_reload(graph: KnowledgeGraph) -> None:
    text = "- {id: e, type: Evaluation, evaluates: v1, metrics: {auc: 0.9}}\n"
    load_text(graph, text)
    size = _data_size(graph)
    load_text(graph, text)
    assert _data_size(graph) == size  # the old blank nodes went with their graph


def _data_size(graph: KnowledgeGraph) -> int:
    return sum(n for g, n in graph.store.graph_sizes().items() if is_data_graph(ox.NamedNode(g)))


def test_reload_removes_stale_edges_and_their_derived_triples(graph: KnowledgeGraph) -> None:
    load_text(graph, "- {id: v1, type: ModelVersion, trainedOn: [a, b]}\n")
    load_text(graph, "- {id: v1, type: ModelVersion, trainedOn: [a]}\n")
    v1 = ox.NamedNode(iri("v1"))
    targets = {
        t.object
        for t in graph.store.triples(v1, None, None)
        if t.predicate != ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    }
    assert ox.NamedNode(iri("b")) not in targets
    assert ox.NamedNode(iri("a")) in targets
    assert not list(graph.store.triples(v1, DEPENDS_ON, ox.NamedNode(iri("b"))))


def test_unresolved_references_are_kept_and_reported(graph: KnowledgeGraph) -> None:
    report = load_text(graph, "- {id: v1, type: ModelVersion, trainedOn: later, owner: team/x}\n")
    assert isinstance(report, LoadReport)
    assert {(r.predicate, r.target) for r in report.unresolved} == {
        (MLG + "trainedOn", iri("later")),
        (MLG + "owner", iri("team/x")),
    }
    assert list(
        graph.store.triples(ox.NamedNode(iri("v1")), DEPENDS_ON, ox.NamedNode(iri("later")))
    )
    report = load_text(graph, "- {id: later, type: Dataset}\n- {id: team/x, type: Team}\n")
    assert isinstance(report, LoadReport)
    assert report.unresolved == []
    lineage = graph.lineage("v1")
    assert [n.resolved for n in lineage.nodes] == [True, True]


def test_named_graphs_of_trig_input_are_kept_and_replaced_whole(graph: KnowledgeGraph) -> None:
    trig = (
        "@prefix mlg: <https://w3id.org/mlg#> . @prefix id: <https://w3id.org/mlg/id/> .\n"
        "<urn:batch:1> { id:a a mlg:Dataset . id:b a mlg:Dataset ; mlg:derivedFrom id:a . }\n"
    )
    graph.load([Document("batch.trig", trig.encode())])
    assert len(graph.store.graph(ox.NamedNode("urn:batch:1"))) == 3
    graph.load([Document("batch.trig", trig.replace(" ; mlg:derivedFrom id:a", "").encode())])
    assert len(graph.store.graph(ox.NamedNode("urn:batch:1"))) == 2
    assert not list(graph.store.triples(ox.NamedNode(iri("b")), DEPENDS_ON, None))


BAD_INPUTS = [
    ("bad.ttl", "@prefix mlg: <https://w3id.org/mlg#> .\n<a> a mlg:Dataset .\n<b> a \"unterminated .\n", 3, "syntax error"),
    ("bad.nt", "<https://x/a> <https://x/p> .\n", 1, "syntax error"),
    ("bad.jsonld", '{"@context": {}, "@id": 3}', None, "syntax error"),
    ("bad.rdf", "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n<oops\n", None, "syntax error"),  # the RDF/XML parser gives no position
    ("type.ttl", "@prefix mlg: <https://w3id.org/mlg#> .\n<https://x/a> a mlg:Datset .\n", 2, "unknown asset type mlg:Datset"),
    ("literal.ttl", '@prefix mlg: <https://w3id.org/mlg#> .\n<https://x/a> a mlg:ModelVersion ;\n  mlg:trainedOn "raw-data" .\n', 3, "must point at an asset"),
    ("prop.ttl", "@prefix mlg: <https://w3id.org/mlg#> .\n<https://x/a> mlg:trainedFrom <https://x/b> .\n", 2, "unknown property mlg:trainedFrom"),
    ("value.ttl", "@prefix mlg: <https://w3id.org/mlg#> .\n<https://x/a> mlg:status mlg:Live .\n", 2, "unknown term mlg:Live"),
    ("datatype.ttl", "@prefix mlg: <https://w3id.org/mlg#> .\n<https://x/a> mlg:email <mailto:a@b> .\n", 2, "takes a literal"),
    ("bnode.ttl", '[] <http://www.w3.org/2000/01/rdf-schema#label> "orphan" .\n', 1, "not attached to any asset"),
    ("bad.yaml", "- {id: a, type: Dataset, derivedFrom: 3}\n", 1, "not the literal 3"),
    ("latin1.ttl", '<https://x/a> <https://x/p> "caf\xe9" .\n', 1, "UTF-8"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "line", "message"), BAD_INPUTS)
def test_bad_input_names_file_line_problem_and_changes_nothing(
    demo: KnowledgeGraph, name: str, text: str, line: int | None, message: str
) -> None:
    before = snapshot(demo)
    data = text.encode("latin-1") if name == "latin1.ttl" else text.encode()
    good = Document("good.yaml", b"- {id: fresh, type: Dataset}\n")
    with pytest.raises(InputError) as caught:
        demo.load([good, Document(name, data)])
    assert caught.value.source == name
    assert caught.value.line == line
    assert message in caught.value.message
    assert snapshot(demo) == before


def test_unsupported_media_type_is_refused(graph: KnowledgeGraph) -> None:
    with pytest.raises(InputError, match="unsupported media type"):
        graph.load([Document("request", b"x", "image/png")])


# -- ranges: an edge's target must be of the class the ontology gives the property

WRONG_RANGE_IN_THE_WRITE = """@prefix mlg: <https://w3id.org/mlg#> .
@prefix id: <https://w3id.org/mlg/id/> .
id:svc a mlg:Service .
id:raw a mlg:Dataset .
id:svc mlg:deploys id:raw .
"""


def test_an_edge_to_a_target_of_the_wrong_type_in_the_write_is_refused(
    graph: KnowledgeGraph,
) -> None:
    with pytest.raises(InputError) as caught:
        graph.load([Document("deploy.ttl", WRONG_RANGE_IN_THE_WRITE.encode())])
    assert (caught.value.source, caught.value.line) == ("deploy.ttl", 5)
    message = caught.value.message
    assert iri("svc") in message and iri("raw") in message
    assert "mlg:deploys expects mlg:ModelVersion" in message
    assert "is mlg:Dataset" in message
    assert not list(graph.store.triples(ox.NamedNode(iri("svc")), None, None))


def test_an_edge_to_a_stored_target_of_the_wrong_type_is_refused(demo: KnowledgeGraph) -> None:
    before = snapshot(demo)
    text = "- {id: service/x, type: Service, deploys: dataset/legacy-ratings}\n"
    with pytest.raises(InputError) as caught:
        load_text(demo, text, "deploy.yaml")
    assert (caught.value.source, caught.value.line) == ("deploy.yaml", 1)
    assert "mlg:deploys expects mlg:ModelVersion" in caught.value.message
    assert f"{iri('dataset/legacy-ratings')} is mlg:Dataset" in caught.value.message
    assert snapshot(demo) == before


@pytest.mark.parametrize(
    "text",
    [
        # a subclass of the range: a feature set is a dataset, a team an agent
        "- {id: v9, type: ModelVersion, trainedOn: featureset/f, owner: team/t}\n"
        "- {id: featureset/f, type: FeatureSet}\n- {id: team/t, type: Team}\n",
        # a target typed in the store, of the range
        "- {id: service/y, type: Service, deploys: model/home-ranking/v3}\n",
        # an untyped target: an unresolved reference, kept
        "- {id: service/z, type: Service, deploys: model/not-loaded-yet}\n",
    ],
)
def test_edges_within_the_range_or_unresolved_are_kept(demo: KnowledgeGraph, text: str) -> None:
    report = load_text(demo, text)
    assert isinstance(report, LoadReport)


def test_a_retyped_target_is_judged_by_the_write(demo: KnowledgeGraph) -> None:
    # the write describes the target anew: its type in the write counts, not the stored one
    text = (
        "- {id: service/x, type: Service, deploys: dataset/legacy-ratings}\n"
        "- {id: dataset/legacy-ratings, type: ModelVersion}\n"
    )
    assert isinstance(load_text(demo, text), LoadReport)


# -- progress: a load tells where it is, stage by stage


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[Stage, int, int | None]] = []

    def __call__(self, stage: Stage, done: int, total: int | None) -> None:
        self.calls.append((stage, done, total))

    def stages(self) -> list[Stage]:
        """The stages reported, each once, in the order first reported."""
        return list(dict.fromkeys(stage for stage, _, _ in self.calls))

    def of(self, stage: Stage) -> list[tuple[int, int | None]]:
        return [(done, total) for s, done, total in self.calls if s == stage]

    def total(self, stage: Stage) -> int | None:
        return self.of(stage)[-1][1]


def assert_well_formed(recorder: Recorder) -> None:
    """Stages in pipeline order, one after the other; within one, `done` never decreases and
    stays within a total that does not change once known."""
    reported = recorder.stages()
    assert reported == [s for s in STAGES if s in reported]
    stages_in_calls = [stage for stage, _, _ in recorder.calls]
    assert stages_in_calls == sorted(stages_in_calls, key=STAGES.index), "no stage comes back"
    for stage in reported:
        calls = recorder.of(stage)
        dones = [done for done, _ in calls]
        assert dones == sorted(dones), stage
        known = [total for _, total in calls if total is not None]
        assert len(set(known)) <= 1, stage
        assert all(done <= known[0] for done, total in calls if total is not None), stage


MANY = (
    "\n".join(
        f"- {{id: dataset/d{i}, type: Dataset, name: D{i}, owner: team/a, derivedFrom: dataset/d0}}"
        for i in range(12)
    )
    + "\n- {id: team/a, type: Team, name: A}\n"
)


def test_a_load_reports_every_stage_in_order(
    graph: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "TICK", 7)  # ticks within the stages of a small load
    recorder = Recorder()
    documents = [Document("many.yaml", MANY.encode()), Document("model.ttl", TURTLE.encode())]
    report = graph.load(documents, GateMode.WARN, progress=recorder)
    assert recorder.stages() == list(STAGES)
    assert_well_formed(recorder)
    for stage in STAGES:  # every stage ends done, and every total is known by then
        done, total = recorder.of(stage)[-1]
        assert total is not None and done == total, stage
    assert recorder.total("parse") == 2
    assert recorder.total("derive") == len(report.graphs)
    assert recorder.total("commit") == report.triples + report.derived
    assert recorder.total("references") == report.triples
    assert len(recorder.of("check")) > 2, "a long stage ticks on the way"
    assert len(recorder.of("references")) > 2
    assert graph.exists(iri("dataset/d11"))


def test_without_a_gate_the_gate_stage_is_not_reported(graph: KnowledgeGraph) -> None:
    recorder = Recorder()
    graph.load([Document("model.ttl", TURTLE.encode())], GateMode.OFF, progress=recorder)
    assert recorder.stages() == [s for s in STAGES if s != "gate"]
    assert_well_formed(recorder)


def test_a_load_of_batches_starts_at_check(graph: KnowledgeGraph) -> None:
    recorder = Recorder()
    graph.load_batches(graph.parse([Document("model.ttl", TURTLE.encode())]), progress=recorder)
    assert recorder.stages()[0] == "check"
    assert recorder.stages()[-1] == "index"


def test_a_load_without_a_callback_gives_the_same_graph(graph: KnowledgeGraph) -> None:
    reference = KnowledgeGraph.open(graph.settings)
    reference.load([Document("many.yaml", MANY.encode())])
    graph.load([Document("many.yaml", MANY.encode())], progress=Recorder())
    assert snapshot(graph) == snapshot(reference)
    reference.close()


REFUSED = [
    # a document that does not parse: the first one was parsed, nothing is checked
    (Document("bad.ttl", b'<a> a "unterminated .\n'), GateMode.WARN, InputError, "parse"),
    # what the ontology does not allow
    (
        Document("type.ttl", b"<https://x/a> a <https://w3id.org/mlg#Datset> .\n"),
        GateMode.WARN,
        InputError,
        "check",
    ),
    # an edge outside its property's range (the second pass of the check)
    (
        Document("deploy.ttl", WRONG_RANGE_IN_THE_WRITE.encode()),
        GateMode.WARN,
        InputError,
        "check",
    ),
    # a blank node attached to nothing, found while grouping
    (
        Document("bnode.ttl", b'[] <http://www.w3.org/2000/01/rdf-schema#label> "orphan" .\n'),
        GateMode.WARN,
        InputError,
        "derive",
    ),
    # a violation the enforcing gate refuses
    (
        Document("orphan.yaml", b"- {id: dataset/orphan, type: Dataset, name: Orphan}\n"),
        GateMode.ENFORCE,
        GateError,
        "gate",
    ),
]


@pytest.mark.parametrize(("document", "gate", "error", "stage"), REFUSED)
def test_a_refused_load_reports_up_to_the_stage_that_refused_it(
    demo: KnowledgeGraph,
    document: Document,
    gate: GateMode,
    error: type[KGError],
    stage: Stage,
) -> None:
    before = snapshot(demo)
    found_before = demo.search("orphan").total
    recorder = Recorder()
    good = Document("good.yaml", b"- {id: fresh, type: Dataset}\n")
    with pytest.raises(error):
        demo.load([good, document], gate, progress=recorder)
    assert recorder.stages() == list(STAGES[: STAGES.index(stage) + 1])
    assert_well_formed(recorder)
    assert snapshot(demo) == before
    assert not demo.exists(iri("fresh"))
    assert demo.search("orphan").total == found_before
