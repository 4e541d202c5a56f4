"""The asset REST API, dereferenceable IRIs, search and the named-query API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from kg import catalog
from kg.api.app import create_app
from kg.config import Settings
from kg.graph import Document, KnowledgeGraph
from tests.conftest import BASE, iri, snapshot

YAML = {"content-type": "application/yaml"}


def test_read_one_asset_with_relations_both_ways(client: TestClient) -> None:
    data = client.get("/api/v1/assets/model/home-ranking/v3").json()
    assert data["type"] == "mlg:ModelVersion"
    assert [o["id"] for o in data["owners"]] == [iri("person/ben")]
    assert data["status"] == "mlg:Active" and data["stage"] == "mlg:Production"
    outgoing = {(r["property"], r["target"]) for r in data["outgoing"]}
    assert ("mlg:trainedOn", iri("dataset/ranking-training-set")) in outgoing
    incoming = {(r["property"], r["source"]) for r in data["incoming"]}
    assert ("mlg:deploys", iri("service/homepage")) in incoming
    assert ("mlg:evaluates", iri("evaluation/home-ranking-v3")) in incoming
    assert all(r["property"] != "mlg:dependsOn" for r in data["outgoing"])  # no derived copies


@pytest.mark.parametrize(
    ("asset", "side", "key", "related", "status"),
    [
        ("dataset/ranking-training-set", "outgoing", "target", "dataset/legacy-ratings", "mlg:Deprecated"),
        ("dataset/ranking-training-set", "outgoing", "target", "dataset/member-profiles", "mlg:Active"),
        ("dataset/legacy-ratings", "incoming", "source", "model/home-ranking/v1", "mlg:Retired"),
        ("model/home-ranking/v3", "owners", "id", "person/ben", None),  # people have none
        ("model/home-ranking/v3", "outgoing", "target", "review/home-ranking-v3", None),
    ],
)  # fmt: skip
def test_each_relation_carries_the_related_assets_status(
    client: TestClient, asset: str, side: str, key: str, related: str, status: str | None
) -> None:
    data = client.get(f"/api/v1/assets/{asset}").json()
    found = [r for r in data[side] if r[key] == iri(related)]
    assert found, f"{related} in {side} of {asset}"
    assert {r["status"] for r in found} == {status}
    assert client.get(f"/api/v1/assets/{related}").json()["status"] == status


@pytest.mark.parametrize(
    "media", ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
)
def test_read_one_asset_as_rdf(client: TestClient, media: str) -> None:
    response = client.get("/api/v1/assets/dataset/legacy-ratings", headers={"accept": media})
    assert response.headers["content-type"].startswith(media)
    triples = list(ox.parse(response.content, ox.RdfFormat.from_media_type(media)))
    subjects = {q.subject.value for q in triples}
    assert iri("dataset/legacy-ratings") in subjects
    assert iri("dataset/ranking-training-set") in subjects  # who points at it


def test_create_replace_and_delete(client: TestClient) -> None:
    created = client.put(
        "/api/v1/assets/dataset/new",
        content=b"type: Dataset\nname: New\ndescription: d\nowner: team/search\ntags: [a, b]\n",
        headers=YAML,
    )
    assert created.status_code == 201, created.text
    replaced = client.put(
        "/api/v1/assets/dataset/new",
        content=b'{"type": "Dataset", "name": "Renamed", "owner": "team/search", "description": "d"}',
        headers={"content-type": "application/json"},
    )
    assert replaced.status_code == 200
    data = client.get("/api/v1/assets/dataset/new").json()
    assert (data["label"], data["tags"]) == ("Renamed", [])  # replaced, not merged
    turtle = b"@prefix mlg: <https://w3id.org/mlg#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n<https://w3id.org/mlg/id/model/new/v1> a mlg:ModelVersion ; rdfs:label 'v1' ; mlg:owner <https://w3id.org/mlg/id/team/search> ; mlg:trainedOn <https://w3id.org/mlg/id/dataset/new> ."
    assert (
        client.put(
            "/api/v1/assets/model/new/v1", content=turtle, headers={"content-type": "text/turtle"}
        ).status_code
        == 201
    )
    assert client.delete("/api/v1/assets/dataset/new").status_code == 204
    assert client.get("/api/v1/assets/dataset/new").status_code == 404
    version = client.get("/api/v1/assets/model/new/v1").json()
    edge = next(r for r in version["outgoing"] if r["property"] == "mlg:trainedOn")
    assert (edge["target"], edge["resolved"]) == (iri("dataset/new"), False)
    lineage = client.get("/api/v1/lineage", params={"nodeId": "model/new/v1"}).json()["graph"]
    assert [n["resolved"] for n in lineage] == [True, False]
    assert client.delete("/api/v1/assets/dataset/new").status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "ctype", "status", "message"),
    [
        ("dataset/x", b"type: Spaceship\n", "application/yaml", 400, "unknown asset type"),
        (
            "dataset/x",
            b"type: Dataset\nname: [unclosed\n",
            "application/yaml",
            400,
            "YAML syntax error",
        ),
        (
            "dataset/x",
            b"<https://w3id.org/mlg/id/other> a <https://w3id.org/mlg#Dataset> .",
            "text/turtle",
            400,
            "describe",
        ),
        (
            "dataset/x",
            b"type: Dataset\nname: X\ndescription: d\n",
            "application/yaml",
            422,
            "owner",
        ),
        ("evaluation/home-ranking-v3", None, None, 422, "evaluation"),
    ],
)
def test_asset_api_refusals_change_nothing(
    client: TestClient, path: str, body: bytes | None, ctype: str | None, status: int, message: str
) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    before = snapshot(graph)
    if body is None:
        response = client.delete(
            f"/api/v1/assets/{path}"
        )  # the production model would lose its evaluation
    else:
        response = client.put(
            f"/api/v1/assets/{path}", content=body, headers={"content-type": ctype or ""}
        )
    assert response.status_code == status, response.text
    if status == 400 and ctype == "application/yaml" and b"[" in (body or b""):
        assert response.json()["line"] == 3  # as the client sent it
    assert message.lower() in response.text.lower()
    assert snapshot(graph) == before


def test_list_with_filters_and_pages(client: TestClient) -> None:
    page = client.get(
        "/api/v1/assets", params={"type": "ModelVersion", "status": "Active", "limit": 3}
    ).json()
    assert page["total"] == 7
    assert len(page["items"]) == 3
    rest = client.get(
        "/api/v1/assets",
        params={"type": "ModelVersion", "status": "Active", "limit": 3, "offset": 6},
    ).json()
    assert len(rest["items"]) == 1
    assert page["facets"]["status"] == {"mlg:Active": 7}
    owned = client.get("/api/v1/assets", params={"owner": "team/ads-ml", "tag": "events"}).json()
    assert {i["id"] for i in owned["items"]} == {
        iri("dataset/ad-impressions-raw"),
        iri("dataset/ad-impressions-clean"),
    }
    staged = client.get("/api/v1/assets", params={"stage": "Production", "type": "Service"}).json()
    assert staged["total"] == 5


def test_asset_iris_dereference(client: TestClient) -> None:
    page = client.get("/id/service/homepage", headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-page="asset"' in page.text and "<title>Homepage service · kg</title>" in page.text
    assert '"asset": "https://w3id.org/mlg/id/service/homepage"' in page.text  # for its script
    rdf = client.get("/id/service/homepage", headers={"accept": "text/turtle"})
    assert rdf.headers["content-type"].startswith("text/turtle")
    assert client.get("/id/nothing/here", headers={"accept": "text/html"}).status_code == 404


# -- search


def test_search_ranks_names_first(client: TestClient) -> None:
    hits = client.get("/api/v1/search", params={"q": "ranking"}).json()["hits"]
    assert hits[0]["id"] in {iri("model/home-ranking"), iri("model/search-ranking")}
    assert client.get("/api/v1/search", params={"q": "embed"}).json()["total"] >= 4  # prefix
    described = client.get("/api/v1/search", params={"q": "sessionised"}).json()["hits"]
    assert [h["id"] for h in described] == [iri("dataset/playback-events-clean")]


def test_search_facets_and_filters(client: TestClient) -> None:
    data = client.get("/api/v1/search", params={"q": "home ranking", "type": "Evaluation"}).json()
    assert {h["id"] for h in data["hits"]} == {
        iri(f"evaluation/home-ranking-v{n}") for n in (2, 3, 4)
    }
    facets = client.get("/api/v1/search", params={"q": "ads"}).json()["facets"]
    assert facets["owner"][iri("team/ads-ml")] >= 5


def test_search_reads_its_writes(client: TestClient) -> None:
    body = b"- {id: feature/churn-score, type: Feature, name: Churn propensity score, description: Odds of cancelling within 30 days., owner: team/personalization, tags: [churn]}\n"
    assert client.post("/api/v1/assets", content=body, headers=YAML).status_code == 201
    hits = client.get("/api/v1/search", params={"q": "propensity"}).json()["hits"]
    assert [h["id"] for h in hits] == [iri("feature/churn-score")]
    assert client.delete("/api/v1/assets/feature/churn-score").status_code == 204
    assert client.get("/api/v1/search", params={"q": "propensity"}).json()["total"] == 0


def test_search_index_is_rebuilt_from_the_store(tmp_path: object) -> None:
    from pathlib import Path

    store = Path(str(tmp_path)) / "store"
    settings = Settings(store=store, gate="off")  # type: ignore[call-arg]
    graph = KnowledgeGraph.open(settings)
    graph.load([Document("a.yaml", b"- {id: a, type: Dataset, name: Alpha centauri}\n")])
    graph.close()
    (store.parent / "store.search.sqlite").unlink()  # lost, or out of step
    reopened = KnowledgeGraph.open(settings)
    assert [h.id for h in reopened.search("centauri").hits] == [iri("a")]
    reopened.close()


def test_before_you_build(client: TestClient) -> None:
    draft = {
        "name": "member genre preference",
        "description": "share of minutes per genre",
        "sources": ["dataset/viewing-history-daily"],
        "type": "Feature",
    }
    candidates = client.post("/api/v1/search/similar", json=draft).json()["candidates"]
    assert candidates[0]["id"] == iri("feature/member-genre-affinity")
    assert candidates[0]["sharedSources"] == [iri("dataset/viewing-history-daily")]
    assert all(c["type"] == "mlg:Feature" for c in candidates)


# -- named queries


def test_named_query_catalogue_and_run(client: TestClient) -> None:
    catalogue = {q["name"]: q for q in client.get("/api/v1/queries").json()}
    assert catalogue["services-using-dataset"]["parameters"][0]["name"] == "dataset"
    rows = client.get(
        "/api/v1/queries/services-using-dataset", params={"dataset": "dataset/legacy-ratings"}
    ).json()
    assert {b["service"]["value"] for b in rows["results"]["bindings"]} == {
        iri("service/homepage"),
        iri("service/homepage-canary"),
    }
    csv = client.get("/api/v1/queries/unowned-assets", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert client.get("/api/v1/queries/nope").status_code == 404
    missing = client.get("/api/v1/queries/upstream")
    assert missing.status_code == 400 and "asset" in missing.json()["detail"]


@pytest.mark.parametrize("name", sorted(catalog.catalogue()))
def test_the_catalogue_gives_each_querys_text(client: TestClient, name: str) -> None:
    entry = next(q for q in client.get("/api/v1/queries").json() if q["name"] == name)
    query = catalog.named_query(name)
    assert entry["text"] == query.text
    # the text runs as the route runs it: the parameters bound as substitutions
    params = _named_params(name)
    graph = client.app.state.graph  # type: ignore[attr-defined]
    bound = graph.store.query(entry["text"], substitutions=query.bind(params, BASE))
    routed = client.get(entry["href"], params=params).json()
    assert len(list(bound)) == len(routed["results"]["bindings"])


# -- unknown means an error: filters name known types, statuses and stages, in any case


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/v1/search?type=dataset", 200, ()),
        ("/api/v1/search?type=Bogus", 400, ("'Bogus'", "known: Agent", "Dataset")),
        ("/api/v1/search?type=Datset", 400, ("did you mean Dataset",)),
        ("/api/v1/search?stage=Prod", 400, ("'Prod'", "did you mean Production")),
        ("/api/v1/search?status=Gone", 400, ("'Gone'", "Active, Deprecated, Experimental")),
        ("/api/v1/search?owner=team/nope", 400, ("unknown owner 'team/nope'",)),
        ("/api/v1/assets?type=dataset&stage=production&status=active", 200, ()),
        ("/api/v1/assets?status=mlg:Deprecated", 200, ()),
        ("/api/v1/assets?type=Bogus", 400, ("'Bogus'",)),
        ("/api/v1/assets?stage=Prod", 400, ("did you mean Production",)),
        ("/api/v1/assets?status=Gone", 400, ("'Gone'",)),
        ("/api/v1/lineage?nodeId=service/homepage&type=dataset", 200, ()),
        ("/api/v1/lineage?nodeId=service/homepage&type=Bogus", 400, ("'Bogus'", "known:")),
        ("/api/v1/lineage?nodeId=service/homepage&type=Datset", 400, ("did you mean Dataset",)),
    ],
)
def test_unknown_filter_values_are_refused(
    client: TestClient, url: str, status: int, words: tuple[str, ...]
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    if status == 200:
        return
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert all(w in detail for w in words), detail


def test_filter_names_in_any_case_find_what_the_iri_finds(client: TestClient) -> None:
    by_iri = client.get("/api/v1/assets?type=mlg:ModelVersion&stage=mlg:Production").json()
    by_name = client.get("/api/v1/assets?type=modelversion&stage=PRODUCTION").json()
    assert by_name["total"] == by_iri["total"] > 0
    assert by_name["items"] == by_iri["items"]
    lineage = client.get("/api/v1/lineage?nodeId=service/homepage&type=dataset").json()
    assert iri("dataset/legacy-ratings") in {n["id"] for n in lineage["graph"]}


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({"asset": "dataset/legacy-ratings", "sameAs": ["ghost"]}, "ghost"),
        ({"asset": "ghost", "sameAs": ["dataset/legacy-ratings"]}, "ghost"),
    ],
)
def test_an_equivalence_with_an_unknown_id_is_a_404(
    client: TestClient, body: dict[str, object], missing: str
) -> None:
    response = client.post("/api/v1/equivalences", json=body)
    assert response.status_code == 404
    assert f"no asset {missing} in the graph" in response.json()["detail"]
    ok = client.post(
        "/api/v1/equivalences",
        json={"asset": "dataset/legacy-ratings", "sameAs": ["dataset/abuse-reports"]},
    )
    assert ok.status_code == 200, ok.text


def test_a_writer_may_ask_the_gate_to_warn(client: TestClient) -> None:
    document = "- {id: dataset/unowned-upload, type: Dataset, name: Unowned}"
    headers = {"content-type": "application/yaml"}
    refused = client.post("/api/v1/assets", content=document, headers=headers)
    assert refused.status_code == 422
    warned = client.post("/api/v1/assets", params={"gate": "warn"}, content=document,
                         headers=headers)  # fmt: skip
    assert warned.status_code == 201, warned.text
    report = warned.json()
    assert report["gate"] == "warn"
    assert any("owner" in v["message"] for v in report["violations"])
    unchecked = client.post("/api/v1/assets", params={"gate": "off"}, content=document,
                            headers=headers)  # fmt: skip
    assert unchecked.status_code == 201, unchecked.text
    assert (unchecked.json()["gate"], unchecked.json()["violations"]) == ("off", [])
    bogus = client.post("/api/v1/assets", params={"gate": "lax"}, content=document,
                        headers=headers)  # fmt: skip
    assert bogus.status_code == 422


def test_several_files_in_one_upload_load_all_or_nothing(client: TestClient) -> None:
    good = (
        "good.yaml",
        b"- {id: dataset/one-of-two, type: Dataset, owner: team/studio-ml}",
        "application/yaml",
    )
    bad = ("bad.ttl", b"<a> <b> .", "text/turtle")
    refused = client.post("/api/v1/assets", files=[("file", good), ("file", bad)])
    assert refused.status_code == 400
    assert "bad.ttl" in refused.json()["detail"]
    assert client.get("/api/v1/assets/dataset/one-of-two").status_code == 404
    second = (
        "second.yaml",
        b"- {id: dataset/two-of-two, type: Dataset, owner: team/studio-ml}",
        None,
    )
    loaded = client.post("/api/v1/assets", files=[("file", good), ("file", second)])
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["assets"] == 2
    assert client.get("/api/v1/assets/dataset/two-of-two").status_code == 200


# -- every named query over HTTP runs as /sparql runs a query: in an evaluation worker, under
# the query budget (KG_QUERY_TIMEOUT), stopped past it


def _named_params(name: str) -> dict[str, str]:
    from tests.test_catalog import EXPECTED

    return EXPECTED[name][0] if name in EXPECTED else {}


def _rows(answer: dict[str, object]) -> set[tuple[tuple[str, str], ...]]:
    bindings = answer["results"]["bindings"]  # type: ignore[index]
    return {tuple(sorted((k, v["value"]) for k, v in row.items())) for row in bindings}


@pytest.fixture(scope="module")
def on_disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The demo in an on-disk store, as `kg serve` runs it: evaluations in worker processes."""
    from kg.demo import load_demo

    store = tmp_path_factory.mktemp("named") / "store"
    graph = KnowledgeGraph.open(Settings(store=store, gate="off"))  # type: ignore[call-arg]
    load_demo(graph)
    with TestClient(create_app(graph=graph)) as test_client:
        assert test_client.app.state.evaluator.isolated  # type: ignore[attr-defined]
        yield test_client
    graph.close()


@pytest.mark.parametrize("name", sorted(catalog.catalogue()))
@pytest.mark.embedded_only("worker processes on views of the embedded store")
def test_every_named_query_answers_over_http_in_a_worker(on_disk: TestClient, name: str) -> None:
    graph = on_disk.app.state.graph  # type: ignore[attr-defined]
    response = on_disk.get(f"/api/v1/queries/{name}", params=_named_params(name))
    assert response.status_code == 200, response.text  # within KG_QUERY_TIMEOUT
    in_process = graph.named_query(name, _named_params(name))
    assert isinstance(in_process, ox.QuerySolutions)
    expected = {
        tuple(sorted((v.value, row[v].value) for v in in_process.variables if row[v] is not None))
        for row in in_process
    }
    assert _rows(response.json()) == expected
    assert expected  # every named query finds something on the demo


@pytest.mark.parametrize("name", sorted(catalog.catalogue()))
def test_every_named_query_is_stopped_at_the_query_budget(
    demo: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import threading

    from kg import jobs

    released = threading.Event()
    evaluate = jobs.sparql

    def stuck(*args: object, **kwargs: object) -> object:  # an evaluation that does not end
        released.wait(30)
        return evaluate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jobs, "sparql", stuck)
    demo.settings = demo.settings.model_copy(update={"query_timeout": 0.2, "query_workers": 2})
    try:
        with TestClient(create_app(graph=demo)) as test_client:
            response = test_client.get(f"/api/v1/queries/{name}", params=_named_params(name))
    finally:
        released.set()
    assert response.status_code == 503, response.text
    assert "KG_QUERY_TIMEOUT" in response.text and "stopped" in response.text


# The query production-without-evaluation replaced (it started from every model version, and
# ran past the budget at scale): the rewrite must give its answer.
_PRODUCTION_WITHOUT_EVALUATION_BEFORE = """PREFIX mlg: <https://w3id.org/mlg#>
SELECT DISTINCT ?version WHERE {
  ?version a mlg:ModelVersion .
  { ?version mlg:stage mlg:Production }
  UNION
  { ?service mlg:deploys ?version ; mlg:stage mlg:Production }
  FILTER NOT EXISTS { ?evaluation mlg:evaluates ?version }
}"""


def test_production_without_evaluation_over_http_on_a_generated_graph(tmp_path: Path) -> None:
    from bench.generate import generate

    lines, _ = generate(2000)
    graph = KnowledgeGraph.open(Settings(store=tmp_path / "store", gate="off"))  # type: ignore[call-arg]
    graph.load([Document("generated.nt", "\n".join(lines).encode())])
    with TestClient(create_app(graph=graph)) as test_client:
        named = test_client.get("/api/v1/queries/production-without-evaluation")
        reference = test_client.get(
            "/sparql", params={"query": _PRODUCTION_WITHOUT_EVALUATION_BEFORE}
        )
    graph.close()
    assert named.status_code == 200, named.text
    versions = {b["version"]["value"] for b in named.json()["results"]["bindings"]}
    assert versions == {b["version"]["value"] for b in reference.json()["results"]["bindings"]}
    assert len(versions) > 10


# -- every write route takes the gate a writer asks for (KG_GATE enforce here)

_MLG = "https://w3id.org/mlg#"
_ID = "https://w3id.org/mlg/id/"
_UNOWNED_TTL = f"<{_ID}dataset/unowned-gsp> a <{_MLG}Dataset> .".encode()
_V3_GRAPH = f"urn:kg:graph:asset:{_ID}model/home-ranking/v3"
GATED_WRITES = [
    # route, method, path, parameters, body, content type, status when allowed
    ("asset PUT", "PUT", "/api/v1/assets/dataset/unowned-put", {}, b"type: Dataset\nname: X", "application/yaml", 201),
    ("asset DELETE", "DELETE", "/api/v1/assets/model/home-ranking/v3", {}, None, None, 204),
    ("SPARQL Update", "POST", "/sparql", {}, f"INSERT DATA {{ <{_ID}dataset/unowned-update> a <{_MLG}Dataset> }}".encode(), "application/sparql-update", 204),
    ("GSP PUT", "PUT", "/store", {"graph": "urn:test:gated-put"}, _UNOWNED_TTL, "text/turtle", 201),
    ("GSP POST", "POST", "/store", {"graph": "urn:test:gated-post"}, _UNOWNED_TTL, "text/turtle", 201),
    ("GSP DELETE", "DELETE", "/store", {"graph": _V3_GRAPH}, None, None, 204),
]  # fmt: skip


@pytest.mark.parametrize("write", GATED_WRITES, ids=[w[0] for w in GATED_WRITES])
@pytest.mark.parametrize(
    ("gate", "allowed"), [(None, False), ("enforce", False), ("warn", True), ("off", True)]
)
def test_every_write_route_takes_the_gate_asked(
    client: TestClient, write: tuple[Any, ...], gate: str | None, allowed: bool
) -> None:
    _, method, path, params, body, media, status = write
    headers = {"content-type": media} if media else {}
    asked = params | ({"gate": gate} if gate else {})
    before = client.get("/api/v1/stats").json()["triples"]
    answer = client.request(method, path, params=asked, content=body, headers=headers)
    if not allowed:
        assert answer.status_code == 422, answer.text
        assert answer.json()["violations"], answer.text
        assert client.get("/api/v1/stats").json()["triples"] == before  # nothing written
    else:
        assert answer.status_code == status, answer.text


@pytest.mark.parametrize("write", GATED_WRITES, ids=[w[0] for w in GATED_WRITES])
def test_an_unknown_gate_is_refused_before_writing(
    client: TestClient, write: tuple[Any, ...]
) -> None:
    _, method, path, params, body, media, _ = write
    headers = {"content-type": media} if media else {}
    answer = client.request(
        method, path, params=params | {"gate": "lax"}, content=body, headers=headers
    )
    assert answer.status_code in (400, 422), answer.text
    assert "lax" in answer.text


def test_a_graph_store_upload_of_several_files_is_all_or_nothing(client: TestClient) -> None:
    good = ("good.ttl", f"<{_ID}a> <{_MLG}derivedFrom> <{_ID}b> .".encode(), "text/turtle")
    bad = ("bad.ttl", b"<a> <b> .", "text/turtle")
    refused = client.post(
        "/store",
        params={"graph": "urn:test:multi", "gate": "off"},
        files=[("file", good), ("file", bad)],
    )
    assert refused.status_code == 400, refused.text
    assert client.get("/store", params={"graph": "urn:test:multi"}).status_code == 404
    second = ("second.ttl", f"<{_ID}c> <{_MLG}derivedFrom> <{_ID}b> .".encode(), "text/turtle")
    loaded = client.put(
        "/store",
        params={"graph": "urn:test:multi", "gate": "off"},
        files=[("file", good), ("file", second)],
    )
    assert loaded.status_code == 201, loaded.text
    stored = client.get(
        "/store", params={"graph": "urn:test:multi"}, headers={"accept": "application/n-triples"}
    )
    assert len(stored.text.strip().splitlines()) == 2


def test_what_the_portal_pages_read(client: TestClient) -> None:
    evaluation = client.get("/api/v1/assets/evaluation/ads-ctr-v1").json()
    assert [(m["metric"], m["value"]) for m in evaluation["metrics"]] == [
        (iri("metric/auc"), 0.781),
        (iri("metric/log_loss"), 0.402),
    ]
    [source] = evaluation["sources"]
    assert (source["source"], source["load"][:12]) == ("kg", "urn:kg:load:")
    assert client.get("/api/v1/assets/dataset/member-profiles").json()["classification"] == (
        "mlg:PII"
    )
    [hit] = client.get("/api/v1/search", params={"q": "sessionised"}).json()["hits"]
    assert {"text": "sessionised", "match": True} in hit["snippet"]
    assert hit["description"].startswith("Playback events") and hit["sources"] == ["kg"]
