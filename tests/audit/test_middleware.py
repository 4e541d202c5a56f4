"""What the API answers, as the audit records it: through the real app, with real tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kg.api import audit as audit_api
from kg.api.app import create_app
from kg.audit.log import AuditLog
from kg.audit.middleware import AuditMiddleware
from kg.auth import tokens
from kg.governance.gate import GateMode
from kg.graph import KnowledgeGraph
from kg.store import open_store
from tests.conftest import BASE

NOON = 1_764_676_800 * 10**9  # a fixed clock: every request falls in one minute
TEAM = "assets:\n  - {id: team/audit-test, type: Team, name: Audit test}\n"
YAML = {"Content-Type": "application/yaml"}
UNOWNED = "assets:\n  - {id: dataset/audit-unowned, type: Dataset, name: Nobody's}\n"


def audited(app: FastAPI) -> FastAPI:
    """The app with the audit's middleware and routes, whether or not create_app adds them."""
    if not any(m.cls is AuditMiddleware for m in app.user_middleware):  # type: ignore[comparison-overlap]
        audit_api.install(app)
    if not any(getattr(r, "path", "") == "/api/v1/audit" for r in app.routes):
        app.include_router(audit_api.router)
    return app


@contextmanager
def serving(graph: KnowledgeGraph, log: AuditLog) -> Iterator[TestClient]:
    """A TestClient on the real app over `graph`, recording into `log`."""
    app = audited(create_app(graph=graph))
    with TestClient(app) as client:
        theirs = getattr(app.state, "audit", None)  # the one the app opened, closed by it
        app.state.audit = log
        try:
            yield client
        finally:
            app.state.audit = theirs


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, str]:
    """A token of each role, and one of a writer scoped to a team, in a tokens file."""
    path = tmp_path / "tokens.json"
    found = {
        role: tokens.add(path, f"{role}-1", role, base_iri=BASE)
        for role in ("reader", "writer", "admin")
    }
    found["team-writer"] = tokens.add(
        path, "team-writer", "writer", "team/recommendations", base_iri=BASE
    )
    found["file"] = str(path)
    return found


@pytest.fixture
def secured(demo: KnowledgeGraph, keys: dict[str, str]) -> KnowledgeGraph:
    demo.settings = demo.settings.model_copy(
        update={"tokens_file": Path(keys["file"]), "gate": GateMode.ENFORCE}
    )
    return demo


@pytest.fixture
def log(secured: KnowledgeGraph) -> Iterator[AuditLog]:
    audit = AuditLog(open_store(None), secured.settings, clock=lambda: NOON)
    yield audit
    audit.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def entries(log: AuditLog, **filters: Any) -> list[dict[str, Any]]:
    return log.entries(limit=1000, **filters).entries


def test_a_write_is_recorded_with_its_principal_address_and_load(
    secured: KnowledgeGraph, log: AuditLog, keys: dict[str, str]
) -> None:
    with serving(secured, log) as client:
        answer = client.post(
            "/api/v1/assets?gate=warn",
            content=TEAM,
            headers={
                **bearer(keys["writer"]),
                **YAML,
                "X-Forwarded-For": "192.0.2.66",  # anyone can send it: never believed
            },
        )
    assert answer.status_code == 201, answer.text
    (entry,) = entries(log)
    assert entry["principal"] == {"name": "writer-1", "role": "writer", "kind": "token"}
    assert (entry["method"], entry["path"], entry["status"], entry["outcome"]) == (
        "POST",
        "/api/v1/assets?gate=warn",
        201,
        "written",
    )
    assert entry["address"] == "testclient"  # the peer, as the connection gives it
    assert entry["loads"] == [answer.json()["load"]]
    assert entry["detail"] is None


def test_a_sparql_update_links_its_load(
    secured: KnowledgeGraph, log: AuditLog, keys: dict[str, str]
) -> None:
    update = 'INSERT DATA { GRAPH <https://example.org/g> { <https://example.org/s> <urn:p> "o" } }'
    with serving(secured, log) as client:
        answer = client.post(
            "/sparql",
            content=update,
            headers={**bearer(keys["writer"]), "Content-Type": "application/sparql-update"},
        )
    assert answer.status_code == 204, answer.text
    (entry,) = entries(log)
    assert entry["loads"] == [answer.headers["kg-load"]]


def test_refusals_are_recorded_with_their_reason(
    secured: KnowledgeGraph, log: AuditLog, keys: dict[str, str]
) -> None:
    with serving(secured, log) as client:
        unknown = client.post(
            "/api/v1/assets", content=TEAM, headers={**bearer("kg_not-a-token"), **YAML}
        )
        reader = client.post(
            "/api/v1/assets", content=TEAM, headers={**bearer(keys["reader"]), **YAML}
        )
        gated = client.post(
            "/api/v1/assets", content=UNOWNED, headers={**bearer(keys["writer"]), **YAML}
        )
        bad_parameter = client.get("/api/v1/assets?limit=0")  # a read, refused with 422
    assert [unknown.status_code, reader.status_code, gated.status_code] == [401, 403, 422]
    assert bad_parameter.status_code == 422
    by_status = {e["status"]: e for e in entries(log)}
    assert set(by_status) == {401, 403, 422}
    assert by_status[401]["principal"] is None
    assert by_status[401]["detail"] == unknown.json()["detail"]
    assert by_status[403]["principal"]["name"] == "reader-1"
    assert by_status[403]["detail"] == reader.json()["detail"]
    assert all(e["outcome"] == "refused" for e in by_status.values())
    refused_422 = [e for e in entries(log) if e["status"] == 422]
    assert {e["method"] for e in refused_422} == {"POST", "GET"}
    gate = next(e for e in refused_422 if e["method"] == "POST")
    assert gate["detail"] == gated.json()["detail"]
    query = next(e for e in refused_422 if e["method"] == "GET")
    assert "limit" in str(query["detail"])


def test_a_team_writer_outside_its_team_is_a_403_with_the_reason(
    secured: KnowledgeGraph, log: AuditLog, keys: dict[str, str]
) -> None:
    with serving(secured, log) as client:
        answer = client.post(
            "/api/v1/assets?gate=off",
            content=TEAM,
            headers={**bearer(keys["team-writer"]), **YAML},
        )
    if answer.status_code != 403:
        pytest.skip(f"the team scope let this write through ({answer.status_code})")
    (entry,) = entries(log)
    assert (entry["principal"]["name"], entry["status"]) == ("team-writer", 403)
    assert entry["detail"] == answer.json()["detail"]


def test_plain_reads_are_not_recorded(secured: KnowledgeGraph, log: AuditLog) -> None:
    with serving(secured, log) as client:
        for path in (
            "/api/v1/assets",
            "/sparql?query=ASK%20%7B%7D",
            "/api/v1/lineage?nodeId=service/homepage",
            "/api/v1/impact?nodeId=ghost",  # a 404 is a plain answer to a read
        ):
            assert client.get(path).status_code in (200, 404)
        assert client.head("/healthz").status_code in (200, 405)
        assert client.options("/sparql").status_code < 500
    assert entries(log) == []


def test_a_body_refused_before_any_route_is_recorded(
    secured: KnowledgeGraph, log: AuditLog, keys: dict[str, str]
) -> None:
    secured.settings = secured.settings.model_copy(update={"max_body": 100})
    with serving(secured, log) as client:
        answer = client.post(
            "/api/v1/assets", content=b"x" * 500, headers={**bearer(keys["writer"]), **YAML}
        )
    assert answer.status_code == 413
    (entry,) = entries(log)
    assert (entry["status"], entry["outcome"]) == (413, "refused")
    assert "KG_MAX_BODY" in str(entry["detail"])


def test_the_refusals_of_one_address_are_capped_into_a_count(
    secured: KnowledgeGraph, keys: dict[str, str]
) -> None:
    log = AuditLog(open_store(None), secured.settings, clock=lambda: NOON, refusals_per_minute=5)
    try:
        with serving(secured, log) as client:
            for _ in range(12):
                answer = client.post("/api/v1/assets", content=TEAM, headers=bearer("kg_wrong"))
                assert answer.status_code == 401
        log.flush()
        found = entries(log)
    finally:
        log.close()
    one_by_one = [e for e in found if e["count"] is None]
    (summary,) = [e for e in found if e["count"] is not None]
    assert len(one_by_one) == 5
    assert (summary["address"], summary["count"], summary["outcome"]) == (
        "testclient",
        7,
        "refused",
    )


def test_a_broken_audit_never_fails_the_request(
    secured: KnowledgeGraph, keys: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(AuditLog):
        def _record(self, entry: object) -> None:
            raise RuntimeError("the disk is full")

    log = Broken(open_store(None), secured.settings)
    try:
        with serving(secured, log) as client:
            answer = client.post(
                "/api/v1/assets", content=TEAM, headers={**bearer(keys["writer"]), **YAML}
            )
    finally:
        log.close()
    assert answer.status_code == 201
    assert "could not record" in caplog.text


def test_a_write_the_app_fails_is_recorded_as_failed(
    secured: KnowledgeGraph, log: AuditLog
) -> None:
    app = audited(create_app(graph=secured))

    async def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/boom", boom, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as client:
        theirs, app.state.audit = getattr(app.state, "audit", None), log
        try:
            assert client.post("/api/v1/boom").status_code == 500
        finally:
            app.state.audit = theirs
    (entry,) = entries(log)
    assert (entry["status"], entry["outcome"], entry["path"]) == (500, "failed", "/api/v1/boom")
