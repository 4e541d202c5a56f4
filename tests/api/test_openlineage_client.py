"""The real openlineage-python client, configured as for Marquez, against a live `kg serve`."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

from tests.test_serve import get, start_server

pytestmark = pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")

TOKEN = "s3cret-token"  # noqa: S105 (a test token)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("ol") / "store"
    process, base = start_server(
        "--store", str(store), env={"KG_API_TOKENS": TOKEN, "KG_GATE": "enforce"}
    )
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def client(base: str, token: str = TOKEN, compression: str | None = None) -> OpenLineageClient:
    config = HttpConfig(
        url=base,  # the default endpoint, api/v1/lineage, as for Marquez
        auth=ApiKeyTokenProvider({"apiKey": token}),
        compression=compression,  # type: ignore[arg-type]
        retry={"total": 0},
    )
    return OpenLineageClient(transport=HttpTransport(config))


def fields(*names: str) -> dict[str, schema_dataset.SchemaDatasetFacet]:
    return {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type="VARCHAR") for n in names]
        )
    }


def test_start_and_complete_from_the_real_client_show_as_lineage(server: str) -> None:
    run_id = str(uuid.uuid4())
    job = Job(namespace="spark-prod", name="sessions.sessionize")
    source = InputDataset(
        namespace="s3://raw-events", name="clicks/2026", facets=fields("user_id", "ts")
    )
    target = OutputDataset(
        namespace="postgres://db.internal:5432",
        name="analytics.public.sessions",
        facets=fields("session_id", "user_id"),
    )
    ol = client(server)
    ol.emit(RunEvent(eventType=RunState.START, eventTime="2026-05-01T10:00:00Z", run=Run(runId=run_id),
                     job=job, producer="https://example.com/tests", inputs=[source], outputs=[target]))  # fmt: skip
    ol.emit(RunEvent(eventType=RunState.COMPLETE, eventTime="2026-05-01T10:05:00Z",
                     run=Run(runId=run_id), job=job, producer="https://example.com/tests"))  # fmt: skip
    node = urllib.parse.quote("dataset/postgres/analytics.public.sessions")
    status, body = get(f"{server}/api/v1/lineage?nodeId={node}")
    assert status == 200
    nodes = {n["id"]: n for n in json.loads(body)["graph"]}
    run = nodes[f"https://w3id.org/mlg/id/run/{run_id}"]
    assert run["distance"] == 1
    source_iri = "https://w3id.org/mlg/id/dataset/s3/raw-events/clicks/2026"
    assert nodes[source_iri]["distance"] == 1  # derived from it, and through the run:
    assert {(e["destination"], e["type"]) for e in run["outEdges"]} >= {(source_iri, "mlg:used")}
    status, body = get(f"{server}/api/v1/assets/{node}")
    assert status == 200
    query = urllib.parse.quote(
        "SELECT ?name WHERE { <https://w3id.org/mlg/id/dataset/postgres/analytics.public.sessions> "
        "<https://w3id.org/mlg#field>/<http://www.w3.org/2000/01/rdf-schema#label> ?name }"
    )
    status, body = get(f"{server}/sparql?query={query}&format=json")
    names = sorted(b["name"]["value"] for b in json.loads(body)["results"]["bindings"])
    assert names == ["session_id", "user_id"]
    query = urllib.parse.quote(
        f"SELECT ?state WHERE {{ <https://w3id.org/mlg/id/run/{run_id}> "
        "<https://w3id.org/mlg#runState> ?state }"
    )
    status, body = get(f"{server}/sparql?query={query}&format=json")
    states = [b["state"]["value"] for b in json.loads(body)["results"]["bindings"]]
    assert states == ["https://w3id.org/mlg#Completed"]


def test_gzip_from_the_client_is_accepted(server: str) -> None:
    job = Job(namespace="spark-prod", name="gzip.job")
    client(server, compression="gzip").emit(
        RunEvent(
            eventType=RunState.START,
            eventTime="2026-05-01T11:00:00Z",
            run=Run(runId=str(uuid.uuid4())),
            job=job,
            producer="https://example.com/tests",
        )
    )
    status, _ = get(f"{server}/api/v1/assets/{urllib.parse.quote('job/spark-prod/gzip.job')}")
    assert status == 200


def test_a_wrong_token_is_refused(server: str) -> None:
    event = {"eventTime": "2026-05-01T10:00:00Z", "producer": "x", "schemaURL": "x",
             "dataset": {"namespace": "a", "name": "b"}}  # fmt: skip
    response = requests.post(f"{server}/api/v1/lineage", json=event, timeout=10,
                             headers={"Authorization": "Bearer wrong"})  # fmt: skip
    assert response.status_code == 401


def test_an_invalid_event_is_a_400_naming_the_field_and_stores_nothing(server: str) -> None:
    good = {"eventTime": "2026-05-01T10:00:00Z", "producer": "x", "schemaURL": "x",
            "dataset": {"namespace": "kafka://broker:9092", "name": "never-stored"}}  # fmt: skip
    bad = {"eventType": "START", "eventTime": "2026-05-01T10:00:00Z", "producer": "x",
           "schemaURL": "x", "run": {}, "job": {"namespace": "a", "name": "b"}}  # fmt: skip
    body = "\n".join(json.dumps(e) for e in (good, bad))
    response = requests.post(f"{server}/api/v1/lineage", data=body, timeout=10,
                             headers={"Authorization": f"Bearer {TOKEN}",
                                      "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400
    assert "run.runId" in response.text
    status, _ = get(f"{server}/api/v1/assets/{urllib.parse.quote('dataset/kafka/never-stored')}")
    assert status == 404


def test_catalog_files_over_http(server: str) -> None:
    catalog = Path(__file__).resolve().parents[1] / "golden" / "backstage-catalog.yaml"
    response = requests.post(f"{server}/api/v1/ingest/backstage", data=catalog.read_bytes(),
                             timeout=10, headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["counts"]["created"] > 0 and report["gate"] == "enforce"
    response = requests.post(f"{server}/api/v1/ingest/datahub", data=b"[{]", timeout=10,
                             headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert response.status_code == 400 and "not JSON" in response.text
