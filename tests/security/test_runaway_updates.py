"""A SPARQL Update whose WHERE runs away is stopped like a query: its plan runs in a worker
process under KG_QUERY_TIMEOUT, the worker is killed, nothing is written, and the write lock
is free again for the next writer. Against a live server."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.test_runaway import _sparql, run_watching_workers
from tests.test_serve import start_server

pytestmark = pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")

TOKEN = "runaway-update-token"  # noqa: S105 (a test token)
MLG = "https://w3id.org/mlg#"
# The WHERE joins three unbounded closures over the demo: billions of solutions.
RUNAWAY = (
    f"INSERT {{ ?a <{MLG}dependsOn> ?d }} WHERE {{ ?a (<{MLG}dependsOn>|^<{MLG}dependsOn>)* ?b . "
    f"?c (<{MLG}dependsOn>|^<{MLG}dependsOn>)* ?d . ?e ?p ?f . ?g ?q ?h }}"
)


def _update(base: str, text: str) -> tuple[int, str]:
    request = urllib.request.Request(base + "/sparql", data=text.encode(), method="POST")  # noqa: S310
    request.add_header("content-type", "application/sparql-update")
    request.add_header("authorization", f"Bearer {TOKEN}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    store = tmp_path_factory.mktemp("runaway-updates") / "store"
    env = {"KG_QUERY_TIMEOUT": "1.5", "KG_QUERY_WORKERS": "2", "KG_API_TOKENS": TOKEN}
    process, base = start_server("--demo", "--store", str(store), env=env)
    try:
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def _count(base: str) -> int:
    status, body, _ = _sparql(
        base, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", format="csv"
    )
    assert status == 200, body
    return int(body.splitlines()[1])


def test_a_runaway_update_is_stopped_and_writes_nothing(server: tuple[str, int]) -> None:
    base, pid = server
    before = _count(base)
    (status, body), computing = run_watching_workers(pid, lambda: _update(base, RUNAWAY))
    assert status == 503, body
    assert "KG_QUERY_TIMEOUT" in body
    assert computing, "the update's WHERE ran in a worker process"
    assert not any(Path(f"/proc/{worker}").exists() for worker in computing)
    assert _count(base) == before  # nothing written
    # the write lock was let go: the next writer gets through
    status, body = _update(
        base, f"INSERT DATA {{ <urn:test:after> <{MLG}dependsOn> <urn:test:x> }}"
    )
    assert status == 204, body
    assert _count(base) > before


def test_an_update_within_budget_still_sees_the_latest_write(server: tuple[str, int]) -> None:
    """The plan reads a view made under the write lock: it sees every write before it."""
    for n in range(3):
        status, body = _update(
            base := server[0], f"INSERT DATA {{ <urn:test:chain> <urn:test:n> {n} }}"
        )
        assert status == 204, body
        status, body = _update(
            base,
            "DELETE { <urn:test:chain> <urn:test:n> ?n } INSERT { <urn:test:chain> <urn:test:seen> ?n } "
            "WHERE { <urn:test:chain> <urn:test:n> ?n }",
        )
        assert status == 204, body
    status, body, _ = _sparql(
        base, "SELECT ?n WHERE { <urn:test:chain> <urn:test:seen> ?n } ORDER BY ?n", format="csv"
    )
    assert body.split() == ["n", "0", "1", "2"]
