"""History over HTTP: asOf on lineage, impact, path, assets, export, validation and SPARQL
(kg-as-of), the changes feed and its stream, an asset's history, prune for admins only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kg import views
from kg.api.app import create_app
from kg.graph import KnowledgeGraph
from kg.lineage import Direction
from tests.conftest import iri, settings
from tests.history.steps import STEPS, apply, moments, replayed


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[KnowledgeGraph, TestClient]]:
    graph = KnowledgeGraph.open(settings(memory=False, store=tmp_path / "store"))
    for step in range(len(STEPS) + 2):
        apply(graph, step)
    with TestClient(create_app(graph=graph, close_graph=True)) as client:
        yield graph, client


def test_as_of_answers_over_http_equal_the_replay(
    served: tuple[KnowledgeGraph, TestClient],
) -> None:
    graph, client = served
    at = moments(graph)[1].isoformat()
    fresh = replayed(1)
    try:
        got = client.get("/api/v1/lineage", params={"nodeId": "svc", "asOf": at})
        assert got.status_code == 200
        assert got.json() == views.lineage(fresh.lineage("svc", Direction.UPSTREAM))
        got = client.get("/api/v1/impact", params={"nodeId": "raw", "asOf": at})
        assert got.json() == views.impact(fresh.impact("raw"))
        got = client.get("/api/v1/path", params={"from": "svc", "to": "raw", "asOf": at})
        assert got.json() == views.paths(fresh.paths("svc", "raw"))
        page = client.get("/api/v1/assets/clean", params={"asOf": at}).json()
        assert page == fresh.asset("clean").as_dict() | {"sources": page["sources"]}
        assert client.get("/api/v1/assets/raw2", params={"asOf": at}).status_code == 404
        query = f"SELECT ?o WHERE {{ <{iri('clean')}> <https://w3id.org/mlg#owner> ?o }}"
        for asked, owner in ((at, "team/a"), (None, "team/b")):
            params = {"query": query} | ({"kg-as-of": asked} if asked else {})
            answer = client.get(
                "/sparql", params=params, headers={"accept": "application/sparql-results+json"}
            )
            assert answer.status_code == 200, answer.text
            rows = answer.json()["results"]["bindings"]
            assert [r["o"]["value"] for r in rows] == [iri(owner)]
        refused = client.post(
            "/sparql",
            data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "kg-as-of": at},
        )
        assert refused.status_code == 400
        export = client.get("/api/v1/export", params={"format": "turtle", "asOf": at})
        assert export.status_code == 200 and b"Raw v2" not in export.content
        report = client.get(
            "/api/v1/validation", params={"format": "json", "asOf": at, "asset": "clean"}
        )
        assert report.status_code == 200, report.text
    finally:
        fresh.close()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"asOf": "yesterday"}, 400),
        ({"asOf": "2020-01-01T00:00:00Z"}, 404),  # before the first write: nothing existed
        ({"asOf": "x" * 100}, 400),
    ],
)
def test_bad_moments_are_refused_clearly(
    served: tuple[KnowledgeGraph, TestClient], params: dict[str, str], status: int
) -> None:
    _, client = served
    answer = client.get("/api/v1/lineage", params={"nodeId": "svc", **params})
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_changes_feed_pages_with_a_cursor_and_streams_new_ones(
    served: tuple[KnowledgeGraph, TestClient],
) -> None:
    graph, client = served
    whole = client.get("/api/v1/changes").json()
    assert not whole["more"] and whole["changes"]
    assert {c["by"] for c in whole["changes"]} == {"local:" + _user()}
    paged, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/changes", params={"limit": 2, "cursor": cursor} if cursor else {"limit": 2}
        ).json()
        paged += page["changes"]
        cursor = page["next"]
        if not page["more"]:
            break
    assert paged == whole["changes"]
    assert client.get("/api/v1/changes", params={"cursor": "nonsense"}).status_code == 400
    assert client.get("/api/v1/changes", params={"kind": "colour"}).status_code == 400
    history = client.get("/api/v1/assets/clean/history").json()
    assert [v["position"] for v in history["versions"]] == [5, 3, 1]
    assert client.get("/api/v1/assets/nothing-here/history").status_code == 404

    events: list[str] = []

    def listen() -> None:
        with client.stream("GET", "/api/v1/changes/stream", params={"cursor": cursor}) as reply:
            assert reply.headers["content-type"].startswith("text/event-stream")
            for line in reply.iter_lines():
                events.append(line)
                if line.startswith("data: "):
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    apply(graph, 0)  # v1 again: its owners come back
    listener.join(30)
    data = [json.loads(e.removeprefix("data: ")) for e in events if e.startswith("data: ")]
    assert data and all(c["position"] == len(STEPS) + 3 for c in data[0])
    assert any(e.startswith("id: ") for e in events)


def test_prune_needs_an_admin_and_is_kept_in_the_record(
    served: tuple[KnowledgeGraph, TestClient], tmp_path: Path
) -> None:
    graph, client = served
    before = moments(graph)[2].isoformat()
    graph.settings = graph.settings.model_copy(update={"api_tokens": "writer-token"})
    refused = client.post(
        "/api/v1/history/prune",
        json={"before": before},
        headers={"authorization": "Bearer writer-token"},
    )
    assert refused.status_code == 403
    assert (
        client.get(
            "/api/v1/lineage", params={"nodeId": "svc", "asOf": moments(graph)[0].isoformat()}
        ).status_code
        == 200
    )


def _user() -> str:
    import getpass

    return getpass.getuser()
