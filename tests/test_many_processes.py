"""Two `kg serve` processes on one real Oxigraph server, as behind a load balancer: what one
writes reaches the other's lineage and search; both writing one asset lose nothing; one killed
in the middle of a write leaves the other serving the store as it was, and writing again."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.oxigraph_server import Server, oxigraph_server
from tests.test_serve import start_server

pytestmark = pytest.mark.embedded_only(reason="starts its own server and kg processes")

TOKEN = "two-processes-token"  # noqa: S105  # a test token
ID = "https://w3id.org/mlg/id/"
SEEN_WITHIN = 30.0  # s: a liveness bound (the follower's measured delay is printed, not checked)


@dataclass
class Kg:
    url: str
    process: subprocess.Popen[bytes]

    def get(self, path: str, **params: str) -> tuple[int, object]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with urllib.request.urlopen(self.url + path + query, timeout=60) as answer:  # noqa: S310 (loopback)
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def send(self, method: str, path: str, body: bytes, media: str) -> tuple[int, object]:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            self.url + path,
            data=body,
            method=method,
            headers={"Content-Type": media, "Authorization": f"Bearer {TOKEN}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310 (loopback)
                text = answer.read()
                return answer.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def start_kg(server: Server, folder: Path, *args: str) -> Kg:
    """`kg serve` on the Oxigraph server, its own indexes in `folder`."""
    env = {
        "KG_STORE": server.url,
        "KG_API_TOKENS": TOKEN,
        "KG_FOLLOW_INTERVAL": "0.1",
        "KG_WRITE_LEASE": "3",
    }
    process, url = start_server("--store", str(folder), *args, env=env)
    return Kg(url, process)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as running:
        yield running


@pytest.fixture
def two(server: Server, tmp_path: Path) -> Iterator[tuple[Kg, Kg]]:
    server.clear()
    first = start_kg(server, tmp_path / "one", "--demo")
    second = start_kg(server, tmp_path / "two")
    yield first, second
    for kg in (first, second):
        if kg.process.poll() is None:
            kg.process.terminate()
            kg.process.wait(30)


def _until(check: object, what: str) -> float:
    """Seconds until `check()` is true (fails past SEEN_WITHIN)."""
    began = time.monotonic()
    while time.monotonic() - began < SEEN_WITHIN:
        if check():  # type: ignore[operator]
            return time.monotonic() - began
        time.sleep(0.01)
    pytest.fail(f"{what} not seen within {SEEN_WITHIN} s")


NEW = """\
assets:
  - {id: dataset/fresh-events, type: Dataset, name: Fresh events, owner: team/data-platform,
     status: Active, derivedFrom: dataset/playback-events-clean}
"""


def test_a_write_through_one_is_seen_through_the_other(two: tuple[Kg, Kg]) -> None:
    first, second = two
    code, body = first.send("POST", "/api/v1/assets", NEW.encode(), "application/yaml")
    assert code in (200, 201), body

    def in_lineage() -> bool:
        code, answer = second.get("/api/v1/lineage", nodeId="dataset/fresh-events")
        nodes = answer.get("graph", []) if isinstance(answer, dict) else []
        return code == 200 and any(n["id"] == ID + "dataset/playback-events-clean" for n in nodes)

    def in_search() -> bool:
        code, answer = second.get("/api/v1/search", q="fresh events")
        hits = answer.get("hits", []) if isinstance(answer, dict) else []
        return code == 200 and any(h["id"] == ID + "dataset/fresh-events" for h in hits)

    lineage_delay = _until(in_lineage, "the write in the other's lineage")
    search_delay = _until(in_search, "the write in the other's search")
    print(f"seen by the other process: lineage {lineage_delay:.3f} s, search {search_delay:.3f} s")
    # and the other way round
    code, body = second.send("DELETE", "/api/v1/assets/dataset/fresh-events", b"", "text/plain")
    assert code in (200, 204), body
    _until(lambda: first.get("/api/v1/assets/dataset/fresh-events")[0] == 404, "the delete")


def test_both_writing_one_asset_lose_nothing(two: tuple[Kg, Kg], server: Server) -> None:
    writes = 6
    subject = ID + "dataset/playback-events-clean"
    failures: list[object] = []

    def merge(kg: Kg, writer: str) -> None:
        for n in range(writes):
            line = f'<{subject}> <http://www.w3.org/ns/dcat#keyword> "{writer}-{n}" .\n'
            code, body = kg.send("POST", "/store?default", line.encode(), "application/n-triples")
            if code not in (200, 201, 204):
                failures.append((code, body))

    threads = [
        threading.Thread(target=merge, args=(kg, f"{name}{w}"))
        for kg, name in zip(two, "ab", strict=True)
        for w in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    wanted = {f"{name}{w}-{n}" for name in "ab" for w in range(2) for n in range(writes)}
    stored = server.store()
    keyword = _node("http://www.w3.org/ns/dcat#keyword")
    assert {t.object.value for t in stored.triples(_node(subject), keyword, None)} >= wanted
    for kg in two:  # every acknowledged merge kept, and each process shows them all

        def shown(kg: Kg = kg) -> bool:
            code, asset = kg.get("/api/v1/assets/dataset/playback-events-clean")
            return code == 200 and wanted <= set(asset["tags"])  # type: ignore[index]

        _until(shown, "every merge in each process's asset view")
    positions = _positions(server)
    assert positions == list(range(1, len(positions) + 1))  # one position each, in order


def test_one_killed_mid_write_leaves_the_other_serving(two: tuple[Kg, Kg], server: Server) -> None:
    first, second = two
    before = second.get("/api/v1/lineage", nodeId="model/content-embedding/v2")
    big = "assets:\n" + "".join(
        f"  - {{id: dataset/bulk-{n}, type: Dataset, name: Bulk {n}, owner: team/data-platform, "
        f"status: Active, derivedFrom: dataset/playback-events-clean}}\n"
        for n in range(20_000)
    )

    def write() -> None:
        with contextlib.suppress(OSError):  # the connection dies with the process
            first.send("POST", "/api/v1/assets", big.encode(), "application/yaml")

    writer = threading.Thread(target=write)
    writer.start()
    _until(lambda: _claimed(server), "the first process's claim on the store")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(30)
    writer.join()
    # the other serves the store as it was, or with the whole write: never half of it
    assert second.get("/api/v1/lineage", nodeId="model/content-embedding/v2") == before
    bulk = _count(server, "STRSTARTS(STR(?s), 'https://w3id.org/mlg/id/dataset/bulk-')")
    assert bulk in (0, 20_000)
    # and writes again once the dead process's claim has run out (KG_WRITE_LEASE=3)
    code, body = second.send("POST", "/api/v1/assets", NEW.encode(), "application/yaml")
    assert code in (200, 201), body
    assert second.get("/api/v1/assets/dataset/fresh-events")[0] == 200


def _node(value: str) -> object:
    import pyoxigraph as ox

    return ox.NamedNode(value)


def _rows(server: Server, query: str) -> list[dict[str, str]]:
    store = server.store()
    result = store.query(query)
    return [{str(k): v.value for k, v in zip(result.variables, row, strict=True)} for row in result]  # type: ignore[union-attr]


def _positions(server: Server) -> list[int]:
    rows = _rows(
        server,
        "SELECT ?p WHERE { GRAPH <urn:kg:graph:loads> { ?l <https://w3id.org/mlg#position> ?p } }",
    )
    return sorted(int(r["?p"]) for r in rows)


def _claimed(server: Server) -> bool:
    rows = _rows(server, "SELECT ?t WHERE { GRAPH ?g { ?w <https://w3id.org/mlg#claimedAt> ?t } }")
    return bool(rows)


def _count(server: Server, condition: str) -> int:
    rows = _rows(
        server,
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <https://w3id.org/mlg#Dataset> "
        f"FILTER({condition}) }}",
    )
    return int(rows[0]["?n"])
