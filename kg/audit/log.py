"""The audit log: its own store, a bounded queue in front of it, and the reads admins make.

Recording must cost a request almost nothing and must never fail it, whatever a hostile client
sends: `record` only appends to an in-memory queue (at most `queue_limit` entries; past it the
entries are counted, and one "dropped" entry says how many), and a background thread writes
the queue in one transaction every `interval` seconds, and at `close`. Refusals from one address
are kept one by one up to `refusals_per_minute` a minute; the rest are counted into one summary
entry for that address and minute.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import anyio.to_thread
import pyoxigraph as ox

from kg import jobs, protocol, sparqltext
from kg.audit import vocab
from kg.audit.vocab import Entry
from kg.config import Settings
from kg.errors import InputError, QueryError
from kg.evaluation import Evaluator
from kg.store import OxigraphStore, open_store

_log = logging.getLogger("kg.audit")

QUEUE_LIMIT: Final = 10_000
INTERVAL: Final = 0.5  # seconds between two writes of the queue
REFUSALS_PER_MINUTE: Final = 600  # kept one by one from one address in one minute
MAX_PAGE: Final = 1000
_MINUTE: Final = 60 * 10**9
_FORMS: Final = ("SELECT", "ASK", "CONSTRUCT")


def audit_path(settings: Settings) -> Path | None:
    """Where the audit of a store lives: `<store>.audit/` beside its folder (also when the
    data store is a SPARQL server: each kg process audits what it served), None in memory."""
    store = settings.store_path()
    return None if store is None else store.with_name(store.name + ".audit")


@dataclass(frozen=True)
class Page:
    entries: list[dict[str, Any]]
    next: str | None  # the cursor of the next page, None on the last one


def _nanoseconds(moment: datetime) -> int:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return int(aware.timestamp()) * 10**9 + aware.microsecond * 1000


class AuditLog:
    def __init__(
        self,
        store: OxigraphStore,
        settings: Settings,
        *,
        clock: Callable[[], int] = time.time_ns,
        interval: float = INTERVAL,
        queue_limit: int = QUEUE_LIMIT,
        refusals_per_minute: int = REFUSALS_PER_MINUTE,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.interval = interval
        self.queue_limit = queue_limit
        self.refusals_per_minute = refusals_per_minute
        # The admins' SPARQL runs as /sparql's queries do: bounded in time, in worker processes
        # over views of an on-disk audit (kg.evaluation).
        self.evaluator = Evaluator(store, lambda: self.settings)
        self._queue: deque[tuple[ox.NamedNode, Entry]] = deque()
        self._lock = threading.Lock()  # the queue and the counters
        self._writing = threading.Lock()  # one write of the queue at a time, in order
        self._sequence = 0
        self._salt = secrets.token_hex(3)  # tells this process's entries from another's
        self._dropped = 0
        self._minute = 0
        self._refusals: Counter[str] = Counter()  # this minute's refusals, by address
        self._capped: Counter[str] = Counter()  # of them, those past the cap
        self._summaries: list[Entry] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- opening and closing

    @classmethod
    def open(cls, settings: Settings, **options: Any) -> AuditLog:
        """The audit beside the settings' store, written from a background thread.
        StoreLockedError when another process holds it."""
        log = cls(open_store(audit_path(settings)), settings, **options)
        log._thread = threading.Thread(target=log._run, name="kg-audit", daemon=True)
        log._thread.start()
        return log

    @classmethod
    def open_read_only(cls, path: Path, settings: Settings) -> AuditLog:
        """An audit folder opened to read it (`kg audit` on the store's machine)."""
        return cls(OxigraphStore(path, read_only=True), settings)

    def close(self) -> None:
        """Write everything still held (the queue, the counted refusals), then close."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if not self.store.read_only:
            self.flush()
        self.evaluator.close()
        self.store.close()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self._write(summaries=False)

    # -- recording

    def now(self) -> int:
        return self.clock()

    def record(self, entry: Entry) -> None:
        """Queue an entry. Never raises: a failure is logged, the request goes on."""
        try:
            self._record(entry)
        except Exception:
            _log.exception("the audit could not record a %s entry", entry.outcome)

    def _record(self, entry: Entry) -> None:
        if self._closed or self.store.read_only:
            return
        with self._lock:
            self._roll(entry.at_ns // _MINUTE)
            if entry.outcome == vocab.REFUSED and entry.count is None:
                address = entry.address or "unknown"
                self._refusals[address] += 1
                if self._refusals[address] > self.refusals_per_minute:
                    self._capped[address] += 1
                    return
            if len(self._queue) >= self.queue_limit:
                self._dropped += 1
                return
            self._sequence += 1
            self._queue.append((vocab.entry_iri(entry.at_ns, self._sequence, self._salt), entry))

    def _roll(self, minute: int) -> None:
        """A new minute: the last one's counted refusals become summary entries."""
        if minute <= self._minute:
            return
        self._summarize()
        self._refusals.clear()
        self._minute = minute

    def _summarize(self) -> None:
        end = (self._minute + 1) * _MINUTE - 1  # after the minute's entries, in IRI order
        start = vocab.timestamp(self._minute * _MINUTE)
        for address, count in sorted(self._capped.items()):
            detail = (
                f"{count} more refusals from {address} in the minute from {start}: past "
                f"{self.refusals_per_minute} a minute they are counted, not kept one by one"
            )
            self._summaries.append(
                Entry(end, vocab.REFUSED, address=address, detail=detail, count=count)
            )
        self._capped.clear()

    def flush(self) -> None:
        """Write what is held now: the queue, and the refusals counted so far this minute."""
        self._write(summaries=True)

    def _write(self, *, summaries: bool) -> None:
        with self._writing:
            now = self.clock()
            with self._lock:
                self._roll(now // _MINUTE)
                if summaries:
                    self._summarize()
                batch = list(self._queue)
                self._queue.clear()
                for entry in self._summaries:
                    self._sequence += 1
                    batch.append((vocab.entry_iri(entry.at_ns, self._sequence, self._salt), entry))
                self._summaries.clear()
                dropped, self._dropped = self._dropped, 0
                if dropped:
                    self._sequence += 1
                    detail = f"{dropped} entries dropped: the audit queue was full"
                    entry = Entry(now, vocab.DROPPED, detail=detail, count=dropped)
                    batch.append((vocab.entry_iri(now, self._sequence, self._salt), entry))
            if not batch:
                return
            try:
                self.store.add(q for node, entry in batch for q in vocab.quads(node, entry))
            except Exception:
                _log.exception("the audit could not write %d entries; they are lost", len(batch))

    # -- reading

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        principal: str | None = None,
        outcome: str | None = None,
        status: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """The entries, newest first, that match every filter given: at or after `since`, at
        or before `until`, by the principal named, with the outcome or status."""
        if not 1 <= limit <= MAX_PAGE:
            raise InputError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
        if outcome is not None and outcome not in vocab.OUTCOMES:
            raise InputError(f"unknown outcome {outcome!r}; use one of {', '.join(vocab.OUTCOMES)}")
        if cursor is not None and not vocab.ENTRY_ID.match(cursor):
            raise InputError(f"not a cursor of the audit: {cursor!r}")
        if not self.store.read_only:
            self._write(summaries=False)  # what was answered before this read is in it
        lower = vocab.bound(_nanoseconds(since)) if since is not None else None
        uppers = [vocab.ENTRY_PREFIX + cursor] if cursor is not None else []
        if until is not None:
            uppers.append(vocab.bound(_nanoseconds(until) + 1))
        upper = min(uppers) if uppers else None
        patterns = [
            (vocab.PRINCIPAL_NAME, None if principal is None else ox.Literal(principal)),
            (vocab.OUTCOME, None if outcome is None else ox.Literal(outcome)),
            (
                vocab.STATUS,
                None if status is None else ox.Literal(str(status), datatype=vocab.INTEGER),
            ),
        ]
        where = "".join(f" ?e {p} {o} ." for p, o in patterns if o is not None)
        found: list[dict[str, Any]] = []
        more = False
        for graph in self._days(lower, upper):
            wanted = limit + 1 - len(found)
            nodes = self._page_of_day(graph, where, lower, upper, wanted)
            for node in nodes:
                quads = self.store.quads(node, None, None)
                found.append(vocab.as_row(node, [q for q in quads if q.graph_name == graph]))
            if len(found) > limit:
                more = True
                break
        found = found[:limit]
        return Page(found, found[-1]["id"] if more else None)

    def _days(self, lower: str | None, upper: str | None) -> list[ox.NamedNode]:
        """The audit's day graphs that may hold entries between the bounds, newest first."""

        def day_of(bound: str) -> str:
            return vocab.day(int(bound.removeprefix(vocab.ENTRY_PREFIX)[:20]))

        first = day_of(lower) if lower is not None else None
        last = day_of(upper) if upper is not None else None
        days = []
        for graph in self.store.graphs():
            day = vocab.graph_day(graph)
            if day is None or (first and day < first) or (last and day > last):
                continue
            days.append((day, graph))
        return [graph for _, graph in sorted(days, key=lambda d: d[0], reverse=True)]

    def _page_of_day(
        self, graph: ox.NamedNode, where: str, lower: str | None, upper: str | None, limit: int
    ) -> list[ox.NamedNode]:
        bounds = ""
        if lower is not None:
            bounds += f" FILTER(STR(?e) >= {ox.Literal(lower)})"
        if upper is not None:
            bounds += f" FILTER(STR(?e) < {ox.Literal(upper)})"
        query = (
            f"SELECT ?e WHERE {{ GRAPH {graph} {{ ?e a {vocab.AUDIT_ENTRY} .{where} }}{bounds} }} "
            f"ORDER BY DESC(STR(?e)) LIMIT {limit}"
        )
        result = self.store.query(query, as_written=True)
        assert isinstance(result, ox.QuerySolutions)
        return [row["e"] for row in result if isinstance(row["e"], ox.NamedNode)]

    async def sparql(self, text: str, *, accept: str | None, formats: Sequence[str]) -> jobs.Answer:
        """A SELECT, ASK or CONSTRUCT query over the audit, bounded as /sparql's queries are
        (text size and nesting, rows, time); it calls no remote service."""
        settings = self.settings
        masked = sparqltext.check_size_and_depth(
            text, max_bytes=settings.max_query, max_depth=settings.max_depth, kind="query"
        )
        sparqltext.check_outbound(text, [], trusted=True, masked=masked)
        shape = protocol.shape(text)
        if shape is None or shape.form not in _FORMS:
            raise QueryError("the audit answers SELECT, ASK and CONSTRUCT queries only")
        if not self.store.read_only:
            await anyio.to_thread.run_sync(lambda: self._write(summaries=False))
        return await self.evaluator.run(
            jobs.sparql,
            text,
            accept=accept,
            formats=list(formats),
            max_rows=settings.max_rows,
            budget=settings.query_timeout,
        )
