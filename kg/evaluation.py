"""Where long reads run, and how they are stopped.

pyoxigraph cannot cancel a query once it runs, and a thread cannot be killed: a runaway query
in the server's own process would keep a core busy long after its client was told it timed
out. So on an on-disk store every job of kg.jobs (SPARQL, named queries, validation, exports,
graph sizes) runs in one of at most KG_QUERY_WORKERS worker processes, each reading a view of
the store (a read-only checkpoint made after the last write, see OxigraphStore.view). A job past
its budget, or whose client went away, has its worker killed (SIGKILL): the CPU is back at
once, and a fresh worker is started in the background. A job waits at most KG_QUERY_QUEUE
seconds for a free worker, else 503.

An in-memory store cannot be shared with another process: its jobs run in threads under the
same limit of KG_QUERY_WORKERS, and a thread past its budget keeps its slot until it finishes,
so runaways can make the service busy (503) but never pile up past the limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread

from kg.config import Settings
from kg.errors import BusyError, KGError
from kg.store import GraphStore, OxigraphStore, open_view

T = TypeVar("T")
_MESSAGE_LIMIT = 2000  # characters of an error a worker reports


class EvaluationError(KGError):
    """A kg error raised inside a worker, with the status and title it had there."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title


def _serve(conn: Connection) -> None:
    """A worker: run jobs on the view each message names until the parent goes away."""
    store: OxigraphStore | None = None
    opened: str | None = None
    while True:
        try:
            view, module, name, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if view != opened:
                if store is not None:
                    store.close()
                    store = None
                store, opened = open_view(Path(view)), view
            job = getattr(importlib.import_module(module), name)
            reply: tuple[Any, ...] = ("ok", job(store, *args, **kwargs))
        except KGError as exc:
            reply = ("error", exc.status, exc.title, exc.message[:_MESSAGE_LIMIT])
        except Exception as exc:  # reported, not raised: the worker stays up for the next job
            reply = ("error", 500, "Internal error", f"{type(exc).__name__}: {exc}"[:500])
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


class _Worker:
    """A worker process: a fresh interpreter running this module, talking over a socket pair
    (not multiprocessing's spawn, which would re-import the parent's main script)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(  # noqa: S603  # our own interpreter and module
            [sys.executable, "-m", "kg.evaluation", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.view: Path | None = None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.wait(5)
        with contextlib.suppress(Exception):
            self.conn.close()

    def alive(self) -> bool:
        return self.process.poll() is None


class Evaluator:
    """Runs kg.jobs functions under the settings' budgets, isolated where the store allows."""

    def __init__(self, store: GraphStore, settings: Callable[[], Settings]) -> None:
        self.store = store
        self.settings = settings
        self.isolated = isinstance(store, OxigraphStore) and store.views_folder() is not None
        self._slots = anyio.CapacityLimiter(max(1, settings().query_workers))
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.killed = 0  # workers stopped at their deadline, for tests and /healthz-like checks

    # -- the pool

    def start(self, count: int | None = None) -> None:
        """Start workers in the background, so the first queries do not wait for them."""
        if not self.isolated:
            return
        wanted = self.settings().query_workers if count is None else count

        def fill() -> None:
            for _ in range(wanted):
                with self._lock:
                    if self._closed or len(self._idle) + len(self._busy) >= wanted:
                        return
                worker = _Worker()
                with self._lock:
                    if self._closed:
                        worker.kill()
                        return
                    self._idle.append(worker)

        threading.Thread(target=fill, name="kg-worker-start", daemon=True).start()

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    self._busy.add(worker)
                    return worker
                worker.kill()
        worker = _Worker()
        with self._lock:
            self._busy.add(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            if self._closed:
                worker.kill()
                return
            self._idle.append(worker)
            in_use = {w.view for w in [*self._idle, *self._busy] if w.view is not None}
        assert isinstance(self.store, OxigraphStore)
        self.store.prune_views(in_use)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._busy.discard(worker)
        self.killed += 1
        self.start(1)  # a replacement, in the background

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = [*self._idle, *self._busy]
            self._idle.clear()
        for worker in workers:
            worker.kill()

    # -- running a job

    async def run(
        self,
        job: Callable[..., T],
        *args: Any,
        budget: float,
        setting: str = "KG_QUERY_TIMEOUT",
        on: OxigraphStore | None = None,
        **kwargs: Any,
    ) -> T:
        """`job(store, *args, **kwargs)` within `budget` seconds, or a 503 (BusyError). `on`:
        another store to run it on (the graph as of a moment, kg.history.state), read-only."""
        settings = self.settings()
        workers = max(1, settings.query_workers)
        if self._slots.total_tokens != workers:
            self._slots.total_tokens = workers
        borrower = object()  # one token per job: a thread may hold it past its request
        try:
            with anyio.fail_after(settings.query_queue):
                await self._slots.acquire_on_behalf_of(borrower)
        except TimeoutError:
            raise BusyError(
                f"all {workers} evaluation workers are busy (KG_QUERY_WORKERS); try again later"
            ) from None
        if self.isolated and (on is None or on.path is not None):
            try:
                return await self._in_worker(job, args, kwargs, budget, setting, on)
            finally:
                self._slots.release_on_behalf_of(borrower)
        return await self._in_thread(job, args, kwargs, budget, setting, borrower, on)

    def _past_budget(self, budget: float, setting: str) -> BusyError:
        return BusyError(
            f"the work ran past its time budget of {budget:g} s ({setting}) and was stopped"
        )

    async def _in_worker(
        self,
        job: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        budget: float,
        setting: str,
        on: OxigraphStore | None = None,
    ) -> T:
        assert isinstance(self.store, OxigraphStore)
        with anyio.CancelScope(shield=True):  # a worker taken is always given back or killed
            view = on.path if on is not None else await anyio.to_thread.run_sync(self.store.view)
            worker = await anyio.to_thread.run_sync(self._take)
        worker.view = view
        finished = False
        try:
            worker.conn.send((str(view), job.__module__, job.__name__, args, kwargs))
            with anyio.fail_after(budget):
                await anyio.wait_readable(worker.conn.fileno())
                # the event loop may have made the socket non-blocking; the rest of a large
                # answer is read in a thread, blocking
                os.set_blocking(worker.conn.fileno(), True)
                reply = await anyio.to_thread.run_sync(worker.conn.recv)
            finished = True
        except TimeoutError:
            raise self._past_budget(budget, setting) from None
        except (EOFError, OSError) as exc:  # the worker died (out of memory, a crash)
            raise EvaluationError(
                500, "Internal error", f"the evaluation worker stopped: {exc}"
            ) from None
        finally:
            if finished:
                self._give_back(worker)
            else:  # past its budget, cancelled (client gone) or dead: stop it now
                self._discard(worker)
        if reply[0] == "ok":
            return reply[1]  # type: ignore[no-any-return]
        raise EvaluationError(reply[1], reply[2], reply[3])

    async def _in_thread(
        self,
        job: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        budget: float,
        setting: str,
        borrower: object,
        on: OxigraphStore | None = None,
    ) -> T:
        store = on if on is not None else self.store

        def run() -> T:
            try:
                return job(store, *args, **kwargs)
            finally:  # the slot is held until the work really ends, even if abandoned
                with contextlib.suppress(RuntimeError):  # the event loop may have ended
                    anyio.from_thread.run_sync(self._slots.release_on_behalf_of, borrower)

        try:
            with anyio.fail_after(budget):
                return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except TimeoutError:
            raise self._past_budget(budget, setting) from None


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the server process ends, however it ends."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


if __name__ == "__main__":
    _die_with_parent()
    _serve(Connection(int(sys.argv[1])))
