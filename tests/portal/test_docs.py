"""The HTTP API's documentation at /docs: Swagger UI from kg's own origin lists every documented
operation of /openapi.json, and "Try it out" runs against the server, nothing leaving it (the
page fixture fails the test on any request elsewhere, such as a validator badge)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.portal.conftest import (
    Server,
    ready,
    start_server,
    stop_server,
    watched_tab,
)

pytestmark = pytest.mark.embedded_only("a browser on its own `kg serve --demo`, embedded")

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

TOKEN = "docs-test-token"  # noqa: S105 (a test server's token)


def api_json(server: Server, path: str) -> Any:
    with urllib.request.urlopen(server.url + path, timeout=30) as response:  # noqa: S310
        return json.load(response)


def operation(page: Any, method: str, path: str) -> Any:
    return page.locator(f".opblock-{method}:has(.opblock-summary-path[data-path='{path}'])")


def try_it(page: Any, method: str, path: str, **values: str) -> Any:
    """Open an operation, fill its parameters, execute; the live response's block."""
    block = operation(page, method, path)
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    for name, value in values.items():
        block.locator(f"tr[data-param-name={name}] input").fill(value)
    block.locator("button.execute").click()
    live = block.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status")).to_be_visible()
    return live


def test_docs_list_the_operations_and_run_them_here(page: Any, server: Server, shoot: Any) -> None:
    spec = api_json(server, "/openapi.json")
    ready(page, "/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.get_by_text("Upstream and/or downstream lineage")).to_be_visible()
    shown = set(page.locator(".opblock-summary-description").all_inner_texts())
    documented = {
        op["summary"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "head", "patch"} and op.get("summary")
    }
    assert documented <= shown
    assert page.locator(".opblock").count() == sum(
        1
        for item in spec["paths"].values()
        for m in item
        if m in {"get", "put", "post", "delete", "head", "patch"}
    )
    shoot(page, "docs")

    # the write operations are locked (the document's bearer scheme), reads are not
    expect(page.locator(".auth-wrapper .btn.authorize")).to_be_visible()
    locked = {
        (op["method"], op["path"])
        for op in page.locator(".opblock").evaluate_all(
            """(all) => all.map((block) => ({
                 method: block.querySelector('.opblock-summary-method').innerText.toLowerCase(),
                 path: block.querySelector('.opblock-summary-path').dataset.path,
                 locked: Boolean(block.querySelector('.authorization__btn')) }))
               .filter((op) => op.locked)"""
        )
    }
    assert locked == {
        (method, path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if op.get("security")
    }
    assert ("delete", "/api/v1/assets/{identifier}") in locked

    stats = api_json(server, "/api/v1/stats")
    live = try_it(page, "get", "/api/v1/stats")
    expect(live.locator(".response-col_status")).to_have_text("200")
    body = json.loads(live.locator(".response-col_description pre.microlight").first.inner_text())
    assert body["triples"] == stats["triples"]
    assert body["assets_by_type"] == stats["assets_by_type"]


@pytest.fixture
def guarded(tmp_path: Path, chromium_path: str) -> Iterator[Server]:
    """A demo server that takes writes from token holders only."""
    running = start_server(tmp_path / "store", "--demo", env={"KG_API_TOKENS": TOKEN})
    yield running
    stop_server(running)


def test_a_write_carries_the_token_signed_in_with(browser: Any, guarded: Server) -> None:
    with watched_tab(browser, guarded) as page:
        ready(page, "/docs")
        authorize = page.locator(".auth-wrapper .btn.authorize")
        expect(authorize).to_have_class(re.compile(r"\bunlocked\b"))
        page.click("[data-testid=token-button]")
        page.fill("[data-testid=token-input]", TOKEN)
        page.click("[data-testid=token-save]")
        expect(page.locator("[data-testid=token-button]")).to_contain_text("Signed in")
        # Swagger UI's own authorization now holds the portal's token
        expect(authorize).to_have_class(re.compile(r"\blocked\b"))

        live = try_it(
            page, "delete", "/api/v1/assets/{identifier}", identifier="dataset/legacy-ratings"
        )
        expect(live.locator(".response-col_status")).to_have_text("204")
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(  # noqa: S310 (loopback)
                guarded.url + "/api/v1/assets/dataset/legacy-ratings", timeout=30
            )
        gone.value.close()  # the error holds the connection
        assert gone.value.code == 404

        # a page opened signed in starts authorized; signed out, Swagger sends no token (the
        # request is answered here, not by the server: its 401 would be a console error)
        ready(page, "/docs")
        expect(authorize).to_have_class(re.compile(r"\blocked\b"))
        page.click("[data-testid=token-button]")  # signs out
        expect(authorize).to_have_class(re.compile(r"\bunlocked\b"))
        sent: list[dict[str, str]] = []

        def answer_here(route: Any) -> None:
            sent.append(route.request.headers)
            route.fulfill(status=204)

        page.route("**/api/v1/assets/**", answer_here)
        live = try_it(
            page, "delete", "/api/v1/assets/{identifier}", identifier="dataset/title-metadata"
        )
        expect(live.locator(".response-col_status")).to_have_text("204")
        assert len(sent) == 1 and "authorization" not in sent[0]
