"""The hydration service: the configured sources, their durable queue of events, and the
worker that drains it (retries with exponential backoff while a source is down, a rate limit per
source), with sync on demand and on a schedule.

`kg serve` runs the worker in a thread; `kg sync` drains the queue in its own process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.auth.context import acting_as
from kg.auth.principal import Principal, Role
from kg.config import Settings
from kg.errors import InputError, KGError, NotFoundError
from kg.sources.base import EntityRef, Source, SourceRefusedError, SourceUnavailableError
from kg.sources.hydrate import Hydrated, Outcome, held_entities, hydrate, pending_entities
from kg.sources.queue import Event, EventQueue
from kg.write.importers import Loader

_log = logging.getLogger("kg.sources")

BACKOFF_FIRST = 1.0  # seconds before the first retry; doubled each time
BACKOFF_CAP = 300.0
MAX_ATTEMPTS = 10  # a source down for about 20 minutes: the entity waits for sync or an event
MAX_ID = 1000  # characters of an entity id in an event
BATCH = 50  # events taken at once
MAX_EVENTS = 10_000  # events in one request: more is a sync's work


def configured_sources(settings: Settings) -> dict[str, Source]:
    """The sources the settings name (KG_MLFLOW_URI, KG_CARDS_DIR)."""
    found: dict[str, Source] = {}
    if settings.mlflow_uri:
        from kg.sources.mlflow import MlflowSource

        found["mlflow"] = MlflowSource(
            settings.mlflow_uri,
            settings.base_iri,
            token=settings.mlflow_token or None,
        )
    if settings.cards_dir is not None:
        from kg.sources.cards import CardsSource

        found["cards"] = CardsSource(Path(settings.cards_dir), settings.base_iri)
    return found


def queue_path(settings: Settings) -> Path | None:
    store = settings.store_path()
    return None if store is None else store.with_name(store.name + ".events.sqlite")


class _Bucket:
    """At most `rate` requests a second to one source, in bursts of up to `rate`."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = max(rate, 1.0)
        self.at = time.monotonic()

    def wait(self) -> float:
        """Seconds to wait before the next request may go (0: take it now)."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        self.tokens = min(max(self.rate, 1.0), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class SyncReport:
    source: str
    listed: int
    queued: int
    removed: int  # entities kg held that the source no longer lists (queued to drop)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "listed": self.listed,
            "queued": self.queued,
            "removed": self.removed,
        }


def parse_events(data: Any, sources: dict[str, Source]) -> list[EntityRef]:
    """Thin events (`{"source", "entity", "id"}`, one or a list) as entity references, or an
    InputError naming the event and the field."""
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputError("no events: send one event or a list of them")
    if len(items) > MAX_EVENTS:
        raise InputError(
            f"{len(items)} events in one request, more than {MAX_EVENTS}: send them in parts, "
            "or ask for a sync (POST /api/v1/sources/{source}/sync)"
        )
    refs = []
    for n, item in enumerate(items):
        where = f"event {n}" if isinstance(data, list) else "the event"
        if not isinstance(item, dict):
            raise InputError(f"{where} is not an object")
        unknown = sorted(set(item) - {"source", "entity", "id"})
        if unknown:
            raise InputError(f"{where}: unknown field {unknown[0]!r} (source, entity, id)")
        values = {}
        for name in ("source", "entity", "id"):
            value = item.get(name)
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"{where}: {name!r} must be a non-empty string")
            if len(value) > MAX_ID:
                raise InputError(f"{where}: {name!r} is longer than {MAX_ID} characters")
            values[name] = value
        source = sources.get(values["source"])
        if source is None:
            known = ", ".join(sorted(sources)) or "none is configured"
            raise InputError(f"{where}: unknown source {values['source']!r} ({known})")
        if values["entity"] not in source.kinds:
            raise InputError(
                f"{where}: {values['source']} has no entity kind {values['entity']!r} "
                f"({', '.join(source.kinds)})"
            )
        refs.append(EntityRef(values["source"], values["entity"], values["id"]))
    return refs


class Hydration:
    """Sources, queue and worker of one graph."""

    def __init__(
        self,
        graph: Loader,
        sources: dict[str, Source],
        queue: EventQueue,
        *,
        rate: float = 0.0,
        sync_interval: float = 0.0,
    ) -> None:
        self.graph = graph
        self.sources = sources
        self.queue = queue
        self.rate = rate
        self.sync_interval = sync_interval
        self._buckets = {name: _Bucket(rate) for name in sources}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sync = {name: 0.0 for name in sources}
        self.on_hydrated: Callable[[Hydrated], None] | None = None

    @classmethod
    def open(cls, graph: Loader, settings: Settings) -> Hydration:
        return cls(
            graph,
            configured_sources(settings),
            EventQueue(queue_path(settings)),
            rate=settings.source_rate,
            sync_interval=settings.sync_interval,
        )

    def source(self, name: str) -> Source:
        found = self.sources.get(name)
        if found is None:
            known = ", ".join(sorted(self.sources)) or "none is configured"
            raise NotFoundError(f"no source {name!r} ({known})")
        return found

    # -- taking events

    def accept(self, refs: Iterable[EntityRef], cause: str = "event") -> int:
        listed = list(refs)
        self.queue.put(listed, cause=cause)
        return len(listed)

    def sync(self, name: str) -> SyncReport:
        """Queue every entity the source has, and those kg holds that it no longer has."""
        source = self.source(name)
        self.queue.sync_started(name)
        try:
            listed = list(source.entities())
        except KGError as exc:
            self.queue.sync_finished(name, 0, 0, exc.message)
            raise
        keys = {ref.key for ref in listed}
        gone = []
        for key in sorted(held_entities(self.graph, name) - keys):
            kind, _, ident = key.partition("/")
            gone.append(EntityRef(name, kind, ident))
        named = [r for r in pending_entities(self.graph, name) if r.key not in keys]
        queued = self.queue.put([*listed, *gone, *named], cause="sync")
        self.queue.sync_finished(name, len(listed), len(gone), None)
        return SyncReport(name, len(listed), queued, len(gone))

    # -- working

    def _handle(self, source: Source, event: Event) -> None:
        try:
            # what a source says is written in its name: the history shows "source:mlflow"
            with acting_as(Principal(f"source:{event.ref.source}", Role.WRITER, kind="kg")):
                done = hydrate(self.graph, source, event.ref)
        except SourceUnavailableError as exc:
            if event.attempts + 1 >= MAX_ATTEMPTS:
                self.queue.fail(event, f"{exc.message} (after {event.attempts + 1} attempts)")
            else:
                delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2**event.attempts)
                self.queue.retry(event, delay, exc.message)
            return
        except (SourceRefusedError, InputError) as exc:
            self.queue.fail(event, exc.message)
            return
        except KGError as exc:  # the write refused (a store away, a limit): try again later
            delay = min(BACKOFF_CAP, BACKOFF_FIRST * 2**event.attempts)
            if event.attempts + 1 >= MAX_ATTEMPTS:
                self.queue.fail(event, exc.message)
            else:
                self.queue.retry(event, delay, exc.message)
            return
        except Exception as exc:  # a state the mapping did not expect: given up on, with why
            _log.exception("hydrating %s failed", event.ref.key)
            self.queue.fail(event, f"kg could not hydrate it: {exc!r}"[:1000])
            return
        # What depends on the entity is hydrated again when it changed, or when an event said
        # it did (an alias deleted changes the versions, not the model the event names).
        follow = list(done.references)
        if done.outcome is not Outcome.UNCHANGED or event.cause == "event":
            follow += done.refresh
        if follow:
            self.queue.put(follow, cause="follow")
        self.queue.done(event)
        if self.on_hydrated is not None:
            self.on_hydrated(done)

    def step(self, now: float | None = None) -> int:
        """Hydrate what is due (as the rate limit allows); how many events were handled."""
        handled = 0
        for name, source in self.sources.items():
            bucket = self._buckets[name]
            for event in self.queue.due(name, BATCH, now):
                if self._stopping.is_set():
                    return handled
                wait = bucket.wait()
                if wait > 0:
                    if self._stopping.wait(wait):
                        return handled
                    bucket.wait()
                self._handle(source, event)
                handled += 1
        return handled

    def drain(self, limit: float = 600.0) -> int:
        """Hydrate until nothing is due now (`kg sync` in its own process); events waiting out a
        backoff stay queued."""
        handled = 0
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            done = self.step()
            handled += done
            if not done:
                break
        return handled

    def _scheduled_syncs(self) -> None:
        if self.sync_interval <= 0:
            return
        now = time.monotonic()
        for name in self.sources:
            if now >= self._next_sync[name]:
                self._next_sync[name] = now + self.sync_interval
                try:
                    self.sync(name)
                except KGError as exc:
                    _log.warning("sync of %s failed: %s", name, exc.message)

    def start(self) -> None:
        """Work in a thread until `close`."""
        if self._thread is not None or not self.sources:
            return

        def run() -> None:
            while not self._stopping.is_set():
                self.queue.arrived.clear()
                try:
                    self._scheduled_syncs()
                    handled = self.step()
                except Exception:  # the worker must outlive any one entity's surprise
                    _log.exception("hydration step failed")
                    handled = 0
                if handled:
                    continue
                due = self.queue.next_due()
                wait = 5.0 if due is None else max(0.05, min(5.0, due - time.time()))
                if self.sync_interval > 0:
                    wait = min(wait, self.sync_interval)
                self.queue.arrived.wait(wait)

        self._thread = threading.Thread(target=run, name="kg-hydrate", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        self.queue.arrived.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.queue.close()

    # -- status

    def status(self) -> list[dict[str, Any]]:
        found = []
        for name, source in sorted(self.sources.items()):
            failed, failures = self.queue.failures(name)
            count, last_at, last_entity = self.queue.hydrated(name)
            found.append(
                {
                    "source": name,
                    "kinds": list(source.kinds),
                    "lastSync": self.queue.last_sync(name),
                    "pending": self.queue.pending(name),
                    "retrying": [
                        {"entity": r.kind, "id": r.id, "attempts": n, "reason": why}
                        for r, n, why in self.queue.waiting(name)
                    ],
                    "failed": failed,
                    "failures": [
                        {
                            "entity": f.ref.kind,
                            "id": f.ref.id,
                            "attempts": f.attempts,
                            "reason": f.reason,
                        }
                        for f in failures
                    ],
                    "hydrated": count,
                    "lastHydrated": last_at,
                    "lastEntity": last_entity,
                }
            )
        return found
