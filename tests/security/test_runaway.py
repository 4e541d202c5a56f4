"""Runaway work really stops: a query past its budget has its worker killed and the CPU comes
back; at most KG_QUERY_WORKERS evaluations run at once; reads never make the server call out
unless allowed; the row cap holds whatever the query text looks like. Against a live server."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from kg.config import Settings
from kg.errors import BusyError
from kg.evaluation import Evaluator
from kg.store import open_store
from tests.test_serve import start_server

pytestmark = pytest.mark.embedded_only("worker processes on views of the embedded store")

T = TypeVar("T")
TOKEN = "runaway-token"  # noqa: S105 (a test token)
# Three unbounded closures joined: billions of rows over the demo graph.
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a (<https://w3id.org/mlg#dependsOn>|^<https://w3id.org/mlg#dependsOn>)* ?b . "
    "?c (<https://w3id.org/mlg#dependsOn>|^<https://w3id.org/mlg#dependsOn>)* ?d . ?e ?p ?f . ?g ?q ?h }"
)
BUDGET = 1.5


def _sparql(
    base: str, query: str, token: str | None = None, **params: str
) -> tuple[int, str, dict[str, str]]:
    data = urllib.parse.urlencode({"query": query, **params}).encode()
    request = urllib.request.Request(base + "/sparql", data=data, method="POST")  # noqa: S310
    request.add_header("content-type", "application/x-www-form-urlencoded")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    store = tmp_path_factory.mktemp("runaway") / "store"
    process, base = start_server(
        "--demo",
        "--store",
        str(store),
        env={
            "KG_QUERY_TIMEOUT": str(BUDGET),
            "KG_QUERY_WORKERS": "2",
            "KG_QUERY_QUEUE": "0.5",
            "KG_MAX_ROWS": "7",
            "KG_TASK_TIMEOUT": "0.005",
            "KG_API_TOKENS": TOKEN,
        },
    )
    try:
        _sparql(base, "ASK {}")  # the workers are up
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def _busy_workers(pid: int) -> set[int]:
    """The server's worker processes that are computing (state R) right now."""
    busy = set()
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "R":
                    busy.add(int(child))
    return busy


def run_watching_workers(pid: int, request: Callable[[], T]) -> tuple[T, set[int]]:
    """`request()` in a thread, and the server's workers that computed for it: busy in two
    looks apart (a worker just done with another job can be caught busy once)."""
    answer: list[T] = []
    runaway = threading.Thread(target=lambda: answer.append(request()))
    runaway.start()
    computing: set[int] = set()
    while runaway.is_alive() and not computing:
        first = _busy_workers(pid)
        time.sleep(0.4)
        computing = first & _busy_workers(pid)
    runaway.join()
    return answer[0], computing


def test_a_runaway_query_is_stopped_and_its_worker_killed(server: tuple[str, int]) -> None:
    """The evaluation itself ends (its process is gone), not only the client's wait: how
    quickly the CPU comes back is measured by bench/safety.py."""
    base, pid = server
    (status, body, _), computing = run_watching_workers(pid, lambda: _sparql(base, RUNAWAY))
    assert status == 503, body
    assert "KG_QUERY_TIMEOUT" in body and "stopped" in body
    assert computing, "the runaway ran in a worker process"
    # killed at the 503; gone once the server has reaped it (a loaded machine may take a while)
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{w}").exists() for w in computing) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{worker}").exists() for worker in computing)
    status, body, _ = _sparql(base, "ASK { ?s ?p ?o }")
    assert (status, json.loads(body)["boolean"]) == (200, True)


@pytest.mark.parametrize(
    "path", ["/api/v1/validation", "/api/v1/export?format=trig", "/store?default"]
)
def test_validations_exports_and_dumps_have_a_budget_too(
    server: tuple[str, int], path: str
) -> None:
    base, _ = server
    try:
        with urllib.request.urlopen(base + path, timeout=60) as response:  # noqa: S310
            status, body = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read().decode()
    assert status == 503, body[:300]
    assert "KG_TASK_TIMEOUT" in body
    time.sleep(1.0)  # the replacement worker starts


def test_at_most_the_configured_workers_run_at_once(server: tuple[str, int]) -> None:
    base, _ = server
    answers: list[int] = []

    def runaway() -> None:
        answers.append(_sparql(base, RUNAWAY)[0])

    threads = [threading.Thread(target=runaway) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    status, body, _ = _sparql(base, "ASK { ?s ?p ?o }")
    assert status == 503 and "KG_QUERY_WORKERS" in body, (status, body)
    for t in threads:
        t.join()
    assert answers == [503, 503]
    time.sleep(1.0)
    assert _sparql(base, "ASK { ?s ?p ?o }")[0] == 200


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p ?o }",
        "# a comment ending in a carriage return\rSELECT * WHERE { ?s ?p ?o }",
        "#\r\n#\rPREFIX x: <urn:x:>\rSELECT ?s ?p ?o WHERE { ?s ?p ?o }",
        "SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } LIMIT 100 } }",
        "SELECT * FROM <urn:kg:graph:ontology> WHERE { ?s ?p ?o }",
        "CONSTRUCT WHERE { ?s ?p ?o }",
        "DESCRIBE ?s WHERE { ?s a <https://w3id.org/mlg#Dataset> }",
    ],
)
def test_the_row_cap_holds_for_every_query_text(server: tuple[str, int], query: str) -> None:
    base, _ = server
    accept = "text/csv" if query.lstrip("#\r\n ").startswith(("SELECT", "PREFIX", "a")) else None
    status, body, headers = _sparql(base, query, format="csv" if accept else "nt")
    assert status == 200, body
    lines = [line for line in body.replace("\r\n", "\n").split("\n") if line.strip()]
    rows = len(lines) - 1 if accept else len(lines)
    assert rows == 7
    assert headers.get("kg-truncated") == "true"


def test_select_keeps_the_order_of_its_variables(server: tuple[str, int]) -> None:
    base, _ = server
    query = "SELECT ?z ?a WHERE { BIND(1 AS ?a) BIND(2 AS ?z) }"
    status, body, _ = _sparql(base, query)
    assert status == 200
    assert json.loads(body)["head"]["vars"] == ["z", "a"]


@pytest.mark.parametrize(
    ("query", "token", "words"),
    [
        (
            "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
            None,
            "KG_FEDERATION_ALLOW",
        ),
        (
            "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
            TOKEN,
            "KG_FEDERATION_ALLOW",
        ),
        ("SELECT * WHERE { service silent ?x { ?s ?p ?o } }", None, "KG_FEDERATION_ALLOW"),
        (
            "BASE <http://127.0.0.1:1/> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
            None,
            "call out",
        ),
        (r"SELECT * WHERE { SERVICE <\u0068ttp://127.0.0.1:1/> { ?s ?p ?o } }", None, "call out"),
        (
            "PREFIX r: <http://127.0.0.1:1/> SELECT * WHERE { SERVICE r:sparql { ?s ?p ?o } }",
            None,
            "call out",
        ),
    ],
)
def test_no_outbound_call_unless_allowed(
    server: tuple[str, int], query: str, token: str | None, words: str
) -> None:
    base, _ = server
    status, body, _ = _sparql(base, query, token)
    assert status == 400, body
    assert words in body


def test_service_under_an_allowed_prefix_for_a_token_holder(
    server: tuple[str, int], tmp_path: Path
) -> None:
    """Federation where configured: a second real kg server calls the first one."""
    remote, _ = server
    allowed = remote + "/"
    process, base = start_server(
        "--store",
        str(tmp_path / "store"),
        env={"KG_FEDERATION_ALLOW": allowed, "KG_API_TOKENS": TOKEN},
    )
    try:
        query = (
            f"SELECT (COUNT(*) AS ?n) WHERE {{ SERVICE <{allowed}sparql> "
            "{ ?t a <https://w3id.org/mlg#Team> } }"
        )
        status, body, _ = _sparql(base, query)
        assert status == 400 and "write token" in body
        status, body, _ = _sparql(base, query, TOKEN)
        assert status == 200, body
        assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 0
        elsewhere = query.replace(allowed, "http://127.0.0.1:1/")
        status, body, _ = _sparql(base, elsewhere, TOKEN)
        assert status == 400 and "KG_FEDERATION_ALLOW" in body
    finally:
        process.terminate()
        process.wait(timeout=20)


def spin(_store: object, seconds: float) -> str:
    """A job that keeps a core busy (run in a worker by the test below)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def test_the_evaluator_kills_a_job_past_its_budget(tmp_path: Path) -> None:
    import anyio

    store = open_store(tmp_path / "store")
    settings = Settings(store=tmp_path / "store", query_workers=1)  # type: ignore[arg-type]
    evaluator = Evaluator(store, lambda: settings)
    try:
        assert evaluator.isolated

        async def main() -> None:
            assert await evaluator.run(spin, 0.1, budget=30) == "done"
            with pytest.raises(BusyError, match="KG_QUERY_TIMEOUT"):
                await evaluator.run(spin, 600, budget=0.5)
            assert evaluator.killed == 1
            assert await evaluator.run(spin, 0.0, budget=30) == "done"

        anyio.run(main)
    finally:
        evaluator.close()
        store.close()


def test_a_runaway_named_query_is_stopped_and_its_worker_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`GET /api/v1/queries/{name}` runs under the budget and worker limit of /sparql: a named
    query past KG_QUERY_TIMEOUT gets a 503 and its worker process is killed. The shipped queries
    are quick on the demo, so a runaway one (with a bound parameter) is added to the catalogue."""
    from fastapi.testclient import TestClient

    from kg import catalog
    from kg.api.app import create_app
    from kg.demo import load_demo
    from kg.graph import KnowledgeGraph

    path = tmp_path / "runaway.rq"
    where = RUNAWAY.split("WHERE {", 1)[1].rsplit("}", 1)[0]
    path.write_text(
        "# summary: Counts billions of rows.\n"
        "# param: asset iri (required) Any asset.\n"
        f"SELECT ?asset (COUNT(*) AS ?n) WHERE {{ ?asset ?p0 ?o0 . {where} }} GROUP BY ?asset\n",
        encoding="utf-8",
    )
    shipped = catalog.catalogue()
    monkeypatch.setattr(
        catalog, "catalogue", lambda: {**shipped, "runaway": catalog.parse_query_file(path)}
    )
    settings = Settings(  # type: ignore[call-arg]
        store=tmp_path / "store", gate="off", query_timeout=BUDGET, query_workers=1
    )
    graph = KnowledgeGraph.open(settings)
    load_demo(graph)
    try:
        with TestClient(create_app(graph=graph)) as client:
            evaluator = client.app.state.evaluator  # type: ignore[attr-defined]
            assert evaluator.isolated
            answer: list[tuple[int, str]] = []

            def run() -> None:
                response = client.get(
                    "/api/v1/queries/runaway", params={"asset": "service/homepage"}
                )
                answer.append((response.status_code, response.text))

            runaway = threading.Thread(target=run, daemon=True)
            runaway.start()
            computing: set[int] = set()
            while runaway.is_alive() and not computing:
                computing = {w.process.pid for w in list(evaluator._busy)}
                time.sleep(0.05)
            runaway.join(timeout=60)
            assert answer, "the named query was not stopped"
            status, body = answer[0]
            assert status == 503, body
            assert "KG_QUERY_TIMEOUT" in body and "stopped" in body
            assert computing, "the named query ran in a worker process"
            assert evaluator.killed == 1
            assert not any(Path(f"/proc/{worker}").exists() for worker in computing)
            shipped_query = client.get("/api/v1/queries/unowned-assets", params={"format": "csv"})
            assert shipped_query.status_code == 200
            assert "search-queries-raw" in shipped_query.text
    finally:
        graph.close()
