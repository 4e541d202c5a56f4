"""The lineage picture as a user meets it: the graph an asset's lineage answer holds, laid out
by hop, with its controls (direction, depth, type filter, search, expand, the path between two
assets), the table of every node, downloads, and a big answer that folds into summaries.

Cytoscape draws on a canvas; the page keeps the visible nodes and edges as a list in the DOM
(`lineage-node`, `lineage-edge`), which is what these tests compare with the HTTP API. Clicks on
nodes go to the canvas, at the node's place on the screen."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
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

BASE = "https://w3id.org/mlg/id/"
GOLDEN = Path(__file__).parents[1] / "golden" / "openlineage-events.jsonl"


# ----------------------------------------------------------------------------- helpers


def api(server: Server, path: str, **params: Any) -> Any:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    url = f"{server.url}{path}" + (f"?{query}" if query else "")
    with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (loopback)
        return json.load(answer)


def lineage_of(
    server: Server, node: str, direction: str, depth: int | None = None
) -> tuple[set[str], set[tuple[str, str, str]]]:
    """The node IRIs and the edges the lineage API answers (both ways: its two sides)."""
    sides = ["upstream", "downstream"] if direction == "both" else [direction]
    nodes: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    for side in sides:
        answer = api(server, "/api/v1/lineage", nodeId=node, direction=side, depth=depth)
        for n in answer["graph"]:
            nodes.add(n["id"])
            for e in n["inEdges"] + n["outEdges"]:
                edges.add((e["origin"], e["destination"], e["type"]))
    return nodes, edges


def picture_nodes(page: Any) -> set[str]:
    found: list[str] = page.eval_on_selector_all(
        "[data-testid=lineage-node]", "els => els.map(e => e.dataset.assetId)"
    )
    assert len(found) == len(set(found)), "a node listed twice"
    return set(found)


def picture_edges(page: Any) -> set[tuple[str, str, str]]:
    found = page.eval_on_selector_all(
        "[data-testid=lineage-edge]",
        "els => els.map(e => [e.dataset.source, e.dataset.target, e.dataset.kind])",
    )
    return {tuple(e) for e in found}


def settled(page: Any) -> None:
    page.wait_for_selector("[data-testid=lineage][data-state=ready]")


def open_lineage(page: Any, node: str, direction: str, depth: int | None = None) -> None:
    path = f"/lineage?nodeId={urllib.parse.quote(node, safe='')}&direction={direction}"
    if depth:
        path += f"&depth={depth}"
    ready(page, path)
    settled(page)


def click_node(page: Any, node_id: str, *, shift: bool = False, double: bool = False) -> None:
    """A click on the canvas where the node is drawn."""
    page.wait_for_function(
        "() => window.kgLineage && !window.kgLineage.cy.animated()"
        " && !window.kgLineage.cy.nodes().some(n => n.animated())"
    )
    spot = page.evaluate("id => window.kgLineage.renderedPosition(id)", node_id)
    assert spot is not None, f"{node_id} is not in the picture"
    box = page.locator("[data-testid=lineage-canvas]").bounding_box()
    x, y = box["x"] + spot[0], box["y"] + spot[1]
    assert box["y"] <= y <= box["y"] + box["height"], "the node is outside the canvas"
    if shift:
        page.keyboard.down("Shift")
    if double:
        page.mouse.dblclick(x, y)
    else:
        page.mouse.click(x, y)
    if shift:
        page.keyboard.up("Shift")


# ----------------------------------------------------------------------------- the demo


@pytest.mark.parametrize(
    ("node", "direction"),
    [("service/homepage", "upstream"), ("model/home-ranking/v3", "both")],
)
def test_the_picture_holds_what_the_api_answers(
    page: Any, server: Server, node: str, direction: str
) -> None:
    open_lineage(page, node, direction)
    nodes, edges = lineage_of(server, node, direction)
    assert picture_nodes(page) == nodes
    assert picture_edges(page) == edges
    # the canvas draws the same nodes, each in the column of its signed hop distance
    drawn = page.evaluate("() => window.kgLineage.cy.nodes().map(n => n.id())")
    assert set(drawn) == nodes
    columns = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-testid=lineage-node]')]
        .map(li => [li.dataset.assetId, [Number(li.dataset.distance),
                    window.kgLineage.cy.getElementById(li.dataset.assetId).position().x]]))"""
    )
    by_distance = sorted(columns.values())
    xs = [x for _, x in by_distance]
    assert xs == sorted(xs), "columns follow the hop distance left to right"
    upstream = {n: d for n, (d, _) in columns.items() if d < 0}
    if direction in ("upstream", "both"):
        assert upstream, "upstream nodes sit at negative distances (left of the root)"
    root = page.get_attribute("[data-testid=lineage-root]", "data-asset-id")
    assert columns[root][0] == 0


def test_deprecated_nodes_are_marked(page: Any, server: Server) -> None:
    open_lineage(page, "service/homepage", "upstream")
    deprecated = [
        n["id"]
        for n in api(server, "/api/v1/lineage", nodeId="service/homepage")["graph"]
        if n["status"] == "mlg:Deprecated"
    ]
    assert deprecated
    for iri in deprecated:
        assert page.evaluate(
            "id => window.kgLineage.cy.getElementById(id).hasClass('deprecated')", iri
        )


def test_screenshot(page: Any, shoot: Any) -> None:
    open_lineage(page, "model/home-ranking/v3", "both")
    click_node(page, BASE + "dataset/ranking-training-set")
    page.wait_for_selector("[data-testid=lineage-panel-title]")
    shoot(page, "lineage")


def test_elk_lays_out_a_small_picture(page: Any, server: Server) -> None:
    open_lineage(page, "service/homepage", "upstream")
    before = page.evaluate("() => window.kgLineage.cy.nodes().map(n => n.position())")
    page.select_option("[data-testid=lineage-layout]", "elk")
    page.wait_for_function(
        "before => JSON.stringify(window.kgLineage.cy.nodes().map(n => n.position()))"
        " !== JSON.stringify(before)",
        arg=before,
    )
    settled(page)
    assert picture_nodes(page) == lineage_of(server, "service/homepage", "upstream")[0]
    # ELK's layers run with the dependencies: upstream still to the left of what uses it
    xs = page.evaluate(
        """() => { const cy = window.kgLineage.cy;
        return cy.edges().map(e => [e.source().position().x, e.target().position().x]); }"""
    )
    assert all(source < target for source, target in xs)


def test_depth_and_direction_controls_ask_the_api_again(page: Any, server: Server) -> None:
    open_lineage(page, "model/home-ranking/v3", "upstream")
    page.select_option("[data-testid=lineage-depth]", "2")
    page.wait_for_selector("[data-testid=lineage][data-state=ready][data-depth='2']")
    nodes, edges = lineage_of(server, "model/home-ranking/v3", "upstream", 2)
    assert picture_nodes(page) == nodes
    assert picture_edges(page) == edges
    assert "depth=2" in page.url

    page.select_option("[data-testid=lineage-depth]", "1")
    page.wait_for_selector("[data-testid=lineage][data-state=ready][data-depth='1']")
    assert picture_nodes(page) == lineage_of(server, "model/home-ranking/v3", "upstream", 1)[0]

    page.select_option("[data-testid=lineage-direction]", "downstream")
    page.wait_for_selector("[data-testid=lineage][data-state=ready][data-direction=downstream]")
    assert picture_nodes(page) == lineage_of(server, "model/home-ranking/v3", "downstream", 1)[0]
    page.select_option("[data-testid=lineage-depth]", "")
    page.wait_for_selector("[data-testid=lineage][data-state=ready][data-depth='']")
    assert picture_nodes(page) == lineage_of(server, "model/home-ranking/v3", "downstream")[0]


def test_expand_a_node_adds_its_next_hop(page: Any, server: Server) -> None:
    open_lineage(page, "service/homepage", "upstream", depth=1)
    first, first_edges = lineage_of(server, "service/homepage", "upstream", 1)
    assert picture_nodes(page) == first
    model = BASE + "model/home-ranking/v3"
    click_node(page, model)
    page.wait_for_selector(f"[data-testid=lineage-panel-title][data-asset-id='{model}']")
    page.click("[data-testid=lineage-expand]")
    settled(page)
    more, more_edges = lineage_of(server, model, "upstream", 1)
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=lineage-node]').length === n",
        arg=len(first | more),
    )
    assert picture_nodes(page) == first | more
    assert picture_edges(page) == first_edges | more_edges
    # the new hop sits one column further upstream
    distances = page.eval_on_selector_all(
        "[data-testid=lineage-node]", "els => els.map(e => Number(e.dataset.distance))"
    )
    assert min(distances) == -2

    # a double click expands too: the training set's own next hop
    training = BASE + "dataset/ranking-training-set"
    click_node(page, training, double=True)
    beyond, _ = lineage_of(server, training, "upstream", 1)
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=lineage-node]').length === n",
        arg=len(first | more | beyond),
    )
    assert picture_nodes(page) == first | more | beyond


def natural(text: str) -> list[Any]:
    """The table's order: case-insensitive, numbers by value ("Chain 9" before "Chain 10")."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text.lower())]


def path_nodes(answer: dict[str, Any]) -> set[str]:
    return {
        iri for path in answer["paths"] for e in path for iri in (e["origin"], e["destination"])
    }


def test_the_path_between_two_selected_assets(page: Any, server: Server) -> None:
    open_lineage(page, "model/home-ranking/v3", "both")
    service = BASE + "service/homepage"
    raw = BASE + "dataset/playback-events-raw"
    click_node(page, service)
    click_node(page, raw, shift=True)
    page.wait_for_selector("[data-testid=lineage-path][data-state=found]")
    answer = api(server, "/api/v1/path", **{"from": service, "to": raw})
    expected = path_nodes(answer)
    listed = page.eval_on_selector_all(
        "[data-testid=lineage-path] [data-asset-id]:not(a)",
        "els => els.map(e => e.dataset.assetId)",
    )
    assert set(listed) == expected
    assert listed[0] == service and listed[-1] == raw
    lit = page.evaluate("() => window.kgLineage.cy.nodes('.path').map(n => n.id())")
    assert set(lit) == expected
    marked = page.eval_on_selector_all(
        "[data-testid=lineage-edge][data-path]",
        "els => els.map(e => [e.dataset.source, e.dataset.target, e.dataset.kind])",
    )
    assert {tuple(e) for e in marked} == {
        (e["origin"], e["destination"], e["type"]) for path in answer["paths"] for e in path
    }

    # the panel's buttons ask the same: from the clicked node to another one
    page.click("[data-testid=lineage-path-clear]")
    page.wait_for_selector("[data-testid=lineage-path][data-state=none]", state="attached")
    assert page.evaluate("() => window.kgLineage.cy.nodes('.path').length") == 0
    features = BASE + "featureset/member-features"
    click_node(page, features)
    page.click("[data-testid=lineage-path-from]")
    click_node(page, service)
    page.click("[data-testid=lineage-path-to]")
    page.wait_for_selector("[data-testid=lineage-path][data-state=found]")
    listed = page.eval_on_selector_all(
        "[data-testid=lineage-path] li", "els => els.map(e => e.dataset.assetId)"
    )
    assert set(listed) == path_nodes(
        api(server, "/api/v1/path", **{"from": features, "to": service})
    )


def test_type_filter_hides_types(page: Any, server: Server) -> None:
    open_lineage(page, "service/homepage", "upstream")
    answer = api(server, "/api/v1/lineage", nodeId="service/homepage")["graph"]
    types = {n["type"] for n in answer}
    boxes = page.eval_on_selector_all(
        "[data-testid=lineage-type-filter] input", "els => els.map(e => e.dataset.type)"
    )
    assert set(boxes) == types
    page.uncheck("[data-testid=lineage-type-filter] input[data-type='mlg:Feature']")
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid=lineage-node][data-type='mlg:Feature']\")"
    )
    settled(page)
    kept = {n["id"] for n in answer if n["type"] != "mlg:Feature"}
    assert picture_nodes(page) == kept
    assert all(s in kept and t in kept for s, t, _ in picture_edges(page))
    drawn = page.evaluate("() => window.kgLineage.cy.nodes().map(n => n.id())")
    assert set(drawn) == kept
    page.check("[data-testid=lineage-type-filter] input[data-type='mlg:Feature']")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=lineage-node]').length === n", arg=len(answer)
    )


def test_search_within_the_picture_highlights(page: Any, server: Server) -> None:
    open_lineage(page, "model/home-ranking/v3", "both")
    page.fill("[data-testid=lineage-search]", "playback")
    page.wait_for_selector("[data-testid=lineage-node][data-match]", state="attached")
    graph = []
    for side in ("upstream", "downstream"):
        graph += api(server, "/api/v1/lineage", nodeId="model/home-ranking/v3", direction=side)[
            "graph"
        ]
    expected = {
        n["id"]
        for n in graph
        if "playback" in (n["label"] or "").lower() or "playback" in n["id"][len(BASE) :].lower()
    }
    assert expected
    matched = page.eval_on_selector_all(
        "[data-testid=lineage-node][data-match]", "els => els.map(e => e.dataset.assetId)"
    )
    assert set(matched) == expected
    lit = page.evaluate("() => window.kgLineage.cy.nodes('.match').map(n => n.id())")
    assert set(lit) == expected
    assert "match" in page.text_content("[data-testid=lineage-search-count]")
    page.fill("[data-testid=lineage-search]", "")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=lineage-node][data-match]')"
    )


def test_the_table_lists_every_node_and_sorts(page: Any, server: Server) -> None:
    open_lineage(page, "model/home-ranking/v3", "both")
    page.click("[data-testid=lineage-tab-table]")
    table = page.locator("[data-testid=lineage-table]")
    table.wait_for()
    nodes, _ = lineage_of(server, "model/home-ranking/v3", "both")
    rows = page.eval_on_selector_all(
        "[data-testid=lineage-row]", "els => els.map(e => e.dataset.assetId)"
    )
    assert set(rows) == nodes and len(rows) == len(nodes)

    def column(index: int) -> list[str]:
        cells: list[str] = page.eval_on_selector_all(
            "[data-testid=lineage-row]",
            f"els => els.map(e => e.children[{index}].textContent.trim())",
        )
        return cells

    page.click("[data-testid=lineage-sort-label]")
    names = [
        n.lower()
        for n in page.eval_on_selector_all(
            "[data-testid=lineage-row] td:first-child a", "els => els.map(e => e.textContent)"
        )
    ]
    assert names == sorted(names, key=natural)
    page.click("[data-testid=lineage-sort-label]")
    names = [
        n.lower()
        for n in page.eval_on_selector_all(
            "[data-testid=lineage-row] td:first-child a", "els => els.map(e => e.textContent)"
        )
    ]
    assert names == sorted(names, key=natural, reverse=True)

    page.click("[data-testid=lineage-sort-type]")
    types = column(1)
    assert types == sorted(types, key=lambda t: natural(t.replace(" ", "")))

    page.fill("[data-testid=lineage-table-search]", "feature")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=lineage-row]')].every(r => /feature/i.test(r.textContent))"
    )
    assert page.locator("[data-testid=lineage-row]").count() >= 5
    page.click("[data-testid=lineage-tab-picture]")
    assert page.locator("[data-testid=lineage-canvas]").is_visible()


def test_owners_show_by_the_names_the_answer_gives(page: Any, server: Server) -> None:
    answer = api(server, "/api/v1/lineage", nodeId="model/home-ranking/v3", direction="both")
    open_lineage(page, "model/home-ranking/v3", "both")
    page.click("[data-testid=lineage-tab-table]")
    page.locator("[data-testid=lineage-table]").wait_for()
    shown = page.eval_on_selector_all(
        "[data-testid=lineage-row] [data-testid=lineage-owner]",
        "els => els.map(e => [e.dataset.assetId, e.textContent])",
    )
    named = {owner: answer["ownerNames"][owner] for n in answer["graph"] for owner in n["owners"]}
    assert named and all(named.values())
    assert dict(shown) == named
    # the table's search finds a node by its owner's name
    team = next(name for name in named.values() if name and " " not in name)
    page.fill("[data-testid=lineage-table-search]", team.lower())
    page.wait_for_function(
        "name => [...document.querySelectorAll('[data-testid=lineage-row]')]"
        ".every(r => r.textContent.toLowerCase().includes(name))",
        arg=team.lower(),
    )


def test_png_and_svg_downloads(page: Any, tmp_path: Path) -> None:
    open_lineage(page, "model/home-ranking/v3", "both")
    with page.expect_download() as got:
        page.click("[data-testid=lineage-png]")
    png = tmp_path / "picture.png"
    got.value.save_as(png)
    assert got.value.suggested_filename.endswith(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with page.expect_download() as got:
        page.click("[data-testid=lineage-svg]")
    svg = tmp_path / "picture.svg"
    got.value.save_as(svg)
    assert got.value.suggested_filename.endswith(".svg")
    tree = ET.parse(svg)  # noqa: S314 (our own file)
    ns = "{http://www.w3.org/2000/svg}"
    assert tree.getroot().tag == f"{ns}svg"
    drawn = {g.get("data-id") for g in tree.iter(f"{ns}g") if g.get("data-id")}
    assert drawn == picture_nodes(page)
    texts = " ".join(t.text or "" for t in tree.iter(f"{ns}text"))
    assert "Home ranking v3" in texts
    assert len(list(tree.iter(f"{ns}line"))) == page.locator("[data-testid=lineage-edge]").count()


def test_the_panel_links_to_the_asset_page(page: Any) -> None:
    open_lineage(page, "service/homepage", "upstream")
    training = BASE + "dataset/ranking-training-set"
    click_node(page, training)
    link = page.locator("[data-testid=lineage-open]")
    assert link.get_attribute("data-asset-id") == training
    assert link.get_attribute("href") == "/id/dataset/ranking-training-set"
    reroot = page.get_attribute("[data-testid=lineage-reroot]", "href")
    assert reroot is not None and "nodeId=" in reroot
    link.click()
    page.wait_for_url("**/id/dataset/ranking-training-set")


def test_without_an_asset_the_page_asks_for_one(page: Any) -> None:
    ready(page, "/lineage")
    page.fill("input[name=nodeId]", "service/homepage")
    page.click("button[type=submit]")
    page.wait_for_url("**/lineage?nodeId=service%2Fhomepage*")
    page.wait_for_selector("main[data-ready=true]")
    settled(page)
    assert BASE + "service/homepage" in picture_nodes(page)


def test_an_unknown_asset_says_so(browser: Any, server: Server) -> None:
    context, watch = open_context(browser, server.url)
    page = context.new_page()
    ready(page, "/lineage?nodeId=dataset/no-such-thing")
    page.wait_for_selector("[data-testid=lineage][data-state=error]")
    assert "no-such-thing" in (page.text_content("[data-testid=error]") or "")
    context.close()
    assert not watch.outside
    assert all("404" in e for e in watch.errors), watch.errors  # the API's answer, logged


# ----------------------------------------------------------------------------- a big answer


def big_graph() -> dict[str, Any]:
    """A fan and a chain: 2,041 assets downstream of dataset/big/source, one unresolved
    reference and a deprecated dataset."""
    assets: list[dict[str, Any]] = [{"id": "team/big", "type": "Team", "name": "Big team"}]
    add = assets.append
    add({"id": "dataset/big/source", "type": "Dataset", "name": "Big source", "owner": "team/big"})
    for i in range(40):
        upstream = ["dataset/big/source"] + (["dataset/big/missing"] if i == 0 else [])
        add(
            {
                "id": f"dataset/big/d1-{i}",
                "type": "Dataset",
                "name": f"Level one {i}",
                "owner": "team/big",
                "status": "Deprecated" if i == 3 else "Active",
                "derivedFrom": upstream,
            }
        )
        for j in range(12):
            add(
                {
                    "id": f"feature/big/f-{i}-{j}",
                    "type": "Feature",
                    "name": f"Feature {i}.{j}",
                    "derivedFrom": f"dataset/big/d1-{i}",
                }
            )
        for j in range(35):
            add(
                {
                    "id": f"dataset/big/d2-{i}-{j}",
                    "type": "Dataset",
                    "name": f"Level two {i}.{j}",
                    "derivedFrom": f"dataset/big/d1-{i}",
                }
            )
    for k in range(30):
        add({"id": f"model/big/m{k}", "type": "Model", "name": f"Big model {k}"})
        add(
            {
                "id": f"model/big/m{k}/v1",
                "type": "ModelVersion",
                "name": f"Big model {k} v1",
                "versionOf": f"model/big/m{k}",
                "trainedOn": f"dataset/big/d1-{k}",
                "usesFeature": [f"feature/big/f-{k}-{j}" for j in range(12)],
            }
        )
        add(
            {
                "id": f"service/big/s{k}",
                "type": "Service",
                "name": f"Big service {k}",
                "deploys": f"model/big/m{k}/v1",
            }
        )
    previous = "dataset/big/source"
    for n in range(60):
        add(
            {
                "id": f"dataset/big/chain-{n}",
                "type": "Dataset",
                "name": f"Chain {n}",
                "derivedFrom": previous,
            }
        )
        previous = f"dataset/big/chain-{n}"
    return {"assets": assets}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Server]:
    """A server on a store of ~2,000 assets (and the OpenLineage golden events: field lineage)."""
    folder = tmp_path_factory.mktemp("lineage-big")
    store = folder / "store"
    document = folder / "big.json"
    document.write_text(json.dumps(big_graph()))
    env = {**os.environ}
    env.pop("KG_URL", None)
    for command in (
        ["load", "--store", str(store), "--gate", "off", str(document)],
        ["ingest", "openlineage", "--store", str(store), "--gate", "off", str(GOLDEN)],
    ):
        subprocess.run(
            [sys.executable, "-m", "kg", *command], check=True, env=env, capture_output=True
        )
    running = start_server(store)
    yield running
    stop_server(running)


@pytest.fixture
def big_page(browser: Any, big: Server) -> Iterator[Any]:
    with watched_tab(browser, big, 30_000) as tab:
        yield tab


def test_a_big_answer_folds_into_summaries_and_stays_responsive(big_page: Any, big: Server) -> None:
    page = big_page
    nodes, edges = lineage_of(big, "dataset/big/source", "downstream")
    assert len(nodes) > 2000
    open_lineage(page, "dataset/big/source", "downstream")
    assert page.evaluate("1+1") == 2
    shown = picture_nodes(page)
    assert len(shown) == 300  # the default budget
    assert shown <= nodes
    summaries = page.eval_on_selector_all(
        "[data-testid=lineage-summary]",
        "els => els.map(e => [e.dataset.summaryId, Number(e.dataset.count), e.dataset.type])",
    )
    assert summaries
    assert sum(count for _, count, _ in summaries) == len(nodes) - 300
    drawn = page.evaluate("() => window.kgLineage.cy.nodes().length")
    assert drawn == 300 + len(summaries)
    # the listed edges are the answer's edges between drawn nodes
    assert picture_edges(page) == {e for e in edges if e[0] in shown and e[1] in shown}
    # the nearest hops come first: every node one hop away is drawn
    near = {n for n in nodes if n.startswith(BASE + "dataset/big/d1-")}
    assert near <= shown
    text = page.text_content("[data-testid=lineage-count]") or ""
    assert "300 of 2,041" in text

    # clicking a summary shows its nodes
    biggest = max(summaries, key=lambda s: s[1])
    click_node(page, biggest[0])
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=lineage-node]').length > 300"
    )
    settled(page)
    assert page.evaluate("1+1") == 2
    after = picture_nodes(page)
    assert shown < after <= nodes

    # a smaller budget
    page.select_option("[data-testid=lineage-budget]", "100")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=lineage-node]').length < 300"
    )
    settled(page)
    assert len(picture_nodes(page)) >= 100

    # the table holds all of them, a page at a time
    page.click("[data-testid=lineage-tab-table]")
    assert page.get_attribute("[data-testid=lineage-table]", "data-rows") == str(len(nodes))
    first = page.locator("[data-testid=lineage-row]").count()
    assert first < len(nodes)
    page.click("[data-testid=lineage-table-more]")
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=lineage-row]').length > n", arg=first
    )
    # sorted by hops from the start; a click on the head turns the order over
    top = "[data-testid=lineage-row]:first-child"
    assert page.get_attribute(top, "data-asset-id") == BASE + "dataset/big/source"
    page.click("[data-testid=lineage-sort-distance]")
    page.wait_for_function(
        "id => document.querySelector('[data-testid=lineage-row]').dataset.assetId === id",
        arg=BASE + "dataset/big/chain-59",  # the farthest
    )
    page.click("[data-testid=lineage-sort-distance]")
    assert page.get_attribute(top, "data-asset-id") == BASE + "dataset/big/source"


def test_search_reveals_folded_matches(big_page: Any, big: Server) -> None:
    page = big_page
    open_lineage(page, "dataset/big/source", "downstream")
    target = BASE + "dataset/big/chain-42"
    assert target not in picture_nodes(page)
    page.fill("[data-testid=lineage-search]", "Chain 42")
    page.wait_for_selector(
        f"[data-testid=lineage-node][data-match][data-asset-id='{target}']", state="attached"
    )
    assert page.evaluate("id => window.kgLineage.cy.getElementById(id).hasClass('match')", target)


def test_unresolved_references_are_marked(big_page: Any, big: Server) -> None:
    page = big_page
    open_lineage(page, "service/big/s0", "upstream")
    missing = BASE + "dataset/big/missing"
    assert missing in picture_nodes(page)
    li = page.locator(f"[data-testid=lineage-node][data-asset-id='{missing}']")
    assert li.get_attribute("data-resolved") == "false"
    assert page.evaluate(
        "id => window.kgLineage.cy.getElementById(id).hasClass('unresolved')", missing
    )
    assert page.evaluate(
        "id => window.kgLineage.cy.getElementById(id).data('text')", missing
    ).startswith("?")


def test_column_lineage_in_the_panel(big_page: Any, big: Server) -> None:
    page = big_page
    dataset = "dataset/s3/feature-store/user_features/daily"
    open_lineage(page, dataset, "upstream")
    asset = api(big, f"/api/v1/assets/{dataset}")
    fields = {f["name"]: set(f["upstream"]) for f in asset["fields"]}
    assert any(fields.values())
    page.wait_for_selector("[data-testid=lineage-fields]")
    for name, upstream in fields.items():
        row = page.locator(f"[data-testid=lineage-field][data-field='{name}']")
        shown = row.locator("[data-upstream]").evaluate_all(
            "els => els.map(e => e.dataset.upstream)"
        )
        assert set(shown) == upstream


def test_without_the_libraries_the_table_is_there(
    browser: Any, tmp_path: Path, chromium_path: str
) -> None:
    empty = tmp_path / "no-modules"
    empty.mkdir()
    server = start_server(tmp_path / "store", "--demo", env={"KG_PORTAL_MODULES": str(empty)})
    try:
        context, watch = open_context(browser, server.url)
        page = context.new_page()
        ready(page, "/lineage?nodeId=service/homepage&direction=upstream")
        settled(page)
        assert page.locator("[data-testid=lineage-no-libraries]").is_visible()
        assert "make setup" in (page.text_content("[data-testid=lineage-no-libraries]") or "")
        nodes, _ = lineage_of(server, "service/homepage", "upstream")
        rows = page.eval_on_selector_all(
            "[data-testid=lineage-row]", "els => els.map(e => e.dataset.assetId)"
        )
        assert set(rows) == nodes
        context.close()
        # the missing libraries' script tags fail to load: that, and only that, is an error
        assert not watch.outside
        assert all("404" in e or "/vendor/" in e for e in watch.errors), watch.errors
    finally:
        stop_server(server)


def test_edges_a_rule_inferred_are_drawn_and_listed_as_such(page: Any, server: Server) -> None:
    answer = api(server, "/api/v1/lineage", nodeId="service/homepage")
    inferred = {
        (e["origin"], e["destination"], e["inferredBy"])
        for n in answer["graph"]
        for e in n["inEdges"] + n["outEdges"]
        if e["inferredBy"]
    }
    assert inferred, "the demo has edges its rules inferred (version-trained-on)"
    open_lineage(page, "service/homepage", "upstream")
    listed = page.eval_on_selector_all(
        "[data-testid=lineage-edge][data-inferred-by]",
        "els => els.map(e => [e.dataset.source, e.dataset.target, e.dataset.inferredBy])",
    )
    assert {tuple(e) for e in listed} == inferred
    drawn = page.evaluate("() => window.kgLineage.cy.edges('.inferred').length")
    assert drawn == len(inferred)
