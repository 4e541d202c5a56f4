"""The audit over HTTP and on the command line: admins only, pages and filters, SPARQL by
the protocol, nothing that writes it, and what a real `kg serve` keeps across a restart."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kg import cli_audit
from kg.api import audit as audit_api
from kg.api.app import create_app
from kg.audit.log import AuditLog
from kg.audit.middleware import AuditMiddleware
from kg.auth import tokens
from kg.governance.gate import GateMode
from kg.graph import KnowledgeGraph
from kg.store import open_store
from tests.conftest import BASE, stop_process
from tests.test_serve import start_server

TEAM = "assets:\n  - {id: team/audit-test, type: Team, name: Audit test}\n"
YAML = {"Content-Type": "application/yaml"}
FORGED = "urn:kg:audit:00000000000000000001-0000000001-000000"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?e a <https://w3id.org/mlg#AuditEntry> }"


def audited(app: FastAPI) -> FastAPI:
    """The app with the audit's middleware and routes, whether or not create_app adds them."""
    if not any(m.cls is AuditMiddleware for m in app.user_middleware):  # type: ignore[comparison-overlap]
        audit_api.install(app)
    if not any(getattr(r, "path", "") == "/api/v1/audit" for r in app.routes):
        app.include_router(audit_api.router)
    return app


@contextmanager
def serving(graph: KnowledgeGraph, log: AuditLog) -> Iterator[TestClient]:
    app = audited(create_app(graph=graph))
    with TestClient(app) as client:
        theirs = getattr(app.state, "audit", None)
        app.state.audit = log
        try:
            yield client
        finally:
            app.state.audit = theirs


def token_file(path: Path) -> dict[str, str]:
    found = {
        role: tokens.add(path, f"{role}-1", role, base_iri=BASE)
        for role in ("reader", "writer", "admin")
    }
    return found


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, str]:
    return token_file(tmp_path / "tokens.json")


@pytest.fixture
def client(demo: KnowledgeGraph, keys: dict[str, str], tmp_path: Path) -> Iterator[TestClient]:
    demo.settings = demo.settings.model_copy(
        update={"tokens_file": tmp_path / "tokens.json", "gate": GateMode.ENFORCE}
    )
    log = AuditLog(open_store(None), demo.settings)
    try:
        with serving(demo, log) as test_client:
            yield test_client
    finally:
        log.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit(client: TestClient, admin: str, **params: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/audit", params=params, headers=bearer(admin))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_only_admins_read_the_audit(client: TestClient, keys: dict[str, str]) -> None:
    routes = [("GET", "/api/v1/audit"), ("GET", "/api/v1/audit/sparql?query=ASK%7B%7D")]
    routes.append(("POST", "/api/v1/audit/sparql"))
    for role in ("reader", "writer"):
        for method, path in routes:
            answer = client.request(
                method,
                path,
                content="ASK {}",
                headers={**bearer(keys[role]), "Content-Type": "application/sparql-query"},
            )
            assert answer.status_code == 403, (role, path, answer.text)
    assert client.get("/api/v1/audit").status_code == 401  # an anonymous reader
    refused = audit(client, keys["admin"], status=403)["entries"]
    assert len(refused) == 6  # each refusal of the audit is in the audit
    assert {e["principal"]["name"] for e in refused} == {"reader-1", "writer-1"}


def test_pages_and_filters(client: TestClient, keys: dict[str, str]) -> None:
    for _ in range(3):
        client.post("/api/v1/assets", content=TEAM, headers={**bearer(keys["writer"]), **YAML})
    client.post("/api/v1/assets", content=TEAM, headers={**bearer("kg_wrong"), **YAML})
    admin = keys["admin"]
    first = audit(client, admin, limit=2)
    second = audit(client, admin, limit=2, cursor=first["next"])
    assert second["next"] is None
    listed = first["entries"] + second["entries"]
    assert [e["status"] for e in listed] == [401, 201, 201, 201]
    assert [e["status"] for e in audit(client, admin, outcome="refused")["entries"]] == [401]
    assert len(audit(client, admin, principal="writer-1")["entries"]) == 3
    assert audit(client, admin, status=201)["entries"] == listed[1:]
    since = listed[1]["at"]
    assert [e["status"] for e in audit(client, admin, since=since)["entries"]][-1] == 201
    assert audit(client, admin, until="2000-01-01T00:00:00Z")["entries"] == []
    assert client.get("/api/v1/audit?limit=1001", headers=bearer(admin)).status_code == 422
    bad = client.get("/api/v1/audit?cursor=nope", headers=bearer(admin))
    assert bad.status_code == 400
    assert "cursor" in bad.json()["detail"]


@pytest.mark.parametrize(
    ("accept", "media", "sign"),
    [
        ("application/sparql-results+json", "application/sparql-results+json", b'"n"'),
        ("application/sparql-results+xml", "application/sparql-results+xml", b"<sparql"),
        ("text/csv", "text/csv", b"n\r\n"),
        ("text/tab-separated-values", "text/tab-separated-values", b"?n"),
    ],
)
def test_sparql_over_the_audit_by_accept(
    client: TestClient, keys: dict[str, str], accept: str, media: str, sign: bytes
) -> None:
    client.post("/api/v1/assets", content=TEAM, headers={**bearer(keys["writer"]), **YAML})
    answer = client.get(
        "/api/v1/audit/sparql",
        params={"query": COUNT},
        headers={**bearer(keys["admin"]), "Accept": accept},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(media)
    assert sign in answer.content


def test_sparql_by_post_and_what_it_refuses(client: TestClient, keys: dict[str, str]) -> None:
    admin = bearer(keys["admin"])
    form = client.post(
        "/api/v1/audit/sparql",
        content=urllib.parse.urlencode({"query": "ASK { ?e ?p ?o }"}),
        headers={**admin, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (form.status_code, form.json()["boolean"]) == (200, False)
    graph = client.post(
        "/api/v1/audit/sparql",
        content="CONSTRUCT WHERE { ?e ?p ?o }",
        headers={**admin, "Content-Type": "application/sparql-query", "Accept": "text/turtle"},
    )
    assert graph.status_code == 200
    assert "/api/v1/audit/sparql" in graph.text  # the form query above, recorded as a POST
    update = client.post(
        "/api/v1/audit/sparql",
        content=urllib.parse.urlencode({"update": "CLEAR ALL"}),
        headers={**admin, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert update.status_code == 403
    as_query = client.post(
        "/api/v1/audit/sparql",
        content="DELETE WHERE { ?s ?p ?o }",
        headers={**admin, "Content-Type": "application/sparql-query"},
    )
    assert as_query.status_code == 400
    text = client.post(
        "/api/v1/audit/sparql", content="ASK {}", headers={**admin, "Content-Type": "text/plain"}
    )
    assert text.status_code == 415


def test_no_protocol_writes_the_audit_and_sparql_never_sees_it(
    client: TestClient, keys: dict[str, str]
) -> None:
    writer = bearer(keys["writer"])
    entry = f"<{FORGED}> a <https://w3id.org/mlg#AuditEntry> ; <https://w3id.org/mlg#httpStatus> 1"
    for graph in ("urn:kg:graph:audit:2025-12-02", "urn:kg:graph:audit", "https://example.org/g"):
        update = f"INSERT DATA {{ GRAPH <{graph}> {{ {entry} }} }}"
        answer = client.post(
            "/sparql",
            content=update,
            headers={**writer, "Content-Type": "application/sparql-update"},
        )
        assert answer.status_code in (204, 400, 403), (
            answer.text
        )  # 400 until the ontology has the class
    client.put(
        "/store?graph=urn:kg:graph:audit:2025-12-02",
        content=f"{entry} .",
        headers={**writer, "Content-Type": "text/turtle"},
    )
    admin = bearer(keys["admin"])
    forged = client.get(
        "/api/v1/audit/sparql", params={"query": f"ASK {{ <{FORGED}> ?p ?o }}"}, headers=admin
    )
    assert forged.json()["boolean"] is False
    recorded = audit(client, keys["admin"])["entries"]
    assert len(recorded) == 4  # the three updates and the PUT, as requests
    for found in recorded:  # and no entry is in the data store
        seen = client.get(
            "/sparql", params={"query": f"ASK {{ <urn:kg:audit:{found['id']}> ?p ?o }}"}
        )
        assert seen.json()["boolean"] is False
    statuses = client.get(
        "/sparql",
        params={"query": "SELECT ?s WHERE { ?e <https://w3id.org/mlg#clientAddress> ?s }"},
    )
    assert statuses.json()["results"]["bindings"] == []


# -- a real server


def call(
    method: str, url: str, token: str, body: bytes | None = None, **headers: str
) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=body, method=method, headers={"Authorization": f"Bearer {token}", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    app = typer.Typer()
    app.command()(cli_audit.audit)
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")
def test_the_audit_of_kg_serve_survives_a_restart(tmp_path: Path) -> None:
    keys = token_file(tmp_path / "tokens.json")
    store = tmp_path / "store"
    env = {"KG_TOKENS_FILE": str(tmp_path / "tokens.json"), "KG_GATE": "warn"}
    process, base = start_server("--store", str(store), env=env)
    try:
        status, body = call(
            "POST",
            f"{base}/api/v1/assets",
            keys["writer"],
            TEAM.encode(),
            **YAML,
            **{"X-Forwarded-For": "192.0.2.66"},
        )
        assert status == 201, body
        load = json.loads(body)["load"]
        assert call("POST", f"{base}/api/v1/assets", "kg_wrong", TEAM.encode(), **YAML)[0] == 401
        held = cli("--store", str(store), env=env)
        by_url = cli("--url", base, "--format", "json", env={**env, "KG_TOKEN": keys["admin"]})
    finally:
        stop_process(process)
    assert held[0] == 2
    assert base in held[2]  # names the server to ask
    assert by_url[0] == 0, by_url
    assert [e["status"] for e in json.loads(by_url[1])["entries"]][:2] == [401, 201]
    code, out, _ = cli("--store", str(store), "--format", "json", "--refused", env=env)
    assert code == 0
    assert [e["status"] for e in json.loads(out)["entries"]] == [401]
    code, out, _ = cli("--store", str(store), env={**env, "COLUMNS": "250"})
    assert code == 0
    assert "writer-1" in out
    assert "/api/v1/assets" in out
    process, base = start_server("--store", str(store), env=env)
    try:
        status, body = call("GET", f"{base}/api/v1/audit", keys["admin"])
    finally:
        stop_process(process)
    assert status == 200, body
    written = [e for e in json.loads(body)["entries"] if e["status"] == 201]
    assert len(written) == 1
    assert written[0]["principal"]["name"] == "writer-1"
    assert written[0]["loads"] == [load]
    assert written[0]["address"] == "127.0.0.1"  # the peer: X-Forwarded-For is not believed
