from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kg.governance.gate import GateMode
from kg.graph import KnowledgeGraph
from tests.conftest import iri, snapshot

MLG = "https://w3id.org/mlg#"


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_stats_count_each_asset_once(client: TestClient) -> None:
    counts = client.get("/api/v1/stats").json()["assets_by_type"]
    assert counts["mlg:ModelVersion"] == 11
    # each asset once, under its most specific type: feature sets are not datasets again, and
    # teams, people and privacy reviews are counted
    assert counts["mlg:Dataset"] == 17
    assert counts["mlg:Team"] == 7
    assert counts["mlg:Person"] == 8
    assert counts["mlg:PrivacyReview"] == 4


def test_home_page_is_the_search_page(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'data-page="search"' in page.text
    assert '<script type="module" src="/portal/app.js"></script>' in page.text


# Each asset once, by the most specific mlg type stated in the data graphs (not the derived
# super-classes): the count a SPARQL query makes, with the asset's own graph only.
_SPECIFIC_TYPES = """
SELECT ?type (COUNT(?a) AS ?n) WHERE {
  GRAPH ?g { ?a a ?type }
  FILTER(STRSTARTS(STR(?g), "urn:kg:graph:asset:") && STRSTARTS(STR(?type), STR(mlg:)))
  FILTER NOT EXISTS {
    GRAPH ?g { ?a a ?other }
    FILTER(?other != ?type)
    ?other rdfs:subClassOf+ ?type
  }
} GROUP BY ?type
"""


def _counts_agree(graph: KnowledgeGraph, client: TestClient, assets: int) -> dict[str, int]:
    from kg.vocab import SPARQL_PREFIXES, compact

    stats = client.get("/api/v1/stats").json()
    by_type = stats["assets_by_type"]
    assert stats["assets"] == sum(by_type.values()) == assets
    result = graph.store.query(SPARQL_PREFIXES + _SPECIFIC_TYPES)
    by_sparql = {compact(row["type"].value): int(row["n"].value) for row in result}  # type: ignore[union-attr]
    listing = client.get("/api/v1/assets", params={"limit": 1}).json()
    assert listing["total"] == assets
    assert by_type == by_sparql == listing["facets"]["type"]
    assert graph.stats() == stats
    return by_type


def test_stats_count_each_asset_once_and_agree_with_the_asset_list(
    client: TestClient, demo: KnowledgeGraph
) -> None:
    by_type = _counts_agree(demo, client, 91)
    assert by_type == {
        "mlg:Dataset": 17, "mlg:Evaluation": 7, "mlg:Experiment": 3, "mlg:Feature": 9,
        "mlg:FeatureSet": 3, "mlg:Model": 6, "mlg:ModelVersion": 11, "mlg:Person": 8,
        "mlg:PrivacyReview": 4, "mlg:Run": 5, "mlg:Service": 6, "mlg:Team": 7,
        "mlg:Workflow": 5,
    }  # fmt: skip


def test_stats_agree_with_the_asset_list_on_a_generated_graph(graph: KnowledgeGraph) -> None:
    from bench.generate import generate
    from kg.api.app import create_app
    from kg.graph import Document

    lines, _ = generate(1000)
    graph.load([Document("generated.nt", "\n".join(lines).encode())])
    assets = sum(1 for g in graph.store.graphs() if g.value.startswith("urn:kg:graph:asset:"))
    with TestClient(create_app(graph=graph)) as client:
        by_type = _counts_agree(graph, client, assets)
    assert assets > 900  # generate() gives about the number asked for
    assert {"mlg:FeatureSet", "mlg:Dataset", "mlg:Team", "mlg:Person"} <= set(by_type)


def test_lineage_shape(client: TestClient) -> None:
    response = client.get("/api/v1/lineage", params={"nodeId": iri("service/homepage"), "depth": 2})
    assert response.status_code == 200
    graph = response.json()["graph"]
    root = graph[0]
    assert set(root) >= {"id", "type", "label", "distance", "inEdges", "outEdges"}
    assert (root["id"], root["type"], root["distance"]) == (
        iri("service/homepage"), "mlg:Service", 0,
    )  # fmt: skip
    assert root["outEdges"] == [
        {"origin": iri("service/homepage"), "destination": iri("model/home-ranking/v3"),
         "type": "mlg:deploys", "inferredBy": None},
    ]  # fmt: skip
    assert max(n["distance"] for n in graph) == 2


@pytest.mark.parametrize(
    ("direction", "node", "expected"),
    [
        ("upstream", "model/home-ranking/v3", "dataset/legacy-ratings"),
        ("downstream", "dataset/legacy-ratings", "service/homepage"),
        ("both", "dataset/ranking-training-set", "dataset/legacy-ratings"),
        ("both", "dataset/ranking-training-set", "service/homepage"),
    ],
)
def test_lineage_directions(client: TestClient, direction: str, node: str, expected: str) -> None:
    response = client.get("/api/v1/lineage", params={"nodeId": node, "direction": direction})
    assert iri(expected) in {n["id"] for n in response.json()["graph"]}


def test_impact(client: TestClient) -> None:
    data = client.get("/api/v1/impact", params={"nodeId": iri("dataset/title-metadata")}).json()
    production = {s["id"] for s in data["productionServices"]}
    assert iri("service/ads-serving") in production
    assert iri("service/similar-titles") in production
    owners = {o["id"] for o in data["owners"]}
    assert iri("team/ads-ml") in owners
    assert data["affectedCount"] == len(data["affected"])


def _label(client: TestClient, node: str) -> str | None:
    label: str | None = client.get(f"/api/v1/assets/{node}").json()["label"]
    return label


def _email(client: TestClient, node: str) -> str | None:
    found = client.get(f"/api/v1/assets/{node}").json()["properties"].get("mlg:email", [])
    return sorted(found)[0] if found else None


@pytest.mark.parametrize(
    ("path", "params", "owners_of"),
    [
        (
            "/api/v1/lineage",
            {"nodeId": "service/homepage", "direction": "both"},
            lambda d: {o for n in d["graph"] for o in n["owners"]},
        ),
        (
            "/api/v1/lineage",
            {"nodeId": "dataset/legacy-ratings", "direction": "downstream", "type": "Service"},
            lambda d: {o for n in d["graph"] for o in n["owners"]},
        ),
        (
            "/api/v1/impact",
            {"nodeId": "dataset/playback-events-raw"},
            lambda d: {o for n in d["affected"] for o in n["owners"]},
        ),
        (
            "/api/v1/search",
            {"q": "ranking"},
            lambda d: {o for h in d["hits"] for o in h["owners"]} | set(d["facets"]["owner"]),
        ),
        ("/api/v1/search", {"q": "", "limit": 3}, lambda d: set(d["facets"]["owner"])),
    ],
)
def test_an_answer_names_the_owners_it_gives(
    client: TestClient, path: str, params: dict[str, object], owners_of: Any
) -> None:
    data = client.get(path, params=params).json()
    mentioned = owners_of(data)
    assert mentioned, "the case should mention owners"
    assert set(data["ownerNames"]) == mentioned
    for owner, name in data["ownerNames"].items():
        assert name == _label(client, owner)


def test_impact_owners_come_with_emails_and_named_members(client: TestClient) -> None:
    data = client.get("/api/v1/impact", params={"nodeId": "dataset/playback-events-raw"}).json()
    assert any(o["memberDetails"] for o in data["owners"]), "some owner is a team with members"
    for owner in data["owners"]:
        assert owner["email"] == _email(client, owner["id"])
        assert [m["id"] for m in owner["memberDetails"]] == owner["members"]
        for member in owner["memberDetails"]:
            assert (member["label"], member["email"]) == (
                _label(client, member["id"]),
                _email(client, member["id"]),
            )


def test_path(client: TestClient) -> None:
    data = client.get(
        "/api/v1/path", params={"from": "service/homepage", "to": "dataset/legacy-ratings"}
    ).json()
    assert (data["direction"], data["length"]) == ("upstream", 3)
    assert [e["type"] for e in data["paths"][0]] == [
        "mlg:deploys",
        "mlg:trainedOn",
        "mlg:derivedFrom",
    ]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/lineage", {"nodeId": "ghost"}),
        ("/api/v1/impact", {"nodeId": "ghost"}),
        ("/api/v1/path", {"from": "ghost", "to": "service/homepage"}),
    ],
)
def test_unknown_ids_are_404(client: TestClient, path: str, params: dict[str, str]) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert iri("ghost") in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 422),
        ({"nodeId": "x", "depth": 0}, 422),
        ({"nodeId": "x", "direction": "sideways"}, 422),
    ],
)
def test_bad_lineage_parameters(client: TestClient, params: dict[str, object], status: int) -> None:
    assert client.get("/api/v1/lineage", params=params).status_code == status


def test_post_native_and_rdf_assets(client: TestClient) -> None:
    response = client.post(
        "/api/v1/assets",
        content=(
            b"- {id: new-set, type: Dataset, name: New set, description: A new set., "
            b"owner: team/studio-ml, derivedFrom: dataset/title-metadata}\n"
        ),
        headers={"content-type": "application/yaml"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["assets"] == 1
    turtle = (
        "@prefix mlg: <https://w3id.org/mlg#> .\n"
        "<https://w3id.org/mlg/id/new-model> a mlg:ModelVersion ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> 'New model' ; "
        "mlg:owner <https://w3id.org/mlg/id/team/studio-ml> ; "
        "mlg:trainedOn <https://w3id.org/mlg/id/new-set> .\n"
    )
    response = client.post(
        "/api/v1/assets", content=turtle, headers={"content-type": "text/turtle"}
    )
    assert response.status_code == 201
    lineage = client.get("/api/v1/lineage", params={"nodeId": "new-model"}).json()["graph"]
    assert iri("dataset/title-metadata") in {n["id"] for n in lineage}


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"@prefix mlg: <https://w3id.org/mlg#> .\n<a> a mlg:Dataset", "text/turtle", "syntax error"),
        (b"- {id: a, type: Spaceship}\n", "application/yaml", "unknown asset type"),
        (b'{"assets": [{"id": "a", "type": "Dataset", "derivedFrom": 1}]}', "application/json", "literal 1"),
        (b"abc", "image/png", "unsupported media type"),
    ],
)  # fmt: skip
def test_post_bad_assets_is_400_and_changes_nothing(
    client: TestClient, body: bytes, content_type: str, message: str
) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    before = snapshot(graph)
    response = client.post("/api/v1/assets", content=body, headers={"content-type": content_type})
    assert response.status_code == 400
    problem = response.json()
    assert message in problem["detail"]
    assert problem["source"] == "request body"
    assert snapshot(graph) == before


# -- SPARQL

SELECT_TEAMS = "SELECT ?t WHERE { ?t a <https://w3id.org/mlg#Team> }"


def test_sparql_get_and_post(client: TestClient) -> None:
    by_get = client.get("/sparql", params={"query": SELECT_TEAMS})
    assert by_get.status_code == 200
    assert by_get.headers["content-type"].startswith("application/sparql-results+json")
    assert len(by_get.json()["results"]["bindings"]) == 7
    by_form = client.post("/sparql", data={"query": SELECT_TEAMS})
    assert by_form.json() == by_get.json()
    direct = client.post(
        "/sparql", content=SELECT_TEAMS, headers={"content-type": "application/sparql-query"}
    )
    assert direct.json() == by_get.json()


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
        ("*/*", "application/sparql-results+json"),
        ("text/html, */*;q=0.1", "application/sparql-results+json"),
    ],
)
def test_sparql_content_negotiation(client: TestClient, accept: str, media: str) -> None:
    response = client.get("/sparql", params={"query": SELECT_TEAMS}, headers={"accept": accept})
    assert response.headers["content-type"].startswith(media)


def test_sparql_construct_as_turtle(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": "CONSTRUCT WHERE { ?t a <https://w3id.org/mlg#Team> }"}
    )
    assert response.headers["content-type"].startswith("text/turtle")
    assert "Team" in response.text


def test_sparql_sees_the_derived_closure(client: TestClient) -> None:
    query = (
        "ASK { <https://w3id.org/mlg/id/service/homepage> <https://w3id.org/mlg#dependsOn>+ "
        "<https://w3id.org/mlg/id/dataset/legacy-ratings> }"
    )
    assert client.get("/sparql", params={"query": query}).json()["boolean"] is True


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"params": {"query": "SELECT ?x WHERE {"}}, 400),
        ({"content": "x=1", "headers": {"content-type": "text/plain"}}, 415),
    ],
)
def test_sparql_errors(client: TestClient, kwargs: dict[str, object], status: int) -> None:
    method = client.post if "content" in kwargs else client.get
    response = method("/sparql", **kwargs)  # type: ignore[operator]
    assert response.status_code == status
    assert response.text


def test_deleting_a_deployed_production_version_is_refused(client: TestClient) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    before = snapshot(graph)
    response = client.delete("/api/v1/assets/model/home-ranking/v3")
    assert response.status_code == 422, response.text
    assert "would remove" in response.text
    assert iri("service/homepage") in response.text
    assert snapshot(graph) == before
    # with the gate off the delete goes through: the service keeps its edge, now unresolved
    graph.settings = graph.settings.model_copy(update={"gate": GateMode.OFF})
    assert client.delete("/api/v1/assets/model/home-ranking/v3").status_code == 204


# -- what production stands on stays: DELETE of an asset a production asset depends on is
# refused by the write gate (ProductionDependencyKept), naming who depends on it

KEPT = [
    # deleted, the production asset that depends on it
    ("model/home-ranking/v3", "service/homepage"),  # deployed by a production service
    ("model/search-ranking/v1", "service/search"),
    ("dataset/search-training-set", "model/search-ranking/v1"),  # a production version's data
    ("feature/query-length", "model/search-ranking/v1"),  # and its features
]


@pytest.mark.parametrize(("deleted", "dependent"), KEPT)
def test_delete_of_what_production_depends_on_is_refused(
    client: TestClient, deleted: str, dependent: str
) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    before = snapshot(graph)
    response = client.delete(f"/api/v1/assets/{deleted}")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    kept = [
        v
        for v in response.json()["violations"]
        if v["shape"] == "https://w3id.org/mlg/shapes#ProductionDependencyKept"
    ]
    assert [v["focusNode"] for v in kept] == [iri(dependent)]
    assert iri(deleted) in kept[0]["message"] and "would remove" in kept[0]["message"]
    assert snapshot(graph) == before
    assert client.get(f"/api/v1/assets/{deleted}").status_code == 200


def test_delete_of_what_production_does_not_depend_on_goes_through(client: TestClient) -> None:
    assert client.delete("/api/v1/assets/model/home-ranking/v1").status_code == 204  # retired
    assert client.get("/api/v1/assets/model/home-ranking/v1").status_code == 404


# -- edge targets are checked against the ontology's ranges on every write protocol

_DEPLOYS_A_DATASET = (
    f"<{iri('service/homepage')}> <{MLG}deploys> <{iri('dataset/legacy-ratings')}> ."
)
WRONG_RANGE = [
    # how, the call, the property and the class it expects, the target's class
    ("asset PUT", ("PUT", "/api/v1/assets/service/x", {},
                   "type: Service\nowner: team/search\ndeploys: dataset/legacy-ratings",
                   "application/yaml"), "mlg:deploys expects mlg:ModelVersion", "mlg:Dataset"),
    ("asset POST", ("POST", "/api/v1/assets", {},
                    "- {id: model/x/v1, type: ModelVersion, trainedOn: service/homepage}",
                    "application/yaml"), "mlg:trainedOn expects mlg:Dataset", "mlg:Service"),
    ("owner", ("PUT", "/api/v1/assets/dataset/y", {},
               "type: Dataset\nowner: model/home-ranking/v3", "application/yaml"),
     "mlg:owner expects mlg:Agent", "mlg:ModelVersion"),
    ("SPARQL update", ("POST", "/sparql", {}, f"INSERT DATA {{ {_DEPLOYS_A_DATASET} }}",
                       "application/sparql-update"),
     "mlg:deploys expects mlg:ModelVersion", "mlg:Dataset"),
    ("Graph Store PUT", ("PUT", "/store", {"graph": "urn:x:deploys"}, _DEPLOYS_A_DATASET,
                         "text/turtle"), "mlg:deploys expects mlg:ModelVersion", "mlg:Dataset"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("how", "call", "expects", "found"), WRONG_RANGE, ids=[w[0] for w in WRONG_RANGE]
)
def test_an_edge_to_a_target_of_the_wrong_type_is_refused_on_every_write(
    client: TestClient,
    how: str,
    call: tuple[str, str, dict[str, str], str, str],
    expects: str,
    found: str,
) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    before = snapshot(graph)
    method, path, params, body, media = call
    response = client.request(method, path, params=params, content=body,
                              headers={"content-type": media})  # fmt: skip
    assert response.status_code == 400, response.text
    assert expects in response.text
    assert f"is {found}" in response.text
    assert snapshot(graph) == before
