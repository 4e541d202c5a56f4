"""SPARQL Update plans: the fast plan (reads only what an update touches) and the copy plan
(runs the update on a scratch copy of the store) give the same batch, update after update, on
the demo graph; the fast plan is the one taken wherever it can answer."""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from kg.demo import load_demo
from kg.errors import InputError, LimitError, OutboundRefusedError, ReadOnlyGraphError
from kg.graph import Document, KnowledgeGraph
from kg.ingest import Batch
from kg.write import log, sparql_update
from tests.conftest import settings

ID = "https://w3id.org/mlg/id/"
PREFIXES = (
    "PREFIX mlg: <https://w3id.org/mlg#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX dqv: <http://www.w3.org/ns/dqv#>\n"
    "PREFIX t: <urn:test:>\n"
)
V1 = f"<{ID}model/search-ranking/v1>"
EVAL = f"<{ID}evaluation/search-ranking-v1>"
RAW = f"<{ID}dataset/playback-events-raw>"
ASSET_V1 = f"<urn:kg:graph:asset:{ID}model/search-ranking/v1>"
ASSET_EVAL = f"<urn:kg:graph:asset:{ID}evaluation/search-ranking-v1>"
DERIVED_V1 = f"<urn:kg:graph:derived:urn:kg:graph:asset:{ID}model/search-ranking/v1>"
EXTRA = f"""
{V1} <http://www.w3.org/2000/01/rdf-schema#comment> "kept in a graph of its own" .
<urn:test:x> <urn:test:p> "in the test graph" .
<urn:test:x> <urn:test:p> "another" .
""".encode()


@pytest.fixture(scope="module")
def store() -> Iterator[KnowledgeGraph]:
    """The demo graph, a named graph of data beside the asset graphs (one of its triples about
    an asset) and a blank-node description attached to no IRI (in urn:kg:graph:default)."""
    graph = KnowledgeGraph.open(settings())
    load_demo(graph)
    graph.graph_write("urn:test:g", [Document("extra.nt", EXTRA, "application/n-triples")])
    graph.sparql_update('INSERT DATA { _:loose <urn:test:p> "loose" . _:loose <urn:test:q> 1 }')
    yield graph
    graph.close()


# (name, update, plan the fast planner takes, keyword arguments)
# fmt: off
CASES: list[tuple[str, str, str, dict[str, object]]] = [
    ("insert data about an asset", f'INSERT DATA {{ {V1} rdfs:comment "new" }}', "fast", {}),
    ("insert data about a new subject", 'INSERT DATA { <urn:test:new> t:p "n" ; t:q t:x }', "fast", {}),
    ("insert data into a new named graph", 'INSERT DATA { GRAPH t:h { t:a t:p "1" } }', "fast", {}),
    ("insert data into an existing named graph", 'INSERT DATA { GRAPH t:g { t:a t:p "2" } }', "fast", {}),
    ("insert data with and without GRAPH", f'INSERT DATA {{ {RAW} rdfs:comment "c" GRAPH t:g {{ t:b t:p "3" }} }}', "fast", {}),
    ("insert data already there", f"INSERT DATA {{ {V1} mlg:status mlg:Active }}", "fast", {}),
    ("insert data already shown by a derived graph", f"INSERT DATA {{ {V1} mlg:dependsOn <{ID}dataset/search-training-set> }}", "fast", {}),
    ("insert data with blank nodes", f'INSERT DATA {{ {V1} t:note [ t:text "b" ; t:more [ t:n 1 ] ] }}', "fast", {}),
    ("insert data: a loose blank node", 'INSERT DATA { _:b t:p "new loose" }', "fast", {}),
    ("delete data", f"DELETE DATA {{ {V1} mlg:status mlg:Active }}", "fast", {}),
    ("delete data absent", f"DELETE DATA {{ {V1} mlg:status mlg:Deprecated }}", "fast", {}),
    ("delete data from a named graph", 'DELETE DATA { GRAPH t:g { t:x t:p "another" } }', "fast", {}),
    ("delete data emptying a named graph", 'DELETE DATA { GRAPH t:g { t:x t:p "another" . t:x t:p "in the test graph" . ' + f'{V1} rdfs:comment "kept in a graph of its own" }} }}', "fast", {}),
    ("delete data shown only by a derived graph", f"DELETE DATA {{ {V1} mlg:dependsOn <{ID}dataset/search-training-set> }}", "fast", {}),
    ("delete data kept in another graph", f'DELETE DATA {{ {V1} rdfs:comment "kept in a graph of its own" }}', "fast", {}),
    ("delete where", f"DELETE WHERE {{ {V1} mlg:status ?s }}", "fast", {}),
    ("delete where through blank nodes", f"DELETE WHERE {{ {EVAL} mlg:metric ?m . ?m ?p ?o }}", "fast", {}),
    ("delete where cutting a blank node loose", f"DELETE WHERE {{ {EVAL} mlg:metric ?m }}", "fast", {}),
    ("delete where in a named graph", "DELETE WHERE { GRAPH t:g { t:x ?p ?o } }", "fast", {}),
    ("delete where matching nothing", "DELETE WHERE { <urn:nothing> ?p ?o }", "fast", {}),
    ("delete/insert where", "DELETE { ?a mlg:status mlg:Experimental } INSERT { ?a mlg:status mlg:Active } WHERE { ?a mlg:status mlg:Experimental ; a mlg:Model }", "fast", {}),
    ("filter", 'DELETE { ?a rdfs:label ?l } INSERT { ?a rdfs:label ?u } WHERE { ?a rdfs:label ?l FILTER(CONTAINS(?l, "v1")) BIND(UCASE(?l) AS ?u) }', "fast", {}),
    ("optional", 'INSERT { ?a rdfs:comment "no owner" } WHERE { ?a a mlg:Dataset OPTIONAL { ?a mlg:owner ?o } FILTER(!BOUND(?o)) }', "fast", {}),
    ("unbound variables and literal subjects", "INSERT { ?l t:p ?nothing . ?a t:label ?l } WHERE { ?a a mlg:Team ; rdfs:label ?l }", "fast", {}),
    ("the WHERE sees derived triples", 'INSERT { ?a t:kind "service" } WHERE { ?a a mlg:Asset FILTER(STRSTARTS(STR(?a), "https://w3id.org/mlg/id/service/")) }', "fast", {}),
    ("fresh blank nodes per solution", 'INSERT { ?a t:note [ t:text ?l ] } WHERE { ?a a mlg:Team ; rdfs:label ?l }', "fast", {}),
    ("blank nodes of the data keep their identity", f"DELETE {{ ?m dqv:value ?v }} INSERT {{ ?m dqv:value 0.5 }} WHERE {{ {EVAL} mlg:metric ?m . ?m dqv:value ?v }}", "fast", {}),
    ("attach a loose blank node", f'INSERT {{ {RAW} t:has ?b }} WHERE {{ ?b t:p "loose" }}', "fast", {}),
    ("delete a loose blank node", 'DELETE WHERE { ?b t:p "loose" ; t:q ?q }', "fast", {}),
    ("with", 'WITH t:g DELETE { ?s t:p "another" } INSERT { ?s t:p "changed" } WHERE { ?s t:p "another" }', "fast", {}),
    ("with and using", f"WITH t:g INSERT {{ ?a t:copied ?s }} USING {ASSET_V1} WHERE {{ ?a mlg:status ?s }}", "fast", {}),
    ("using", f'INSERT {{ ?a rdfs:comment "seen" }} USING {ASSET_V1} WHERE {{ ?a ?p ?o }}', "fast", {}),
    ("using named", f"INSERT {{ ?s t:in ?g }} USING NAMED {ASSET_V1} USING NAMED t:g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", "fast", {}),
    ("graph variable in the template", "INSERT { GRAPH ?g { ?s t:seen true } } WHERE { GRAPH ?g { ?s a mlg:Team } }", "fast", {}),
    ("graph variable over a named data graph", 'DELETE { GRAPH ?g { ?s t:p ?o } } INSERT { GRAPH ?g { ?s t:p "x" } } WHERE { GRAPH ?g { ?s t:p ?o FILTER(?o = "another") } }', "fast", {}),
    ("several data operations", f'INSERT DATA {{ {V1} t:a 1 }} ; INSERT DATA {{ GRAPH t:g {{ t:c t:p 4 }} }} ; DELETE DATA {{ {V1} t:a 1 }} ; DELETE DATA {{ {RAW} mlg:status mlg:Active }}', "fast", {}),
    ("insert then delete the same triple", f"INSERT DATA {{ {V1} t:a 1 }} ; DELETE DATA {{ {V1} t:a 1 }}", "fast", {}),
    ("delete then insert the same triple", f"DELETE DATA {{ {V1} mlg:status mlg:Active }} ; INSERT DATA {{ {V1} mlg:status mlg:Active }}", "fast", {}),
    ("a read, then data", f'INSERT {{ ?a t:team true }} WHERE {{ ?a a mlg:Team }} ; INSERT DATA {{ {V1} t:b 2 }}', "fast", {}),
    ("a read changing nothing, then a read", 'DELETE WHERE { <urn:nothing> ?p ?o } ; INSERT { ?a t:team true } WHERE { ?a a mlg:Team }', "fast", {}),
    ("prefixed names and a BASE", 'PREFIX ex: <https://w3id.org/mlg/id/> BASE <https://w3id.org/mlg/id/> INSERT DATA { <model/search-ranking/v1> rdfs:comment "based" . ex:x t:p <dataset/y> }', "fast", {}),
    ("the request's base IRI", 'INSERT DATA { <model/search-ranking/v1> t:p <rel> }', "fast", {"base_iri": ID}),
    ("prologue carried over operations", 'PREFIX x: <urn:test:x:> BASE <urn:test:base/> INSERT DATA { x:a t:p <a> } ; INSERT DATA { x:b t:p <c> }', "fast", {}),
    ("comments and strings with braces", 'INSERT DATA { t:s t:p "} ; DROP ALL ; {" } # } ; DROP ALL\n', "fast", {}),
    ("protocol dataset", 'INSERT { ?a rdfs:comment "protocol" } WHERE { ?a ?p ?o }', "fast", {"using": [ASSET_V1.strip("<>")]}),
    ("protocol named dataset on delete where", "DELETE WHERE { GRAPH ?g { ?s t:p ?o } }", "fast", {"using_named": ["urn:test:g"]}),
    ("into a system graph", "INSERT DATA { GRAPH <urn:kg:graph:loads> { t:a t:p t:b } }", "fast", {}),
    ("from a system graph", "DELETE WHERE { GRAPH <urn:kg:graph:shapes> { ?s ?p ?o } }", "fast", {}),
    ("a derived graph through a graph variable", f"DELETE WHERE {{ GRAPH ?g {{ {V1} mlg:dependsOn ?o }} }}", "fast", {}),
    ("empty update", "", "fast", {}),
    # the copy plan
    ("a read after a change", f'INSERT DATA {{ {V1} t:a 1 }} ; DELETE {{ ?s t:a ?o }} INSERT {{ ?s t:b ?o }} WHERE {{ ?s t:a ?o }}', "copy", {}),
    ("clear a graph", "CLEAR GRAPH t:g", "copy", {}),
    ("drop all", "DROP ALL", "copy", {}),
    ("clear all, then write", "CLEAR ALL ; INSERT DATA { t:a t:p 1 }", "copy", {}),
    ("add a graph to another", f"ADD {ASSET_V1} TO t:g", "copy", {}),
    ("copy with a protocol dataset", 'CLEAR SILENT GRAPH t:z ; INSERT { GRAPH t:z { ?s ?p ?o } } WHERE { ?s ?p ?o }', "copy", {"using": ["urn:test:g"]}),
]
# fmt: on


def canonical(batch: Batch | None) -> tuple[list[str], list[str]] | None:
    """The batch as one dataset (its triples in the default graph), blank nodes named by
    content: equal for two batches that say the same, whatever their fresh blank nodes."""
    if batch is None:
        return None
    dataset = ox.Dataset(
        [ox.Quad(t.subject, t.predicate, t.object) for t in batch.triples]
        + [
            ox.Quad(t.subject, t.predicate, t.object, g)
            for g, ts in batch.named_graphs.items()
            for t in ts
        ]
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in dataset), sorted(str(g) for g in batch.drop)


def blank_nodes(batch: Batch | None) -> set[ox.BlankNode]:
    found: set[ox.BlankNode] = set()
    for t in batch.all_triples() if batch else []:
        found |= {n for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)}
    return found


def stored(graph: KnowledgeGraph, nodes: set[ox.BlankNode]) -> set[ox.BlankNode]:
    return {n for n in nodes if next(graph.store.quads(n, None, None), None) is not None}


@pytest.mark.parametrize(("name", "text", "kind", "options"), CASES, ids=[c[0] for c in CASES])
def test_fast_plan_equals_copy_plan(
    store: KnowledgeGraph, name: str, text: str, kind: str, options: dict[str, object]
) -> None:
    fast = sparql_update.plan_update(store.store, PREFIXES + text, **options)  # type: ignore[arg-type]
    copy = sparql_update.plan_update(store.store, PREFIXES + text, fast=False, **options)  # type: ignore[arg-type]
    assert fast.kind == kind, fast.reason
    assert copy.kind == "copy"
    assert canonical(fast.batch) == canonical(copy.batch)
    # blank nodes of the store are the same nodes in both (not copies of them)
    assert stored(store, blank_nodes(fast.batch)) == stored(store, blank_nodes(copy.batch))
    if not blank_nodes(fast.batch) - stored(store, blank_nodes(fast.batch)):  # none minted
        assert (fast.batch is not None and copy.batch is not None) or fast.batch is copy.batch
        if fast.batch is not None and copy.batch is not None:
            assert set(fast.batch.triples) == set(copy.batch.triples)
            assert {g: set(ts) for g, ts in fast.batch.named_graphs.items()} == {
                g: set(ts) for g, ts in copy.batch.named_graphs.items()
            }
            assert set(fast.batch.drop) == set(copy.batch.drop)


def test_the_table_covers_what_it_says() -> None:
    assert sum(1 for c in CASES if c[2] == "fast") >= 25
    nothing = {"insert data already there", "delete data absent", "delete where matching nothing",
               "insert then delete the same triple", "delete then insert the same triple",
               "insert data already shown by a derived graph", "empty update",
               "delete data shown only by a derived graph"}  # fmt: skip
    assert nothing <= {c[0] for c in CASES}


@pytest.fixture
def demo_graph() -> Iterator[KnowledgeGraph]:
    graph = KnowledgeGraph.open(settings())
    load_demo(graph)
    yield graph
    graph.close()


def test_no_change_is_no_batch(store: KnowledgeGraph) -> None:
    for text in (f"INSERT DATA {{ {V1} mlg:status mlg:Active }}", "DELETE WHERE { <urn:n> ?p ?o }"):
        assert sparql_update.plan_update(store.store, PREFIXES + text).batch is None


def test_system_graphs_are_refused_by_the_pipeline(demo_graph: KnowledgeGraph) -> None:
    refused = [
        "INSERT DATA { GRAPH <urn:kg:graph:loads> { <urn:kg:load:forged> a <https://w3id.org/mlg#Load> } }",
        "DELETE WHERE { GRAPH <urn:kg:graph:ontology> { ?s ?p ?o } }",
        "DROP GRAPH <urn:kg:graph:loads>",
        f"INSERT DATA {{ GRAPH {DERIVED_V1} {{ {V1} <https://w3id.org/mlg#dependsOn> <urn:x> }} }}",
        "INSERT DATA { GRAPH <urn:kg:graph:reports/latest> { <urn:x> <urn:p> 1 } }",
        # the change log's head and the writers' claims: a client cannot move the one or
        # block writers with the other
        "DELETE WHERE { GRAPH <urn:kg:graph:log> { ?s ?p ?o } }",
        "INSERT DATA { GRAPH <urn:kg:graph:log> { <urn:kg:log> <https://w3id.org/mlg#position> 999 } }",
        "INSERT DATA { GRAPH <urn:kg:graph:writer:forged> { <urn:x> <https://w3id.org/mlg#claimedAt> "
        '"2999-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> } }',
    ]
    head = log.head(demo_graph.store)
    for text in refused:
        with pytest.raises(ReadOnlyGraphError, match="urn:kg:graph:"):
            demo_graph.sparql_update(text)
    assert log.head(demo_graph.store) == head
    assert not [g for g in demo_graph.store.graphs() if g.value.startswith("urn:kg:graph:writer:")]
    # CLEAR ALL means the data graphs: kg's own stay
    demo_graph.sparql_update("CLEAR ALL")
    assert demo_graph.store.graph(ox.NamedNode("urn:kg:graph:ontology"))
    assert not [g for g in demo_graph.store.graphs() if g.value.startswith("urn:kg:graph:asset:")]


def test_unrelated_update_keeps_the_loose_blank_nodes(demo_graph: KnowledgeGraph) -> None:
    """(The copy plan used to drop urn:kg:graph:default on any change through the default
    graph.)"""
    demo_graph.sparql_update('INSERT DATA { _:b <urn:test:p> "loose" }')
    default = ox.NamedNode("urn:kg:graph:default")
    assert len(demo_graph.store.graph(default)) == 1
    for fast in (True, False):
        plan = sparql_update.plan_update(
            demo_graph.store, f"INSERT DATA {{ {V1} <urn:test:p> {int(fast)} }}", fast=fast
        )
        assert plan.batch is not None and default not in plan.batch.drop
    demo_graph.sparql_update(f"INSERT DATA {{ {V1} <urn:test:p> 1 }}")
    assert len(demo_graph.store.graph(default)) == 1


def test_update_writes_what_it_planned(demo_graph: KnowledgeGraph) -> None:
    demo_graph.sparql_update(
        PREFIXES + f"DELETE {{ {V1} mlg:status ?s }} INSERT {{ {V1} mlg:status mlg:Deprecated }} "
        f"WHERE {{ {V1} mlg:status ?s }}"
    )
    statuses = {t.object for t in demo_graph.store.triples(ox.NamedNode(V1.strip("<>")), None, None)
                if t.predicate.value == "https://w3id.org/mlg#status"}  # fmt: skip
    assert statuses == {ox.NamedNode("https://w3id.org/mlg#Deprecated")}


@pytest.mark.parametrize(
    ("using", "using_named", "parameter"),
    [
        (["urn:x> } ; DROP ALL ; INSERT DATA { <urn:y"], [], "using-graph-uri"),
        ([], ["urn:x> DROP ALL"], "using-named-graph-uri"),
        (["relative/graph"], [], "using-graph-uri"),
        (["http://a b"], [], "using-graph-uri"),
    ],
)
def test_protocol_dataset_must_be_absolute_iris(
    demo_graph: KnowledgeGraph, using: list[str], using_named: list[str], parameter: str
) -> None:
    before = len(demo_graph.store.graphs())
    with pytest.raises(InputError, match=parameter):
        demo_graph.sparql_update("DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", using, using_named)
    assert len(demo_graph.store.graphs()) == before


def test_protocol_dataset_is_written_by_pyoxigraph_for_the_copy_plan() -> None:
    dataset = sparql_update.protocol_dataset(["urn:a"], ["urn:b"])
    text = "CLEAR SILENT GRAPH <urn:z> ; DELETE WHERE { ?s ?p ?o } ; INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    pasted = sparql_update.with_dataset(text, sparql_update.operations(text), dataset)
    assert pasted == (
        "CLEAR SILENT GRAPH <urn:z> ; DELETE { ?s ?p ?o } USING <urn:a> USING NAMED <urn:b> "
        "WHERE { ?s ?p ?o } ; INSERT { ?s ?p ?o } USING <urn:a> USING NAMED <urn:b> WHERE { ?s ?p ?o }"
    )


def test_dataset_named_twice_is_refused(demo_graph: KnowledgeGraph) -> None:
    with pytest.raises(InputError, match="USING"):
        demo_graph.sparql_update("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ["urn:h"])


def test_load_and_size_are_checked_first(demo_graph: KnowledgeGraph) -> None:
    with pytest.raises(OutboundRefusedError, match="KG_FEDERATION_ALLOW"):
        demo_graph.sparql_update("LOAD <http://127.0.0.1:9/data.ttl> INTO GRAPH <urn:x>")
    with pytest.raises(OutboundRefusedError):
        demo_graph.sparql_update(
            "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"
        )
    with pytest.raises(LimitError, match="KG_MAX_DEPTH"):
        demo_graph.sparql_update("DELETE WHERE " + "{" * 500 + "}" * 500)


def test_syntax_errors_have_their_position(demo_graph: KnowledgeGraph) -> None:
    from kg.errors import QueryError

    with pytest.raises(QueryError, match=r"line 1, column \d+: Variables are not allowed"):
        demo_graph.sparql_update("INSERT DATA { <urn:a> <urn:p> ?x }")
    with pytest.raises(QueryError, match="syntax"):
        demo_graph.sparql_update("INSERT DATA { <urn:a> <urn:p> 1 } ; DELETE { ?s } WHERE { }")


def test_operations_are_read_as_the_lexer_reads_them() -> None:
    text = (
        "PREFIX a: <urn:a#> # a comment with { and ;\n"
        'INSERT DATA { a:s a:p "x } ; y" } ;\n'
        "WITH a:g DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } USING <urn:u> USING NAMED a:n WHERE { ?s ?p ?o } ;"
        "CLEAR ALL"
    )
    ops = sparql_update.operations(text)
    assert [op.kind for op in ops] == ["insert-data", "modify", "other"]
    assert ops[0].data == '{ a:s a:p "x } ; y" }'
    assert (
        ops[1].with_graph == "a:g" and ops[1].using == ["<urn:u>"] and ops[1].using_named == ["a:n"]
    )
    assert ops[1].prologue == "PREFIX a: <urn:a#>"
    assert ops[2].all_graphs
