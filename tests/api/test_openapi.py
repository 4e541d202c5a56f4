"""What kg.api.openapi adds to the OpenAPI document holds for the live routes: the operations
marked with the bearer scheme are exactly the ones that refuse a caller without a token when
KG_API_TOKENS is set (Swagger UI shows a lock on them, and sends the token Authorize holds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.api.openapi import BEARER_SCHEME
from kg.graph import KnowledgeGraph

METHODS = {"get", "head", "put", "post", "delete", "patch"}
# path parameters, and the bodies a route needs before it looks at the token at all
PATH_VALUES = {"identifier": "dataset/legacy-ratings", "importer": "datahub", "name": "upstream",
               "source": "mlflow"}  # fmt: skip
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/equivalences"): {
        "json": {"asset": "dataset/legacy-ratings", "sameAs": ["dataset/title-metadata"]}
    },
}
UPDATE_TYPE = {"content-type": "application/sparql-update"}
QUERY_TYPE = {"content-type": "application/sparql-query"}


@pytest.fixture
def guarded(demo: KnowledgeGraph) -> Iterator[TestClient]:
    demo.settings = demo.settings.model_copy(update={"api_tokens": "secret"})
    with TestClient(create_app(graph=demo)) as client:
        yield client


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_bearer_scheme_is_declared(guarded: TestClient) -> None:
    document = guarded.get("/openapi.json").json()
    assert document["components"]["securitySchemes"] == {"bearer": BEARER_SCHEME}
    assert BEARER_SCHEME["type"] == "http" and BEARER_SCHEME["scheme"] == "bearer"


def test_the_locked_operations_are_those_that_need_a_token(guarded: TestClient) -> None:
    document = guarded.get("/openapi.json").json()
    locked, refused = set(), set()
    for method, path, operation in _operations(document):
        if path == "/sparql" and method == "post":
            continue  # both: below
        if path.endswith("/stream"):
            continue  # an answer without end (a reader's: tests/api/test_roles.py)
        url = path.format(**PATH_VALUES)
        answer = guarded.request(method.upper(), url, **BODIES.get((method, path), {}))
        if answer.status_code == 401:
            refused.add((method, path))
        if operation.get("security") == [{"bearer": []}]:
            locked.add((method, path))
        else:
            assert "security" not in operation, (method, path)
    assert locked == refused
    assert {
        ("post", "/api/v1/assets"),
        ("put", "/api/v1/assets/{identifier}"),
        ("delete", "/api/v1/assets/{identifier}"),
        ("post", "/api/v1/validation"),
        ("put", "/store"),
        ("post", "/store"),
        ("delete", "/store"),
        ("get", "/api/v1/dump"),
        ("post", "/api/v1/events"),
        ("post", "/api/v1/sources/{source}/sync"),
        ("post", "/api/v1/inference"),
    } <= locked


def test_sparql_over_post_takes_a_token_for_updates_only(guarded: TestClient) -> None:
    operation = guarded.get("/openapi.json").json()["paths"]["/sparql"]["post"]
    assert operation["security"] == [{}, {"bearer": []}]  # anonymous, or with the token
    update = b"INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> 'o' } }"
    assert guarded.post("/sparql", content=b"ASK {}", headers=QUERY_TYPE).status_code == 200
    assert guarded.post("/sparql", content=update, headers=UPDATE_TYPE).status_code == 401
    authorized = {**UPDATE_TYPE, "authorization": "Bearer secret"}
    assert guarded.post("/sparql", content=update, headers=authorized).status_code == 204
