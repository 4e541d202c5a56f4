"""`kg serve` as a user runs it: a real uvicorn process on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def start_server(
    *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`kg serve` with the given options on a free port, once it answers /healthz."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", *args, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if get(base + "/healthz")[0] == 200:
                return process, base
        except OSError:
            time.sleep(0.1)
    process.terminate()
    pytest.fail("kg serve did not start")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("served") / "store"
    process, base = start_server("--demo", "--store", str(store))
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_served_lineage(server: str) -> None:
    query = urllib.parse.urlencode({"nodeId": "service/homepage", "direction": "upstream"})
    status, body = get(f"{server}/api/v1/lineage?{query}")
    assert status == 200
    ids = {n["id"] for n in json.loads(body)["graph"]}
    assert "https://w3id.org/mlg/id/dataset/legacy-ratings" in ids


def test_served_sparql_and_404(server: str) -> None:
    query = urllib.parse.urlencode({"query": "ASK { ?s a <https://w3id.org/mlg#Service> }"})
    status, body = get(f"{server}/sparql?{query}")
    assert (status, json.loads(body)["boolean"]) == (200, True)
    status, body = get(f"{server}/api/v1/impact?nodeId=ghost")
    assert status == 404
    assert b"no asset" in body


def test_a_second_server_on_the_same_store_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "store"
    first, _ = start_server("--store", str(store))
    try:
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "kg",
                "serve",
                "--store",
                str(store),
                "--port",
                str(free_port()),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # the CLI's reads go to the server holding the store (tests/test_cli_remote.py)
        stats = subprocess.run(
            [sys.executable, "-m", "kg", "stats", "--store", str(store), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        first.terminate()
        first.wait(timeout=10)
    assert second.returncode == 2
    assert "in use by another process" in second.stderr
    assert stats.returncode == 0, stats.stderr
    assert "triples" in json.loads(stats.stdout)


def test_rdflib_sparqlstore_client(server: str) -> None:
    from rdflib import Graph
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(f"{server}/sparql", returnFormat="json")
    rows = list(
        Graph(store=store).query(
            "PREFIX mlg: <https://w3id.org/mlg#> "
            "SELECT ?s WHERE { ?s mlg:dependsOn+ <https://w3id.org/mlg/id/dataset/legacy-ratings> ; "
            "a mlg:Service }"
        )
    )
    assert {str(r[0]) for r in rows} == {
        "https://w3id.org/mlg/id/service/homepage",
        "https://w3id.org/mlg/id/service/homepage-canary",
    }


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_sparqlwrapper_client(server: str, fmt: str) -> None:
    from SPARQLWrapper import SPARQLWrapper

    client = SPARQLWrapper(f"{server}/sparql")
    client.setQuery("SELECT ?t WHERE { ?t a <https://w3id.org/mlg#Team> }")
    client.setReturnFormat(fmt)
    result = client.query()
    assert result.response.status == 200
    converted = result.convert()
    if fmt == "json":
        assert len(converted["results"]["bindings"]) == 7  # type: ignore[index]
    else:
        assert converted


def test_sparqlwrapper_construct(server: str) -> None:
    from SPARQLWrapper import TURTLE, SPARQLWrapper

    client = SPARQLWrapper(f"{server}/sparql")
    client.setQuery("CONSTRUCT WHERE { ?t a <https://w3id.org/mlg#Team> }")
    client.setReturnFormat(TURTLE)
    body = client.query().convert()
    assert b"mlg#Team" in body  # type: ignore[operator]
