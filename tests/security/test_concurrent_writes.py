"""Concurrent writes against a real `kg serve` (uvicorn, on-disk store): two writers race on the
same subject or graph, round after round, and every write the server acknowledged must be in
the store afterwards (none lost), and every "created" answer must be true (one per resource).

Each write reads what is stored before it commits (a SPARQL update plans against the store, a
Graph Store POST merges with the graph, a PUT decides 201 or 204): the read, the check and the
commit must be one step, or the second writer's commit silently replaces the first one's.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pyoxigraph as ox
import pytest

from tests.test_serve import start_server

pytestmark = pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")

ROUNDS = 50
WRITERS = 2
S = "https://w3id.org/mlg/id/dataset/contended"
P = "urn:test:said"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store: Path = tmp_path_factory.mktemp("concurrent") / "store"
    process, base = start_server("--store", str(store), env={"KG_GATE": "off"})
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def race(base: str, write: Callable[[httpx2.Client, int, int], int]) -> list[list[int]]:
    """Run `write(client, writer, round)` from WRITERS threads, the rounds in lockstep (a
    barrier before each), and return the status codes [round][writer]."""
    statuses = [[0] * WRITERS for _ in range(ROUNDS)]
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with httpx2.Client(base_url=base, timeout=60) as client:
                for round_ in range(ROUNDS):
                    barrier.wait(timeout=60)
                    statuses[round_][number] = write(client, number, round_)
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return statuses


def select(client: httpx2.Client, query: str) -> list[dict[str, str]]:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    return [
        {k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]
    ]


def said(base: str, subject: str, graph: str | None = None) -> set[str]:
    pattern = f"<{subject}> <{P}> ?o"
    where = f"GRAPH <{graph}> {{ {pattern} }}" if graph else pattern
    with httpx2.Client(base_url=base, timeout=60) as client:
        return {row["o"] for row in select(client, f"SELECT ?o WHERE {{ {where} }}")}


def acknowledged(statuses: list[list[int]], ok: set[int]) -> set[str]:
    return {
        f"w{w}-r{r}"
        for r, codes in enumerate(statuses)
        for w, code in enumerate(codes)
        if code in ok
    }


def assert_kept(kept: set[str], sent: set[str]) -> None:
    assert kept == sent, f"{len(sent - kept)} of {len(sent)} acknowledged writes lost"


def _update(client: httpx2.Client, text: str) -> int:
    response = client.post(
        "/sparql", content=text, headers={"content-type": "application/sparql-update"}
    )
    return response.status_code


def test_sparql_insert_data_on_one_subject_loses_nothing(server: str) -> None:
    subject = S + "/insert-data"
    statuses = race(
        server,
        lambda c, w, r: _update(c, f'INSERT DATA {{ <{subject}> <{P}> "w{w}-r{r}" }}'),
    )
    sent = acknowledged(statuses, {204})
    assert len(sent) == ROUNDS * WRITERS  # every write was acknowledged
    assert_kept(said(server, subject), sent)  # and none of them was lost


def test_sparql_read_modify_write_counts_every_update(server: str) -> None:
    subject = S + "/counter"
    counter = "urn:test:count"
    text = (
        f"DELETE {{ <{subject}> <{counter}> ?n }} INSERT {{ <{subject}> <{counter}> ?next }} "
        f"WHERE {{ OPTIONAL {{ <{subject}> <{counter}> ?n }} BIND(COALESCE(?n + 1, 1) AS ?next) }}"
    )
    statuses = race(server, lambda c, w, r: _update(c, text))
    assert all(code == 204 for codes in statuses for code in codes), statuses
    with httpx2.Client(base_url=server, timeout=60) as client:
        rows = select(client, f"SELECT ?n WHERE {{ <{subject}> <{counter}> ?n }}")
    # one value (no two updates both replaced the same old value), counting every update
    counts = [int(row["n"]) for row in rows]
    assert counts == [ROUNDS * WRITERS], f"counted {counts} of {ROUNDS * WRITERS} updates"


def _post(client: httpx2.Client, params: dict[str, str], subject: str, value: str) -> int:
    body = f'<{subject}> <{P}> "{value}" .'.encode()
    query = urllib.parse.urlencode(params) if params else "default"
    response = client.post(
        f"/store?{query}", content=body, headers={"content-type": "application/n-triples"}
    )
    return response.status_code


def test_graph_store_post_to_the_default_graph_loses_nothing(server: str) -> None:
    subject = S + "/gsp-default"
    statuses = race(server, lambda c, w, r: _post(c, {}, subject, f"w{w}-r{r}"))
    sent = acknowledged(statuses, {204})
    assert len(sent) == ROUNDS * WRITERS
    assert_kept(said(server, subject), sent)


def test_graph_store_post_to_a_named_graph_loses_nothing(server: str) -> None:
    subject = S + "/gsp-named"
    graph = "urn:test:graph:contended"
    statuses = race(server, lambda c, w, r: _post(c, {"graph": graph}, subject, f"w{w}-r{r}"))
    sent = acknowledged(statuses, {201, 204})
    assert len(sent) == ROUNDS * WRITERS
    assert_kept(said(server, subject, graph), sent)
    # the graph was created once: one 201, every other POST merged into it (204)
    assert sum(code == 201 for codes in statuses for code in codes) == 1


def test_graph_store_put_creates_each_graph_once(server: str) -> None:
    subject = S + "/gsp-put"

    def put(client: httpx2.Client, writer: int, round_: int) -> int:
        body = f'<{subject}> <{P}> "w{writer}-r{round_}" .'.encode()
        response = client.put(
            "/store",
            params={"graph": f"urn:test:graph:put:{round_}"},
            content=body,
            headers={"content-type": "application/n-triples"},
        )
        return response.status_code

    statuses = race(server, put)
    # both writers replaced the same new graph: one created it (201), one replaced it (204)
    wrong = [codes for codes in statuses if sorted(codes) != [201, 204]]
    assert not wrong, f"{len(wrong)} of {ROUNDS} rounds answered {wrong[:3]}..."
    for round_ in range(ROUNDS):
        kept = said(server, subject, f"urn:test:graph:put:{round_}")
        assert len(kept) == 1 and kept <= {f"w{w}-r{round_}" for w in range(WRITERS)}


def test_asset_put_creates_each_asset_once(server: str) -> None:
    def put(client: httpx2.Client, writer: int, round_: int) -> int:
        response = client.put(
            f"/api/v1/assets/dataset/contended-{round_}",
            content=f"type: Dataset\nname: written by w{writer}\n".encode(),
            headers={"content-type": "application/yaml"},
        )
        return response.status_code

    statuses = race(server, put)
    wrong = [codes for codes in statuses if sorted(codes) != [200, 201]]
    assert not wrong, f"{len(wrong)} of {ROUNDS} rounds answered {wrong[:3]}..."


def test_asset_delete_deletes_once(server: str) -> None:
    with httpx2.Client(base_url=server, timeout=60) as client:
        for round_ in range(ROUNDS):
            created = client.put(
                f"/api/v1/assets/dataset/doomed-{round_}",
                content=b"type: Dataset\nname: doomed\n",
                headers={"content-type": "application/yaml"},
            )
            assert created.status_code == 201, created.text

    def delete(client: httpx2.Client, writer: int, round_: int) -> int:
        return client.delete(f"/api/v1/assets/dataset/doomed-{round_}").status_code

    statuses = race(server, delete)
    wrong = [codes for codes in statuses if sorted(codes) != [204, 404]]
    assert not wrong, f"{len(wrong)} of {ROUNDS} rounds answered {wrong[:3]}..."


def test_the_store_holds_what_the_server_said(server: str) -> None:
    """The acknowledged writes are in the store itself, not only in what the server answers."""
    with httpx2.Client(base_url=server, timeout=60) as client:
        dump = client.get("/store", params={"default": ""}, headers={"accept": "text/turtle"})
    assert dump.status_code == 200
    values = {
        q.object.value
        for q in ox.parse(dump.content, ox.RdfFormat.TURTLE)
        if q.subject == ox.NamedNode(S + "/insert-data")
    }
    assert len(values) == ROUNDS * WRITERS, f"{len(values)} of {ROUNDS * WRITERS} in the store"
