"""kill -9 of a live `kg serve` while a client writes through each write path: after a restart
every write the server acknowledged is there, and the lineage and search indexes agree with a
rebuild from the store."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
import pyoxigraph as ox
import pytest

from kg.config import Settings
from kg.graph import KnowledgeGraph
from kg.lineage import LineageIndex
from kg.write import log
from tests.test_serve import start_server

pytestmark = pytest.mark.embedded_only("kill -9 of the `kg serve` that embeds the store")

ID = "https://w3id.org/mlg/id/"
MLG = "https://w3id.org/mlg#"
DERIVED = f"<{MLG}derivedFrom>"


def _sparql(client: httpx2.Client, i: int) -> httpx2.Response:
    text = (
        f"INSERT DATA {{ <{ID}dataset/kill{i}> a <{MLG}Dataset> ; "
        f"{DERIVED} <{ID}dataset/kill{i + 1}> }}"
    )
    return client.post(
        "/sparql", content=text, headers={"content-type": "application/sparql-update"}
    )


def _graph_store(client: httpx2.Client, i: int) -> httpx2.Response:
    body = f"<{ID}dataset/kill{i}> {DERIVED} <{ID}dataset/kill{i + 1}> ."
    return client.put(
        "/store", params={"graph": f"urn:kill:{i}"}, content=body,
        headers={"content-type": "application/n-triples"},
    )  # fmt: skip


def _asset(client: httpx2.Client, i: int) -> httpx2.Response:
    body = f"type: Dataset\nname: Killed {i}\nderivedFrom: dataset/kill{i + 1}\n"
    return client.put(
        f"/api/v1/assets/dataset/kill{i}", content=body,
        headers={"content-type": "application/yaml"},
    )  # fmt: skip


def _openlineage(client: httpx2.Client, i: int) -> httpx2.Response:
    event = {
        "eventType": "COMPLETE", "eventTime": "2026-05-01T10:00:00Z",
        "producer": "https://example.com/kill-test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": f"0190a0c4-1f2e-7a3b-9c4d-{i:012d}"},
        "job": {"namespace": "kill", "name": f"job{i}"},
        "inputs": [{"namespace": "kill", "name": f"in{i}"}],
        "outputs": [{"namespace": "kill", "name": f"out{i}"}],
    }  # fmt: skip
    return client.post("/api/v1/lineage", content=json.dumps(event),
                       headers={"content-type": "application/json"})  # fmt: skip


def _kept_sparql(graph: KnowledgeGraph, i: int) -> bool:
    return graph.exists(f"{ID}dataset/kill{i}")


def _kept_graph_store(graph: KnowledgeGraph, i: int) -> bool:
    return bool(graph.store.graph(ox.NamedNode(f"urn:kill:{i}")))


def _kept_openlineage(graph: KnowledgeGraph, i: int) -> bool:
    return any(graph.search(f"out{i}").hits)


PATHS: dict[str, tuple[Callable[[httpx2.Client, int], httpx2.Response], Callable[[KnowledgeGraph, int], bool]]] = {
    "sparql update": (_sparql, _kept_sparql),
    "graph store put": (_graph_store, _kept_graph_store),
    "asset put": (_asset, _kept_sparql),
    "openlineage": (_openlineage, _kept_openlineage),
}  # fmt: skip


@pytest.mark.parametrize("path", list(PATHS))
def test_every_acknowledged_write_survives_a_kill(tmp_path: Path, path: str) -> None:
    write, kept = PATHS[path]
    store = tmp_path / "store"
    process, base = start_server("--store", str(store), env={"KG_GATE": "off"})
    acknowledged: list[int] = []
    refused: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        with httpx2.Client(base_url=base, timeout=30) as client:
            i = 0
            while not stop.is_set():
                try:
                    response = write(client, i)
                except httpx2.TransportError:
                    return  # the server is gone
                if response.status_code >= 300:
                    refused.append(f"{response.status_code} {response.text[:200]}")
                    return
                acknowledged.append(i)
                i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 5 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    time.sleep(0.3)  # and kill in the middle of a later write
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    stop.set()
    thread.join(30)
    assert not refused
    assert len(acknowledged) > 3

    graph = KnowledgeGraph.open(Settings(store=store, gate="off"))  # type: ignore[arg-type]
    try:
        lost = [i for i in acknowledged if not kept(graph, i)]
        assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged writes lost"
        fresh = LineageIndex(graph.ontology)
        fresh.rebuild(graph.store)
        assert graph.lineage_index.edges() == fresh.edges()
        assert graph.search_index.in_step(log.head_stamp(graph.store)[1])
    finally:
        graph.close()
