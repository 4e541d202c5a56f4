"""`POST /api/v1/events/mlflow`: MLflow's registry webhooks, verified with the shared secret
before the body is read; each delivery queued as the thin events of what it changed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.graph import KnowledgeGraph
from kg.sources.mlflow import signature
from tests.conftest import settings
from tests.test_serve import free_port

SECRET = "s3cret-webhook"  # noqa: S105 (a test secret)
EVENT = {"entity": "model_version_alias", "action": "created",
         "data": {"name": "churn-model", "alias": "champion", "version": "2"}}  # fmt: skip


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)
    return {
        "content-type": "application/json",
        "X-MLflow-Delivery-Id": "d-1",
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": signature(secret, "d-1", stamp, body),
    }


@pytest.fixture
def client() -> Iterator[TestClient]:
    # MLflow itself is not needed to queue: the worker would ask it later (nothing listens here)
    uri = f"http://127.0.0.1:{free_port()}"
    graph = KnowledgeGraph.open(settings(mlflow_uri=uri, mlflow_webhook_secret=SECRET))
    with TestClient(create_app(graph=graph, close_graph=True)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        (lambda b: signed(b), 202, None),
        (lambda b: signed(b, secret="wrong"), 401, "does not match"),  # noqa: S106
        (lambda b: signed(b, at=int(time.time()) - 3600), 401, "old"),
        (lambda b: {"content-type": "application/json"}, 401, "has no X-MLflow-Signature"),
    ],
)
def test_only_a_signed_fresh_delivery_is_queued(
    client: TestClient, headers, status, message
) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(EVENT).encode()
    reply = client.post("/api/v1/events/mlflow", content=body, headers=headers(body))
    assert reply.status_code == status, reply.text
    if message:
        assert message in reply.json()["detail"]
    else:
        assert reply.json()["accepted"] == 1
        [source] = client.get("/api/v1/sources").json()
        assert source["source"] == "mlflow" and source["pending"] >= 1


def test_a_signed_body_that_is_not_json_is_refused(client: TestClient) -> None:
    body = b"{oops"
    reply = client.post("/api/v1/events/mlflow", content=body, headers=signed(body))
    assert reply.status_code == 400 and "not JSON" in reply.json()["detail"]


def test_without_a_secret_configured_every_delivery_is_refused() -> None:
    graph = KnowledgeGraph.open(settings(mlflow_uri=f"http://127.0.0.1:{free_port()}"))
    with TestClient(create_app(graph=graph, close_graph=True)) as client:
        body = json.dumps(EVENT).encode()
        reply = client.post("/api/v1/events/mlflow", content=body, headers=signed(body))
        assert reply.status_code == 401 and "KG_MLFLOW_WEBHOOK_SECRET" in reply.json()["detail"]


def test_without_mlflow_configured_the_route_is_not_found() -> None:
    graph = KnowledgeGraph.open(settings())
    with TestClient(create_app(graph=graph, close_graph=True)) as client:
        reply = client.post("/api/v1/events/mlflow", content=b"{}", headers=signed(b"{}"))
        assert reply.status_code == 404
