"""The SPARQL endpoint and the Graph Store Protocol: negotiation, updates through the pipeline,
status codes, write protection and limits."""

from __future__ import annotations

import re
import time

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.governance.gate import GateMode
from kg.graph import KnowledgeGraph
from kg.write import log
from tests.conftest import iri, settings, snapshot

SELECT = "SELECT ?t WHERE { ?t a <https://w3id.org/mlg#Team> } ORDER BY ?t"
CONSTRUCT = "CONSTRUCT WHERE { ?t a <https://w3id.org/mlg#Team> }"
ASK = "ASK { ?t a <https://w3id.org/mlg#Team> }"

NEGOTIATION = [
    # query, Accept, format, expected media type
    (SELECT, None, None, "application/sparql-results+json"),
    (SELECT, "application/sparql-results+xml", None, "application/sparql-results+xml"),
    (SELECT, "text/csv", None, "text/csv"),
    (SELECT, "text/tab-separated-values", None, "text/tab-separated-values"),
    (SELECT, "application/json", None, "application/json"),
    (
        SELECT,
        "text/csv;q=0.2, application/sparql-results+xml;q=0.9",
        None,
        "application/sparql-results+xml",
    ),
    (SELECT, "text/csv;q=0, */*", None, "application/sparql-results+json"),
    (SELECT, "text/csv", "json", "application/sparql-results+json"),
    (SELECT, None, "tsv", "text/tab-separated-values"),
    (ASK, None, None, "application/sparql-results+json"),
    (ASK, "application/sparql-results+xml", None, "application/sparql-results+xml"),
    (CONSTRUCT, None, None, "text/turtle"),
    (CONSTRUCT, "application/n-triples", None, "application/n-triples"),
    (CONSTRUCT, "application/rdf+xml", None, "application/rdf+xml"),
    (CONSTRUCT, "application/ld+json", None, "application/ld+json"),
    (CONSTRUCT, "application/n-quads", None, "application/n-quads"),
    (CONSTRUCT, "application/trig", None, "application/trig"),
    (CONSTRUCT, "text/html, application/rdf+xml;q=0.5", None, "application/rdf+xml"),
    (CONSTRUCT, None, "nt", "application/n-triples"),
    (CONSTRUCT, None, "jsonld", "application/ld+json"),
]


@pytest.mark.parametrize(("query", "accept", "fmt", "media"), NEGOTIATION)
@pytest.mark.parametrize("method", ["GET", "POST form", "POST direct"])
def test_content_negotiation(
    client: TestClient, method: str, query: str, accept: str | None, fmt: str | None, media: str
) -> None:
    headers = {"accept": accept} if accept else {}
    params = {"format": fmt} if fmt else {}
    if method == "GET":
        response = client.get("/sparql", params={"query": query, **params}, headers=headers)
    elif method == "POST form":
        response = client.post("/query", params=params, data={"query": query}, headers=headers)
    else:
        headers["content-type"] = "application/sparql-query"
        response = client.post("/sparql/", params=params, content=query, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    if media == "text/csv":
        assert len(response.text.strip().splitlines()) == 8  # header and 7 rows
    elif media.startswith("application/sparql-results") or media == "text/tab-separated-values":
        results = ox.parse_query_results(
            response.content, ox.QueryResultsFormat.from_media_type(media)
        )
        if isinstance(results, ox.QuerySolutions):
            assert len(list(results)) == 7
        else:
            assert bool(results)
    elif media == "application/json":
        assert len(response.json()["results"]["bindings"]) == 7
    else:
        parsed = list(ox.parse(response.content, ox.RdfFormat.from_media_type(media)))
        assert len(parsed) == 7


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"params": {"query": "SELECT ?x WHERE { ?x"}}, 400, "line 1, column 21"),
        ({"params": {"query": "SELECT * { ?s a ex:T }"}}, 400, "undeclared prefix ex:"),
        (
            {"params": {"query": "ASK {}", "format": "png"}, "headers": {"accept": "image/png"}},
            400,
            "unknown format",
        ),
        ({"params": {"query": "ASK {}", "format": "png"}}, 200, "boolean"),  # Accept: */*
        ({"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "one query"),
        ({"params": {"update": "CLEAR ALL"}}, 405, "POST"),
        ({"params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400, "not valid"),
    ],
)
def test_query_errors(
    client: TestClient, kwargs: dict[str, object], status: int, message: str
) -> None:
    response = client.get("/sparql", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    assert message in response.text


# `format=` as SPARQLWrapper sends it (JSONLD is "json-ld", N3 is "n3"; YASGUI and Fuseki clients
# send the same short names in any case): the format asked for when the query form has it, else
# what Accept asks; never an error while Accept can be satisfied.
CLIENT_FORMATS = [
    # query, format, Accept, expected media type
    (SELECT, "json-ld", "application/sparql-results+json", "application/sparql-results+json"),
    (SELECT, "JSONLD", "*/*", "application/sparql-results+json"),
    (SELECT, "n3", "application/sparql-results+xml", "application/sparql-results+xml"),
    (SELECT, "N3", "text/csv", "text/csv"),
    (ASK, "json-ld", "application/sparql-results+xml", "application/sparql-results+xml"),
    (ASK, "n3", "*/*", "application/sparql-results+json"),
    (CONSTRUCT, "json-ld", "*/*", "application/ld+json"),
    (CONSTRUCT, "JSONLD", "text/turtle", "application/ld+json"),
    (CONSTRUCT, "n3", "application/sparql-results+json", "text/turtle"),
    (CONSTRUCT, "N3", "*/*", "text/turtle"),
]


@pytest.mark.parametrize(("query", "fmt", "accept", "media"), CLIENT_FORMATS)
def test_format_values_clients_send_never_turn_a_usable_accept_into_an_error(
    client: TestClient, query: str, fmt: str, accept: str, media: str
) -> None:
    response = client.get("/sparql", params={"query": query, "format": fmt},
                          headers={"accept": accept})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media


# An undeclared prefix: one short sentence naming it, the line and column of the text as sent,
# that line with a caret; no listing of the grammar's character classes.
UNDECLARED = (
    "PREFIX mlg: <https://w3id.org/mlg#>\nSELECT ?d WHERE {\n  ?d a mlg:Dataset ; dcat:keyword ?k }"
)


@pytest.mark.parametrize("method", ["GET", "POST form", "POST direct", "update"])
def test_an_undeclared_prefix_is_a_short_error_pointing_into_the_text(
    client: TestClient, method: str
) -> None:
    if method == "GET":
        response = client.get("/sparql", params={"query": UNDECLARED})
    elif method == "POST form":
        response = client.post("/sparql", data={"query": UNDECLARED})
    elif method == "POST direct":
        response = client.post("/sparql", content=UNDECLARED,
                               headers={"content-type": "application/sparql-query"})  # fmt: skip
    else:
        text = "PREFIX mlg: <https://w3id.org/mlg#>\nINSERT DATA {\n  <urn:a> dcat:keyword 'x' }"
        response = client.post("/sparql", data={"update": text})
    assert response.status_code == 400
    message = response.text
    assert "undeclared prefix dcat:" in message
    assert "line 3, column " in message
    assert "dcat:keyword" in message.splitlines()[1]  # the user's own line, quoted
    assert message.splitlines()[2].strip() == "^"
    assert "\\u{" not in message and "expected one of" not in message
    assert len(message) < 400


def test_protocol_dataset(client: TestClient) -> None:
    shapes = "urn:kg:graph:shapes"
    asked = client.get(
        "/sparql",
        params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "default-graph-uri": shapes},
    )
    whole = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    count = lambda r: int(r.json()["results"]["bindings"][0]["n"]["value"])  # noqa: E731
    assert 0 < count(asked) < count(whole)
    named = client.get(
        "/sparql",
        params={"query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": shapes},
    )
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [shapes]


def test_service_description(client: TestClient) -> None:
    response = client.get("/sparql")
    assert response.headers["content-type"].startswith("text/turtle")
    quads = list(ox.parse(response.content, ox.RdfFormat.TURTLE))
    sd = "http://www.w3.org/ns/sparql-service-description#"
    predicates = {q.predicate.value for q in quads}
    assert {sd + "endpoint", sd + "resultFormat", sd + "feature", sd + "namedGraph"} <= predicates
    assert ox.NamedNode(sd + "UnionDefaultGraph") in {q.object for q in quads}
    names = {q.object.value for q in quads if q.predicate.value == sd + "name"}
    assert "urn:kg:graph:ontology" in names
    jsonld = client.get("/sparql", headers={"accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")


def test_query_page_for_browsers(client: TestClient) -> None:
    page = client.get("/sparql", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-page="workbench"' in page.text
    assert "cdn" not in page.text.lower()  # works offline


# -- updates go through the pipeline

PREFIX = "PREFIX mlg: <https://w3id.org/mlg#> PREFIX id: <https://w3id.org/mlg/id/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"


def _ids(text: str) -> str:
    # "/" may not appear in a prefixed name: write asset ids out as IRIs
    return re.sub(r"\bid:([\w/.-]+)", r"<https://w3id.org/mlg/id/\1>", text)


def update(client: TestClient, text: str, **headers: str) -> int:
    response = client.post(
        "/sparql",
        content=PREFIX + _ids(text),
        headers={"content-type": "application/sparql-update", **headers},
    )
    return response.status_code


def ask(client: TestClient, text: str) -> bool:
    return bool(client.get("/sparql", params={"query": PREFIX + _ids(text)}).json()["boolean"])


def test_update_keeps_derived_triples_in_step(client: TestClient) -> None:
    assert (
        update(
            client,
            "INSERT DATA { id:model/search-ranking/v1 mlg:trainedOn id:dataset/ad-impressions-raw }",
        )
        == 204
    )
    assert ask(client, "ASK { id:service/search mlg:dependsOn+ id:dataset/ad-impressions-raw }")
    # it was filed in the asset's own graph, not the default graph
    assert ask(
        client,
        "ASK { GRAPH <urn:kg:graph:asset:https://w3id.org/mlg/id/model/search-ranking/v1> { ?s mlg:trainedOn id:dataset/ad-impressions-raw } }",
    )
    assert (
        update(
            client,
            "DELETE WHERE { id:model/search-ranking/v1 mlg:trainedOn id:dataset/ad-impressions-raw }",
        )
        == 204
    )
    assert not ask(client, "ASK { id:service/search mlg:dependsOn+ id:dataset/ad-impressions-raw }")
    assert not ask(
        client, "ASK { id:model/search-ranking/v1 mlg:dependsOn id:dataset/ad-impressions-raw }"
    )


def test_update_with_where_sees_the_union(client: TestClient) -> None:
    text = "DELETE { ?a mlg:status mlg:Experimental } INSERT { ?a mlg:status mlg:Active } WHERE { ?a mlg:status mlg:Experimental ; a mlg:Model }"
    assert update(client, text) == 204
    assert ask(client, "ASK { id:model/profile-name-abuse mlg:status mlg:Active }")
    found = client.get(
        "/api/v1/search", params={"q": "abuse", "status": "Active", "type": "Model"}
    ).json()
    assert [h["id"] for h in found["hits"]] == [iri("model/profile-name-abuse")]


def test_update_is_gated(client: TestClient) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    before = snapshot(graph)
    status = update(client, 'INSERT DATA { id:dataset/orphan a mlg:Dataset ; rdfs:label "Orphan" }')
    assert status == 422
    assert snapshot(graph) == before
    assert (
        update(client, 'INSERT DATA { id:dataset/x mlg:status "live" }') == 400
    )  # relation to a literal
    assert snapshot(graph) == before


def test_update_errors(client: TestClient) -> None:
    assert update(client, "CLEAR XYZ") == 400
    response = client.post(
        "/sparql",
        params={"using-graph-uri": "urn:g"},
        content="DELETE { ?s ?p ?o } USING <urn:h> WHERE { ?s ?p ?o }",
        headers={"content-type": "application/sparql-update"},
    )
    assert response.status_code == 400
    assert "USING" in response.text


# -- the Graph Store Protocol

TURTLE = b"<http://example.org/a> <http://example.org/p> <http://example.org/b> ."


def test_graph_store_status_codes(client: TestClient) -> None:
    target = {"graph": "http://example.org/g1"}
    headers = {"content-type": "text/turtle"}
    steps = [
        ("GET", target, None, 404),
        ("PUT", target, TURTLE, 201),
        ("PUT", target, TURTLE, 204),
        ("GET", target, None, 200),
        ("HEAD", target, None, 200),
        (
            "POST",
            target,
            b"<http://example.org/a> <http://example.org/p> <http://example.org/c> .",
            204,
        ),
        ("DELETE", target, None, 204),
        ("DELETE", target, None, 404),
        ("GET", {}, None, 400),
        ("PUT", {"graph": "not an iri"}, TURTLE, 400),
        ("PUT", target, b"<a> <b", 400),
    ]
    for method, params, body, status in steps:
        response = client.request(method, "/store", params=params, content=body, headers=headers)
        assert response.status_code == status, (method, params, response.text)


def test_graph_store_post_creates_and_merges(client: TestClient) -> None:
    created = client.post("/store", content=TURTLE, headers={"content-type": "text/turtle"})
    assert created.status_code == 201
    location = created.headers["location"]
    got = client.get(
        "/store", params={"graph": location}, headers={"accept": "application/n-triples"}
    )
    assert got.text.strip() == TURTLE.decode()
    merged = client.post(
        "/store",
        params={"graph": location},
        content=b"<http://example.org/a> <http://example.org/p> <http://example.org/c> .",
        headers={"content-type": "text/turtle"},
    )
    assert merged.status_code == 204
    assert (
        len(
            list(
                ox.parse(
                    client.get("/store", params={"graph": location}).content, ox.RdfFormat.TURTLE
                )
            )
        )
        == 2
    )


def test_graph_store_default_graph_is_filed_per_asset(client: TestClient) -> None:
    body = b"@prefix mlg: <https://w3id.org/mlg#> . <https://w3id.org/mlg/id/dataset/search-queries-raw> mlg:derivedFrom <https://w3id.org/mlg/id/dataset/title-metadata> ."
    response = client.post("/store?default", content=body, headers={"content-type": "text/turtle"})
    # merged into the asset's existing description (it still has no owner: nothing new is broken)
    assert response.status_code == 204, response.text
    assert ask(
        client,
        "ASK { id:dataset/search-queries-raw mlg:dependsOn id:dataset/title-metadata ; rdfs:label ?l }",
    )


def test_graph_store_reads_but_never_writes_kgs_own_graphs(client: TestClient) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    loads = client.get(
        "/store",
        params={"graph": "urn:kg:graph:loads"},
        headers={"accept": "application/n-triples"},
    )
    assert loads.status_code == 200
    assert "https://w3id.org/mlg#Load" in loads.text
    before, head = snapshot(graph), log.head(graph.store)
    for method, name in [
        ("PUT", "urn:kg:graph:loads"),
        ("POST", "urn:kg:graph:shapes"),
        ("DELETE", "urn:kg:graph:ontology"),
        ("DELETE", "urn:kg:graph:derived:urn:kg:graph:asset:urn:nothing"),
        ("PUT", "urn:kg:graph:log"),
        ("DELETE", "urn:kg:graph:log"),
        ("PUT", "urn:kg:graph:writer:forged"),
    ]:
        response = client.request(
            method,
            "/store",
            params={"graph": name},
            content=None if method == "DELETE" else TURTLE,
            headers={"content-type": "text/turtle"},
        )
        assert response.status_code == 403, (method, name, response.text)
        assert name in response.text and "read-only" in response.text
    assert snapshot(graph) == before
    assert log.head(graph.store) == head
    assert client.get("/healthz").status_code == 200
    # the default graph is the data, not kg's own graphs
    default = client.get("/store?default", headers={"accept": "application/n-triples"})
    assert "https://w3id.org/mlg/shapes#" not in default.text


def test_graph_store_writes_are_gated(client: TestClient) -> None:
    body = b"@prefix mlg: <https://w3id.org/mlg#> . <https://w3id.org/mlg/id/dataset/new> a mlg:Dataset ."
    response = client.put(
        "/store",
        params={"graph": "urn:batch:1"},
        content=body,
        headers={"content-type": "text/turtle"},
    )
    assert response.status_code == 422


# -- write protection and limits


@pytest.fixture
def protected(demo: KnowledgeGraph) -> TestClient:
    demo.settings = demo.settings.model_copy(
        update={"api_tokens": "s3cret,other", "gate": GateMode.OFF}
    )
    return TestClient(create_app(graph=demo))


WRITES = [
    (
        "POST",
        "/sparql",
        {"content-type": "application/sparql-update"},
        b"CLEAR SILENT GRAPH <urn:nothing>",
    ),
    ("PUT", "/store?graph=urn:g", {"content-type": "text/turtle"}, TURTLE),
    ("POST", "/store?graph=urn:g", {"content-type": "text/turtle"}, TURTLE),
    ("DELETE", "/store?graph=urn:g", {}, None),
    ("POST", "/api/v1/assets", {"content-type": "application/yaml"}, b"- {id: x, type: Dataset}"),
    ("PUT", "/api/v1/assets/x", {"content-type": "application/yaml"}, b"type: Dataset"),
    ("DELETE", "/api/v1/assets/x", {}, None),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), WRITES)
def test_writes_need_a_token(
    protected: TestClient, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    refused = protected.request(method, path, content=body, headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    wrong = protected.request(
        method, path, content=body, headers={**headers, "authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    token = {"authorization": "Bearer other"}
    if method == "DELETE":  # something to delete
        setup = "/store?graph=urn:g" if path.startswith("/store") else path
        ctype = "text/turtle" if path.startswith("/store") else "application/yaml"
        data = TURTLE if path.startswith("/store") else b"type: Dataset"
        assert (
            protected.put(setup, content=data, headers={"content-type": ctype, **token}).status_code
            < 300
        )
    allowed = protected.request(method, path, content=body, headers={**headers, **token})
    assert allowed.status_code < 300, allowed.text
    assert (
        protected.get("/sparql", params={"query": "ASK {}"}).status_code == 200
    )  # reads stay open


def test_oversized_body_is_refused(demo: KnowledgeGraph) -> None:
    demo.settings = demo.settings.model_copy(update={"max_body": 1000})
    client = TestClient(create_app(graph=demo))
    before = snapshot(demo)
    response = client.post(
        "/api/v1/assets", content=b"#" * 5000, headers={"content-type": "text/turtle"}
    )
    assert response.status_code == 413
    assert snapshot(demo) == before
    assert client.get("/healthz").status_code == 200


def test_row_cap(demo: KnowledgeGraph) -> None:
    demo.settings = demo.settings.model_copy(update={"max_rows": 5})
    client = TestClient(create_app(graph=demo))
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(response.json()["results"]["bindings"]) == 5
    assert response.headers["kg-row-limit"] == "5"
    assert response.headers["kg-truncated"] == "true"
    assert response.json()["head"]["link"] == ["urn:kg:truncated"]


def test_runaway_query_stops_at_its_budget(graph: KnowledgeGraph) -> None:
    chain = "\n".join(f"<urn:n{i}> <urn:p> <urn:n{i + 1}> ." for i in range(400))
    graph.load([__import__("kg.graph").graph.Document("chain.nt", chain.encode())])
    graph.settings = graph.settings.model_copy(update={"query_timeout": 0.5, "query_workers": 1})
    client = TestClient(create_app(graph=graph))
    pathological = (
        "SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:p>* ?b . ?c <urn:p>* ?d . ?e <urn:p>* ?f }"
    )
    started = time.monotonic()
    response = client.get("/sparql", params={"query": pathological})
    assert response.status_code == 503
    assert "time budget" in response.text
    assert time.monotonic() - started < 10
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/lineage", params={"nodeId": "urn:n1"}).status_code == 200


def test_settings_helper_is_memory_only() -> None:
    assert settings().memory


def test_a_browser_following_a_query_link_gets_the_workbench(client: TestClient) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    query = {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}
    page = client.get("/sparql", params=query, headers={"accept": browser})
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-page="workbench"' in page.text
    asked = client.get("/sparql", params={**query, "format": "json"}, headers={"accept": browser})
    assert asked.headers["content-type"].startswith("application/sparql-results+json")
    plain = client.get("/sparql", params=query, headers={"accept": "application/xml"})
    assert plain.headers["content-type"].startswith("application/xml")  # results, as asked
