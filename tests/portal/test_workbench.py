"""The SPARQL workbench as a user meets it: a query typed in YASGUI's editor, a named query run
from the catalogue, results as a table whose asset IRIs open their portal pages, kg's syntax
errors with their line, downloads made in the browser; each answer checked against the HTTP API
(fetched here with urllib)."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.portal.conftest import (
    Server,
    open_context,
    ready,
    start_server,
    stop_server,
    watched_tab,
)

pytestmark = pytest.mark.embedded_only("a browser on its own `kg serve --demo`, embedded")

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

EDITOR = "[data-testid=sparql-editor] .CodeMirror"
ROWS = "[data-testid=sparql-results] table.dataTable tbody tr"
TYPED = (
    "PREFIX mlg: <https://w3id.org/mlg#> "
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "SELECT ?model ?name ?owner WHERE { ?model a mlg:Model ; rdfs:label ?name . "
    "OPTIONAL { ?model mlg:owner ?owner } } ORDER BY ?name"
)
# five lines; the parser stops at the closing brace of line 5
BROKEN = "PREFIX mlg: <https://w3id.org/mlg#>\nSELECT ?s WHERE {\n  ?s a mlg:Dataset\n  FILTER(\n}"


def sparql_json(server: Server, query: str) -> dict[str, Any]:
    """The endpoint's answer to `query` as SPARQL JSON."""
    body = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(  # noqa: S310 (loopback)
        server.url + "/sparql",
        data=body,
        headers={
            "Accept": "application/sparql-results+json",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        answer: dict[str, Any] = json.load(response)
        return answer


def api_json(server: Server, path: str) -> Any:
    with urllib.request.urlopen(server.url + path, timeout=30) as response:  # noqa: S310
        return json.load(response)


def sparql_error(server: Server, query: str) -> str:
    """The endpoint's 400 message for a query it refuses."""
    body = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(server.url + "/sparql", data=body)  # noqa: S310
    try:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 (loopback)
    except urllib.error.HTTPError as refused:
        with refused:  # the error holds the connection: close it
            assert refused.code == 400
            return refused.read().decode()
    raise AssertionError("the endpoint accepted a broken query")


@pytest.fixture
def lenient_page(browser: Any, server: Server) -> Iterator[Any]:
    """A watched tab, except for the line Chromium itself logs for a 400 answer: the test that
    sends a broken query on purpose expects exactly that one."""
    context, watch = open_context(browser, server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    watch.errors = [e for e in watch.errors if "responded with a status of 400" not in e]
    watch.check()


def base_iri(page: Any) -> str:
    text = page.evaluate(
        "() => JSON.parse(document.getElementById('page-data').textContent).baseIri"
    )
    return str(text)


def editor_text(page: Any) -> str:
    return str(page.evaluate(f"() => document.querySelector('{EDITOR}').CodeMirror.getValue()"))


def type_query(page: Any, text: str) -> str:
    """Replace the editor's text by typing `text`; the query as the editor now holds it."""
    page.locator(EDITOR).click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)
    page.keyboard.press("Escape")  # close a completion list typing may have left open
    return editor_text(page)


def table(page: Any) -> tuple[list[str], list[list[dict[str, Any]]]]:
    """The results table as the DOM holds it: column names and, per row, each cell's text and
    link (YASR's first column is the row number)."""
    shown: dict[str, Any] = page.evaluate(
        """() => {
          const root = document.querySelector('[data-testid=sparql-results] table.dataTable');
          const heads = [...root.querySelectorAll('thead th')].slice(1).map((th) => th.innerText.trim());
          const rows = [...root.querySelectorAll('tbody tr')].map((tr) =>
            [...tr.querySelectorAll('td')].slice(1).map((td) => {
              const a = td.querySelector('a');
              return { text: td.innerText.trim(), href: a ? a.getAttribute('href') : null,
                       asset: a ? a.getAttribute('data-asset-id') : null };
            }));
          return { heads, rows };
        }"""
    )
    return shown["heads"], shown["rows"]


def asset_path(iri: str, base: str) -> str:
    return "/id/" + "/".join(
        urllib.parse.quote(part, safe="") for part in iri[len(base) :].split("/")
    )


def assert_table_is(page: Any, answer: dict[str, Any]) -> None:
    """The table shows `answer` (SPARQL JSON) row by row: assets link to their portal page,
    other IRIs to themselves, literals by their value."""
    variables = answer["head"]["vars"]
    bindings = answer["results"]["bindings"]
    assert 0 < len(bindings) < 50, "the comparison reads one page of the table"
    expect(page.locator(ROWS)).to_have_count(len(bindings))
    heads, rows = table(page)
    assert heads == variables
    base = base_iri(page)
    for row, binding in zip(rows, bindings, strict=True):
        for cell, name in zip(row, variables, strict=True):
            term = binding.get(name)
            if term is None:
                assert cell["text"] == ""
            elif term["type"] == "uri" and term["value"].startswith(base):
                assert cell["asset"] == term["value"]
                assert cell["href"] == asset_path(term["value"], base)
            elif term["type"] == "uri":
                assert cell["href"] == term["value"]
            else:
                assert term["value"] in cell["text"]


def run_editor(page: Any) -> None:
    with page.expect_response(lambda r: r.url.endswith("/sparql") and r.request.method == "POST"):
        page.click("[data-testid=sparql-run]")


def test_typed_query_shows_what_the_endpoint_answers(page: Any, server: Server, shoot: Any) -> None:
    ready(page, "/sparql")
    prefilled = editor_text(page)
    prefixes = api_prefixes(page)
    assert f"PREFIX mlg: <{prefixes['mlg']}>" in prefilled
    assert f"PREFIX rdfs: <{prefixes['rdfs']}>" in prefilled
    run_editor(page)  # the prefilled query runs as it stands
    assert_table_is(page, sparql_json(server, prefilled))
    shoot(page, "workbench")

    query = type_query(page, TYPED)
    assert "SELECT ?model ?name ?owner" in query
    run_editor(page)
    answer = sparql_json(server, query)
    assert_table_is(page, answer)

    # the column heads sort the table: twice on the name is by name, descending
    names = [b["name"]["value"] for b in answer["results"]["bindings"]]
    head = page.locator("[data-testid=sparql-results] table.dataTable thead th", has_text="name")
    head.click()
    head.click()
    expect(page.locator(f"{ROWS} >> nth=0")).to_contain_text(max(names, key=str.lower))


def api_prefixes(page: Any) -> dict[str, str]:
    data = page.evaluate("() => JSON.parse(document.getElementById('page-data').textContent)")
    prefixes: dict[str, str] = data["prefixes"]
    return prefixes


def test_named_query_runs_from_the_catalogue(page: Any, server: Server) -> None:
    catalogue = {q["name"]: q for q in api_json(server, "/api/v1/queries")}
    ready(page, "/sparql")
    entries = page.locator("[data-testid=named-query]")
    expect(entries).to_have_count(len(catalogue))
    assert sorted(entries.evaluate_all("(all) => all.map((e) => e.dataset.name)")) == sorted(
        catalogue
    )

    name = "services-using-dataset"
    parameter = next(p for p in catalogue[name]["parameters"] if p["required"])
    entry = page.locator(f"[data-testid=named-query][data-name={name}]")
    entry.locator(".wb-query-head").click()
    field = entry.locator(f"[data-testid=query-parameter][data-name={parameter['name']}]")
    expect(field).to_be_visible()
    assert field.get_attribute("required") is not None
    expect(entry.locator("label", has=page.locator(".wb-required"))).to_contain_text(
        parameter["name"]
    )

    # a required parameter left empty is asked for, nothing is sent
    entry.locator("[data-testid=named-query-run]").click()
    expect(entry.locator(".wb-query-status")).to_contain_text(parameter["name"])

    field.fill("dataset/legacy-ratings")
    with page.expect_response(lambda r: f"/api/v1/queries/{name}?" in r.url) as sent:
        entry.locator("[data-testid=named-query-run]").click()
    assert sent.value.status == 200
    expect(page.locator("[data-testid=sparql-banner]")).to_contain_text(name)
    params = urllib.parse.urlencode({parameter["name"]: "dataset/legacy-ratings", "format": "json"})
    assert_table_is(page, api_json(server, f"/api/v1/queries/{name}?{params}"))


@pytest.mark.parametrize(
    ("name", "given"),
    [
        ("services-using-dataset", {"dataset": "dataset/legacy-ratings"}),
        # the parameter is also compared inside a UNION branch: bound for the whole query, as
        # the route binds it, not joined from outside (VALUES would find nothing here)
        ("experiments-running-model", {"model": "model/artwork-personalization/v1"}),
        ("unowned-assets", {}),
    ],
)
def test_a_named_query_opens_in_the_editor_bound(
    page: Any, server: Server, name: str, given: dict[str, str]
) -> None:
    query = next(q for q in api_json(server, "/api/v1/queries") if q["name"] == name)
    assert query["text"].startswith("# summary:")
    ready(page, "/sparql")
    entry = page.locator(f"[data-testid=named-query][data-name={name}]")
    entry.locator(".wb-query-head").click()
    base = base_iri(page)

    # left empty, a parameter stays a variable, named as such above the query
    entry.get_by_test_id("named-query-open").click()
    shown = editor_text(page)
    assert query["text"] in shown
    for parameter in query["parameters"]:
        assert f"# ?{parameter['name']} is left a variable" in shown

    for key, value in given.items():
        entry.locator(f"[data-testid=query-parameter][data-name={key}]").fill(value)
    entry.get_by_test_id("named-query-open").click()
    shown = editor_text(page)
    code = [line for line in shown.splitlines() if not line.lstrip().startswith("#")]
    for key, value in given.items():
        assert f"# {key} = <{base}{value}>" in shown
        assert f"(<{base}{value}> AS ?{key})" in "\n".join(code)  # projected, as the route does
    run_editor(page)
    params = urllib.parse.urlencode({**given, "format": "json"})
    assert_table_is(page, api_json(server, f"/api/v1/queries/{name}?{params}"))


def test_an_asset_in_the_results_opens_its_page(page: Any, server: Server) -> None:
    ready(page, "/sparql")
    run_editor(page)  # the prefilled query: datasets with their owners
    link = page.locator(f"{ROWS} a[data-asset-id]").first
    expect(link).to_be_visible()
    iri = link.get_attribute("data-asset-id")
    base = base_iri(page)
    assert iri.startswith(base)
    assert link.get_attribute("href") == asset_path(iri, base)
    assert link.get_attribute("target") is None  # in this tab, as every portal link
    link.click()
    page.wait_for_url(f"**{asset_path(iri, base)}")
    page.wait_for_selector("main[data-ready=true]")
    assert page.locator("body").get_attribute("data-page") == "asset"


def test_a_syntax_error_shows_where_it_is(lenient_page: Any, server: Server) -> None:
    page = lenient_page
    ready(page, "/sparql")
    page.locator(EDITOR).click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(BROKEN)
    sent = editor_text(page)
    message = sparql_error(server, sent)
    first = message.splitlines()[0]
    assert "line 5" in first

    run_editor(page)
    error = page.locator("[data-testid=sparql-results] [data-testid=sparql-error]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Syntax error")
    expect(error.locator("[data-testid=sparql-error-location]")).to_have_text(
        first.split(" at ", 1)[1].split(":", 1)[0]
    )
    expect(error).to_contain_text(first.split(": ", 1)[1])
    # the line is marked in the editor (CodeMirror counts lines from 0)
    expect(page.locator(f"{EDITOR} .kg-error-line")).to_have_count(1)
    marked = page.evaluate(
        f"""() => {{
          const cm = document.querySelector('{EDITOR}').CodeMirror;
          const lines = [];
          cm.eachLine((line) => {{ if ((line.bgClass || '').includes('kg-error-line')) lines.push(cm.getLineNumber(line)); }});
          return lines;
        }}"""
    )
    assert marked == [4]


def test_results_download_as_csv_and_json(page: Any, server: Server) -> None:
    ready(page, "/sparql")
    query = type_query(page, TYPED)
    run_editor(page)
    answer = sparql_json(server, query)
    expect(page.locator(ROWS)).to_have_count(len(answer["results"]["bindings"]))

    with page.expect_download() as csv_download:
        page.click("[data-testid=download-csv]")
    assert csv_download.value.suggested_filename.endswith(".csv")
    with open(csv_download.value.path(), encoding="utf-8-sig") as saved:
        rows = list(csv.reader(io.StringIO(saved.read())))
    variables = answer["head"]["vars"]
    assert rows[0] == variables
    assert rows[1:] == [
        [b[v]["value"] if v in b else "" for v in variables] for b in answer["results"]["bindings"]
    ]

    with page.expect_download() as json_download:
        page.click("[data-testid=download-json]")
    assert json_download.value.suggested_filename.endswith(".json")
    with open(json_download.value.path(), encoding="utf-8") as saved:
        assert json.load(saved) == answer


def test_a_link_with_a_query_fills_the_editor(page: Any, server: Server) -> None:
    query = "SELECT ?team WHERE { ?team a <https://w3id.org/mlg#Team> } ORDER BY ?team"
    with page.expect_response(lambda r: r.url.endswith("/sparql") and r.request.method == "POST"):
        ready(page, "/sparql#query=" + urllib.parse.quote(query))
    assert editor_text(page) == query
    assert_table_is(page, sparql_json(server, query))

    # a second tab: the test ids follow the tab in front, one of each
    page.click(".yasgui .tabsList .addTab")
    for testid in ("sparql-editor", "sparql-run", "sparql-results"):
        expect(page.locator(f"[data-testid={testid}]")).to_have_count(1)
    assert "PREFIX mlg:" in editor_text(page)


@pytest.fixture
def capped(tmp_path: Path, chromium_path: str) -> Iterator[Server]:
    """A demo server that answers at most three rows."""
    running = start_server(tmp_path / "store", "--demo", env={"KG_MAX_ROWS": "3"})
    yield running
    stop_server(running)


def test_an_answer_cut_at_the_row_cap_says_so(browser: Any, capped: Server) -> None:
    with watched_tab(browser, capped) as page:
        ready(page, "/sparql")
        query = editor_text(page)
        answer = sparql_json(capped, query)
        assert answer["head"].get("link") == ["urn:kg:truncated"]
        run_editor(page)
        assert_table_is(page, answer)
        expect(page.locator("[data-testid=sparql-banner]")).to_contain_text("Cut at 3 rows")

        # a named query's answer is cut the same way, and says so too
        entry = page.locator("[data-testid=named-query][data-name=most-reused-features]")
        entry.locator(".wb-query-head").click()
        entry.locator("[data-testid=named-query-run]").click()
        expect(page.locator("[data-testid=sparql-banner]")).to_contain_text("most-reused-features")
        expect(page.locator("[data-testid=sparql-banner]")).to_contain_text("row cap")
        assert_table_is(page, api_json(capped, "/api/v1/queries/most-reused-features?format=json"))
