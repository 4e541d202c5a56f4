"""Imports and the dump over HTTP: several files in one request, the gate a writer asks for,
a partial import that refuses only the bad file, and the whole store as `kg dump` writes it."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

GOLDEN = Path(__file__).parents[1] / "golden"
DATAHUB = (
    "datahub-metadata.json",
    (GOLDEN / "datahub-metadata.json").read_bytes(),
    "application/json",
)
BAD = ("broken.json", b"[{", "application/json")


def test_several_files_all_or_nothing_by_default(client: TestClient) -> None:
    answer = client.post("/api/v1/ingest/datahub", files=[("file", DATAHUB), ("file", BAD)])
    assert answer.status_code == 400
    assert "broken.json" in answer.json()["detail"]
    stats = client.get("/api/v1/stats").json()
    assert stats["source_graphs"].get("datahub", 0) == 0


def test_partial_refuses_the_bad_file_and_loads_the_others(client: TestClient) -> None:
    answer = client.post(
        "/api/v1/ingest/datahub",
        params={"partial": "true", "gate": "warn"},
        files=[("file", DATAHUB), ("file", BAD)],
    )
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert [r["item"] for r in report["refused"]] == ["broken.json"]
    assert report["counts"]["created"] > 0
    assert client.get("/api/v1/stats").json()["source_graphs"]["datahub"] > 0


@pytest.mark.parametrize(
    ("gate", "status"), [(None, 422), ("enforce", 422), ("warn", 201), ("off", 201), ("lax", 422)]
)
def test_a_writer_chooses_the_gate_of_an_import(
    client: TestClient, gate: str | None, status: int
) -> None:
    params = {"gate": gate} if gate else {}
    answer = client.post(
        "/api/v1/ingest/datahub",
        params=params,
        content=DATAHUB[1],
        headers={"content-type": "application/json"},
    )
    assert answer.status_code == status, answer.text
    if status == 201:
        report = answer.json()
        assert report["gate"] == gate
        assert bool(report["violations"]) == (gate == "warn")


@pytest.mark.parametrize(
    ("accept", "media", "datasets"),
    [
        (None, "application/n-quads", True),
        ("application/trig", "application/trig", True),
        ("text/turtle", "text/turtle", False),
        ("*/*", "application/n-quads", True),
    ],
)
def test_the_dump_is_every_graph(
    client: TestClient, accept: str | None, media: str, datasets: bool
) -> None:
    headers = {"accept": accept} if accept else {}
    answer = client.get("/api/v1/dump", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(media)
    quads = list(ox.parse(answer.content, {
        "application/n-quads": ox.RdfFormat.N_QUADS, "application/trig": ox.RdfFormat.TRIG,
        "text/turtle": ox.RdfFormat.TURTLE,
    }[media]))  # fmt: skip
    graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    if datasets:  # kg's own graphs included: a backup, not an export
        assert {"urn:kg:graph:loads", "urn:kg:graph:ontology"} <= graphs
    else:
        assert not graphs
    stats = client.get("/api/v1/stats").json()
    assert len({(q.subject, q.predicate, q.object, q.graph_name) for q in quads}) == (
        stats["triples"] if datasets else len({(q.subject, q.predicate, q.object) for q in quads})
    )


def test_validation_says_its_verdict_in_a_header(client: TestClient) -> None:
    for fmt in ("json", "text", "junit", "sarif", "html"):
        answer = client.get("/api/v1/validation", params={"format": fmt})
        assert answer.headers["kg-conforms"] == "false", fmt  # the demo plants violations
    clean = client.get("/api/v1/validation", params={"asset": "team/studio-ml", "format": "text"})
    assert clean.headers["kg-conforms"] == "true"
    strict = client.get("/api/v1/validation", params={"failOn": "info", "format": "text"})
    assert strict.headers["kg-conforms"] == "false"


def test_the_dump_needs_a_write_token_when_tokens_are_set(client: TestClient) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    graph.settings = graph.settings.model_copy(update={"api_tokens": "backup-token"})
    assert client.get("/api/v1/dump").status_code == 401
    allowed = client.get("/api/v1/dump", headers={"authorization": "Bearer backup-token"})
    assert allowed.status_code == 200
    assert b"urn:kg:graph:loads" in allowed.content


# -- hostile uploads to the entry points that take several files: a clear 4xx, nothing written,
# the service still up

DEEP = ("deep.json", b'{"assets": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json")
FINE = (
    "fine.ttl",
    b"<https://w3id.org/mlg/id/dataset/fine> <https://w3id.org/mlg#derivedFrom> <https://w3id.org/mlg/id/dataset/other> .",
    "text/turtle",
)
MULTI_FILE_ROUTES = ["/api/v1/assets", "/api/v1/ingest/datahub", "/store?graph=urn:test:hostile"]
HOSTILE = [
    # name, body, content type, status, words in the answer
    ("no boundary", b"--x\r\n\r\nhello\r\n--x--\r\n", "multipart/form-data", 400, "no document"),
    ("broken parts", b"garbage without any boundary", "multipart/form-data; boundary=zz", 400, "no document"),
    ("a deeply nested part", None, None, 400, "nest"),
]  # fmt: skip


def _fingerprint(client: TestClient) -> tuple[int, int]:
    stats = client.get("/api/v1/stats").json()
    return stats["triples"], stats["graphs"]


@pytest.mark.parametrize("route", MULTI_FILE_ROUTES)
@pytest.mark.parametrize(
    ("name", "body", "media", "status", "words"), HOSTILE, ids=[h[0] for h in HOSTILE]
)
def test_a_hostile_multi_file_upload_is_refused_and_writes_nothing(
    client: TestClient,
    route: str,
    name: str,
    body: bytes | None,
    media: str | None,
    status: int,
    words: str,
) -> None:
    before = _fingerprint(client)
    if body is None:
        answer = client.post(route, files=[("file", DEEP)])
    else:
        answer = client.post(route, content=body, headers={"content-type": str(media)})
    assert answer.status_code == status, answer.text
    assert words in answer.text.lower(), answer.text
    assert _fingerprint(client) == before
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("route", MULTI_FILE_ROUTES)
def test_an_oversized_multi_file_upload_is_refused_before_parsing(
    client: TestClient, route: str
) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    graph.settings = graph.settings.model_copy(update={"max_body": 4096})
    before = _fingerprint(client)
    big = ("big.ttl", b"<urn:a> <urn:b> <urn:c> .\n" * 1000, "text/turtle")
    answer = client.post(route, files=[("file", FINE), ("file", big)])
    assert answer.status_code == 413, answer.text
    assert "KG_MAX_BODY" in answer.text
    assert _fingerprint(client) == before
    assert client.get("/healthz").json() == {"status": "ok"}
