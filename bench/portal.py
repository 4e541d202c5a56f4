"""The portal in a real headless Chromium against a running `kg serve`: first paint and the
moment each page is usable, next to the API answer the page is built from (the same run's
baseline: what any client would wait for anyway).

    python -m bench.portal --url http://127.0.0.1:8000 --asset model/m1/v1 --lineage dataset/d1

`bench.run` calls `measure` at each scale; the goal is under 1 s for each page."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

# as root, with no network beyond loopback: no sandbox, no background calls home
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
GOAL_MS = 1000.0


@dataclass
class Figure:
    page: str
    first_paint: float  # ms from navigation start
    ready: float  # ms from navigation start to the page's `kg-ready` mark
    api: float  # ms for the API answer the page is built from, fetched alone
    blocked: float  # ms of main-thread tasks over 50 ms (long tasks) until ready


def _api_ms(url: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as answer:  # noqa: S310 (loopback)
            answer.read()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


_OBSERVE = """
window.__kgLong = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__kgLong += entry.duration;
}).observe({ type: "longtask", buffered: true });
"""

_READ = """() => {
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const ready = performance.getEntriesByName("kg-ready")[0];
  return [paint ? paint.startTime : -1, ready ? ready.startTime : -1, window.__kgLong || 0];
}"""


def _page_ms(browser: Any, url: str, wait: str, runs: int) -> tuple[float, float, float]:
    """Median first paint, ready and long-task time over `runs` cold visits (a new context each:
    nothing cached)."""
    paints, readies, longs = [], [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.add_init_script(_OBSERVE)
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector("main[data-ready=true]", timeout=120_000)
        if wait:
            page.wait_for_selector(wait, state="attached", timeout=120_000)
        paint, ready, long = page.evaluate(_READ)
        paints.append(paint)
        readies.append(ready)
        longs.append(long)
        context.close()
    return statistics.median(paints), statistics.median(readies), statistics.median(longs)


def chromium() -> str | None:
    """The machine's Chromium: KG_CHROMIUM, else the first one on PATH."""
    named = os.environ.get("KG_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def measure(
    url: str, asset: str, lineage: str, direction: str = "downstream", runs: int = 5
) -> list[Figure]:
    """The home page, the asset page of `asset` and the lineage picture of `lineage`."""
    from playwright.sync_api import sync_playwright

    path = chromium()
    if path is None:
        raise RuntimeError("no Chromium on this machine (apt-get install chromium)")
    quoted = urllib.parse.quote(asset, safe="")
    node = urllib.parse.quote(lineage, safe="")
    pages = [
        ("home (search)", "/", "[data-testid=search-input]", "/api/v1/search?q=&limit=20"),
        ("asset page", f"/asset?id={quoted}", "[data-testid=asset-title]", f"/api/v1/assets/{quoted}"),
        (
            "lineage picture",
            f"/lineage?nodeId={node}&direction={direction}",
            "[data-testid=lineage-node]",
            f"/api/v1/lineage?nodeId={node}&direction={direction}",
        ),
    ]  # fmt: skip
    figures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            for name, page_path, wait, api_path in pages:
                _page_ms(browser, url + page_path, wait, 1)  # the server's caches, warmed
                paint, ready, long = _page_ms(browser, url + page_path, wait, runs)
                figures.append(Figure(name, paint, ready, _api_ms(url + api_path, runs), long))
        finally:
            browser.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--asset", required=True)
    parser.add_argument("--lineage", required=True)
    parser.add_argument("--direction", default="downstream")
    args = parser.parse_args()
    for f in measure(args.url, args.asset, args.lineage, args.direction):
        print(
            f"{f.page}: first paint {f.first_paint:.0f} ms, ready {f.ready:.0f} ms "
            f"(goal {GOAL_MS:.0f}), API alone {f.api:.0f} ms, long tasks {f.blocked:.0f} ms"
        )


if __name__ == "__main__":
    main()
