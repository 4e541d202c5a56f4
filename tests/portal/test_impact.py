"""The impact page as a user meets it: what breaks if an asset changes, checked against the
impact API: the owners to tell, production services first, the CSV and the list to copy."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.portal.conftest import Server, ready

pytestmark = pytest.mark.embedded_only("a browser on its own `kg serve --demo`, embedded")

ROOT = "dataset/playback-events-raw"
MLG = "https://w3id.org/mlg#"


def api(server: Server, path: str, **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    request = urllib.request.Request(  # noqa: S310 (loopback)
        server.url + path + query, headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
        return json.load(answer)


def impact_of(server: Server, node: str) -> Any:
    return api(server, "/api/v1/impact", nodeId=node)


def emails(server: Server, iri: str) -> list[str]:
    asset = api(server, "/api/v1/assets/" + urllib.parse.quote(iri, safe=""))
    return sorted(e.removeprefix("mailto:") for e in asset["properties"].get("mlg:email", []))


def attrs(page: Any, selector: str, name: str = "data-asset-id") -> list[str]:
    return [element.get_attribute(name) for element in page.locator(selector).all()]


def test_owners_services_and_groups_are_the_apis(
    page: Any, server: Server, shoot: Callable[[Any, str], None]
) -> None:
    impact = impact_of(server, ROOT)
    assert impact["owners"] and impact["productionServices"], "the demo root should matter"
    ready(page, f"/impact?nodeId={ROOT}")

    assert page.get_by_test_id("impact-root").get_attribute("data-asset-id") == impact["root"]
    count = page.get_by_test_id("impact-count").locator("strong").inner_text()
    assert int(count) == impact["affectedCount"]

    owners = attrs(page, "[data-testid=impact-owner]")
    assert sorted(owners) == sorted(o["id"] for o in impact["owners"])
    for owner in impact["owners"]:
        card = page.locator(f'[data-testid=impact-owner][data-asset-id="{owner["id"]}"]')
        told = card.get_by_test_id("impact-owner-count").inner_text()
        assert told.startswith(f"{len(owner['assets'])} affected")
        members = attrs(card, "[data-testid=impact-member]")
        assert sorted(members) == sorted(owner["members"])
        # by the names the answer gives them
        names = card.get_by_test_id("impact-member").all_inner_texts()
        assert sorted(names) == sorted(m["label"] for m in owner["memberDetails"])

    services = attrs(page, "[data-testid=impact-service]")
    production = [s["id"] for s in impact["productionServices"]]
    assert sorted(services) == sorted(s["id"] for s in impact["services"])
    assert services[: len(production)] == production  # production services come first
    experiments = attrs(page, "[data-testid=impact-experiment]")
    assert sorted(experiments) == sorted(e["id"] for e in impact["experiments"])

    groups = page.locator("[data-testid=impact-group]")
    assert sorted(attrs(page, "[data-testid=impact-group]", "data-type")) == sorted(
        impact["byType"]
    )
    for group in groups.all():
        ids = impact["byType"][group.get_attribute("data-type")]
        assert group.locator("summary .count").inner_text() == str(len(ids))
        assert sorted(attrs(group, "[data-testid=impact-asset]")) == sorted(ids)
    shoot(page, "impact")


def test_csv_download_is_the_affected_list(page: Any, server: Server) -> None:
    impact = impact_of(server, ROOT)
    ready(page, f"/impact?nodeId={ROOT}")
    with page.expect_download() as info:
        page.get_by_test_id("impact-csv").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "name", "type", "distance", "owners", "status"]
    expected = [
        [
            node["id"],
            node["label"] or "",
            node["type"] or "",
            "" if node["distance"] is None else str(node["distance"]),
            ";".join(node["owners"]),
            node["status"] or "",
        ]
        for node in impact["affected"]
    ]
    assert rows[1:] == expected


def test_the_list_to_copy_holds_the_owners_addresses(page: Any, server: Server) -> None:
    impact = impact_of(server, ROOT)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    ready(page, f"/impact?nodeId={ROOT}")

    expected: list[str] = []
    for owner in impact["owners"]:
        for line in emails(server, owner["id"]) or [owner["id"]]:
            if line not in expected:
                expected.append(line)
    listed = page.get_by_test_id("impact-list")
    assert listed.input_value() == ", ".join(expected)
    page.get_by_test_id("impact-copy").click()
    page.wait_for_selector("[data-testid=impact-copy-status]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == ", ".join(expected)

    page.get_by_test_id("impact-list-mode").select_option("id")
    ids = [owner["id"] for owner in impact["owners"]]
    assert listed.input_value() == "\n".join(ids)
    page.get_by_test_id("impact-copy").click()
    page.wait_for_selector("[data-testid=impact-copy-status]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == "\n".join(ids)

    # the members' addresses too, as the answer gives them
    page.get_by_test_id("impact-list-mode").select_option("email")
    page.get_by_test_id("impact-list-members").check()
    addresses: list[str] = []
    for owner in impact["owners"]:
        people = [(owner["id"], owner["email"])]
        people += [(m["id"], m["email"]) for m in owner["memberDetails"]]
        for agent, address in people:
            assert address == (emails(server, agent) or [None])[0]
            if (address or agent) not in addresses:
                addresses.append(address or agent)
    assert listed.input_value() == ", ".join(addresses)
    page.get_by_test_id("impact-list-members").uncheck()
    page.get_by_test_id("impact-list-mode").select_option("id")

    page.get_by_test_id("impact-list-members").check()
    ordered: list[str] = []
    for owner in impact["owners"]:
        for one in [owner["id"], *owner["members"]]:
            if one not in ordered:
                ordered.append(one)
    assert listed.input_value().split("\n") == ordered


def test_another_asset_is_picked_by_searching(page: Any, server: Server) -> None:
    ready(page, f"/impact?nodeId={ROOT}")
    hits = api(server, "/api/v1/search", q="home ranking", limit="8")["hits"]
    page.get_by_test_id("impact-picker").fill("home ranking")
    first = page.locator("[data-testid=impact-pick]").first
    first.wait_for()
    assert attrs(page, "[data-testid=impact-pick]") == [hit["id"] for hit in hits]
    page.get_by_test_id("impact-picker").press("Enter")
    page.wait_for_url(f"**/impact?nodeId={urllib.parse.quote(hits[0]['id'], safe='')}")
    page.wait_for_selector("main[data-ready=true]")
    assert page.get_by_test_id("impact-root").get_attribute("data-asset-id") == hits[0]["id"]


def test_an_asset_nothing_depends_on(page: Any, server: Server) -> None:
    impact = impact_of(server, "service/homepage")
    assert impact["affectedCount"] == 0
    ready(page, "/impact?nodeId=service/homepage")
    assert page.get_by_test_id("impact-none").is_visible()
    assert page.locator("[data-testid=impact-owner]").count() == 0
    assert page.get_by_test_id("impact-count").locator("strong").inner_text() == "0"
