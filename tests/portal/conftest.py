"""The portal as a user meets it: a real `kg serve` with the demo, driven by a real headless
Chromium (the machine's own, Debian's `chromium`; Playwright drives it and never downloads one).

Every page a test opens is watched: a request that leaves the origin is refused and named, and
a console error or an uncaught exception fails the test. With KG_SCREENSHOTS=<folder> the
tests save the pictures the README shows (`make screenshots`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.portal import CHROMIUM_FLAGS, chromium
from kg.portal import files
from tests.conftest import stop_process

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    store: Path


def start_server(store: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    """`kg serve` on a free loopback port, answering /healthz."""
    port = free_port()
    command = [sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", str(port)]
    environment = {**os.environ, **(env or {})}
    environment.pop("KG_URL", None)
    log = store.with_name(store.name + ".log")  # a file: a pipe nobody reads would fill up
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, *args], env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kg serve ended at start: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310 (loopback)
                return Server(url, process, store)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("kg serve did not answer /healthz within 60 s")


def stop_server(server: Server) -> None:
    stop_process(server.process)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    if not files.installed():
        pytest.skip("the portal's browser libraries are not installed (make setup)")
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Server]:
    """The demo organisation, served as `make run` serves it."""
    running = start_server(tmp_path_factory.mktemp("portal") / "store", "--demo")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    # per module: Playwright's sync API keeps an event loop in the main thread while it runs,
    # which the tests after the portal's (anyio's test clients) must not find there
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@dataclass
class Watch:
    """What a page did that a user would not want: requests elsewhere, console errors."""

    origin: str
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert not self.outside, f"requests left the origin: {self.outside}"
        assert not self.errors, f"console errors: {self.errors}"


def open_context(browser: Any, origin: str, **options: Any) -> tuple[Any, Watch]:
    """A fresh browser context on `origin` whose pages are watched."""
    context = browser.new_context(
        base_url=origin, viewport={"width": 1400, "height": 900}, **options
    )
    watch = Watch(origin)

    def route(route: Any) -> None:
        if route.request.url.startswith((origin + "/", "data:", "blob:")):
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)

    def on_page(page: Any) -> None:
        page.on(
            "console",
            lambda message: (
                watch.errors.append(f"{page.url}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: watch.errors.append(f"{page.url}: {error}"))

    context.on("page", on_page)
    return context, watch


@contextmanager
def watched_tab(browser: Any, server: Server, timeout: float = 15_000) -> Iterator[Any]:
    """A tab in a fresh watched context on `server`; what the watch saw fails the test once
    the block has run."""
    context, watch = open_context(browser, server.url)
    tab = context.new_page()
    tab.set_default_timeout(timeout)
    try:
        yield tab
    finally:
        context.close()
    watch.check()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A watched tab on the demo server; the test fails on what the watch saw."""
    with watched_tab(browser, server) as tab:
        yield tab


def ready(page: Any, path: str) -> Any:
    """Open `path` and wait until its script has filled the page."""
    page.goto(path)
    page.wait_for_selector("main[data-ready=true]")
    return page


@pytest.fixture
def shoot() -> Callable[[Any, str], None]:
    """Save a picture of the page for the README when KG_SCREENSHOTS names a folder."""
    folder = os.environ.get("KG_SCREENSHOTS")

    def take(page: Any, name: str) -> None:
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)

    return take
