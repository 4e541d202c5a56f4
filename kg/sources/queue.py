"""The durable queue of thin events: what to hydrate, kept in SQLite beside the store.

An event is acknowledged only once its row is committed (WAL, synchronous FULL), so a crash
after the answer loses nothing. One row per entity: a second event for an entity still pending
is the same work (it asks the source for the state as it is then), so it only marks the row
again; the mark (`seq`) tells the worker, when it finishes, whether another event came in the
meantime, in which case the entity is hydrated once more.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kg.sources.base import EntityRef

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL, kind TEXT NOT NULL, entity TEXT NOT NULL,
    received REAL NOT NULL, seq INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', reason TEXT,
    cause TEXT NOT NULL DEFAULT 'event',
    UNIQUE (source, kind, entity)
);
CREATE INDEX IF NOT EXISTS due ON events (state, next_at);
CREATE TABLE IF NOT EXISTS syncs (
    source TEXT PRIMARY KEY, started REAL, finished REAL, listed INTEGER, removed INTEGER,
    error TEXT
);
CREATE TABLE IF NOT EXISTS hydrated (
    source TEXT PRIMARY KEY, count INTEGER NOT NULL, last_at REAL NOT NULL, last_entity TEXT
);
"""


@dataclass(frozen=True)
class Event:
    """A row taken to work on: the entity, and the mark it had when taken."""

    row: int
    ref: EntityRef
    seq: int
    attempts: int
    cause: str = "event"  # what queued it: an event, a sync, or another hydration ("follow")


@dataclass(frozen=True)
class Failure:
    ref: EntityRef
    attempts: int
    reason: str
    at: float


class EventQueue:
    """Pending hydrations, per source; `path` None keeps them in memory (a memory store)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False, isolation_level=None
        )
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self.arrived = threading.Event()  # set when events come in: the worker wakes up

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def put(self, refs: Iterable[EntityRef], now: float | None = None, cause: str = "event") -> int:
        """Queue the entities (committed when this returns); how many were not pending yet.
        A pending row keeps the strongest cause: an event over a sync over a follow-up."""
        at = time.time() if now is None else now
        new = 0
        with self._transaction() as db:
            for ref in refs:
                found = db.execute(
                    "SELECT id, state FROM events WHERE source=? AND kind=? AND entity=?",
                    (ref.source, ref.kind, ref.id),
                ).fetchone()
                if found is None:
                    db.execute(
                        "INSERT INTO events (source, kind, entity, received, next_at, cause) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (ref.source, ref.kind, ref.id, at, at, cause),
                    )
                    new += 1
                elif found[1] == "failed":  # asked again: a fresh start
                    db.execute(
                        "UPDATE events SET state='pending', attempts=0, next_at=?, seq=seq+1, "
                        "reason=NULL, cause=? WHERE id=?",
                        (at, cause, found[0]),
                    )
                    new += 1
                else:  # pending (maybe waiting out a backoff, maybe being hydrated now)
                    db.execute(
                        "UPDATE events SET seq=seq+1, cause=CASE WHEN ?='event' OR "
                        "(?='sync' AND cause='follow') THEN ? ELSE cause END WHERE id=?",
                        (cause, cause, cause, found[0]),
                    )
        self.arrived.set()
        return new

    def due(self, source: str, limit: int, now: float | None = None) -> list[Event]:
        at = time.time() if now is None else now
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, entity, seq, attempts, cause FROM events WHERE source=? AND "
                "state='pending' AND next_at<=? ORDER BY next_at, id LIMIT ?",
                (source, at, limit),
            ).fetchall()
        return [Event(r[0], EntityRef(source, r[1], r[2]), r[3], r[4], r[5]) for r in rows]

    def next_due(self) -> float | None:
        """When the earliest pending event is due (None: nothing pending)."""
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_at) FROM events WHERE state='pending'"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def done(self, event: Event, now: float | None = None) -> bool:
        """The entity is hydrated: its row goes, unless an event came in since it was taken
        (then it stays due at once). True when the row went."""
        at = time.time() if now is None else now
        with self._transaction() as db:
            gone = db.execute(
                "DELETE FROM events WHERE id=? AND seq=?", (event.row, event.seq)
            ).rowcount
            if not gone:
                db.execute("UPDATE events SET attempts=0, next_at=? WHERE id=?", (at, event.row))
            db.execute(
                "INSERT INTO hydrated (source, count, last_at, last_entity) VALUES (?, 1, ?, ?) "
                "ON CONFLICT(source) DO UPDATE SET count=count+1, last_at=excluded.last_at, "
                "last_entity=excluded.last_entity",
                (event.ref.source, at, event.ref.key),
            )
        return bool(gone)

    def retry(self, event: Event, delay: float, reason: str, now: float | None = None) -> None:
        at = time.time() if now is None else now
        with self._transaction() as db:
            db.execute(
                "UPDATE events SET attempts=attempts+1, next_at=?, reason=? WHERE id=?",
                (at + delay, reason, event.row),
            )

    def fail(self, event: Event, reason: str) -> None:
        """Given up on until the next event for it or the next sync."""
        with self._transaction() as db:
            db.execute(
                "UPDATE events SET state='failed', attempts=attempts+1, reason=? WHERE id=? "
                "AND seq=?",
                (reason, event.row, event.seq),
            )

    def pending(self, source: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM events WHERE source=? AND state='pending'", (source,)
            ).fetchone()
        return int(row[0])

    def failures(self, source: str, limit: int = 50) -> tuple[int, list[Failure]]:
        with self._lock:
            total = self._db.execute(
                "SELECT COUNT(*) FROM events WHERE source=? AND state='failed'", (source,)
            ).fetchone()[0]
            rows = self._db.execute(
                "SELECT kind, entity, attempts, reason, next_at FROM events WHERE source=? AND "
                "state='failed' ORDER BY next_at DESC LIMIT ?",
                (source, limit),
            ).fetchall()
        return int(total), [
            Failure(EntityRef(source, r[0], r[1]), r[2], r[3] or "", r[4]) for r in rows
        ]

    def waiting(self, source: str, limit: int = 20) -> list[tuple[EntityRef, int, str | None]]:
        """Pending entities that failed at least once: (entity, attempts, last reason)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, entity, attempts, reason FROM events WHERE source=? AND "
                "state='pending' AND attempts>0 ORDER BY next_at LIMIT ?",
                (source, limit),
            ).fetchall()
        return [(EntityRef(source, r[0], r[1]), r[2], r[3]) for r in rows]

    def sync_started(self, source: str, now: float | None = None) -> None:
        at = time.time() if now is None else now
        with self._transaction() as db:
            db.execute(
                "INSERT INTO syncs (source, started) VALUES (?, ?) ON CONFLICT(source) "
                "DO UPDATE SET started=excluded.started",
                (source, at),
            )

    def sync_finished(
        self, source: str, listed: int, removed: int, error: str | None, now: float | None = None
    ) -> None:
        at = time.time() if now is None else now
        with self._transaction() as db:
            db.execute(
                "UPDATE syncs SET finished=?, listed=?, removed=?, error=? WHERE source=?",
                (at, listed, removed, error, source),
            )

    def last_sync(self, source: str) -> dict[str, object] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT started, finished, listed, removed, error FROM syncs WHERE source=?",
                (source,),
            ).fetchone()
        if row is None:
            return None
        return {
            "started": row[0],
            "finished": row[1],
            "listed": row[2],
            "removed": row[3],
            "error": row[4],
        }

    def hydrated(self, source: str) -> tuple[int, float | None, str | None]:
        with self._lock:
            row = self._db.execute(
                "SELECT count, last_at, last_entity FROM hydrated WHERE source=?", (source,)
            ).fetchone()
        return (0, None, None) if row is None else (int(row[0]), float(row[1]), row[2])

    def close(self) -> None:
        with self._lock:
            self._db.close()
