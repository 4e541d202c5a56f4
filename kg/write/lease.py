"""One writer at a time on a store that several kg processes share.

The embedded store is opened by one process only (RocksDB's lock), so a lock in that process
orders its writes. A SPARQL server is shared by every kg process (and `kg` commands) pointed at
it, and the SPARQL 1.1 Protocol gives no compare-and-set: two update requests running at once
each see the store as it was when they began (measured on Oxigraph server: of 240 conditional
"move the head from h to h+1" updates sent by six writers at once, 16 moved it from the same h).
So writers take turns through a claim protocol that needs only what every server gives: a
request that has been answered is seen by every later request.

To write, a process

1. reads the claims (`urn:kg:graph:writer:<id>`, each naming when it was made or renewed); while
   another live claim exists, it waits (with jitter) and reads again;
2. adds its own claim, then reads the claims again: if it sees only its own, it holds the store;
   if it sees another, it withdraws its claim, waits a random while and starts over.

Two processes cannot both see themselves alone: the one that reads second added its claim
before reading, after the first one had added its own. The holder withdraws its claim once its
write is committed or refused. A claim not renewed for `lease` seconds is stale (its process
died mid-write) and is removed by the next writer; the holder renews its claim from a thread
while it writes, so a write may take as long as it needs. What this cannot rule out: a holder
paused (not killed) for longer than the lease, which then writes after another holder has
begun; keep the lease well above the longest pause (default 30 s).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pyoxigraph as ox

from kg.errors import BusyError
from kg.graphs import WRITER_GRAPH_PREFIX
from kg.store import GraphStore, GraphWrite
from kg.vocab import XSD, mlg

CLAIMED = mlg("claimedAt")
_DATETIME = ox.NamedNode(XSD + "dateTime")


class Lease:
    """Turns at writing a shared store, for the threads of one process (see the module)."""

    def __init__(self, store: GraphStore, *, lease: float = 30.0, wait: float = 120.0) -> None:
        self.store = store
        self.lease = lease
        self.wait = wait  # how long a writer waits for its turn before giving up (BusyError)
        self._local = threading.Lock()  # one claim per process at a time

    @contextmanager
    def held(self) -> Iterator[ox.NamedNode]:
        """Hold the store for one write (the claim is withdrawn when it ends)."""
        with self._local:
            claim = self._acquire()
            stop = threading.Event()
            renewer = threading.Thread(
                target=self._renew, args=(claim, stop), name="kg-lease", daemon=True
            )
            renewer.start()
            try:
                yield claim
            finally:
                stop.set()
                renewer.join()
                self.store.commit(GraphWrite(replace={}, drop=[claim]))

    def _acquire(self) -> ox.NamedNode:
        claim = ox.NamedNode(f"{WRITER_GRAPH_PREFIX}{uuid.uuid4()}")
        deadline = time.monotonic() + self.wait
        pause = 0.002
        while True:
            others = self._live_others(claim)
            if not others:
                self._stamp(claim)
                if not self._live_others(claim):
                    return claim
                self.store.commit(GraphWrite(replace={}, drop=[claim]))  # both claimed: back off
            if time.monotonic() > deadline:
                raise BusyError(
                    f"another kg process has been writing to the store for over {self.wait:.0f} s"
                )
            time.sleep(pause * (1 + random.random()))  # noqa: S311 (jitter, not secrecy)
            pause = min(pause * 2, 0.25)

    def _stamp(self, claim: ox.NamedNode) -> None:
        now = ox.Literal(dt.datetime.now(dt.UTC).isoformat(), datatype=_DATETIME)
        self.store.commit(GraphWrite(replace={claim: [ox.Triple(claim, CLAIMED, now)]}))

    def _renew(self, claim: ox.NamedNode, stop: threading.Event) -> None:
        while not stop.wait(self.lease / 3):
            self._stamp(claim)

    def _claims(self) -> dict[str, dt.datetime]:
        found: dict[str, dt.datetime] = {}
        for quad in self.store.quads(None, CLAIMED, None):
            graph = quad.graph_name
            if isinstance(graph, ox.NamedNode) and graph.value.startswith(WRITER_GRAPH_PREFIX):
                made = quad.object.value if isinstance(quad.object, ox.Literal) else ""
                try:
                    found[graph.value] = dt.datetime.fromisoformat(made)
                except ValueError:  # not kg's: stale at once
                    found[graph.value] = dt.datetime.min.replace(tzinfo=dt.UTC)
        return found

    def _live_others(self, claim: ox.NamedNode) -> list[str]:
        """The other claims; stale ones (older than the lease) are removed on the way."""
        now = dt.datetime.now(dt.UTC)
        live: list[str] = []
        stale: list[str] = []
        for graph, made in self._claims().items():
            if graph == claim.value:
                continue
            (stale if (now - made).total_seconds() > self.lease else live).append(graph)
        if stale:
            self.store.commit(GraphWrite(replace={}, drop=[ox.NamedNode(g) for g in stale]))
        return live


class WriteTurns(AbstractContextManager[None]):
    """Whose turn it is to write: one thread of this process at a time (re-entrant, so a
    write that reads the store before it writes holds its turn throughout), and on a shared
    store one process at a time (the `Lease`). `on_turn` runs at the start of each outermost
    turn, once the turn is held: the process catches up with what others wrote, so what it
    reads and checks is the store as it is."""

    def __init__(self, lease: Lease | None, on_turn: Callable[[], object]) -> None:
        self.local = threading.RLock()  # also taken alone by the thread following the log
        self._lease = lease
        self._on_turn = on_turn
        self._depth = 0
        self._held: AbstractContextManager[ox.NamedNode] | None = None

    def __enter__(self) -> None:
        self.local.acquire()
        try:
            if self._depth == 0:
                if self._lease is not None:
                    held = self._lease.held()
                    held.__enter__()
                    self._held = held
                self._depth = 1
                self._on_turn()
            else:
                self._depth += 1
        except BaseException:
            self._leave(*sys.exc_info())
            raise

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: object
    ) -> None:
        self._leave(kind, error, trace)

    def _leave(self, kind: object, error: object, trace: object) -> None:
        try:
            self._depth = max(0, self._depth - 1)
            if self._depth == 0 and self._held is not None:
                held, self._held = self._held, None
                held.__exit__(None, None, None)
        finally:
            self.local.release()
