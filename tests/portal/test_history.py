"""Who changed what, and when, as a user meets it: an asset page's History (a change loaded
through the HTTP API shows first, in words, with who and when), its "view as of" pages (the
asset as it stood then, with a banner and a way back to now), moments the API has no state of
(before the asset, before a prune), a store that keeps no history, and the lineage page as of a
moment; each checked against the HTTP API the pages read."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
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
LOCAL = "dataset/viewing-history-daily"
IRI = BASE + LOCAL
# the demo's description of it, with another owner and status and one more upstream dataset
CHANGED = {
    "type": "Dataset",
    "name": "Daily viewing history",
    "description": "One row per member, title and day with minutes watched.",
    "owner": "team/personalization",
    "status": "Deprecated",
    "tags": ["viewing", "daily"],
    "derivedFrom": ["dataset/playback-events-clean", "dataset/member-profiles"],
}
# the kinds whose removed and added value in one write the page tells as one change
PAIRED = {"owner", "name", "status", "stage", "classification", "type", "attribute"}


def api(server: Server, path: str, **params: Any) -> Any:
    query = "?" + urllib.parse.urlencode(params) if params else ""
    request = urllib.request.Request(  # noqa: S310 (loopback)
        server.url + path + query, headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        return json.load(answer)


def api_status(server: Server, path: str, **params: Any) -> int:
    """The status of a GET the API refuses (4xx), or 200."""
    try:
        api(server, path, **params)
    except urllib.error.HTTPError as refused:
        refused.close()
        return refused.code
    return 200


def send(server: Server, method: str, path: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        server.url + path,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        return json.load(answer)


def asset_path(iri: str) -> str:
    return "/api/v1/assets/" + urllib.parse.quote(iri, safe="")


def put(server: Server, iri: str, body: dict[str, Any]) -> None:
    # the governance gate would refuse deprecating an asset production services depend on
    send(server, "PUT", asset_path(iri) + "?gate=off", body)


def history(server: Server, iri: str, limit: int = 1000) -> dict[str, Any]:
    answer: dict[str, Any] = api(server, asset_path(iri) + "/history", limit=limit)
    return answer


def as_of(iri: str, moment: str) -> str:
    """The address of the asset's page as of `moment`, as the page writes it."""
    return f"/id/{iri.removeprefix(BASE)}?" + urllib.parse.urlencode({"asOf": moment})


def told(changes: list[dict[str, Any]]) -> list[tuple[str, str, str, str, str]]:
    """The changes of a write as the page tells them: a single-valued property's removed and
    added value become one change from the one to the other."""
    slots: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for c in changes:
        if c["kind"] in PAIRED:
            slots[(c["subject"], c["property"])].append(c)
    merged: dict[int, dict[str, Any]] = {}
    absorbed: set[int] = set()
    for group in slots.values():
        removed = [c for c in group if c["change"] == "removed"]
        added = [c for c in group if c["change"] == "added"]
        if len(group) == 2 and len(removed) == 1 and len(added) == 1:
            merged[id(removed[0])] = {
                **added[0],
                "change": "changed",
                "previous": removed[0]["value"],
            }
            absorbed.add(id(added[0]))
    result = [merged.get(id(c), c) for c in changes if id(c) not in absorbed]
    return sorted(
        (c["kind"], c["change"], c["property"], c["value"] or "", c["previous"] or "")
        for c in result
    )


def open_all_changes(page: Any) -> None:
    while page.get_by_test_id("history-changes-more").count():
        page.get_by_test_id("history-changes-more").first.click()


def shown_versions(page: Any) -> list[dict[str, Any]]:
    """Each version the History lists: its position, time, writer, sources and changes."""
    page.wait_for_selector("[data-testid=history][data-state=done]")
    open_all_changes(page)
    found: list[dict[str, Any]] = page.get_by_test_id("history-version").evaluate_all(
        """ns => ns.map(n => ({
            position: Number(n.dataset.position),
            at: n.querySelector('[data-testid=history-at]').getAttribute('title'),
            time: n.querySelector('[data-testid=history-at]').innerText,
            by: n.querySelector('[data-testid=history-by]').innerText,
            sources: (n.querySelector('[data-testid=history-sources]') || {}).innerText || '',
            changes: [...n.querySelectorAll('[data-testid=history-change]')].map(c =>
                [c.dataset.kind, c.dataset.change, c.dataset.property, c.dataset.value,
                 c.dataset.previous]),
            words: [...n.querySelectorAll('[data-testid=history-change]')].map(c => c.innerText),
        }))"""
    )
    return found


def local_time(page: Any, iso: str) -> str:
    text: str = page.evaluate("iso => new Date(iso).toLocaleString()", iso)
    return text


def owners(page: Any) -> list[str]:
    found: list[str] = page.get_by_test_id("asset-owner").evaluate_all(
        "ns => ns.map(n => n.dataset.assetId)"
    )
    return found


def status_badge(page: Any) -> str:
    title: str = page.locator(".asset-head .badge.status").get_attribute("title")
    return title


def upstream(page: Any) -> set[str]:
    found: list[str] = page.locator("[data-testid=relation][data-side=outgoing]").evaluate_all(
        "ns => ns.map(n => n.dataset.assetId)"
    )
    return set(found)


@pytest.fixture(scope="module")
def history_server(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: str
) -> Iterator[Server]:
    """A demo server of its own (the shared one stays as the demo loads it), where LOCAL has a
    second version: another owner and status, one more upstream dataset."""
    running = start_server(Path(tmp_path_factory.mktemp("history")) / "store", "--demo")
    try:
        put(running, IRI, CHANGED)
        yield running
    finally:
        stop_server(running)


def test_the_history_lists_the_new_version_first_in_words(
    browser: Any, history_server: Server
) -> None:
    answer = history(history_server, IRI)
    newest, first = answer["versions"][0], answer["versions"][-1]
    assert newest["position"] > first["position"]
    with watched_tab(browser, history_server) as page:
        ready(page, "/id/" + LOCAL)
        shown = shown_versions(page)
        assert [v["position"] for v in shown] == [v["position"] for v in answer["versions"]]
        for seen, version in zip(shown, answer["versions"], strict=True):
            assert seen["at"] == version["at"]
            assert seen["time"] == local_time(page, version["at"])
            assert seen["by"] == version["by"]
            assert seen["sources"] == ", ".join(version["sources"])
            assert sorted(map(tuple, seen["changes"])) == told(version["changes"])
        words = set(shown[0]["words"])
        assert "owner team/data-platform → team/personalization" in words
        assert "status Active → Deprecated" in words
        assert "added edge derivedFrom dataset/member-profiles" in words
        assert len(words) == 3  # nothing else changed
        latest = page.locator("[data-testid=history-version]").first
        link = latest.get_by_test_id("history-view-as-of").get_attribute("href")
        assert link == as_of(IRI, newest["at"])


def test_view_as_of_the_earlier_version_and_back_to_now(
    browser: Any, history_server: Server
) -> None:
    earlier = history(history_server, IRI)["versions"][-1]
    then = api(history_server, asset_path(IRI), asOf=earlier["at"])
    now = api(history_server, asset_path(IRI))
    assert [o["id"] for o in then["owners"]] != [o["id"] for o in now["owners"]]
    with watched_tab(browser, history_server) as page:
        ready(page, "/id/" + LOCAL)
        page.wait_for_selector("[data-testid=history][data-state=done]")
        version = page.locator(f"[data-testid=history-version][data-at='{earlier['at']}']")
        with page.expect_navigation():
            version.get_by_test_id("history-view-as-of").click()
        page.wait_for_selector("main[data-ready=true]")
        assert page.url == history_server.url + as_of(IRI, earlier["at"])
        banner = page.get_by_test_id("as-of-banner")
        assert "this is how the asset stood then" in banner.inner_text()
        assert banner.locator("time").get_attribute("title") == earlier["at"]
        # the asset of then, as the API gives it as of then
        assert owners(page) == [o["id"] for o in then["owners"]]
        assert status_badge(page) == "status: " + then["status"].removeprefix("mlg:")
        assert upstream(page) == {r["target"] for r in then["outgoing"]}
        viewing = page.locator("[data-testid=history-version][data-viewing=true]")
        assert viewing.get_attribute("data-position") == str(earlier["position"])
        # what it offers stays as of then: lineage, impact, the related assets' pages
        for test_id in ("link-lineage", "link-impact"):
            href = page.get_by_test_id(test_id).get_attribute("href")
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
            assert query["asOf"] == [earlier["at"]] and query["nodeId"] == [IRI]
        related = page.locator("[data-testid=relation] a").evaluate_all(
            "ns => ns.map(n => n.getAttribute('href'))"
        )
        moment = urllib.parse.urlencode({"asOf": earlier["at"]})
        assert related and all(href.endswith("?" + moment) for href in related)
        page.wait_for_selector("[data-testid=findings][data-state=done]")
        expected = api(
            history_server, "/api/v1/validation", asset=IRI, format="json", asOf=earlier["at"]
        )
        assert page.get_by_test_id("violation").count() == len(expected["results"])
        # back to now
        with page.expect_navigation():
            page.get_by_test_id("as-of-now").click()
        page.wait_for_selector("main[data-ready=true]")
        assert page.url == history_server.url + "/id/" + LOCAL
        assert page.get_by_test_id("as-of-banner").count() == 0
        assert owners(page) == [o["id"] for o in now["owners"]]
        assert status_badge(page) == "status: " + now["status"].removeprefix("mlg:")
        assert upstream(page) == {r["target"] for r in now["outgoing"]}


def test_before_the_asset_existed_the_page_says_so(browser: Any, history_server: Server) -> None:
    moment = "2000-01-01T00:00:00Z"
    assert api_status(history_server, asset_path(IRI), asOf=moment) == 404
    context, watch = open_context(browser, history_server.url)
    try:
        page = context.new_page()
        ready(page, as_of(IRI, moment))
        missing = page.get_by_test_id("as-of-missing")
        assert "did not exist" in missing.inner_text()
        assert page.get_by_test_id("as-of-banner").is_visible()
        assert page.get_by_test_id("error").count() == 0
        # its versions stay, to pick another moment
        page.wait_for_selector("[data-testid=history][data-state=done]")
        assert page.get_by_test_id("history-version").count() == len(
            history(history_server, IRI)["versions"]
        )
    finally:
        context.close()
    assert not watch.outside
    assert all("status of 404" in e for e in watch.errors), watch.errors  # Chromium's own note


def test_lineage_as_of_a_moment_reads_the_lineage_of_then(
    browser: Any, history_server: Server
) -> None:
    earlier = history(history_server, IRI)["versions"][-1]["at"]

    def nodes(**params: str) -> set[str]:
        answer = api(history_server, "/api/v1/lineage", nodeId=IRI, direction="upstream", **params)
        return {n["id"] for n in answer["graph"]}

    then, now = nodes(asOf=earlier), nodes()
    assert BASE + "dataset/member-profiles" in now - then
    with watched_tab(browser, history_server) as page:
        ready(page, "/lineage?" + urllib.parse.urlencode({"nodeId": IRI, "asOf": earlier}))
        page.wait_for_selector("[data-testid=lineage][data-state=ready]")
        shown = page.eval_on_selector_all(
            "[data-testid=lineage-node]", "els => els.map(e => e.dataset.assetId)"
        )
        assert set(shown) == then
        assert "the lineage as it stood then" in page.get_by_test_id("as-of-banner").inner_text()
        root = page.get_by_test_id("lineage-root").get_attribute("href")
        assert urllib.parse.parse_qs(urllib.parse.urlsplit(root).query)["asOf"] == [earlier]


def test_a_long_history_shows_twenty_then_all(browser: Any, history_server: Server) -> None:
    iri = BASE + "dataset/history-long"
    tags = [f"tag-{n}" for n in range(12)]  # a first version with more changes than are shown
    body = {"type": "Dataset", "name": "Long history", "owner": "team/data-platform"}
    for n in range(23):
        put(history_server, iri, {**body, "tags": tags, "description": f"revision {n}"})
    answer = history(history_server, iri)
    assert len(answer["versions"]) == 23
    with watched_tab(browser, history_server) as page:
        ready(page, "/id/dataset/history-long")
        page.wait_for_selector("[data-testid=history][data-state=done]")
        assert page.get_by_test_id("history-version").count() == 20
        page.get_by_test_id("history-more").click()
        page.wait_for_function(
            "() => document.querySelectorAll('[data-testid=history-version]').length === 23"
        )
        page.wait_for_selector("[data-testid=history][data-state=done]")
        assert page.get_by_test_id("history-more").count() == 0
        first = page.locator("[data-testid=history-version]").last
        assert first.get_by_test_id("history-change").count() == 10
        first.get_by_test_id("history-changes-more").click()
        shown = shown_versions(page)
        assert [v["position"] for v in shown] == [v["position"] for v in answer["versions"]]
        for seen, version in zip(shown, answer["versions"], strict=True):
            assert sorted(map(tuple, seen["changes"])) == told(version["changes"])
        # a value replaced by another reads as one change
        assert shown[0]["words"] == ["dcterms:description revision 21 → revision 22"]


def test_a_moment_before_a_prune_shows_the_apis_detail(
    browser: Any, tmp_path: Path, chromium_path: str
) -> None:
    running = start_server(tmp_path / "store", "--demo")  # its own: the prune is for good
    try:
        put(running, IRI, CHANGED)
        versions = history(running, IRI)["versions"]
        newest, earlier = versions[0], versions[-1]
        send(running, "POST", "/api/v1/history/prune", {"before": newest["at"]})
        with pytest.raises(urllib.error.HTTPError) as refused:
            api(running, asset_path(IRI), asOf=earlier["at"])
        assert refused.value.code == 410
        detail = json.loads(refused.value.read())["detail"]
        refused.value.close()
        context, watch = open_context(browser, running.url)
        try:
            page = context.new_page()
            ready(page, as_of(IRI, earlier["at"]))
            gone = page.get_by_test_id("as-of-gone")
            assert detail in gone.get_by_test_id("error").inner_text()
            page.wait_for_selector("[data-testid=history][data-state=done]")
            pruned = page.locator(f"[data-testid=history-version][data-at='{earlier['at']}']")
            assert pruned.get_by_test_id("history-view-as-of").count() == 0
            assert pruned.get_by_test_id("history-not-kept").inner_text() == "pruned"
            kept = page.locator(f"[data-testid=history-version][data-at='{newest['at']}']")
            assert kept.get_by_test_id("history-view-as-of").count() == 1
        finally:
            context.close()
        assert not watch.outside
        assert all("status of 410" in e for e in watch.errors), watch.errors
    finally:
        stop_server(running)


def test_a_store_without_history_says_no_history_kept(
    browser: Any, tmp_path: Path, chromium_path: str
) -> None:
    running = start_server(tmp_path / "store", "--demo", env={"KG_HISTORY": "false"})
    try:
        answer = history(running, IRI)
        assert answer["historySince"] is None
        with watched_tab(browser, running) as page:
            ready(page, "/id/" + LOCAL)
            page.wait_for_selector("[data-testid=history][data-state=done]")
            assert "No history kept" in page.get_by_test_id("history-none").inner_text()
            assert page.get_by_test_id("history-version").count() == len(answer["versions"])
            assert page.get_by_test_id("history-view-as-of").count() == 0
    finally:
        stop_server(running)
