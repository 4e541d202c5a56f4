"""Writers taking turns on a shared store: two kg graphs on one real Oxigraph server, each with
its own connection, as two processes have, writing at once from several threads."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import uuid
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from kg.demo import load_demo
from kg.errors import BusyError
from kg.governance.gate import GateError, GateMode
from kg.graph import Document, KnowledgeGraph
from kg.graphs import WRITER_GRAPH_PREFIX
from kg.ontology import default_ontology
from kg.store import GraphStore, GraphWrite
from kg.vocab import XSD
from kg.write import log
from kg.write.lease import CLAIMED, Lease
from tests.conftest import iri, settings
from tests.oxigraph_server import Server, oxigraph_server

WRITERS = 3  # threads per graph
WRITES = 8  # each


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as running:
        yield running


@pytest.fixture
def two(server: Server) -> Iterator[tuple[KnowledgeGraph, KnowledgeGraph]]:
    server.clear()
    graphs = [
        KnowledgeGraph(server.store(), settings(write_lease=5.0), default_ontology())
        for _ in range(2)
    ]
    for graph in graphs:
        graph.catch_up()
        graph.install_vocabulary()
    yield graphs[0], graphs[1]
    for graph in graphs:
        graph.close()


def _keywords(graph: KnowledgeGraph, subject: str) -> set[str]:
    keyword = ox.NamedNode("http://www.w3.org/ns/dcat#keyword")
    return {t.object.value for t in graph.store.triples(ox.NamedNode(subject), keyword, None)}


def test_merges_into_one_asset_from_two_graphs_at_once_lose_nothing(
    two: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    subject = iri("dataset/shared")
    two[0].load([Document("a.yaml", b"assets:\n- {id: dataset/shared, type: Dataset}\n")])
    failures: list[BaseException] = []

    def write(graph: KnowledgeGraph, writer: int) -> None:
        try:
            for n in range(WRITES):
                text = f'<{subject}> <http://www.w3.org/ns/dcat#keyword> "w{writer}-{n}" .'
                graph.graph_write(
                    None, [Document("k.nt", text.encode(), "application/n-triples")], merge=True
                )
        except BaseException as exc:
            failures.append(exc)

    threads = [
        threading.Thread(target=write, args=(graph, g * WRITERS + w))
        for g, graph in enumerate(two)
        for w in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    wanted = {f"w{w}-{n}" for w in range(2 * WRITERS) for n in range(WRITES)}
    assert _keywords(two[0], subject) == wanted  # every merge read the one before it
    # one position per acknowledged write, none twice, none skipped
    changes = log.since(two[0].store, 0)
    assert [c.position for c in changes] == list(range(1, 2 * WRITERS * WRITES + 2))
    assert log.head(two[1].store) == len(changes)
    # no claim is left behind
    assert _claims(two[0].store) == set()


def test_each_graph_catches_up_with_the_other_before_it_writes(
    two: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    first, second = two
    first.load([Document("a.yaml", b"assets:\n- {id: dataset/raw, type: Dataset}\n")])
    # the second writes an edge to what only the first wrote: its index is brought in step first
    second.load([
        Document("b.yaml", b"assets:\n- {id: dataset/clean, type: Dataset, derivedFrom: dataset/raw}\n")
    ])  # fmt: skip
    assert second.position == first.position + 1 == 2
    assert {n.id for n in second.lineage("dataset/clean").nodes} >= {iri("dataset/raw")}
    assert first.in_step() == 2  # and the first follows the second's write
    assert {n.id for n in first.lineage("dataset/clean").nodes} >= {iri("dataset/raw")}
    assert [h.id for h in first.search("clean").hits] == [iri("dataset/clean")]


def _claim(made: dt.datetime) -> tuple[ox.NamedNode, GraphWrite]:
    """A claim as a writer leaves it, made at `made`."""
    graph = ox.NamedNode(f"{WRITER_GRAPH_PREFIX}{uuid.uuid4()}")
    at = ox.Literal(made.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))
    return graph, GraphWrite(replace={graph: [ox.Triple(graph, CLAIMED, at)]})


def _claims(store: GraphStore) -> set[str]:
    return {g.value for g in store.graphs() if g.value.startswith(WRITER_GRAPH_PREFIX)}


def test_a_live_claim_makes_a_writer_wait_and_a_stale_one_is_taken_over(server: Server) -> None:
    server.clear()
    store = server.store()
    now = dt.datetime.now(dt.UTC)
    live, claim = _claim(now)
    store.commit(claim)  # a process in the middle of a write
    with (
        pytest.raises(BusyError, match="writing to the store"),
        Lease(server.store(), lease=30.0, wait=0.3).held(),
    ):
        pass
    store.commit(GraphWrite(replace={}, drop=[live]))
    dead, claim = _claim(now - dt.timedelta(seconds=60))
    store.commit(claim)  # a process killed in the middle of a write, a minute ago
    with Lease(server.store(), lease=30.0, wait=5.0).held():
        held = _claims(store)
        assert dead.value not in held and len(held) == 1
    assert _claims(store) == set()  # withdrawn once the write is over


def test_the_gate_of_one_graph_sees_what_the_other_wrote(
    two: tuple[KnowledgeGraph, KnowledgeGraph],
) -> None:
    """The second graph never followed the first: its turn to write catches it up first, so
    its gate refuses to deprecate a dataset the first graph's production services stand on."""
    first, second = two
    load_demo(first)
    assert second.position == 0
    deprecate = (
        "PREFIX mlg: <https://w3id.org/mlg#> "
        "DELETE { ?d mlg:status ?s } INSERT { ?d mlg:status mlg:Deprecated } "
        "WHERE { BIND(<https://w3id.org/mlg/id/dataset/title-metadata> AS ?d) ?d mlg:status ?s }"
    )
    with pytest.raises(GateError, match="violation"):
        second.sparql_update(deprecate, gate=GateMode.ENFORCE)
    assert second.position == first.position  # caught up, and nothing written
    assert log.head(second.store) == first.position


def test_the_follower_ends_with_its_graph_or_its_store(server: Server) -> None:
    graph = KnowledgeGraph.open(settings(store=server.url, follow_interval=0.01))
    thread = graph._following
    assert thread is not None and thread.is_alive()
    graph.store.close()  # closed without graph.close(): nothing left to follow
    thread.join(10)
    assert not thread.is_alive()
    dropped = KnowledgeGraph.open(settings(store=server.url, follow_interval=0.01))
    thread = dropped._following
    assert thread is not None
    del dropped  # dropped unclosed
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()
