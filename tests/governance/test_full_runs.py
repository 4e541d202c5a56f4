"""A full run lays each check out differently from a run over focus nodes (the constraint's
selective side first, the target test after): both layouts find the same results."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph

from bench.generate import generate
from kg.governance.engines import run_check, run_compiled
from kg.governance.shapes import compile_shapes
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
