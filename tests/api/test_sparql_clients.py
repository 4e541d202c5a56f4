"""SPARQL as the clients people use see it, against a live `kg serve`: rdflib's SPARQLStore,
SPARQLWrapper in every return format, a CSV reader; the query as written (projection order,
FROM and FROM NAMED), the row cap signalled; and the W3C SPARQL 1.1 query evaluation tests
through /sparql, passing every test pyoxigraph passes in-process."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from tests.conftest import SHARED
from tests.test_serve import start_server

pytestmark = pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")

MLG = "https://w3id.org/mlg#"
ORDERED = (
    f"PREFIX mlg: <{MLG}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "SELECT ?model ?label WHERE { ?model a mlg:ModelVersion ; rdfs:label ?label } ORDER BY ?model"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("clients") / "store"
    process, base = start_server(
        "--demo", "--store", str(store), env={"KG_GATE": "off", "KG_MAX_ROWS": "100000"}
    )
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _get(base: str, query: str, accept: str, **params: str) -> tuple[bytes, dict[str, str]]:
    url = base + "/sparql?" + urllib.parse.urlencode({"query": query, **params})
    request = urllib.request.Request(url, headers={"accept": accept})  # noqa: S310 (loopback)
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return response.read(), dict(response.headers)


def test_projection_order_in_every_results_format(server: str) -> None:
    body, _ = _get(server, ORDERED, "application/sparql-results+json")
    assert json.loads(body)["head"]["vars"] == ["model", "label"]
    body, _ = _get(server, ORDERED, "application/sparql-results+xml")
    ns = "{http://www.w3.org/2005/sparql-results#}"
    root = ElementTree.fromstring(body)  # noqa: S314 (kg's own answer, on loopback)
    names = [v.get("name") for v in root.iter(f"{ns}variable")]
    assert names == ["model", "label"]
    body, _ = _get(server, ORDERED, "text/csv")
    assert next(csv.reader(io.StringIO(body.decode()))) == ["model", "label"]
    body, _ = _get(server, ORDERED, "text/tab-separated-values")
    assert body.decode().splitlines()[0].split("\t") == ["?model", "?label"]


def test_rdflib_sparqlstore_rows_bind_in_projection_order(server: str) -> None:
    graph = Graph(SPARQLStore(server + "/sparql", returnFormat="json"))
    rows = list(graph.query(ORDERED))
    assert len(rows) == 11
    for model, label in rows:  # type: ignore[misc]
        assert isinstance(model, URIRef) and str(model).startswith("https://w3id.org/mlg/id/")
        assert not isinstance(label, URIRef)


@pytest.mark.parametrize("form", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select_in_every_format(server: str, form: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(ORDERED)
    client.setReturnFormat(form)
    result = client.query()
    assert result.response.status == 200
    converted = result.convert()
    if form == JSON:
        assert converted["head"]["vars"] == ["model", "label"]  # type: ignore[index]
    elif form == XML:
        assert converted.getElementsByTagName("variable")[0].getAttribute("name") == "model"  # type: ignore[union-attr]
    else:
        text = converted.decode() if isinstance(converted, bytes) else str(converted)
        assert "model" in text.splitlines()[0]


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("form", [TURTLE, N3, RDFXML, JSONLD, XML])
def test_sparqlwrapper_construct_in_every_format(server: str, form: str) -> None:
    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(f"PREFIX mlg: <{MLG}> CONSTRUCT WHERE {{ ?t a mlg:Team }}")
    client.setReturnFormat(form)
    result = client.query()
    assert result.response.status == 200
    converted = result.convert()
    graph = converted if isinstance(converted, Graph) else Graph().parse(
        data=converted, format={TURTLE: "turtle", N3: "n3", JSONLD: "json-ld"}.get(form, "xml")
    )  # fmt: skip
    assert len(graph) >= 5


def test_from_and_from_named_choose_the_dataset(server: str) -> None:
    query = "SELECT (COUNT(*) AS ?n) FROM <urn:kg:graph:ontology> WHERE { ?s ?p ?o }"
    body, _ = _get(server, query, "application/sparql-results+json")
    in_ontology = int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
    body, _ = _get(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "application/json")
    everything = int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
    assert 0 < in_ontology < everything
    named = "SELECT DISTINCT ?g FROM NAMED <urn:kg:graph:shapes> WHERE { GRAPH ?g { ?s ?p ?o } }"
    body, _ = _get(server, named, "application/json")
    graphs = [b["g"]["value"] for b in json.loads(body)["results"]["bindings"]]
    assert graphs == ["urn:kg:graph:shapes"]


def test_the_format_parameters_clients_send(server: str) -> None:
    ask = "ASK { ?s ?p ?o }"
    for params, accept, media in [
        ({"format": "json"}, "*/*", "application/sparql-results+json"),
        ({"output": "xml"}, "*/*", "application/sparql-results+xml"),
        ({"results": "csv"}, "*/*", "text/csv"),
        ({"format": "application/sparql-results+xml,application/json"}, "*/*", "application/sparql-results+xml"),
        ({"format": "turtle"}, "application/sparql-results+xml", "application/sparql-results+xml"),
        ({"format": "JSONLD"}, "application/sparql-results+json", "application/sparql-results+json"),
    ]:  # fmt: skip
        _, headers = _get(server, ask, accept, **params)
        assert headers["content-type"].startswith(media), (params, headers)


def test_the_row_cap_is_signalled(tmp_path: Path) -> None:
    process, base = start_server("--demo", "--store", str(tmp_path / "s"), env={"KG_MAX_ROWS": "3"})
    try:
        body, headers = _get(base, "SELECT * WHERE { ?s ?p ?o }", "application/json")
        document = json.loads(body)
        assert len(document["results"]["bindings"]) == 3
        assert headers["kg-truncated"] == "true"
        assert document["head"]["link"] == ["urn:kg:truncated"]
        body, headers = _get(base, "SELECT * WHERE { ?s ?p ?o } LIMIT 2", "application/json")
        assert "kg-truncated" not in headers
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_w3c_query_evaluation_through_the_endpoint(server: str, tmp_path: Path) -> None:
    """kg's /sparql passes every W3C SPARQL 1.1 query evaluation test that pyoxigraph passes
    answering in-process."""
    tool = SHARED / "tools" / "run_w3c_sparql_query_tests.py"
    if not tool.exists() or not (SHARED / "data" / "w3c-sparql11-query-tests").exists():
        pytest.skip("the W3C query tests are in ../shared only")
    results: dict[str, set[str]] = {}
    for mode, args in [
        ("in-process", ["--in-process"]),
        ("kg", ["--endpoint", server + "/sparql", "--gsp", server + "/store"]),
    ]:
        out = tmp_path / f"{mode}.json"
        subprocess.run([sys.executable, str(tool), *args, "--json", str(out)],
                       capture_output=True, timeout=600, check=False)  # fmt: skip
        results[mode] = {
            t["test"] for t in json.loads(out.read_text())["tests"] if t["status"] == "passed"
        }
    passed_in_process, passed_by_kg = results["in-process"], results["kg"]
    assert len(passed_in_process) > 200
    assert passed_in_process - passed_by_kg == set()
