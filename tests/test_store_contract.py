"""What kg expects of a store, held against both kinds: the embedded `OxigraphStore` (in memory)
and `RemoteStore` on a live Oxigraph server and on a live Virtuoso (where it is installed).
Each test of the table runs on all three, a row Virtuoso answers otherwise marked so with the
reason (`differs_on_virtuoso`); the remote store's own concerns (the network, its bounds, its
Skolem IRIs as other clients see them, query text it writes, Virtuoso's ways) follow the
table."""

from __future__ import annotations

import gc
import io
import socket
import threading
import urllib.request
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import catalog
from kg.errors import BusyError, KGError, QueryError, StoreUnavailableError
from kg.remote import SKOLEM, VIRTUOSO_GRAPHS, RemoteStore, bind, endpoints, query_form
from kg.store import GraphStore, GraphWrite, OxigraphStore
from tests import virtuoso_server
from tests.oxigraph_server import Server, oxigraph_server
from tests.test_serve import free_port

EX = "http://example.org/"


def n(local: str) -> ox.NamedNode:
    return ox.NamedNode(EX + local)


A, B, C, D = n("a"), n("b"), n("c"), n("d")
P, Q, LABEL = n("p"), n("q"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
G1, G2, G3 = n("g1"), n("g2"), n("g3")
BLANK = ox.BlankNode("part1")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph") / "db") as running:
        yield running


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[virtuoso_server.Server]:
    with virtuoso_server.virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as running:
        yield running


@pytest.fixture(params=["embedded", "remote", "virtuoso"])
def store(request: pytest.FixtureRequest) -> Iterator[GraphStore]:
    made: GraphStore
    if request.param == "embedded":
        made = OxigraphStore()
    else:
        running: Server | virtuoso_server.Server = request.getfixturevalue(
            "server" if request.param == "remote" else "virtuoso"
        )
        running.clear()
        made = running.store()
    yield made
    made.close()


def on_virtuoso(store: GraphStore) -> bool:
    return isinstance(store, RemoteStore) and store.union == "virtuoso"


def differs_on_virtuoso(request: pytest.FixtureRequest, store: GraphStore, reason: str) -> None:
    """The row is expected to fail on Virtuoso, for `reason` (strict: it must fail there)."""
    if on_virtuoso(store):
        request.applymarker(pytest.mark.xfail(reason=f"Virtuoso 7.2: {reason}", strict=True))


def fill(store: GraphStore) -> None:
    """Three graphs: a shared triple in two of them, a blank node hanging off A in G1."""
    store.commit(
        GraphWrite(
            replace={
                G1: [
                    ox.Triple(A, P, B),
                    ox.Triple(A, Q, BLANK),
                    ox.Triple(BLANK, LABEL, ox.Literal("part one", language="en")),
                    ox.Triple(BLANK, P, ox.Literal("7", datatype=n("unit"))),
                ],
                G2: [
                    ox.Triple(A, P, B),
                    ox.Triple(B, P, C),
                    ox.Triple(B, LABEL, ox.Literal("bee")),
                ],
                G3: [
                    ox.Triple(C, P, D),
                    ox.Triple(
                        D,
                        LABEL,
                        ox.Literal(
                            "42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
                        ),
                    ),
                ],
            }
        )
    )


def content(store: GraphStore) -> set[ox.Quad]:
    return set(store.quads(None, None, None))


def solutions(result: object) -> list[dict[str, str]]:
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return sorted(
        ({k: str(row[k]) for k in names if row[k] is not None} for row in result),
        key=lambda r: sorted(r.items()),
    )


# -- commit: replace, drop, append, all or nothing


def test_replace_puts_exactly_the_new_content(store: GraphStore) -> None:
    fill(store)
    store.commit(GraphWrite(replace={G2: [ox.Triple(B, P, D)]}))
    assert set(store.graph(G2)) == {ox.Triple(B, P, D)}
    assert len(store.graph(G1)) == 4  # the other graphs stay as they were
    assert {g.value for g in store.graphs()} == {G1.value, G2.value, G3.value}


def test_replace_with_nothing_and_drop_remove_the_graph(store: GraphStore) -> None:
    fill(store)
    store.commit(GraphWrite(replace={G2: []}, drop=[G3, n("never-there")]))
    assert {g.value for g in store.graphs()} == {G1.value}
    assert store.graph(G2) == [] and store.graph(G3) == []


def test_append_adds_quads_beside_a_replace(store: GraphStore) -> None:
    fill(store)
    record = ox.Quad(n("load1"), P, ox.Literal("now"), n("loads"))
    store.commit(GraphWrite(replace={G3: [ox.Triple(C, Q, D)]}, append=[record, record]))
    store.commit(
        GraphWrite(replace={}, append=[ox.Quad(n("load2"), P, ox.Literal("then"), n("loads"))])
    )
    assert set(store.graph(n("loads"))) == {
        ox.Triple(n("load1"), P, ox.Literal("now")),
        ox.Triple(n("load2"), P, ox.Literal("then")),
    }
    assert set(store.graph(G3)) == {ox.Triple(C, Q, D)}


def test_a_commit_that_fails_leaves_the_store_as_it_was(store: GraphStore) -> None:
    fill(store)
    before = content(store)

    def broken() -> Iterator[ox.Triple]:
        yield ox.Triple(A, P, D)
        raise RuntimeError("the source failed half-way")

    with pytest.raises(RuntimeError):
        store.commit(GraphWrite(replace={G1: [ox.Triple(A, Q, D)], G2: broken()}, drop=[G3]))
    assert content(store) == before


@pytest.mark.parametrize(
    "kind",
    [
        "remote",
        "virtuoso",
    ],
)
def test_an_update_the_server_fails_part_way_changes_nothing(
    request: pytest.FixtureRequest, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit is one update request: when the server fails its last operation, the ones
    before it (the drops, the insert) must not have happened, or (Virtuoso 7.2, which keeps
    them) are put back."""
    running: Server | virtuoso_server.Server = request.getfixturevalue(
        "server" if kind == "remote" else "virtuoso"
    )
    running.clear()
    store = running.store()
    fill(store)
    before = content(store)
    send = store._update
    # CREATE GRAPH of a graph that exists fails as it runs (SPARQL 1.1 Update, 3.2.1): the
    # write's request fails so, the ones after it (putting back, where needed) do not.
    tail = f" ;\nCREATE GRAPH <{G3.value}>"
    failed: list[bool] = []

    def failing_once(body: bytes, text: str) -> None:
        if failed:
            return send(body, text)
        failed.append(True)
        return send(body + tail.encode(), text + tail)

    monkeypatch.setattr(store, "_update", failing_once)
    with pytest.raises(QueryError):
        store.commit(GraphWrite(replace={G1: [ox.Triple(A, P, D)]}, drop=[G2]))
    assert content(store) == before
    store.close()


def test_an_empty_commit_changes_nothing(store: GraphStore) -> None:
    fill(store)
    before = content(store)
    store.commit(GraphWrite(replace={}))
    assert content(store) == before


# -- pattern reads


def test_triples_match_in_any_graph_each_once(store: GraphStore) -> None:
    fill(store)
    assert list(store.triples(A, P, None)) == [ox.Triple(A, P, B)]  # in G1 and G2: once
    assert set(store.triples(None, P, B)) == {ox.Triple(A, P, B)}
    assert set(store.triples(None, LABEL, None)) == {
        ox.Triple(BLANK, LABEL, ox.Literal("part one", language="en")),
        ox.Triple(B, LABEL, ox.Literal("bee")),
        ox.Triple(
            D,
            LABEL,
            ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ),
    }
    assert list(store.triples(A, P, B)) == [ox.Triple(A, P, B)]
    assert list(store.triples(A, P, C)) == []
    assert len(list(store.triples(None, None, None))) == 8


def test_quads_carry_their_graph(store: GraphStore) -> None:
    fill(store)
    assert set(store.quads(A, P, B)) == {ox.Quad(A, P, B, G1), ox.Quad(A, P, B, G2)}
    assert set(store.quads(None, None, D)) == {ox.Quad(C, P, D, G3)}
    assert set(store.quads(B, None, None)) == {
        ox.Quad(B, P, C, G2),
        ox.Quad(B, LABEL, ox.Literal("bee"), G2),
    }
    assert len(content(store)) == 9


def test_a_blank_node_read_back_can_be_looked_up(store: GraphStore) -> None:
    fill(store)
    [part] = [t.object for t in store.triples(A, Q, None)]
    assert part == BLANK  # the label it was written with, from one request to the next
    assert isinstance(part, ox.BlankNode)
    assert {t.predicate for t in store.triples(part, None, None)} == {LABEL, P}
    assert {q.subject for q in store.quads(None, None, part)} == {A}
    found = store.query(
        "SELECT ?x ?label WHERE { ?x rdfs:label ?label }".replace("rdfs:label", f"<{LABEL.value}>"),
        substitutions={"x": part},
    )
    assert solutions(found) == [{"x": str(BLANK), "label": '"part one"@en'}]


def test_graph_and_graphs(store: GraphStore) -> None:
    assert store.graphs() == [] and store.graph(G1) == []
    fill(store)
    assert {g.value for g in store.graphs()} == {G1.value, G2.value, G3.value}
    assert all(isinstance(g, ox.NamedNode) for g in store.graphs())
    assert set(store.graph(G3)) == {
        ox.Triple(C, P, D),
        ox.Triple(
            D,
            LABEL,
            ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        ),
    }
    assert {str(t) for t in store.graph(G1)} >= {str(ox.Triple(A, Q, BLANK))}


def test_size_and_graph_sizes(store: GraphStore) -> None:
    assert store.size() == 0 and store.graph_sizes() == {}
    fill(store)
    assert store.size() == 9
    assert store.graph_sizes() == {G1.value: 4, G2.value: 3, G3.value: 2}


# -- queries


def test_select_ask_construct_over_the_union_of_graphs(store: GraphStore) -> None:
    fill(store)
    rows = store.query(f"SELECT ?s ?o WHERE {{ ?s <{P.value}> ?o }}")
    assert isinstance(rows, ox.QuerySolutions)
    assert [v.value for v in rows.variables] == ["s", "o"]
    assert solutions(rows) == sorted(
        [
            {"s": str(A), "o": str(B)},
            {"s": str(A), "o": str(B)},  # once per graph holding it, as a union of graphs does
            {"s": str(B), "o": str(C)},
            {"s": str(C), "o": str(D)},
            {"s": str(BLANK), "o": '"7"^^<http://example.org/unit>'},
        ],
        key=lambda r: sorted(r.items()),
    )
    asked = store.query(f"ASK {{ <{C.value}> <{P.value}> <{D.value}> }}")
    assert isinstance(asked, ox.QueryBoolean) and bool(asked)
    assert not bool(store.query(f"ASK {{ <{D.value}> <{P.value}> ?x }}"))
    built = store.query(
        f"CONSTRUCT {{ ?o <{Q.value}> ?s }} WHERE {{ ?s <{P.value}> ?o FILTER(!isLiteral(?o)) }}"
    )
    assert isinstance(built, ox.QueryTriples)
    assert set(built) == {ox.Triple(B, Q, A), ox.Triple(C, Q, B), ox.Triple(D, Q, C)}
    described = store.query(f"CONSTRUCT WHERE {{ <{A.value}> ?p ?o }}")
    assert isinstance(described, ox.QueryTriples)
    assert set(described) == {ox.Triple(A, P, B), ox.Triple(A, Q, BLANK)}


def test_a_construct_row_that_cannot_make_a_triple_makes_none(
    request: pytest.FixtureRequest, store: GraphStore
) -> None:
    differs_on_virtuoso(
        request, store, "a literal where the template wants a subject fails the query"
    )
    fill(store)
    built = store.query(f"CONSTRUCT {{ ?o <{Q.value}> ?s }} WHERE {{ ?s <{P.value}> ?o }}")
    assert isinstance(built, ox.QueryTriples)
    assert set(built) == {ox.Triple(B, Q, A), ox.Triple(C, Q, B), ox.Triple(D, Q, C)}


@pytest.mark.parametrize(
    ("query", "substitutions", "expected"),
    [
        # an IRI, projected
        (f"SELECT ?x ?o WHERE {{ ?x <{P.value}> ?o }}", {"x": B}, [{"x": str(B), "o": str(C)}]),
        # a literal, seen by a FILTER inside a UNION branch
        (
            f"SELECT ?s ?l WHERE {{ {{ ?s <{LABEL.value}> ?l }} UNION {{ ?s <{P.value}> ?o FILTER(?o = ?l) }} }}",
            {"l": ox.Literal("bee")},
            [{"s": str(B), "l": '"bee"'}],
        ),
        # SELECT *: the variable stays in the results
        (f"SELECT * WHERE {{ ?x <{P.value}> ?o }}", {"x": C}, [{"x": str(C), "o": str(D)}]),
        # in an aggregate query, grouped on
        (
            "SELECT ?x (COUNT(*) AS ?n) WHERE { ?x ?p ?o } GROUP BY ?x",
            {"x": B},
            [{"x": str(B), "n": '"2"^^<http://www.w3.org/2001/XMLSchema#integer>'}],
        ),
        # two at once, one of them in FILTER NOT EXISTS
        (
            f"SELECT ?x ?y WHERE {{ ?x <{P.value}> ?o FILTER NOT EXISTS {{ ?o <{P.value}> ?y }} }}",
            {"x": A, "y": D},
            [{"x": str(A), "y": str(D)}] * 2,  # A's edge is in two graphs
        ),
        # a sub-query that selects the variable sees the value; its text stays a query
        (
            "SELECT ?x ?n WHERE { { SELECT ?x (COUNT(?o) AS ?n) WHERE { ?x ?p ?o } GROUP BY ?x } }",
            {"x": C},
            [{"x": str(C), "n": '"1"^^<http://www.w3.org/2001/XMLSchema#integer>'}],
        ),
        # "?x" inside a string is text, not the variable
        (
            f'SELECT ?x ?l WHERE {{ ?x <{LABEL.value}> ?l FILTER(?l != "?x") }}',
            {"x": B},
            [{"x": str(B), "l": '"bee"'}],
        ),
    ],
)
def test_substitutions(
    store: GraphStore,
    query: str,
    substitutions: dict[str, ox.NamedNode | ox.Literal],
    expected: list[dict[str, str]],
) -> None:
    fill(store)
    assert solutions(store.query(query, substitutions=substitutions)) == expected


def test_substitutions_in_ask_and_construct(store: GraphStore) -> None:
    fill(store)
    assert bool(store.query(f"ASK {{ ?x <{P.value}> <{C.value}> }}", substitutions={"x": B}))
    assert not bool(store.query(f"ASK {{ ?x <{P.value}> <{C.value}> }}", substitutions={"x": A}))
    built = store.query("CONSTRUCT WHERE { ?x ?p ?o }", substitutions={"x": BLANK})
    assert isinstance(built, ox.QueryTriples)
    assert {t.predicate for t in built} == {LABEL, P}


def test_a_named_query_with_its_parameter(
    request: pytest.FixtureRequest, store: GraphStore
) -> None:
    differs_on_virtuoso(
        request,
        store,
        "a transitive path followed by two OPTIONALs (queries/upstream.rq) answers no rows; "
        "the path alone in a group `{ }` answers",
    )
    store.commit(
        GraphWrite(
            replace={
                G1: [
                    ox.Triple(A, ox.NamedNode("https://w3id.org/mlg#dependsOn"), B),
                    ox.Triple(B, ox.NamedNode("https://w3id.org/mlg#dependsOn"), C),
                    ox.Triple(C, LABEL, ox.Literal("the source")),
                ]
            }
        )
    )
    query = catalog.named_query("upstream")
    found = solutions(store.query(query.text, substitutions=query.bind({"asset": A.value}, EX)))
    assert sorted((r["asset"], r["upstream"], r.get("label", "")) for r in found) == [
        (str(A), str(B), ""),
        (str(A), str(C), '"the source"'),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?o WHERE { ?s ?p ?o }",  # ?s is not selected
        "SELECT ?s (COUNT(*) AS ?n) WHERE { ?x ?p ?o } GROUP BY ?s",
        "ASK { ?y ?p ?o }",  # ?x does not occur
    ],
)
def test_a_substitution_the_query_cannot_take(store: GraphStore, query: str) -> None:
    fill(store)
    substitutions = {"s": A} if "?s ?p" in query else {"x": A}
    with pytest.raises(QueryError):
        result = store.query(query, substitutions=substitutions)
        list(result)  # type: ignore[call-overload]


COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
_SYSTEM_GRAPHS = "its union holds the graphs it keeps for itself (kg.remote.VIRTUOSO_GRAPHS)"


def number(result: object) -> int:
    [row] = solutions(result)
    return int(ox.Literal(row["n"].split('"')[1]).value)


def test_the_default_dataset_is_the_union_of_all_graphs(
    request: pytest.FixtureRequest, store: GraphStore
) -> None:
    differs_on_virtuoso(request, store, _SYSTEM_GRAPHS)
    fill(store)
    assert number(store.query(COUNT)) == 9


def test_datasets_the_caller_names(store: GraphStore) -> None:
    fill(store)
    count = COUNT
    per_graph = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"

    def graphs(result: object) -> set[str]:
        return {r["g"] for r in solutions(result)}

    assert number(store.query(count, default_graph=[G1])) == 4
    assert number(store.query(count, default_graph=[G1, G3])) == 6
    # default graphs only: every named graph is still there for GRAPH
    assert graphs(store.query(per_graph, default_graph=[G1])) == {str(G1), str(G2), str(G3)}
    # named graphs only: the default graph is empty
    assert number(store.query(count, default_graph=[], named_graphs=[G2])) == 0
    assert graphs(store.query(per_graph, default_graph=[], named_graphs=[G2])) == {str(G2)}
    assert graphs(store.query(per_graph, default_graph=[G1], named_graphs=[G3])) == {str(G3)}
    # nothing at all
    assert number(store.query(count, default_graph=[], named_graphs=[])) == 0
    assert graphs(store.query(per_graph, default_graph=[], named_graphs=[])) == set()


def test_as_written_the_query_chooses_its_dataset(
    request: pytest.FixtureRequest, store: GraphStore
) -> None:
    differs_on_virtuoso(
        request, store, "its default graph is the union: a query without FROM sees every graph"
    )
    fill(store)
    query = f"SELECT ?s WHERE {{ ?s <{LABEL.value}> ?o }}"
    assert solutions(
        store.query(query.replace("WHERE", f"FROM <{G2.value}> WHERE"), as_written=True)
    ) == [{"s": str(B)}]
    assert solutions(store.query(query, as_written=True)) == []  # the default graph itself: empty


def test_base_iri_resolves_relative_iris(store: GraphStore) -> None:
    fill(store)
    result = store.query("SELECT ?o WHERE { <a> <p> ?o }", base_iri=EX)
    assert solutions(result) == [{"o": str(B)}, {"o": str(B)}]
    result = store.query("BASE <b/> SELECT ?o WHERE { <../b> <../p> ?o }", base_iri=EX)
    assert solutions(result) == [{"o": str(C)}]


def test_blank_node_tests_in_query_text(request: pytest.FixtureRequest, store: GraphStore) -> None:
    differs_on_virtuoso(request, store, _SYSTEM_GRAPHS)
    fill(store)
    blanks = store.query("SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER(isBlank(?o)) }")
    assert solutions(blanks) == [{"o": str(BLANK)}]
    subjects = store.query(
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && !isBLANK(?s) && isURI(?s)) }"
    )
    assert {r["s"] for r in solutions(subjects)} == {str(A), str(B), str(C), str(D)}
    written = store.query("SELECT ?o WHERE { ?s ?p ?o FILTER(isBlank(IF(isIRI(?o), ?s, ?o))) }")
    assert solutions(written) == [{"o": str(BLANK)}]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * WHERE { ?s ?p ?o ", "SPARQL syntax error at line 1, column 27"),
        (
            "SELECT * WHERE {\n  ?s ?p ?o .\n  ?s ex:p ?o\n}",
            "SPARQL syntax error at line 3, column 11",
        ),
        (f"SELECT * WHERE {{ ?s ?p ?o FILTER(<{EX}nowhere>(?o)) }}", "query failed"),
    ],
)
def test_query_errors(
    request: pytest.FixtureRequest, store: GraphStore, query: str, message: str
) -> None:
    if "column" in message:
        differs_on_virtuoso(request, store, "a syntax error names its line only")
    fill(store)
    with pytest.raises(QueryError, match=message) as raised:
        list(store.query(query))  # type: ignore[call-overload]
    assert raised.value.status == 400


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o ",
        "PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n  ?s ex:p/ex:q ?o .\n  ?s mlg:p ?o }",
        "SELECT ?x WHERE { ?x ?p ?o } GROUP BY",
        "ASK { ?s ?p ?o FILTER(?o > ) }",
    ],
)
def test_syntax_errors_read_as_the_embedded_store_says_them(
    request: pytest.FixtureRequest, store: GraphStore, query: str
) -> None:
    differs_on_virtuoso(request, store, "a syntax error is in its own words, at its line")
    with pytest.raises(QueryError) as embedded:
        OxigraphStore().query(query)
    with pytest.raises(QueryError) as raised:
        store.query(query)
    assert raised.value.message == embedded.value.message


def test_a_syntax_error_is_pointed_at_in_the_text_as_written(
    request: pytest.FixtureRequest, store: GraphStore
) -> None:
    differs_on_virtuoso(request, store, "a syntax error names its line only")
    with pytest.raises(QueryError) as raised:
        store.query("SELECT ?o WHERE { <a> <p> ?o ", base_iri=EX)
    assert raised.value.message.startswith("SPARQL syntax error at line 1, column 30")
    assert raised.value.message.endswith(
        "\n  SELECT ?o WHERE { <a> <p> ?o \n                               ^"
    )


# -- the whole store


@pytest.mark.parametrize("fmt", [ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG])
def test_a_dump_reads_back_as_the_same_dataset(store: GraphStore, fmt: ox.RdfFormat) -> None:
    fill(store)
    output = io.BytesIO()
    store.dump(output, fmt)
    again = ox.Dataset(ox.parse(output.getvalue(), fmt))
    expected = ox.Dataset(content(store))
    for dataset in (again, expected):
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    assert {str(q) for q in again} == {str(q) for q in expected}
    copy = OxigraphStore()  # and it loads as it was: the same quads, the same blank node
    copy.add(ox.parse(output.getvalue(), fmt))
    assert content(copy) == content(store)


def test_a_graph_format_dump_is_the_union(store: GraphStore) -> None:
    fill(store)
    output = io.BytesIO()
    store.dump(output, ox.RdfFormat.TURTLE)
    assert {q.triple for q in ox.parse(output.getvalue(), ox.RdfFormat.TURTLE)} == set(
        store.triples(None, None, None)
    )


# -- the remote store's own concerns


@pytest.fixture
def remote(server: Server) -> Iterator[RemoteStore]:
    server.clear()
    made = server.store()
    yield made
    made.close()


def _raw_select(server: Server, query: str) -> bytes:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{server.url}/query?union-default-graph",
        data=query.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": "text/tab-separated-values"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
        return bytes(answer.read())


def test_other_clients_see_blank_nodes_as_skolem_iris(server: Server, remote: RemoteStore) -> None:
    fill(remote)
    seen = _raw_select(server, f"SELECT ?o WHERE {{ <{A.value}> <{Q.value}> ?o }}").decode()
    assert f"<{SKOLEM}part1>" in seen
    # and a literal holding that text stays a literal for kg
    remote.commit(GraphWrite(replace={G2: [ox.Triple(B, LABEL, ox.Literal(f"<{SKOLEM}part1>"))]}))
    [row] = solutions(remote.query(f"SELECT ?l WHERE {{ <{B.value}> <{LABEL.value}> ?l }}"))
    assert row == {"l": f'"<{SKOLEM}part1>"'}


@pytest.mark.parametrize("accept", ["application/sparql-results+xml", "text/tab-separated-values"])
def test_skolem_iris_come_back_as_blank_nodes_in_every_results_format(
    remote: RemoteStore, accept: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(remote)
    monkeypatch.setattr("kg.remote._RESULTS_ACCEPT", accept)
    found = remote.query(f"SELECT ?s ?o WHERE {{ ?s <{LABEL.value}> ?o }}")
    assert {r["s"] for r in solutions(found)} == {str(BLANK), str(B), str(D)}


def test_a_large_change_goes_in_parts(server: Server) -> None:
    server.clear()
    store = server.store(max_update_bytes=2_000)
    fill(store)
    many = [ox.Triple(n(f"s{i}"), P, ox.Literal(f"value {i}")) for i in range(300)]
    store.commit(GraphWrite(replace={G2: many}, drop=[G3], append=[ox.Quad(A, P, D, n("loads"))]))
    assert set(store.graph(G2)) == set(many)
    assert store.graph(G3) == [] and store.graph(n("loads")) == [ox.Triple(A, P, D)]
    assert len(store.graph(G1)) == 4


def test_a_change_in_parts_that_fails_is_put_back(server: Server) -> None:
    server.clear()

    class Failing(RemoteStore):
        calls = 0

        def _update(self, body: bytes, text: str) -> None:
            Failing.calls += 1
            if Failing.calls == 3:
                raise StoreUnavailableError("the store went away")
            super()._update(body, text)

    store = Failing.from_url(server.url, max_update_bytes=2_000)
    fill(store)
    Failing.calls = 0
    before = content(store)
    many = [ox.Triple(n(f"s{i}"), P, ox.Literal(f"value {i}")) for i in range(300)]
    with pytest.raises(StoreUnavailableError, match="went away"):
        store.commit(GraphWrite(replace={G2: many, G1: []}, append=[ox.Quad(A, P, D, n("loads"))]))
    assert content(store) == before


def test_a_server_whose_default_graph_is_the_union(tmp_path: Path) -> None:
    """`union="server"` (Virtuoso, GraphDB, `oxigraph serve --union-default-graph`): the same
    answers, the union asked for by nothing at all."""
    with oxigraph_server(tmp_path / "db", "--union-default-graph") as running:
        store = running.store(union="server")
        reference = OxigraphStore()
        try:
            for kind in (store, reference):
                fill(kind)
            assert content(store) == content(reference)
            assert set(store.triples(None, P, None)) == set(reference.triples(None, P, None))
            assert (
                store.size() == reference.size() and store.graph_sizes() == reference.graph_sizes()
            )
            query = f"SELECT ?s ?o WHERE {{ ?s <{P.value}> ?o }}"
            assert solutions(store.query(query)) == solutions(reference.query(query))
            assert solutions(store.query(query, default_graph=[G3])) == [{"s": str(C), "o": str(D)}]
        finally:
            store.close()


def test_a_server_that_is_not_there() -> None:
    store = RemoteStore.from_url(f"http://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(StoreUnavailableError, match="does not answer") as raised:
        store.size()
    assert raised.value.status == 503
    with pytest.raises(StoreUnavailableError):
        store.commit(GraphWrite(replace={G1: [ox.Triple(A, P, B)]}))
    with pytest.raises(StoreUnavailableError):
        list(store.quads(None, None, None))


def test_a_server_that_does_not_answer_in_time() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        store = RemoteStore.from_url(f"http://127.0.0.1:{port}", timeout=0.2)
        with pytest.raises(StoreUnavailableError, match=r"did not answer within 0\.2 s"):
            store.query("ASK {}")


class _Refusing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if b"cancel-me" in body:  # as Oxigraph server answers a query past --timeout-s
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(
                b'{"head":{"vars":["n"]},"results":{"bindings":[The SPARQL operation has been cancelled'
            )
            return
        if self.headers.get("Authorization") == "Bearer right":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>not a SPARQL answer</html>")
            return
        self.send_response(401)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"who are you?")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_refused_credentials_and_answers_outside_the_protocol(refusing: str) -> None:
    with pytest.raises(StoreUnavailableError, match="refused kg's credentials") as raised:
        RemoteStore.from_url(refusing.replace("http://", "http://kg:wrong@")).size()
    assert "wrong" not in raised.value.message
    with pytest.raises(StoreUnavailableError, match="answered text/html, not"):
        RemoteStore.from_url(refusing, auth="right").query("SELECT * WHERE { ?s ?p ?o }")


def test_a_query_the_server_stopped_at_its_time_limit(refusing: str) -> None:
    store = RemoteStore.from_url(refusing, auth="right")
    with pytest.raises(BusyError, match="stopped the query at its time limit") as raised:
        store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # cancel-me")
    assert raised.value.status == 503
    with pytest.raises(BusyError):
        list(store._rows("SELECT ?s WHERE { ?s ?p ?o } # cancel-me", union=True))


def test_a_commit_is_one_request(server: Server) -> None:
    server.clear()
    sent: list[str] = []

    class Counting(RemoteStore):
        def _update(self, body: bytes, text: str) -> None:
            sent.append(text)
            super()._update(body, text)

    store = Counting.from_url(server.url)
    fill(store)
    sent.clear()
    store.commit(
        GraphWrite(
            replace={G1: [ox.Triple(A, P, D)], G2: []},
            drop=[G3],
            append=[ox.Quad(A, P, D, n("loads"))],
        )
    )
    assert len(sent) == 1
    assert sent[0].count("DROP SILENT GRAPH") == 3 and sent[0].count("INSERT DATA") == 1
    assert {g.value for g in store.graphs()} == {G1.value, n("loads").value}


class _Forgetful(BaseHTTPRequestHandler):
    """Answers in HTTP/1.1 without saying it will close, then closes: as a server does with a
    kept connection it let go idle."""

    protocol_version = "HTTP/1.1"
    answered = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"head":{},"boolean":true}'
        _Forgetful.answered += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_kept_connection_the_server_closed_is_opened_again() -> None:
    httpd = HTTPServer(("127.0.0.1", 0), _Forgetful)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    store = RemoteStore.from_url(f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        for _ in range(3):
            assert bool(store.query("ASK {}"))
        assert _Forgetful.answered == 3
    finally:
        store.close()
        httpd.shutdown()
        httpd.server_close()


class _Garbled(BaseHTTPRequestHandler):
    """Keeps the connection after its first answer, then answers the next request on it with
    a broken status line: a kept connection that fails otherwise than by being closed."""

    protocol_version = "HTTP/1.1"
    answered = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if _Garbled.answered:
            self.wfile.write(b"garbage\r\n\r\n")
            self.close_connection = True
            return
        _Garbled.answered += 1
        body = b'{"head":{},"boolean":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_kept_connection_that_breaks_is_closed_not_dropped() -> None:
    _Garbled.answered = 0
    httpd = HTTPServer(("127.0.0.1", 0), _Garbled)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    store = RemoteStore.from_url(f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        assert bool(store.query("ASK {}"))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with pytest.raises(StoreUnavailableError, match="does not answer"):
                store.query("ASK {}")
            gc.collect()  # a socket left to the collector says so here (ResourceWarning)
        assert [w.message for w in seen if issubclass(w.category, ResourceWarning)] == []
    finally:
        store.close()
        httpd.shutdown()
        httpd.server_close()


def test_an_answer_past_the_bound(server: Server) -> None:
    server.clear()
    store = server.store(max_response_bytes=1_000)
    store.commit(
        GraphWrite(
            replace={G1: [ox.Triple(n(f"s{i}"), P, ox.Literal("x" * 50)) for i in range(50)]}
        )
    )
    with pytest.raises(QueryError, match="larger than 1000 bytes"):
        store.query("SELECT * WHERE { ?s ?p ?o }")
    assert len(list(store.quads(None, None, None))) == 50  # pattern reads stream, unbounded


def test_a_read_only_store() -> None:
    store = RemoteStore("http://127.0.0.1:9/query")
    with pytest.raises(StoreUnavailableError, match="takes no updates"):
        store.commit(GraphWrite(replace={G1: [ox.Triple(A, P, B)]}))


def test_not_a_store_url() -> None:
    with pytest.raises(KGError, match="not an http"):
        RemoteStore("file:///etc/passwd")


def test_endpoints_of_one_url() -> None:
    assert endpoints("http://db:7878") == (
        "http://db:7878/query",
        "http://db:7878/update",
        "http://db:7878/store",
    )
    assert endpoints("http://db:7878/") == (
        "http://db:7878/query",
        "http://db:7878/update",
        "http://db:7878/store",
    )
    assert endpoints("http://db:3030/ds") == ("http://db:3030/ds", "http://db:3030/ds", None)


def test_a_store_without_graph_store_reads_graphs_by_select(server: Server) -> None:
    server.clear()
    store = RemoteStore(f"{server.url}/query", f"{server.url}/update")
    fill(store)
    assert set(store.graph(G1)) == {
        t for t in store.triples(None, None, None) if t in set(store.graph(G1))
    }
    assert len(store.graph(G1)) == 4 and store.graph(n("none")) == []


# -- Virtuoso's ways


def test_virtuoso_keeps_its_own_graphs_out_of_kg_answers(
    virtuoso: virtuoso_server.Server,
) -> None:
    virtuoso.clear()
    store = virtuoso.store()
    fill(store)
    ours = {G1.value, G2.value, G3.value}
    every = {r[0].strip('"') for r in virtuoso.select(virtuoso_server.GRAPHS)}
    assert every - ours == set(VIRTUOSO_GRAPHS)  # what a fresh database holds for itself
    # kg's own reads leave them out: graphs, counts, pattern reads, dumps
    assert {g.value for g in store.graphs()} == ours
    assert store.size() == 9 and set(store.graph_sizes()) == ours
    assert len(list(store.triples(None, None, None))) == 8
    assert {q.graph_name.value for q in store.quads(None, None, None)} == ours  # type: ignore[union-attr]
    # queries see them, as every client of Virtuoso does
    assert number(store.query(COUNT)) > 9
    named = solutions(store.query("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"))
    assert {r["g"] for r in named} == {f"<{g}>" for g in every}
    store.close()


def test_virtuoso_credentials_and_rights(virtuoso: virtuoso_server.Server) -> None:
    """Updates go to /sparql-auth, which asks for Digest credentials; /sparql runs them as
    the anonymous user, who lacks the SPARQL_UPDATE role."""
    virtuoso.clear()
    change = GraphWrite(replace={G1: [ox.Triple(A, P, B)]})
    url = virtuoso.url
    wrong = RemoteStore(
        f"{url}/sparql", f"{url}/sparql-auth", auth=("kg", "wrong"), union="virtuoso"
    )
    with pytest.raises(StoreUnavailableError, match="refused kg's credentials") as raised:
        wrong.commit(change)
    assert "wrong" not in raised.value.message
    anonymous = RemoteStore(f"{url}/sparql", f"{url}/sparql", union="virtuoso")
    with pytest.raises(StoreUnavailableError, match="SPARQL_UPDATE role"):
        anonymous.commit(change)
    assert anonymous.size() == 0  # reads are open
    store = virtuoso.store()
    store.commit(change)
    assert anonymous.graph(G1) == [ox.Triple(A, P, B)]
    gsp = virtuoso.store(gsp=True)  # its Graph Store endpoint asks for Digest too
    assert gsp.graph(G1) == [ox.Triple(A, P, B)] and gsp.graph(G2) == []
    for made in (wrong, anonymous, store, gsp):
        made.close()


def test_virtuoso_syntax_errors_name_their_line(virtuoso: virtuoso_server.Server) -> None:
    store = virtuoso.store()
    with pytest.raises(QueryError) as raised:
        store.query("SELECT * WHERE {\n  ?s ?p ?o .\n  ?s ex:p ?o\n}", base_iri=EX)
    assert raised.value.status == 400
    assert raised.value.message.startswith("SPARQL syntax error at line 3: ")
    assert "DEFINE" not in raised.value.message  # not the text kg sent, pragmas and all
    store.close()


class _CuttingShort(BaseHTTPRequestHandler):
    """Answers as Virtuoso does what it cut short: rows at ResultSetMaxRows (a header says
    so), an "anytime" query at its time limit (a header too), a query past MaxQueryExecutionTime
    (an error)."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if b"slow" in body:
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(
                b"Virtuoso S1T00 Error SR171: Transaction timed out\n\nSPARQL query:\nslow"
            )
            return
        self.send_response(200)
        if b"anytime" in body:
            self.send_header("X-SQL-State", "S1TAT")
        else:
            self.send_header("X-SPARQL-MaxRows", "3")
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(b'{"head":{"vars":["s","p","o","g"]},"results":{"bindings":[]}}')

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_answers_virtuoso_cut_short_are_refused() -> None:
    httpd = HTTPServer(("127.0.0.1", 0), _CuttingShort)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    store = RemoteStore(f"http://127.0.0.1:{httpd.server_address[1]}/sparql", union="virtuoso")
    try:
        with pytest.raises(QueryError, match=r"cut its answer at 3 rows.*ResultSetMaxRows"):
            store.query("SELECT * WHERE { ?s ?p ?o }")
        with pytest.raises(StoreUnavailableError, match="raise it above the number of quads"):
            list(store.quads(None, None, None))
        with pytest.raises(BusyError, match="time limit"):
            store.query("SELECT * WHERE { ?s ?p ?o } # anytime")
        with pytest.raises(BusyError, match="time limit"):
            store.query("SELECT * WHERE { ?s ?p ?o } # slow")
    finally:
        store.close()
        httpd.shutdown()
        httpd.server_close()


# -- the query text the remote store writes


@pytest.mark.parametrize(
    ("query", "substitutions", "written"),
    [
        (
            "SELECT ?x WHERE { ?x ?p ?o }",
            {"x": A},
            f"SELECT (<{A.value}> AS ?x) WHERE {{ <{A.value}> ?p ?o }}",
        ),
        (
            "SELECT $x WHERE { $x ?p ?o }",
            {"x": A},
            f"SELECT (<{A.value}> AS $x) WHERE {{ <{A.value}> ?p ?o }}",
        ),
        (
            "SELECT * { ?x ?p ?o }",
            {"x": A},
            f"SELECT * {{ BIND(<{A.value}> AS ?x) <{A.value}> ?p ?o }}",
        ),
        (
            "SELECT ?x WHERE { ?x ?p ?o } ORDER BY ?x",
            {"x": A},
            f"SELECT (<{A.value}> AS ?x) WHERE {{ <{A.value}> ?p ?o }} ORDER BY (<{A.value}>)",
        ),
        (
            "SELECT ?x WHERE { ?s ?p ?o FILTER(BOUND( ?x )) }",
            {"x": ox.Literal("1")},
            'SELECT ("1" AS ?x) WHERE { ?s ?p ?o FILTER(true) }',
        ),
        (
            "SELECT ?x ?xy WHERE { ?x ?p ?xy }",
            {"x": BLANK},
            f"SELECT (<{SKOLEM}part1> AS ?x) ?xy WHERE {{ <{SKOLEM}part1> ?p ?xy }}",
        ),
        # a sub-query's own ?x (not selected by it) is another variable
        (
            "SELECT ?x ?n WHERE { ?x ?p ?o { SELECT (COUNT(*) AS ?n) WHERE { ?x ?q ?z } } }",
            {"x": A},
            f"SELECT (<{A.value}> AS ?x) ?n WHERE {{ <{A.value}> ?p ?o {{ SELECT (COUNT(*) AS ?n) WHERE {{ ?x ?q ?z }} }} }}",
        ),
        # a sub-query selecting it: the query around it selects the sub-query's variable
        (
            "SELECT ?x WHERE { { SELECT ?x WHERE { ?x ?p ?o } } }",
            {"x": A},
            f"SELECT ?x WHERE {{ {{ SELECT (<{A.value}> AS ?x) WHERE {{ <{A.value}> ?p ?o }} }} }}",
        ),
        # strings, IRIs and comments are not read
        (
            'SELECT ?x WHERE { ?x <http://e/?x> "?x" } # ?x',
            {"x": A},
            f'SELECT (<{A.value}> AS ?x) WHERE {{ <{A.value}> <http://e/?x> "?x" }} # ?x',
        ),
        (
            "SELECT ?s WHERE { ?s ?p ?o FILTER(!isBlank(?o)) }",
            {},
            f'SELECT ?s WHERE {{ ?s ?p ?o FILTER(!(isBlank(?o) || (isIRI(?o) && STRSTARTS(STR(?o), "{SKOLEM}")))) }}',
        ),
    ],
)
def test_bind_writes_values_into_the_text(
    query: str, substitutions: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal], written: str
) -> None:
    assert bind(query, substitutions) == written


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT ?x WHERE { ?s ?p ?o BIND(?s AS ?x) }", "binds it itself"),
        ("SELECT ?x WHERE { ?s ?p ?o VALUES ?x { <http://e/a> } }", "binds it itself"),
        ("SELECT ?o WHERE { ?x ?p ?o }", r"does not select \?x"),
        ("ASK { ?s ?p ?o }", r"does not select \?x"),
    ],
)
def test_bind_refuses_what_cannot_be_bound(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        bind(query, {"x": A})


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("PREFIX select: <http://e/> ASK { ?s select:p ?o }", "ASK"),
        ("# SELECT\nCONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("BASE <http://e/> DESCRIBE <a>", "DESCRIBE"),
        ("SELECT * {}", "SELECT"),
    ],
)
def test_query_form(query: str, form: str) -> None:
    assert query_form(query) == form


def test_many_graphs_read_at_once_as_one_by_one(store: GraphStore) -> None:
    fill(store)
    asked = [G1, G3, n("nothing"), G2]
    together = store.graphs_content(asked)
    assert set(together) == {G1, G2, G3}  # a graph that holds nothing is left out
    for graph in (G1, G2, G3):
        assert sorted(map(str, together[graph])) == sorted(map(str, store.graph(graph)))


def test_many_subjects_read_at_once_as_one_by_one(store: GraphStore) -> None:
    fill(store)
    asked: list[ox.NamedNode | ox.BlankNode] = [A, B, BLANK, D, n("nothing")]
    together = store.quads_of(asked)
    assert set(together) == {A, B, BLANK, D}
    for subject in (A, B, BLANK, D):
        alone = store.quads(subject, None, None)
        assert sorted(map(str, together[subject])) == sorted(map(str, alone))
