"""A full run lays each check out differently from a run over focus nodes (the constraint's
selective side first, the target test after): both layouts find the same results."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph

from bench.generate import generate
from kg.governance.closure import closure_pairs, dependency_edges
from kg.governance.engines import run_check, run_compiled
from kg.governance.gate import GateMode
from kg.governance.shapes import closure_of, compile_shapes
from kg.governance.validation import validate
from kg.graph import Document, KnowledgeGraph
from kg.store import GraphWrite, open_store
from tests.conftest import iri, load_text
from tests.governance.test_rules import CLEAN, RAW


def _subjects(graph: KnowledgeGraph) -> list[str]:
    """Every IRI that is the subject of a statement: a superset of any check's targets."""
    rows = graph.store.query("SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }")
    return sorted(str(row["s"]) for row in rows)  # type: ignore[union-attr]


@pytest.mark.parametrize("seed", [3, 4])
def test_every_check_finds_the_same_over_every_target_as_over_all_of_them_named(
    graph: KnowledgeGraph, seed: int
) -> None:
    lines, _ = generate(300, seed=seed)
    graph.load([Document("generated.nt", "\n".join(lines).encode())])
    # what the generator leaves out: a retired dataset in use, a person in no team
    load_text(graph, CLEAN)
    load_text(graph, f"- {RAW}, status: Retired}}\n- {{id: person/q, type: Person, name: Q}}\n"
              "- {id: q-data, type: Dataset, name: Q, description: d, owner: person/q}")  # fmt: skip
    shapes = graph.shapes()
    named = _subjects(graph)
    fired = set()
    for check in shapes.checks:
        everything = sorted(run_check(graph.store, check))
        if check.per_focus:
            continue
        # every subject named, as the write gate names its focus nodes
        assert everything == sorted(run_check(graph.store, check, named)), check.shape
        if everything:
            fired.add(check.shape)
    # the comparison covers property shapes and SPARQL rules that fire
    assert {f"<https://w3id.org/mlg/shapes#{name}>" for name in
            ("AssetOwner", "RetiredUnused", "OwnerInTeam")} <= fired  # fmt: skip
    assert any(r.focus == f"<{iri('person/q')}>" for r in run_compiled(graph.store, shapes))


RULE = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
ex:Unnamed a sh:NodeShape ;
    sh:targetClass ex:Thing ;
    sh:sparql [
        a sh:SPARQLConstraint ;
        sh:select \"\"\"PREFIX ex: <https://example.org/>
            # a rule with its own prologue, and a comment last
            SELECT $this WHERE {
                $this ex:kind ex:Odd .
            } # nothing may follow this line on it
            \"\"\" ;
    ] .
"""


def test_a_rule_with_its_own_prefixes_and_comments_runs_whole() -> None:
    shapes = compile_shapes(Graph().parse(data=RULE, format="turtle"))
    assert shapes.fallback is None
    ex = "https://example.org/"
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    store = open_store(None)
    store.commit(GraphWrite(replace={ox.NamedNode("urn:test:data"): [
        ox.Triple(ox.NamedNode(ex + "a"), rdf_type, ox.NamedNode(ex + "Thing")),
        ox.Triple(ox.NamedNode(ex + "a"), ox.NamedNode(ex + "kind"), ox.NamedNode(ex + "Odd")),
        ox.Triple(ox.NamedNode(ex + "b"), ox.NamedNode(ex + "kind"), ox.NamedNode(ex + "Odd")),
    ]}))  # fmt: skip
    assert [r.focus for r in run_compiled(store, shapes)] == [f"<{ex}a>"]  # b is no target


# a retired dataset two ways upstream of a production service, one way through owl:sameAs
# (no dependency), and a cycle through a deprecated asset
PATHS = """
- {id: team/a, type: Team, name: A}
- {id: raw, type: Dataset, name: Raw, description: d, owner: team/a, status: Retired}
- {id: mid, type: Dataset, name: Mid, description: d, owner: team/a, derivedFrom: raw}
- {id: twin, type: Dataset, name: Twin, description: d, owner: team/a, sameAs: raw}
- {id: loop-a, type: Dataset, name: A, description: d, owner: team/a, derivedFrom: loop-b, status: Deprecated}
- {id: loop-b, type: Dataset, name: B, description: d, owner: team/a, derivedFrom: loop-a}
- {id: m, type: Model, name: M, description: d, owner: team/a}
- {id: m/v1, type: ModelVersion, name: v1, owner: team/a, versionOf: m, trainedOn: [mid, raw, loop-b]}
- {id: m/v2, type: ModelVersion, name: v2, owner: team/a, versionOf: m, trainedOn: twin}
- {id: svc, type: Service, name: S, owner: team/a, stage: Production, deploys: m/v1}
- {id: svc-twin, type: Service, name: T, owner: team/a, stage: Production, deploys: m/v2}
- {id: staged, type: Service, name: St, owner: team/a, stage: Staging, deploys: m/v1}
"""


@pytest.mark.parametrize("seed", [5, 6])
def test_path_rules_over_the_lineage_index_find_what_sparql_finds(
    graph: KnowledgeGraph, seed: int
) -> None:
    lines, _ = generate(400, seed=seed)
    graph.load([Document("generated.nt", "\n".join(lines).encode())])
    load_text(graph, PATHS)
    shapes = graph.shapes()
    walked = [c for c in shapes.checks if c.closure is not None]
    assert {c.shape for c in walked} == {"<https://w3id.org/mlg/shapes#NoDeprecatedUpstream>"}
    assert len(walked) == 2
    pairs = set()
    for check in walked:
        by_sparql = sorted(run_check(graph.store, check))
        by_index = sorted(run_check(graph.store, check, index=graph.lineage_index))
        assert by_index == by_sparql, check.message
        # with no index (a worker's view, a past state): the store's own edges, walked
        edges = dependency_edges(graph.store)
        assert edges is not None
        assert sorted(run_check(graph.store, check, index=edges)) == by_sparql, check.message
        pairs |= {(r.focus, r.value) for r in by_index}
    svc, staged = f"<{iri('svc')}>", f"<{iri('staged')}>"
    assert {(svc, f"<{iri('raw')}>"), (svc, f"<{iri('loop-a')}>")} <= pairs
    assert not any(focus == staged for focus, _ in pairs)  # not in production
    # the whole validation: the same report with the index, with the store's edges and in
    # SPARQL alone
    with_index = graph.validate()
    assert with_index.results == validate(graph.store, shapes).results
    assert with_index.results == run_compiled(graph.store, shapes)


def test_only_that_form_of_rule_is_walked() -> None:
    prologue = "PREFIX mlg: <https://w3id.org/mlg#>"
    plain = (
        "SELECT DISTINCT ?this ?value WHERE { ?value mlg:status mlg:Retired . "
        "?this mlg:dependsOn+ ?value . ?this mlg:stage mlg:Production . }"
    )
    assert closure_of(prologue, plain) is not None
    for other in (
        plain.replace("?this mlg:dependsOn+", "?this mlg:dependsOn*"),  # zero steps too
        plain.replace(". }", ". FILTER(?this != ?value) }"),  # another pattern
        plain.replace("mlg:Retired", "?status"),  # a variable
        plain.replace("mlg:status", "ex:status"),  # an unknown prefix
        plain.replace("DISTINCT ", ""),  # duplicates kept
    ):
        assert closure_of(prologue, other) is None, other


def test_a_blank_node_in_a_path_rule_leaves_it_to_sparql(graph: KnowledgeGraph) -> None:
    load_text(graph, PATHS)
    # a production service the index cannot hold: a blank node, through SPARQL Update
    graph.sparql_update(
        "PREFIX mlg: <https://w3id.org/mlg#> INSERT DATA { GRAPH <urn:test:blank> { "
        f"_:svc a mlg:Service ; mlg:stage mlg:Production ; mlg:dependsOn <{iri('raw')}> ; "
        "mlg:owner <https://w3id.org/mlg/id/team/a> } }",
        gate=GateMode.OFF,
    )
    check = next(
        c
        for c in graph.shapes().checks
        if c.closure and c.closure.value_test[1].endswith("Retired")
    )
    assert closure_pairs(graph.store, check, graph.lineage_index) is None
    assert dependency_edges(graph.store) is None  # nor can the store's edges
    by_sparql = sorted(run_check(graph.store, check))
    assert sorted(run_check(graph.store, check, index=graph.lineage_index)) == by_sparql
    assert any(r.focus.startswith("_:") for r in by_sparql)


ODD_MESSAGE = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix mlg: <https://w3id.org/mlg#> .
@prefix ex: <https://example.org/> .
ex:OddMessage a sh:NodeShape ;
    sh:targetClass mlg:Service ;
    sh:sparql [
        a sh:SPARQLConstraint ;
        sh:message "{?value} under {$this}: {?other} and {braces} stay, {$this} twice" ;
        sh:prefixes [ sh:declare [ sh:prefix "mlg" ; sh:namespace "https://w3id.org/mlg#"^^<http://www.w3.org/2001/XMLSchema#anyURI> ] ] ;
        sh:select \"\"\"SELECT DISTINCT $this ?value WHERE {
            ?value mlg:status mlg:Retired .
            $this mlg:dependsOn+ ?value .
            $this mlg:stage mlg:Production .
        }\"\"\" ;
    ] .
"""


def test_a_walked_rule_fills_its_message_as_sparql_rows_do(graph: KnowledgeGraph) -> None:
    load_text(graph, PATHS)
    shapes = compile_shapes(Graph().parse(data=ODD_MESSAGE, format="turtle"))
    (check,) = shapes.checks
    assert check.closure is not None
    by_index = run_check(graph.store, check, index=graph.lineage_index)
    assert by_index == sorted(run_check(graph.store, check), key=lambda r: r.order())
    svc = iri("svc")
    assert f"{iri('raw')} under {svc}: {{?other}} and {{braces}} stay, {svc} twice" in {
        r.message for r in by_index
    }
