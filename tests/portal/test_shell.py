"""Every page's shell loads in the browser: its script runs, nothing leaves the origin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.portal.conftest import ready

pytestmark = pytest.mark.embedded_only("a browser on its own `kg serve --demo`, embedded")

PAGES = [
    "/",
    "/id/dataset/playback-events-raw",
    "/lineage?nodeId=service/homepage",
    "/impact?nodeId=dataset/playback-events-raw",
    "/governance",
    "/sparql",
    "/docs",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_starts(page: Any, path: str) -> None:
    ready(page, path)
    assert page.locator("[data-testid=nav-search]").count() == 1
    assert page.locator("[data-testid=error]").count() == 0
