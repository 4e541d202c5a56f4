"""An asset's page as a user meets it: its relations both ways, its governance findings, its
parts and RDF, the not-found view, and IRIs that must never become script links, each checked
against the HTTP API the page reads."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from tests.portal.conftest import Server, open_context, ready, start_server, stop_server

pytestmark = pytest.mark.embedded_only("a browser on its own `kg serve --demo`, embedded")

BASE = "https://w3id.org/mlg/id/"
MLG = "https://w3id.org/mlg#"


def api(server: Server, path: str, accept: str = "application/json", **params: Any) -> Any:
    query = "?" + urllib.parse.urlencode(params, doseq=True) if params else ""
    request = urllib.request.Request(server.url + path + query, headers={"Accept": accept})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 (loopback)
        body = answer.read()
    return json.loads(body) if accept.endswith("json") else body.decode()


def asset(server: Server, iri: str, accept: str = "application/json") -> Any:
    return api(server, "/api/v1/assets/" + urllib.parse.quote(iri, safe=""), accept)


def lineage_properties(server: Server) -> set[str]:
    """The ontology's lineage edges, as SPARQL sees them: sub-properties of mlg:dependsOn."""
    query = f"SELECT ?p WHERE {{ ?p <http://www.w3.org/2000/01/rdf-schema#subPropertyOf>+ <{MLG}dependsOn> }}"
    rows = api(server, "/sparql", "application/sparql-results+json", query=query)
    return {row["p"]["value"] for row in rows["results"]["bindings"]}


def curie(text: str) -> str:
    return MLG + text[4:] if text.startswith("mlg:") else text


def open_all(page: Any) -> None:
    """Show every item of the long relation groups."""
    while page.get_by_test_id("relations-more").count():
        page.get_by_test_id("relations-more").first.click()


def relations(page: Any) -> list[tuple[str, str, str, str]]:
    open_all(page)
    found: list[list[str]] = page.get_by_test_id("relation").evaluate_all(
        "ns => ns.map(n => [n.dataset.side, n.dataset.property, n.dataset.assetId, n.dataset.direction])"
    )
    return sorted((side, prop, node, direction) for side, prop, node, direction in found)


def expected_relations(server: Server, data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    lineage = lineage_properties(server)

    def direction(side: str, prop: str) -> str:
        if curie(prop) not in lineage:
            return "related"
        return "upstream" if side == "outgoing" else "downstream"

    rows = [("outgoing", r["property"], r["target"]) for r in data["outgoing"]]
    rows += [("incoming", r["property"], r["source"]) for r in data["incoming"]]
    return sorted((side, prop, node, direction(side, prop)) for side, prop, node in rows)


@pytest.mark.parametrize(
    "local",
    ["model/home-ranking/v3", "dataset/viewing-history-daily", "team/personalization"],
)
def test_relations_are_the_apis_both_ways_by_lineage_direction(
    page: Any, server: Server, local: str
) -> None:
    ready(page, f"/id/{local}")
    data = asset(server, BASE + local)
    assert page.get_by_test_id("asset-title").inner_text() == data["label"]
    assert relations(page) == expected_relations(server, data)


@pytest.mark.parametrize("local", ["dataset/legacy-ratings", "dataset/ranking-training-set"])
def test_each_relation_shows_its_assets_status_from_the_api(
    page: Any, server: Server, local: str
) -> None:
    ready(page, f"/id/{local}")
    data = asset(server, BASE + local)
    open_all(page)
    shown = page.get_by_test_id("relation").evaluate_all(
        "ns => ns.map(n => [n.dataset.side, n.dataset.property, n.dataset.assetId,"
        " (n.querySelector('.badge.status') || {}).title || null])"
    )
    expected = [["outgoing", r["property"], r["target"], r["status"]] for r in data["outgoing"]] + [
        ["incoming", r["property"], r["source"], r["status"]] for r in data["incoming"]
    ]
    assert {s for *_, s in expected} - {None}, "some related asset has a status"
    assert sorted(shown, key=str) == sorted(
        ([*rest, f"status: {status[4:]}" if status else None] for *rest, status in expected),
        key=str,
    )


def test_a_model_versions_page(
    page: Any, server: Server, shoot: Callable[[Any, str], None]
) -> None:
    iri = BASE + "model/home-ranking/v3"
    ready(page, "/id/model/home-ranking/v3")
    data = asset(server, iri)
    assert page.title() == f"{data['label']} · kg"
    assert page.get_by_test_id("asset-iri").inner_text() == iri
    owners = page.get_by_test_id("asset-owner").evaluate_all("ns => ns.map(n => n.dataset.assetId)")
    assert owners == [o["id"] for o in data["owners"]]
    upstream = page.locator("[data-testid=relation][data-direction=upstream]")
    trained_on = [r["target"] for r in data["outgoing"] if r["property"] == "mlg:trainedOn"]
    assert trained_on
    assert set(trained_on) <= set(upstream.evaluate_all("ns => ns.map(n => n.dataset.assetId)"))
    # the links to the other views of it
    assert page.get_by_test_id("link-lineage").get_attribute("href") == (
        "/lineage?" + urllib.parse.urlencode({"nodeId": iri, "direction": "both"})
    )
    assert page.get_by_test_id("link-impact").get_attribute("href") == (
        "/impact?" + urllib.parse.urlencode({"nodeId": iri})
    )
    sparql = page.get_by_test_id("link-sparql").get_attribute("href")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(sparql).query)["query"][0]
    assert f"<{iri}>" in query and query.startswith("SELECT")
    shoot(page, "asset")


def test_the_rdf_buttons_give_its_turtle(page: Any, server: Server) -> None:
    iri = BASE + "model/home-ranking/v3"
    ready(page, "/id/model/home-ranking/v3")
    page.locator("[data-testid=rdf-format][data-format='text/turtle']").click()
    text = page.locator("[data-testid=rdf-text][data-format='text/turtle']")
    text.wait_for()
    shown = set(ox.parse(text.inner_text().encode(), ox.RdfFormat.TURTLE))
    expected = set(ox.parse(asset(server, iri, "text/turtle").encode(), ox.RdfFormat.TURTLE))
    assert shown == expected and shown
    page.locator("[data-testid=rdf-format][data-format='application/n-triples']").click()
    page.locator("[data-testid=rdf-text][data-format='application/n-triples']").wait_for()
    with page.expect_download() as saved:
        page.get_by_test_id("rdf-download").click()
    assert saved.value.suggested_filename == "v3.nt"


def test_findings_are_the_validation_apis_for_an_asset_with_a_planted_problem(
    page: Any, server: Server
) -> None:
    report = api(server, "/api/v1/validation", format="json")
    planted = report["results"][0]["focusNode"]
    assert planted.startswith(BASE)
    ready(page, "/id/" + planted.removeprefix(BASE))
    page.wait_for_selector("[data-testid=findings][data-state=done]")  # in after the page
    mine = api(server, "/api/v1/validation", format="json", asset=planted)["results"]
    assert mine
    findings = page.get_by_test_id("violation")
    shown = findings.evaluate_all("ns => ns.map(n => [n.dataset.rule, n.dataset.severity])")
    assert sorted(shown) == sorted([r["shape"], r["severity"]] for r in mine)
    messages = findings.all_inner_texts()
    for result in mine:
        assert any(result["message"] in m for m in messages)


def test_an_asset_that_meets_every_rule_says_so(page: Any, server: Server) -> None:
    iri = BASE + "model/home-ranking/v3"
    assert not api(server, "/api/v1/validation", format="json", asset=iri)["results"]
    ready(page, "/id/model/home-ranking/v3")
    page.wait_for_selector("[data-testid=findings][data-state=done]")
    assert page.get_by_test_id("violation").count() == 0
    assert "every governance rule" in page.get_by_test_id("findings-summary").inner_text()


def test_an_evaluations_metrics(page: Any, server: Server) -> None:
    iri = BASE + "evaluation/home-ranking-v3"
    data = asset(server, iri)
    ready(page, "/id/evaluation/home-ranking-v3")
    rows = page.get_by_test_id("metric")
    assert rows.evaluate_all("ns => ns.map(n => n.dataset.metric)") == [
        m["metric"] for m in data["metrics"]
    ]
    for row, metric in zip(rows.all(), data["metrics"], strict=True):
        assert str(metric["value"]) in row.inner_text()


def test_an_unknown_asset_is_a_not_found_page(browser: Any, server: Server) -> None:
    # Chromium reports the page's own 404 on the console; nothing else may go wrong.
    context, watch = open_context(browser, server.url)
    tab = context.new_page()
    failed: list[str] = []
    tab.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    try:
        response = tab.goto("/id/dataset/no-such-thing")
        assert response is not None and response.status == 404
        tab.wait_for_selector("main[data-ready=true]")
        view = tab.get_by_test_id("not-found")
        assert "dataset/no-such-thing" in view.inner_text()
        search = tab.get_by_test_id("not-found-search").get_attribute("href")
        assert search == "/?q=no+such+thing"
        assert failed == [server.url + "/id/dataset/no-such-thing"]  # no API call failed
        assert tab.title() == "Not found · kg"
    finally:
        context.close()
    assert not watch.outside
    assert all("status of 404" in e for e in watch.errors), watch.errors
    with pytest.raises(urllib.error.HTTPError) as refused:
        asset(server, BASE + "dataset/no-such-thing")
    refused.value.close()  # the refused answer's socket, closed here rather than by the collector
    assert refused.value.code == 404


EVIL = """@prefix mlg: <https://w3id.org/mlg#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://w3id.org/mlg/id/dataset/evil> a mlg:Dataset ; rdfs:label "Evil <b>" ; mlg:status mlg:Active ;
  mlg:owner <https://w3id.org/mlg/id/team/data-platform> ;
  mlg:derivedFrom <javascript:alert(1)> , <JavaScript:alert(2)> , <data:text/html,hi> ,
    <https://example.com/ok> , <urn:x:y> ;
  rdfs:seeAlso <javascript:alert(3)> , <https://example.com/doc> ;
  dcterms:source "javascript:alert(5)" .
<javascript:alert(4)> a mlg:Dataset ; rdfs:label "js" ;
  mlg:derivedFrom <https://w3id.org/mlg/id/dataset/evil> .
<https://w3id.org/mlg/id/dataset/orders> a mlg:Dataset ; rdfs:label "Orders" ;
  mlg:owner <https://w3id.org/mlg/id/team/data-platform> ;
  mlg:field <https://w3id.org/mlg/id/dataset/orders#user_id> , [ rdfs:label "amount" ; mlg:dataType "DECIMAL" ] .
<https://w3id.org/mlg/id/dataset/orders#user_id> a mlg:Field ; rdfs:label "user_id" ;
  mlg:dataType "BIGINT" ; dcterms:description "Who ordered" ;
  mlg:fieldDerivedFrom <https://w3id.org/mlg/id/dataset/evil#uid> .
"""


@pytest.fixture(scope="module")
def evil_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Server]:
    """A demo server of its own holding script IRIs, so the shared one stays clean."""
    running = start_server(Path(tmp_path_factory.mktemp("evil")) / "store", "--demo")
    request = urllib.request.Request(  # noqa: S310 (loopback)
        running.url + "/api/v1/assets?gate=off",
        data=EVIL.encode(),
        headers={"Content-Type": "text/turtle"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            assert answer.status == 201
        yield running
    finally:
        stop_server(running)


def hrefs(page: Any) -> list[str]:
    found: list[str] = page.locator("[href]").evaluate_all(
        "ns => ns.map(n => n.getAttribute('href'))"
    )
    return found


def check_hrefs(page: Any) -> None:
    links = hrefs(page)
    assert links
    for href in links:
        assert not re.match(r"\s*(javascript|data|vbscript):", href, re.IGNORECASE), href
        assert href.startswith(("/", "http://", "https://")), href


def test_script_iris_never_become_links(browser: Any, evil_server: Server) -> None:
    context, watch = open_context(browser, evil_server.url)
    tab = context.new_page()
    try:
        ready(tab, "/id/dataset/evil")
        open_all(tab)
        check_hrefs(tab)
        assert tab.get_by_test_id("asset-title").inner_text() == "Evil <b>"
        assert tab.locator("main b").count() == 0
        script = tab.locator('[data-testid=relation][data-asset-id="javascript:alert(4)"] a')
        assert script.get_attribute("href").startswith("/asset?id=")  # kg's page, not the script
        upstream = tab.locator("[data-testid=relation][data-direction=upstream]")
        assert "javascript:alert(1)" in upstream.evaluate_all(
            "ns => ns.map(n => n.dataset.assetId)"
        )
        text = tab.locator("main").inner_text()
        assert "javascript:alert(3)" in text and "javascript:alert(5)" in text  # as text
        assert tab.locator("main a[href='https://example.com/doc']").count() == 1
        # its RDF, shown as text
        tab.locator("[data-testid=rdf-format][data-format='text/turtle']").click()
        tab.locator("[data-testid=rdf-text][data-format='text/turtle']").wait_for()
        check_hrefs(tab)
    finally:
        context.close()
    watch.check()


def test_a_script_iris_own_address_is_not_a_script_link(browser: Any, evil_server: Server) -> None:
    # kg takes `javascript:` ids as local ids, so the API cannot name that asset: the page of
    # its address is the not-found view, which must not turn the IRI into a link either
    context, watch = open_context(browser, evil_server.url)
    tab = context.new_page()
    try:
        response = tab.goto("/asset?id=" + urllib.parse.quote("javascript:alert(4)"))
        assert response is not None and response.status == 404
        tab.wait_for_selector("main[data-ready=true]")
        assert tab.get_by_test_id("not-found").is_visible()
        check_hrefs(tab)
    finally:
        context.close()
    assert not watch.outside
    assert all("status of 404" in e for e in watch.errors), watch.errors


def test_a_datasets_schema_fields(browser: Any, evil_server: Server) -> None:
    data = asset(evil_server, BASE + "dataset/orders")
    context, watch = open_context(browser, evil_server.url)
    tab = context.new_page()
    try:
        ready(tab, "/id/dataset/orders")
        rows = tab.get_by_test_id("field")
        assert rows.evaluate_all("ns => ns.map(n => n.dataset.field)") == [
            f["name"] for f in data["fields"]
        ]
        user = tab.locator("[data-testid=field][data-field=user_id]").inner_text()
        assert "BIGINT" in user and "Who ordered" in user and "uid" in user
    finally:
        context.close()
    watch.check()
