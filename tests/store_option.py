"""`--store=embedded|oxigraph-server` (or KG_TEST_STORE): the store under every KnowledgeGraph
the tests open in-process.

With `oxigraph-server`, each one gets a RemoteStore on a real `oxigraph serve` (PyPI `oxigraph`,
the dev extra), put in at the one door a graph gets its store through (`kg.graph._open_store`):

* a memory store: an in-memory server from a pool, emptied (DROP ALL) as it is handed out and
  back in the pool when the graph closes (or is dropped unclosed);
* an on-disk store at a path: a server whose data lives in that folder (`PATH/oxigraph-server`),
  so a close and a reopen of the path see the same data, as the embedded store does, and a path
  that is not there yet is a new, empty store. Past a few idle ones the least recently used is
  stopped, and started again on its folder when its path is opened again.

Settings that already name a server are left as they are. Tests marked `embedded_only(reason)`
skip in that pass (they look inside the embedded store, or run processes on an embedded
folder); every server stops at the end of the session.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import kg.graph
from kg.config import Settings
from kg.remote import RemoteStore, endpoints
from kg.store import GraphStore

STORES = ("embedded", "oxigraph-server")
SERVER_FOLDER = "oxigraph-server"  # inside the store's folder: the server's own data
STARTED = pytest.StashKey[list[str]]()  # the servers' URLs, for the summary
SKIP_PREFIX = "embedded_only: "
_IDLE_FOLDERS = 4  # on-disk servers kept running while no graph uses them


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--store",
        default=os.environ.get("KG_TEST_STORE", "embedded"),
        help="the store the tests' graphs stand on: embedded (default) or oxigraph-server "
        "(a live `oxigraph serve` per graph); also KG_TEST_STORE",
    )


def _on_server(config: pytest.Config) -> bool:
    return bool(config.getoption("--store") == "oxigraph-server")


def pytest_configure(config: pytest.Config) -> None:
    chosen = config.getoption("--store")
    if chosen not in STORES:
        raise pytest.UsageError(f"--store={chosen}: one of {', '.join(STORES)}")
    if _on_server(config):
        from tests.oxigraph_server import binary

        if binary() is None:
            raise pytest.UsageError(
                "--store=oxigraph-server needs the oxigraph server (pip install -e '.[dev]')"
            )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _on_server(config):
        return
    for item in items:
        marker = item.get_closest_marker("embedded_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=SKIP_PREFIX + str(reason)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _on_server(terminalreporter.config):
        return
    skipped = [
        r
        for r in terminalreporter.stats.get("skipped", [])
        if isinstance(r.longrepr, tuple) and SKIP_PREFIX in str(r.longrepr[2])
    ]
    started = len(terminalreporter.config.stash.get(STARTED, []))
    terminalreporter.write_line(
        f"store: oxigraph-server ({started} servers started); "
        f"{len(skipped)} tests skipped as embedded_only"
    )


@pytest.fixture(scope="session", autouse=True)
def _store_under_test(request: pytest.FixtureRequest) -> Iterator[None]:
    if not _on_server(request.config):
        yield
        return
    servers = _Servers(kg.graph._open_store)
    request.config.stash[STARTED] = servers.started
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kg.graph, "_open_store", servers.open_store)
        try:
            yield
        finally:
            servers.stop()


@dataclass
class _Running:
    """One `oxigraph serve`, stopped by closing its stack."""

    url: str
    clear: Callable[[], None]
    stack: contextlib.ExitStack


@dataclass
class _Folder:
    location: Path
    running: _Running | None = None
    users: int = 0
    last_used: int = 0


@dataclass
class _Servers:
    original: Callable[[Settings], GraphStore]
    _idle: list[_Running] = field(default_factory=list)  # in-memory servers no graph uses
    _lent: list[_Running] = field(default_factory=list)
    _folders: dict[Path, _Folder] = field(default_factory=dict)
    # what closed or collected stores gave back, settled at the next open: a store's finalizer
    # may run in the middle of anything (the garbage collector), so it only appends here
    _returned: collections.deque[_Running | _Folder] = field(default_factory=collections.deque)
    started: list[str] = field(default_factory=list)
    _clock: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def open_store(self, settings: Settings) -> GraphStore:
        if settings.sparql_endpoints() is not None:
            return self.original(settings)
        path = settings.store_path()
        with self._lock:
            self._settle()
            taken = self._memory() if path is None else self._folder(path)
        running = taken if isinstance(taken, _Running) else taken.running
        assert running is not None
        if path is None:
            running.clear()
        return _Lent(running.url, settings.sparql_timeout, lambda: self._returned.append(taken))

    def _memory(self) -> _Running:
        running = self._idle.pop() if self._idle else self._start(None)
        self._lent.append(running)
        return running

    def _folder(self, path: Path) -> _Folder:
        location = path.resolve() / SERVER_FOLDER
        folder = self._folders.setdefault(location, _Folder(location))
        if not location.exists() and folder.running is not None:
            # the test removed the store under its idle server: a new store from here on
            folder.running.stack.close()
            folder.running = None
        location.mkdir(parents=True, exist_ok=True)
        if folder.running is None:
            folder.running = self._start(location)
        folder.users += 1
        return folder

    def _settle(self) -> None:
        while self._returned:
            given = self._returned.popleft()
            if isinstance(given, _Running):
                self._lent.remove(given)
                self._idle.append(given)
            else:
                given.users -= 1
                self._clock += 1
                given.last_used = self._clock
        idle = [f for f in self._folders.values() if f.running is not None and f.users == 0]
        surplus = len(idle) - _IDLE_FOLDERS
        for stale in sorted(idle, key=lambda f: f.last_used)[: max(0, surplus)]:
            assert stale.running is not None
            stale.running.stack.close()
            stale.running = None

    def _start(self, location: Path | None) -> _Running:
        from tests.oxigraph_server import oxigraph_server

        stack = contextlib.ExitStack()
        server = stack.enter_context(oxigraph_server(location))
        self.started.append(server.url)
        return _Running(server.url, server.clear, stack)

    def stop(self) -> None:
        with self._lock:
            running = [*self._idle, *self._lent]
            running += [f.running for f in self._folders.values() if f.running is not None]
            for one in running:
                one.stack.close()


class _Lent(RemoteStore):
    """A RemoteStore that gives its server back when it closes or is dropped."""

    def __init__(self, url: str, timeout: float, give_back: Callable[[], None]) -> None:
        super().__init__(*endpoints(url), timeout=timeout)
        self._release = weakref.finalize(self, give_back)  # runs once, whichever comes first

    def close(self) -> None:
        super().close()
        self._release()
