"""The governance routes of kg.api.governance: the kept report read back in every format the
fresh one has, and when it was made; the rule catalogue, with counts from the kept report."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from kg.api import models
from kg.api.app import create_app
from kg.graph import KnowledgeGraph
from tests.conftest import settings

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


# -- the rule catalogue

SH = "http://www.w3.org/ns/shacl#"
MLGSH = "https://w3id.org/mlg/shapes#"


def _rules(client: TestClient, **params: str) -> dict[str, Any]:
    answer = client.get("/api/v1/rules", params=params)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def test_every_rule_a_report_can_name_is_in_the_catalogue(client: TestClient) -> None:
    rules = {r["id"] for r in _rules(client)["rules"]}
    graph = client.app.state.graph  # type: ignore[attr-defined]
    with_severity = {
        row["rule"].value
        for row in graph.query(
            f"SELECT DISTINCT ?rule WHERE {{ GRAPH <urn:kg:graph:shapes> "
            f"{{ ?rule <{SH}severity> ?s FILTER(isIRI(?rule)) }} }}"
        )
    }
    assert rules == with_severity
    named = {r["shape"] for r in client.get("/api/v1/validation").json()["results"]}
    assert named <= rules


@pytest.mark.parametrize(
    ("curie", "name", "severity", "targets", "group"),
    [
        ("mlgsh:AssetOwner", "Exactly one owner", "violation", ["mlg:Asset"], "mlgsh:Ownership"),
        ("mlgsh:OwnerInTeam", "Owners belong to a team", "warning", ["mlg:Person"], None),
        (
            "mlgsh:AssetDescription",
            "Has a description",
            "warning",
            ["mlg:Dataset", "mlg:Feature", "mlg:Model"],
            "mlgsh:Described",
        ),
        ("mlgsh:StageValue", "Known stage", "violation", ["mlg:Asset"], "mlgsh:Lifecycle"),
    ],
)
def test_a_rule_as_the_shapes_say_it(
    client: TestClient,
    curie: str,
    name: str,
    severity: str,
    targets: list[str],
    group: str | None,
) -> None:
    rules = {r["curie"]: r for r in _rules(client)["rules"]}
    rule = rules[curie]
    assert rule["id"] == MLGSH + curie.removeprefix("mlgsh:")
    assert (rule["name"], rule["severity"], rule["targets"]) == (name, severity, targets)
    assert (rule["group"] or {}).get("curie") == group
    assert rule["message"] and rule["file"]
    assert "counts" not in rule


def test_a_rules_description_is_its_own_or_its_groups(client: TestClient) -> None:
    rules = {r["curie"]: r for r in _rules(client)["rules"]}
    # rdfs:comment of the node shape holding it; of the rule itself for a SHACL-SPARQL rule
    assert rules["mlgsh:AssetOwner"]["description"].startswith("Every asset has exactly one owner")
    assert rules["mlgsh:RetiredUnused"]["description"].startswith("Nothing active depends")
    assert rules["mlgsh:AssetLabel"]["description"] is None


def test_counts_come_from_the_kept_report(client: TestClient) -> None:
    nothing = _rules(client, counts="true")
    assert nothing["generatedAt"] is None
    assert {r["counts"] is None for r in nothing["rules"]} == {True}

    kept = _keep(client)
    counted = _rules(client, counts="true")
    assert counted["generatedAt"] == kept["generatedAt"]
    expected: dict[str, Counter[str]] = {}
    assets: dict[str, set[str]] = {}
    for result in kept["results"]:  # type: ignore[attr-defined]
        expected.setdefault(result["shape"], Counter())[result["severity"]] += 1
        assets.setdefault(result["shape"], set()).add(result["focusNode"])
    for rule in counted["rules"]:
        tally = expected.get(rule["id"], Counter())
        assert rule["counts"] == {
            "violation": tally["violation"],
            "warning": tally["warning"],
            "info": tally["info"],
            "assets": len(assets.get(rule["id"], ())),
        }
    assert sum(r["counts"]["violation"] for r in counted["rules"]) == 6  # the demo's planted
    models.Rules.model_validate(counted)


def test_extra_shapes_are_rules_too(tmp_path: Path) -> None:
    extra = tmp_path / "tags.ttl"
    extra.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix mlg: <https://w3id.org/mlg#> .\n"
        "<urn:org:Tagging> a sh:NodeShape ; sh:name 'Tagging' ; sh:targetClass mlg:Dataset ;\n"
        "  sh:property <urn:org:Tagged> , [ sh:path mlg:status ; sh:minCount 1 ] .\n"
        "<urn:org:Tagged> sh:path <http://www.w3.org/ns/dcat#keyword> ; sh:minCount 1 ;\n"
        "  sh:severity sh:Info ; sh:description 'Datasets carry a tag.' .\n"
    )
    graph = KnowledgeGraph.open(settings(shapes=str(extra)))
    try:
        with TestClient(create_app(graph=graph)) as extra_client:
            rules = {r["id"]: r for r in _rules(extra_client)["rules"]}
    finally:
        graph.close()
    tagged = rules["urn:org:Tagged"]
    assert (tagged["severity"], tagged["description"], tagged["file"]) == (
        "info",
        "Datasets carry a tag.",
        "tags.ttl",
    )
    assert tagged["group"] == {
        "id": "urn:org:Tagging",
        "curie": "urn:org:Tagging",
        "name": "Tagging",
    }
    # the group is no rule of its own, and a blank-node shape has no name a report keeps
    assert "urn:org:Tagging" not in rules
    assert all(not rule_id.startswith("_:") for rule_id in rules)
    assert MLGSH + "AssetOwner" in rules
