from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from kg.cli import app
from kg.errors import InputError
from kg.governance.gate import GateError, GateMode
from kg.governance.model import Severity
from kg.governance.render import Format
from kg.governance.validation import Engine
from kg.graph import Document, KnowledgeGraph
from tests.conftest import iri, snapshot

SHAPES = "https://w3id.org/mlg/shapes#"
PLANTED = {
    ("AssetOwner", "dataset/search-queries-raw", None),
    ("EvaluatedBeforeProduction", "model/artwork-personalization/v1", "team/personalization"),
    ("EvaluatedBeforeProduction", "model/content-embedding/v1", "team/studio-ml"),
    ("NoDeprecatedUpstream", "service/homepage", "team/personalization"),
    ("PrivacyReviewed", "model/home-ranking/v2", "team/personalization"),
    ("PrivacyReviewed", "model/profile-name-abuse/v1", "team/trust-safety"),
}


def test_demo_problems_are_found_with_their_owner(demo: KnowledgeGraph) -> None:
    report = demo.validate()
    assert {r.key() for r in report.results} == {
        r.key() for r in demo.validate(engine=Engine.PYSHACL).results
    }
    data = json.loads(demo.render(report, Format.JSON))
    found = {
        (
            r["shape"].removeprefix(SHAPES),
            demo.short(r["focusNode"]),
            demo.short(r["owners"][0]) if r["owners"] else None,
        )
        for r in data["results"]
    }
    assert found == PLANTED
    assert data["conforms"] is False
    assert data["counts"] == {"violation": 6, "warning": 0, "info": 0}


FIXES = """
- {id: dataset/search-queries-raw, type: Dataset, name: Raw search queries, description: Queries., owner: team/search}
- {id: evaluation/artwork-v1, type: Evaluation, name: Artwork v1 evaluation, owner: team/personalization, evaluates: model/artwork-personalization/v1}
- {id: evaluation/content-embedding-v1, type: Evaluation, name: Embedding v1 evaluation, owner: team/studio-ml, evaluates: model/content-embedding/v1}
- {id: dataset/legacy-ratings, type: Dataset, name: Legacy star ratings, description: Ratings., owner: team/personalization, status: Active}
- {id: review/home-ranking-v2, type: PrivacyReview, outcome: Approved}
- {id: model/home-ranking/v2, type: ModelVersion, name: Home ranking v2, owner: team/personalization, versionOf: model/home-ranking, trainedOn: dataset/ranking-training-set, privacyReview: review/home-ranking-v2}
- {id: review/profile-name-abuse-v1, type: PrivacyReview, outcome: Approved}
"""


def test_a_clean_variant_of_the_demo_conforms(demo: KnowledgeGraph) -> None:
    demo.load([Document("fixes.yaml", FIXES.encode())], gate=GateMode.ENFORCE)
    report = demo.validate()
    assert report.results == []
    assert report.conforms(Severity.INFO)


def test_latest_report_is_queryable(demo: KnowledgeGraph) -> None:
    demo.save_report(demo.validate())
    result = demo.query(
        "PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT (COUNT(?r) AS ?n) WHERE { "
        "GRAPH <urn:kg:graph:reports/latest> { ?report a sh:ValidationReport ; sh:result ?r } }"
    )
    assert isinstance(result, ox.QuerySolutions)
    assert int(next(result)["n"].value) == 6  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"asset": "service/homepage"}, {"service/homepage"}),
        ({"team": "team/trust-safety"}, {"model/profile-name-abuse/v1"}),
        (
            {"lineage": "service/artwork"},
            {"model/artwork-personalization/v1", "model/content-embedding/v1"},
        ),
    ],
)
def test_subsets(demo: KnowledgeGraph, scope: dict[str, str], expected: set[str]) -> None:
    report = demo.validate(demo.scope(**scope))
    assert {demo.short(r.focus.strip("<>")) for r in report.results} == expected


def test_every_format(demo: KnowledgeGraph) -> None:
    report = demo.validate()
    turtle = demo.render(report, Format.TURTLE)
    parsed = list(ox.parse(turtle.encode(), ox.RdfFormat.TURTLE))
    assert any(
        q.object == ox.NamedNode("http://www.w3.org/ns/shacl#ValidationReport") for q in parsed
    )
    jsonld = demo.render(report, Format.JSONLD)
    assert len(list(ox.parse(jsonld.encode(), ox.RdfFormat.JSON_LD))) == len(parsed)
    html = demo.render(report, Format.HTML)
    assert "Production stands on supported assets" in html
    assert "team/personalization" in html
    junit = ET.fromstring(demo.render(report, Format.JUNIT))  # noqa: S314 (our own output)
    assert junit.tag == "testsuites"
    assert {s.get("name") for s in junit} >= {"ownership.ttl", "deployment.ttl"}
    assert len(junit.findall(".//failure")) == 6
    sarif = json.loads(demo.render(report, Format.SARIF))
    assert sarif["version"] == "2.1.0"
    assert {r["level"] for r in sarif["runs"][0]["results"]} == {"error"}
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all(r["ruleIndex"] < len(rules) for r in sarif["runs"][0]["results"])
    card = json.loads(demo.render(report, Format.SCORECARD))
    assert card["teams"][0] == {
        "team": iri("team/personalization"),
        "total": 3,
        "rules": {
            "mlgsh:EvaluatedBeforeProduction (violation)": 1,
            "mlgsh:NoDeprecatedUpstream (violation)": 1,
            "mlgsh:PrivacyReviewed (violation)": 1,
        },
    }
    text = demo.render(report, Format.TEXT)
    assert "does not conform" in text
    assert "dataset/search-queries-raw" in text


# -- the gate

UNOWNED = b"- {id: dataset/orphan, type: Dataset, name: Orphan, description: Nobody owns it.}\n"
WIRED_TO_DEPRECATED = (
    b"- {id: service/search, type: Service, name: Search service, owner: team/search, "
    b"status: Active, stage: Production, deploys: model/search-ranking/v1, "
    b"dependsOn: dataset/legacy-ratings}\n"
)
FIXED = (
    b"- {id: dataset/orphan, type: Dataset, name: Orphan, description: Owned now., owner: team/search}\n"
    b"- {id: service/search, type: Service, name: Search service, owner: team/search, "
    b"status: Active, stage: Production, deploys: model/search-ranking/v1}\n"
)


@pytest.mark.parametrize(
    ("body", "shape"), [(UNOWNED, "AssetOwner"), (WIRED_TO_DEPRECATED, "NoDeprecatedUpstream")]
)
def test_gate_refuses_over_http_and_writes_nothing(
    client: TestClient, body: bytes, shape: str
) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    before = snapshot(graph)
    response = client.post(
        "/api/v1/assets", content=body, headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["violations"][0]["shape"] == SHAPES + shape
    assert snapshot(graph) == before
    assert (
        client.post(
            "/api/v1/assets", content=FIXED, headers={"content-type": "application/yaml"}
        ).status_code
        == 201
    )


def test_gate_leaves_old_problems_alone(client: TestClient) -> None:
    # homepage already depends on a deprecated dataset: renaming it adds nothing new
    body = (
        b"- {id: service/homepage, type: Service, name: Home page service, owner: team/personalization, "
        b"status: Active, stage: Production, deploys: model/home-ranking/v3}\n"
    )
    response = client.post(
        "/api/v1/assets", content=body, headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 201


def test_gate_sees_downstream_effects(demo: KnowledgeGraph) -> None:
    # deprecating a dataset far upstream breaks the production services that stand on it
    body = (
        b"- {id: dataset/title-metadata, type: Dataset, name: Title metadata, description: d, "
        b"owner: team/studio-ml, status: Deprecated}\n"
    )
    with pytest.raises(GateError) as caught:
        demo.load([Document("x.yaml", body)], gate=GateMode.ENFORCE)
    focus = {demo.short(r.focus.strip("<>")) for r in caught.value.report.results}
    assert {"service/search", "service/ads-serving", "service/similar-titles"} <= focus


def test_gate_warns_instead_when_asked(demo: KnowledgeGraph) -> None:
    report = demo.load([Document("x.yaml", UNOWNED)], gate=GateMode.WARN)
    assert [demo.short(r.focus.strip("<>")) for r in report.violations] == ["dataset/orphan"]


def test_gate_from_the_cli(demo: KnowledgeGraph, tmp_path: Path) -> None:
    store = tmp_path / "store"
    runner = CliRunner()
    demo_file = str(Path(__file__).resolve().parents[2] / "examples" / "demo.yaml")
    assert runner.invoke(app, ["load", demo_file, "--store", str(store)]).exit_code == 0
    orphan = tmp_path / "orphan.yaml"
    orphan.write_bytes(UNOWNED)
    refused = runner.invoke(app, ["load", str(orphan), "--store", str(store), "--gate", "enforce"])
    assert refused.exit_code == 1
    assert "adds a violation" in refused.output
    warned = runner.invoke(app, ["load", str(orphan), "--store", str(store)])
    assert warned.exit_code == 0
    assert "warning: governance: Exactly one owner: 1: " in warned.output  # by rule, counted
    fresh = str(tmp_path / "fresh")
    verbose = runner.invoke(app, ["load", str(orphan), "--store", fresh, "-v"])
    assert "warning: governance: Exactly one owner: " in verbose.output
    assert ": An asset needs exactly one" in verbose.output  # each asset with its message


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    store = tmp_path / "store"
    clean = tmp_path / "clean.yaml"
    clean.write_text(
        "- {id: team/a, type: Team, name: A}\n- {id: d, type: Dataset, name: D, owner: team/a}\n"
    )
    assert runner.invoke(app, ["load", str(clean), "--store", str(store)]).exit_code == 0
    assert runner.invoke(app, ["validate", "--store", str(store)]).exit_code == 0
    warned = runner.invoke(
        app, ["validate", "--store", str(store), "--fail-on", "warning", "-f", "json"]
    )
    assert warned.exit_code == 1
    assert json.loads(warned.output)["counts"]["warning"] == 1  # no description
    out = tmp_path / "report.sarif"
    assert (
        runner.invoke(
            app, ["validate", "--store", str(store), "-f", "sarif", "-o", str(out)]
        ).exit_code
        == 0
    )
    assert json.loads(out.read_text())["version"] == "2.1.0"
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle")
    broken = runner.invoke(app, ["validate", "--store", str(store), "--shapes", str(bad)])
    assert broken.exit_code == 2
    assert "cannot read shapes" in broken.output
    extra = tmp_path / "extra.ttl"
    extra.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix mlg: <https://w3id.org/mlg#> .\n"
        "<urn:org:Tagged> a sh:NodeShape ; sh:targetClass mlg:Dataset ; sh:property [ "
        "sh:path <http://www.w3.org/ns/dcat#keyword> ; sh:minCount 1 ; sh:severity sh:Violation ; "
        "sh:message 'Datasets need a tag.' ] .\n"
    )
    tagged = runner.invoke(app, ["validate", "--store", str(store), "--shapes", str(extra)])
    assert tagged.exit_code == 1
    assert "Datasets need a tag." in tagged.output


def test_validation_over_http(client: TestClient) -> None:
    data = client.get("/api/v1/validation").json()
    assert data["counts"]["violation"] == 6
    html = client.get("/api/v1/validation", headers={"accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    sarif = client.get("/api/v1/validation", params={"format": "sarif"})
    assert sarif.headers["content-type"] == "application/sarif+json"
    turtle = client.get("/api/v1/validation", headers={"accept": "text/turtle"})
    assert "ValidationReport" in turtle.text
    one = client.get("/api/v1/validation", params={"asset": "service/homepage"}).json()
    assert [r["focusNode"] for r in one["results"]] == [iri("service/homepage")]


def test_candidate_validation_stores_nothing(client: TestClient) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    before = snapshot(graph)
    response = client.post(
        "/api/v1/validate", content=UNOWNED, headers={"content-type": "application/yaml"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["conforms"] is False
    assert data["results"][0]["focusNode"] == iri("dataset/orphan")
    assert snapshot(graph) == before


def test_validating_writes_nothing_until_saved(demo: KnowledgeGraph) -> None:
    before = demo.store.size()
    demo.validate()
    assert demo.store.size() == before
    with pytest.raises(InputError):
        demo.save_report(demo.validate(demo.scope(asset="team/ads-ml")))


def test_an_unknown_second_owner_is_a_refusal_not_a_crash(demo: KnowledgeGraph) -> None:
    document = "- {id: dataset/two-owners, type: Dataset, owner: [team/ads-ml, 'urn:x:y']}"
    with pytest.raises(GateError) as refused:
        demo.load([Document("owners.yaml", document.encode())], gate=GateMode.ENFORCE)
    assert len(refused.value.report.results) >= 2


@pytest.mark.parametrize("engine", [Engine.COMPILED, Engine.PYSHACL])
def test_a_kept_report_reads_back_as_it_was_made(demo: KnowledgeGraph, engine: Engine) -> None:
    assert demo.kept_report() is None
    report = demo.validate(engine=engine)
    demo.save_report(report)
    kept = demo.kept_report()
    assert kept is not None
    assert (kept.generated_at, kept.engine, kept.shapes) == (
        report.generated_at,
        engine.value,
        report.shapes,
    )
    assert kept.results == report.results
    # every format renders it as the run itself (names the shapes, not the blank nodes)
    for fmt in (Format.JSON, Format.HTML, Format.JUNIT, Format.SARIF, Format.SCORECARD):
        assert demo.render(kept, fmt) == demo.render(report, fmt), fmt
