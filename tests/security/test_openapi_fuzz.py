"""The whole OpenAPI, fuzzed by schemathesis against a live `kg serve`: no answer is a server
error, and every answer (status, media type, headers, body) is one the OpenAPI documents.

The server is a real uvicorn process on a free loopback port, over a throwaway on-disk store
with the demo organisation loaded, writes protected by a token. Every operation runs twice:
without credentials (writes must answer 401, reads as usual) and with the token, so that the
write routes are exercised too. The number of examples is small and the seed fixed: the run is
bounded (some 3,400 requests, half a minute) and sends the same requests on every machine.

The document fuzzed is the one create_app builds, read at collection (schemathesis's lazy
`from_fixture` schemas do not run under pytest 9); the first test checks that the live server
publishes that very document.

503 is not counted as a server error: kg answers it, documented, for a busy evaluator or work
past its time budget (kg.errors.BusyError). The operation must still document it (status code
conformance), so a 503 from a route that runs nothing in the evaluator fails. Every other 5xx
is a failure.
"""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, SerializationContext
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kg.api.app import create_app
from kg.config import Settings
from kg.graph import KnowledgeGraph
from tests.conftest import stop_process

pytestmark = pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")

TOKEN = "fuzz-token"  # noqa: S105 (a throwaway server's)
SEED = 20_240_601
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Server:
    base: str
    log: Path


@schemathesis.serializer(
    "application/sparql-query",
    "application/sparql-update",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "application/x-ndjson",
)
def _as_text(_: SerializationContext, value: object) -> bytes:
    """SPARQL, RDF and JSON lines bodies: the generated text as it is (kg's parsers judge it)."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
            return bool(response.status == 200)
    except (OSError, urllib.error.HTTPError):
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`kg serve --demo` on a throwaway store, with writes behind KG_API_TOKENS."""
    root = tmp_path_factory.mktemp("fuzzed")
    log = root / "server.log"
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KG_")},  # no stray settings
        "KG_FEDERATION_ALLOW": "",  # nothing fuzzed ever calls out: loopback only
        "KG_API_TOKENS": TOKEN,
        "KG_QUERY_TIMEOUT": "10",
        "KG_TASK_TIMEOUT": "20",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "kg", "serve", "--demo", "--store", str(root / "store")),
                *("--host", "127.0.0.1", "--port", str(port)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _ready(base + "/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"kg serve did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield Server(base, log)
    finally:
        stop_process(process, 15)


def _published_openapi() -> dict[str, Any]:
    """The OpenAPI document create_app publishes, built in-process at collection (the test
    below checks that the live server serves this very document)."""
    graph = KnowledgeGraph.open(Settings(memory=True))
    try:
        return create_app(graph=graph).openapi()
    finally:
        graph.close()


OPENAPI = _published_openapi()
schema = schemathesis.openapi.from_dict(
    OPENAPI,
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "request-timeout": 60,
            "phases": {"stateful": {"enabled": False}},
            # 503 is kg's documented busy answer; status_code_conformance still requires that
            # the operation documents it
            "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}},
        }
    ),
).exclude(path="/api/v1/changes/stream")  # an answer without end: tests/history/test_http.py


@pytest.fixture(scope="module", params=["anonymous", "writer"])
def credentials(request: pytest.FixtureRequest) -> dict[str, str]:
    """No credentials (writes answer 401), or the write token (writes run)."""
    return {"Authorization": f"Bearer {TOKEN}"} if request.param == "writer" else {}


def test_the_live_server_publishes_the_fuzzed_openapi(server: Server) -> None:
    with urllib.request.urlopen(server.base + "/openapi.json", timeout=10) as response:  # noqa: S310
        assert json.load(response) == OPENAPI


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/export?format=turtle",
        "/api/v1/export?format=jsonld",
        "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o }"}),
    ],
)
def test_large_answers_come_whole(server: Server, path: str) -> None:
    """Answers bigger than a socket buffer, read back from an evaluation worker under the
    server's real event loop (uvloop): the fuzzer met these as rare 500s."""
    for _ in range(3):
        try:
            with urllib.request.urlopen(server.base + path, timeout=30) as response:  # noqa: S310
                status, size = response.status, len(response.read())
        except urllib.error.HTTPError as exc:
            status, size = exc.code, len(exc.read())
        assert (status, size > 20_000) == (200, True), path


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
@schema.parametrize()
def test_openapi(case: Case, server: Server, credentials: dict[str, str]) -> None:
    start = server.log.stat().st_size
    try:
        case.call_and_validate(base_url=server.base, headers=credentials, checks=CHECKS)
    except BaseException as exc:
        time.sleep(0.3)  # uvicorn logs a traceback after the answer it sent
        with server.log.open("rb") as log:
            log.seek(start)
            exc.add_note("server log:\n" + log.read().decode(errors="replace")[-8000:])
        raise
