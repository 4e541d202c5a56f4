"""The governance routes of kg.api.governance: the kept report read back in every format the
fresh one has, and when it was made."""

from __future__ import annotations

import datetime as dt

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from kg.api import models

PROV = "http://www.w3.org/ns/prov#"


def _time(text: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(text)
    assert at.tzinfo is not None, text
    return at


def _keep(client: TestClient) -> dict[str, object]:
    kept = client.post("/api/v1/validation", params={"format": "json"})
    assert kept.status_code == 200, kept.text
    data: dict[str, object] = kept.json()
    return data


def test_a_fresh_report_says_when_it_ran(client: TestClient) -> None:
    before = dt.datetime.now(dt.UTC)
    data = client.get("/api/v1/validation").json()
    assert before <= _time(data["generatedAt"]) <= dt.datetime.now(dt.UTC)
    models.ValidationReport.model_validate(data)


def test_no_kept_report_is_a_404_problem(client: TestClient) -> None:
    missing = client.get("/api/v1/validation/latest")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert "POST /api/v1/validation" in missing.json()["detail"]


def test_the_kept_report_reads_back_as_it_was_answered(client: TestClient) -> None:
    kept = _keep(client)
    latest = client.get("/api/v1/validation/latest")
    assert latest.status_code == 200
    assert latest.headers["content-type"] == "application/json"
    assert latest.headers["kg-conforms"] == "false"
    assert latest.json() == kept  # results, counts, engine, rules and the time it was made
    models.ValidationReport.model_validate(latest.json())
    # reading it again changes nothing; validating without keeping neither
    client.get("/api/v1/validation")
    assert client.get("/api/v1/validation/latest").json()["generatedAt"] == kept["generatedAt"]


def test_a_new_run_replaces_the_kept_report(client: TestClient) -> None:
    first = _keep(client)
    second = _keep(client)
    assert _time(str(second["generatedAt"])) > _time(str(first["generatedAt"]))
    latest = client.get("/api/v1/validation/latest").json()
    assert latest["generatedAt"] == second["generatedAt"]


@pytest.mark.parametrize(
    ("params", "accept", "media"),
    [
        ({}, "text/html", "text/html"),
        ({"format": "html"}, None, "text/html"),
        ({}, "text/turtle", "text/turtle"),
        ({"format": "jsonld"}, None, "application/ld+json"),
        ({"format": "sarif"}, None, "application/sarif+json"),
        ({"format": "junit"}, None, "application/xml"),
        ({"format": "text"}, None, "text/plain"),
        ({"format": "scorecard"}, None, "application/json"),
        ({"format": "json", "failOn": "info"}, "text/html", "application/json"),
    ],
)
def test_the_kept_report_in_every_format(
    client: TestClient, params: dict[str, str], accept: str | None, media: str
) -> None:
    _keep(client)
    headers = {"accept": accept} if accept else {}
    fresh = client.get("/api/v1/validation", params=params, headers=headers)
    latest = client.get("/api/v1/validation/latest", params=params, headers=headers)
    assert latest.status_code == 200, latest.text
    assert latest.headers["content-type"].split(";")[0] == media
    assert latest.headers["kg-conforms"] == fresh.headers["kg-conforms"]
    if params.get("format") in {"sarif", "junit", "text", "scorecard"}:
        assert latest.text == fresh.text  # the same findings, nothing time-bound in these


def test_the_kept_graph_records_when_and_how(client: TestClient) -> None:
    kept = _keep(client)
    turtle = client.get("/api/v1/validation/latest", headers={"accept": "text/turtle"})
    report = [
        t
        for t in ox.parse(turtle.content, ox.RdfFormat.TURTLE)
        if t.predicate == ox.NamedNode(PROV + "generatedAtTime")
    ]
    assert [t.object.value for t in report] == [kept["generatedAt"]]
    graph = client.app.state.graph  # type: ignore[attr-defined]
    found = graph.query(
        f"SELECT ?at WHERE {{ GRAPH <urn:kg:graph:reports/latest> "
        f"{{ ?r a <http://www.w3.org/ns/shacl#ValidationReport> ; <{PROV}generatedAtTime> ?at }} }}"
    )
    assert [row["at"].value for row in found] == [kept["generatedAt"]]
