"""The home page as a user meets it: search, suggestions, facets, paging, browsing by type and
"before you build", each answer checked against the HTTP API the page reads."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.portal.conftest import Server, ready, start_server, stop_server, watched_tab

pytestmark = pytest.mark.embedded_only("a browser on its own `kg serve --demo`, embedded")

RESULT = "[data-testid=search-result]"
SUGGESTION = "[data-testid=search-suggestion]"


def api(server: Server, path: str, **params: Any) -> Any:
    query = urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(f"{server.url}{path}?{query}", timeout=30) as answer:  # noqa: S310
        return json.load(answer)


def post(server: Server, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(  # noqa: S310 (the test's own server)
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.load(answer)


def settled(page: Any) -> None:
    """Wait until the results shown are those of the URL the page is at."""
    page.wait_for_function(
        """() => {
          const box = document.querySelector('[data-testid=search-results]');
          if (!box || !box.dataset.rendered || box.hasAttribute('aria-busy')) return false;
          const norm = (text) => {
            const params = new URLSearchParams(text);
            const kept = [...params].filter(([k, v]) => v !== '' && !(k === 'offset' && v === '0'));
            return JSON.stringify(kept.sort());
          };
          const shown = box.dataset.rendered.split('?')[1] || '';
          return location.pathname === '/' && norm(shown) === norm(location.search);
        }"""
    )


def at(page: Any, path: str = "/", **params: str) -> None:
    """Wait until the page is at `path` with exactly the query parameters `params`."""

    def matches(address: str) -> bool:
        parts = urllib.parse.urlsplit(address)
        query = dict(urllib.parse.parse_qsl(parts.query))
        return parts.path == path and query == params

    page.wait_for_url(matches)


def shown(page: Any, selector: str = RESULT) -> list[str]:
    ids: list[str] = page.locator(selector).evaluate_all(
        "nodes => nodes.map(n => n.dataset.assetId)"
    )
    return ids


def ids(answer: dict[str, Any], key: str = "hits") -> list[str]:
    return [hit["id"] for hit in answer[key]]


def test_the_walk_from_search_to_an_asset_to_its_owner(
    page: Any, server: Server, shoot: Callable[[Any, str], None]
) -> None:
    ready(page, "/")
    page.get_by_test_id("search-input").fill("ranking")
    page.get_by_test_id("search-input").press("Enter")
    at(page, q="ranking")
    settled(page)
    expected = api(server, "/api/v1/search", q="ranking")
    assert shown(page) == ids(expected)
    total = page.get_by_test_id("search-total")
    assert total.get_attribute("data-total") == str(expected["total"])
    assert str(expected["total"]) in total.inner_text()
    # every card: its name linked to its page, type badge, owners linked
    first = expected["hits"][0]
    card = page.locator(f'{RESULT}[data-asset-id="{first["id"]}"]')
    assert card.get_by_test_id("result-link").inner_text() == first["label"]
    owners = card.get_by_test_id("result-owner").evaluate_all(
        "ns => ns.map(n => n.dataset.assetId)"
    )
    assert owners == first["owners"]
    # owners by the names the search answer gives, on the cards and in the owner facet
    names = card.get_by_test_id("result-owner").all_inner_texts()
    assert names == [expected["ownerNames"][o] for o in first["owners"]]
    for value in list(expected["facets"]["owner"])[:3]:
        facet = page.locator(f'[data-testid=facet][data-facet=owner][data-value="{value}"]')
        assert expected["ownerNames"][value] in facet.inner_text()
    # the words matched are marked, as text
    marks = page.locator(f"{RESULT} mark").all_inner_texts()
    assert marks and all(m.lower() == "ranking" for m in marks)
    shoot(page, "search")

    card.get_by_test_id("result-link").click()
    page.wait_for_selector("main[data-ready=true]")
    asset = api(server, "/api/v1/assets/" + urllib.parse.quote(first["id"], safe=""))
    assert page.get_by_test_id("asset-title").inner_text() == asset["label"]

    owner = page.get_by_test_id("asset-owner").first
    team_iri = owner.get_attribute("data-asset-id")
    assert team_iri == asset["owners"][0]["id"]
    owner.click()
    page.wait_for_selector("main[data-ready=true]")
    team = api(server, "/api/v1/assets/" + urllib.parse.quote(team_iri, safe=""))
    assert page.get_by_test_id("asset-title").inner_text() == team["label"]
    assert page.title() == f"{team['label']} · kg"


def test_a_facet_narrows_the_results_as_the_api_does_and_back_undoes_it(
    page: Any, server: Server
) -> None:
    ready(page, "/?q=ranking")
    settled(page)
    everything = api(server, "/api/v1/search", q="ranking")
    facet = page.locator('[data-testid=facet][data-facet=type][data-value="mlg:ModelVersion"]')
    assert facet.inner_text().split()[-1] == str(everything["facets"]["type"]["mlg:ModelVersion"])
    facet.click()
    at(page, q="ranking", type="mlg:ModelVersion")
    settled(page)
    narrowed = api(server, "/api/v1/search", q="ranking", type="mlg:ModelVersion")
    assert shown(page) == ids(narrowed)
    assert page.get_by_test_id("search-total").get_attribute("data-total") == str(narrowed["total"])
    assert facet.locator("input").is_checked()

    # a second facet: both filters, as the API combines them
    owner = next(iter(narrowed["facets"]["owner"]))
    page.locator(f'[data-testid=facet][data-facet=owner][data-value="{owner}"]').click()
    settled(page)
    both = api(server, "/api/v1/search", q="ranking", type="mlg:ModelVersion", owner=owner)
    assert shown(page) == ids(both)
    assert both["total"] < narrowed["total"]

    page.go_back()
    settled(page)
    assert shown(page) == ids(narrowed)
    page.go_back()
    settled(page)
    assert shown(page) == ids(everything)
    assert not page.locator("[data-testid=facet] input:checked").count()


def test_the_state_is_in_the_url(page: Any, server: Server) -> None:
    ready(page, "/?q=ranking&type=mlg:Model&status=mlg:Active")
    settled(page)
    expected = api(server, "/api/v1/search", q="ranking", type="mlg:Model", status="mlg:Active")
    assert shown(page) == ids(expected)
    assert page.get_by_test_id("search-input").input_value() == "ranking"
    checked = page.locator("[data-testid=facet]:has(input:checked)").evaluate_all(
        "ns => ns.map(n => [n.dataset.facet, n.dataset.value])"
    )
    assert sorted(checked) == [["status", "mlg:Active"], ["type", "mlg:Model"]]


def test_paging_follows_the_api_offset(page: Any, server: Server) -> None:
    ready(page, "/?q=")
    settled(page)
    first = api(server, "/api/v1/search", q="", limit=20)
    assert first["total"] > 20
    assert shown(page) == ids(first)
    page.get_by_test_id("page-next").click()
    at(page, offset="20")
    settled(page)
    assert shown(page) == ids(api(server, "/api/v1/search", q="", limit=20, offset=20))
    page.go_back()
    settled(page)
    assert shown(page) == ids(first)


def test_an_empty_query_browses_by_type(page: Any, server: Server) -> None:
    ready(page, "/")
    settled(page)
    stats = api(server, "/api/v1/stats")
    tiles = page.get_by_test_id("type-tile")
    counted = dict(
        zip(
            tiles.evaluate_all("ns => ns.map(n => n.dataset.value)"),
            [int(t.split()[0]) for t in tiles.all_inner_texts()],
            strict=True,
        )
    )
    assert counted == stats["assets_by_type"]
    # and the first results: the listing, by name
    assert shown(page) == ids(api(server, "/api/v1/search", q="", limit=20))
    page.locator('[data-testid=type-tile][data-value="mlg:Dataset"]').click()
    at(page, type="mlg:Dataset")
    settled(page)
    datasets = api(server, "/api/v1/search", q="", type="mlg:Dataset")
    assert shown(page) == ids(datasets)
    assert datasets["total"] == stats["assets_by_type"]["mlg:Dataset"]
    assert page.get_by_test_id("type-tiles").is_hidden()


def test_suggestions_while_typing_open_an_asset_by_keyboard_or_click(
    page: Any, server: Server
) -> None:
    ready(page, "/")
    box = page.get_by_test_id("search-input")
    box.press_sequentially("home rank")
    page.locator(SUGGESTION).first.wait_for()
    expected = api(server, "/api/v1/search", q="home rank", limit=8)
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=search-suggestion]').length === n",
        arg=len(expected["hits"]),
    )
    assert shown(page, SUGGESTION) == ids(expected)
    assert box.get_attribute("aria-expanded") == "true"
    box.press("ArrowDown")
    box.press("ArrowDown")
    assert (
        page.locator(f"{SUGGESTION}[aria-selected=true]").get_attribute("data-asset-id")
        == (expected["hits"][1]["id"])
    )
    box.press("ArrowUp")
    box.press("Enter")
    page.wait_for_url("**/id/**")
    page.wait_for_selector("main[data-ready=true]")
    assert page.get_by_test_id("asset-title").inner_text() == expected["hits"][0]["label"]

    ready(page, "/")
    page.get_by_test_id("search-input").press_sequentially("embedding")
    wanted = api(server, "/api/v1/search", q="embedding", limit=8)["hits"][2]
    page.locator(f'{SUGGESTION}[data-asset-id="{wanted["id"]}"]').click()
    page.wait_for_url("**/id/**")
    page.wait_for_selector("main[data-ready=true]")
    assert page.get_by_test_id("asset-title").inner_text() == wanted["label"]


def test_enter_on_the_box_runs_the_full_search(page: Any, server: Server) -> None:
    ready(page, "/")
    box = page.get_by_test_id("search-input")
    box.press_sequentially("embedding")
    page.locator(SUGGESTION).first.wait_for()
    box.press("Enter")
    at(page, q="embedding")
    settled(page)
    assert shown(page) == ids(api(server, "/api/v1/search", q="embedding"))
    assert page.locator(SUGGESTION).first.is_hidden()


def test_before_you_build_lists_similar_assets(page: Any, server: Server) -> None:
    ready(page, "/")
    draft = {
        "name": "genre affinity",
        "description": "How much a member likes each genre",
        "sources": ["dataset/viewing-history-daily"],
        "type": "mlg:Feature",
    }
    page.get_by_test_id("similar-name").fill(draft["name"])
    page.get_by_test_id("similar-description").fill(draft["description"])
    page.get_by_test_id("similar-type").select_option("mlg:Feature")
    page.get_by_test_id("similar-sources").fill("dataset/viewing-history-daily")
    page.get_by_test_id("similar-run").click()
    page.locator("[data-testid=similar-result]").first.wait_for()
    expected = post(server, "/api/v1/search/similar", draft)["candidates"]
    assert shown(page, "[data-testid=similar-result]") == [c["id"] for c in expected]
    best = page.locator("[data-testid=similar-result]").first
    assert str(expected[0]["score"]) in best.inner_text()
    assert "Daily viewing history" in best.inner_text()  # why: built from the same source


def test_nothing_a_name_holds_becomes_markup(page: Any, server: Server) -> None:
    ready(page, "/?q=" + urllib.parse.quote("<img src=x onerror=alert(1)>"))
    settled(page)
    assert page.locator("main img").count() == 0
    assert page.get_by_test_id("search-input").input_value() == "<img src=x onerror=alert(1)>"


def test_estimated_facet_counts_are_marked_as_such(
    browser: Any, tmp_path: Path, chromium_path: str
) -> None:
    # a threshold of 3 matches: the demo's broad searches are then estimated, as at scale
    server = start_server(tmp_path / "store", "--demo", env={"KG_SEARCH_EXACT_FACETS": "3"})
    try:
        estimated = api(server, "/api/v1/search", q="ranking")
        assert estimated["facetsExact"] is False
        with watched_tab(browser, server) as page:
            _estimated_marks(page, server, estimated)
    finally:
        stop_server(server)


def _estimated_marks(page: Any, server: Server, estimated: dict[str, Any]) -> None:
    """The type facet of a broad search marked as estimated; a narrow one's not."""
    ready(page, "/?q=ranking")
    settled(page)
    value, n = next(iter(estimated["facets"]["type"].items()))
    facet = page.locator(f'[data-testid=facet][data-facet=type][data-value="{value}"]')
    assert facet.inner_text().split()[-1] == f"≈{n}"
    # a search with few matches counts them all, unmarked
    exact = api(server, "/api/v1/search", q="legacy ratings")
    assert exact["facetsExact"] is True and 0 < exact["total"] <= 3
    ready(page, "/?q=legacy%20ratings")
    settled(page)
    counts = page.locator("[data-testid=facet] .facet-count").all_inner_texts()
    assert counts and not any(c.startswith("≈") for c in counts)
