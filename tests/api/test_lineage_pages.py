"""Paged lineage and impact over HTTP: `limit` and `cursor` on GET /api/v1/lineage and
/api/v1/impact, the answers their models document, and the problems bad cursors get."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kg.api import models
from kg.api.app import create_app
from kg.graph import KnowledgeGraph
from kg.lineage.cursor import MAX_CURSOR
from kg.lineage.pages import MAX_LIMIT
from tests.conftest import load_text


@pytest.fixture
def served(demo: KnowledgeGraph) -> Iterator[TestClient]:
    with TestClient(create_app(graph=demo)) as client:
        yield client


def _all_pages(client: TestClient, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    pages, cursor = [], None
    while True:
        asked = params | ({"cursor": cursor} if cursor else {})
        response = client.get(path, params=asked)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        pages.append(response.json())
        cursor = pages[-1]["nextCursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize(
    ("path", "params", "model", "page_model", "nodes"),
    [
        ("/api/v1/lineage", {"nodeId": "service/homepage"}, models.Lineage,
         models.LineagePage, "graph"),
        ("/api/v1/lineage", {"nodeId": "dataset/playback-events-raw", "direction": "downstream",
         "type": ["ModelVersion", "Service"]}, models.Lineage, models.LineagePage, "graph"),
        ("/api/v1/lineage", {"nodeId": "feature/title-embedding", "direction": "both",
         "depth": 2}, models.Lineage, models.LineagePage, "graph"),
        ("/api/v1/impact", {"nodeId": "dataset/playback-events-raw"}, models.Impact,
         models.ImpactPage, "affected"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("limit", [1, 4])
def test_pages_over_http_are_the_whole_answer_and_match_their_models(
    served: TestClient,
    path: str,
    params: dict[str, Any],
    model: type[models._Answer],
    page_model: type[models._Answer],
    nodes: str,
    limit: int,
) -> None:
    whole = served.get(path, params=params)
    assert whole.headers["content-type"] == "application/json"
    model.model_validate(whole.json())
    pages = _all_pages(served, path, params | {"limit": limit})
    for page in pages:
        page_model.model_validate(page)
    assert [n for page in pages for n in page[nodes]] == whole.json()[nodes]
    assert pages[0]["summary"]["nodes"] == len(whole.json()[nodes])
    assert all(page["summary"] is None for page in pages[1:])


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"cursor": "x" * (MAX_CURSOR + 1)}, "cursor"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
        ({"cursor": "%00\u00e9"}, "cursor"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/lineage", "/api/v1/impact"])
def test_bad_limits_and_cursors_are_400s_naming_the_parameter(
    served: TestClient, path: str, params: dict[str, Any], names: str
) -> None:
    response = served.get(path, params={"nodeId": "dataset/playback-events-raw"} | params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith(f"{names}: ")


def test_a_cursor_for_another_question_is_a_400(served: TestClient) -> None:
    first = served.get("/api/v1/lineage", params={"nodeId": "service/homepage", "limit": 1})
    cursor = first.json()["nextCursor"]
    other = served.get(
        "/api/v1/lineage",
        params={"nodeId": "service/homepage", "direction": "both", "cursor": cursor},
    )
    assert other.status_code == 400 and "another question" in other.json()["detail"]
    impact = served.get("/api/v1/impact", params={"nodeId": "service/homepage", "cursor": cursor})
    assert impact.status_code == 400


def test_a_cursor_after_a_write_is_a_410(demo: KnowledgeGraph, served: TestClient) -> None:
    params: dict[str, Any] = {"nodeId": "service/homepage", "limit": 2}
    cursor = served.get("/api/v1/lineage", params=params).json()["nextCursor"]
    load_text(demo, "- {id: dataset/new-one, type: Dataset, owner: team/recsys}\n", "new.yaml")
    gone = served.get("/api/v1/lineage", params=params | {"cursor": cursor})
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json"
    assert "start again" in gone.json()["detail"]
    assert served.get("/api/v1/lineage", params=params).status_code == 200


def test_the_openapi_documents_both_shapes(served: TestClient) -> None:
    document = served.get("/openapi.json").json()
    for path, shapes in (
        ("/api/v1/lineage", {"Lineage", "LineagePage"}),
        ("/api/v1/impact", {"Impact", "ImpactPage"}),
    ):
        operation = document["paths"][path]["get"]
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert {ref["$ref"].rsplit("/", 1)[-1] for ref in schema["anyOf"]} == shapes
        assert {"limit", "cursor"} <= {p["name"] for p in operation["parameters"]}
