"""The change log as a timeline: which write changed which graph, when and by whom, and any
graph as it stood at a position.

Read from the load records (kg.write.log: every write's position, time, sources and the graphs
it changed) into memory the first time history is asked for, then extended with the writes
after the last one read. Positions follow one another and each write's time is stamped as it
commits, under the store's write turn, so times grow with positions and a moment maps to the
last write at or before it.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.errors import InputError, NotKeptError
from kg.graphs import DERIVED_GRAPH_PREFIX, LOADS_GRAPH, described_subject, history_graph
from kg.history import record
from kg.store import GraphStore
from kg.vocab import PROV, mlg
from kg.write import log

_SOURCE = mlg("source")


@dataclass(frozen=True)
class Write:
    """One write of the change log."""

    position: int
    load: str
    at: dt.datetime | None
    writer: str | None
    sources: tuple[str, ...]
    graphs: tuple[str, ...]  # the data graphs it changed (derived graphs left out)


@dataclass
class Moment:
    """A point in the history: the position of the last write at or before a time."""

    position: int
    at: dt.datetime | None  # the time asked for (None: a position asked for as such)


def parse_moment(text: str, name: str = "asOf") -> dt.datetime:
    """An ISO-8601 timestamp (a date alone: its start; no offset: UTC), or a 400 naming it."""
    cleaned = text.strip()
    if len(cleaned) > 64:
        raise InputError(f"{name} is {len(cleaned)} characters: give an ISO-8601 timestamp")
    try:
        moment = dt.datetime.fromisoformat(cleaned.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{name}={cleaned[:64]!r} is not an ISO-8601 timestamp (e.g. 2026-12-01T10:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@dataclass
class Timeline:
    """The writes in position order, and for each graph the positions of the writes that
    changed it."""

    writes: list[Write] = field(default_factory=list)
    by_graph: dict[str, list[int]] = field(default_factory=dict)
    by_subject: dict[str, set[str]] = field(default_factory=dict)
    read_up_to: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # -- keeping up with the log

    def refresh(self, store: GraphStore) -> None:
        """Read the writes committed since the last call (all of them the first time)."""
        with self.lock:
            head = log.head(store)
            if head <= self.read_up_to:
                return
            for write in _writes_after(store, self.read_up_to):
                self._add(write)
            self.read_up_to = max(head, self.read_up_to)

    def _add(self, write: Write) -> None:
        if self.writes and write.position <= self.writes[-1].position:
            return
        self.writes.append(write)
        for graph in write.graphs:
            self.by_graph.setdefault(graph, []).append(write.position)
            subject = described_subject(graph)
            if subject is not None:
                self.by_subject.setdefault(subject, set()).add(graph)

    # -- positions and moments

    def write(self, position: int) -> Write | None:
        index = bisect.bisect_left(self.writes, position, key=lambda w: w.position)
        if index < len(self.writes) and self.writes[index].position == position:
            return self.writes[index]
        return None

    def position_at(self, moment: dt.datetime) -> int:
        """The position of the last write committed at or before `moment` (0: before any)."""
        index = bisect.bisect_right(
            self.writes, moment, key=lambda w: w.at or dt.datetime.min.replace(tzinfo=dt.UTC)
        )
        return self.writes[index - 1].position if index else 0

    def after(self, position: int) -> list[Write]:
        """The writes after `position`, in order."""
        index = bisect.bisect_right(self.writes, position, key=lambda w: w.position)
        return self.writes[index:]

    def between(self, start: int, end: int) -> list[Write]:
        """The writes after `start` up to `end` included."""
        return [w for w in self.after(start) if w.position <= end]

    def next_change(self, graph: str, position: int) -> int | None:
        """The first write after `position` that changed `graph` (None: none since)."""
        positions = self.by_graph.get(graph)
        if not positions:
            return None
        index = bisect.bisect_right(positions, position)
        return positions[index] if index < len(positions) else None

    def changed_after(self, position: int) -> dict[str, int]:
        """Every graph a write after `position` changed, with the first such write."""
        found: dict[str, int] = {}
        for write in self.after(position):
            for graph in write.graphs:
                found.setdefault(graph, write.position)
        return found

    def graphs_of(self, subject: str) -> set[str]:
        """The graphs describing `subject` that any write changed."""
        return set(self.by_subject.get(subject, ()))


def check_kept(store: GraphStore, timeline: Timeline, position: int) -> None:
    """Refuse a position history does not cover: 410, saying where it starts."""
    start = record.since(store)
    if start is None:
        raise NotKeptError(
            "this store keeps no history (KG_HISTORY=false, or written before history existed)"
        )
    if position < start - 1:
        first = timeline.write(start)
        when = first.at.isoformat() if first is not None and first.at else f"write {start}"
        raise NotKeptError(
            f"history starts at {when} (position {start}): there is no state before it"
        )


def resolve(store: GraphStore, timeline: Timeline, moment: dt.datetime) -> Moment:
    """The position a moment names, once history is known to cover it."""
    timeline.refresh(store)
    position = timeline.position_at(moment)
    check_kept(store, timeline, position)
    return Moment(position, moment)


# -- graphs as they were


def content_at(
    store: GraphStore, timeline: Timeline, graphs: Sequence[str], position: int
) -> dict[str, list[ox.Triple]]:
    """Each graph's triples just after the write at `position`: the version the next write
    that changed it kept, or, where no write changed it since, what it holds now."""
    versions: dict[str, int] = {}
    present: list[str] = []
    for graph in graphs:
        following = timeline.next_change(graph, position)
        if following is None:
            present.append(graph)
        else:
            versions[graph] = following
    found: dict[str, list[ox.Triple]] = {g: [] for g in graphs}
    now = store.graphs_content([ox.NamedNode(g) for g in present])
    found.update({g.value: ts for g, ts in now.items()})
    found.update(kept(store, versions))
    return found


def kept(store: GraphStore, versions: dict[str, int]) -> dict[str, list[ox.Triple]]:
    """What each graph held before the write at its position (no version: it was empty)."""
    found: dict[str, list[ox.Triple]] = {}
    nodes = {record.version_iri(p, g): g for g, p in versions.items()}
    for graph in versions:
        found[graph] = []
    for node, graph in nodes.items():
        for quad in store.quads(node, record.STATEMENTS, None):
            if isinstance(quad.object, ox.Literal) and quad.graph_name == history_graph(
                versions[graph]
            ):
                found[graph] = record.parsed(quad.object.value)
    return found


# -- reading the load records


@dataclass
class _Entry:
    load: str
    at: dt.datetime | None = None
    writer: str | None = None
    sources: list[str] = field(default_factory=list)
    graphs: list[str] = field(default_factory=list)


def _writes_after(store: GraphStore, position: int) -> Iterable[Write]:
    rows = store.query(
        f"SELECT ?load ?p ?t ?a ?s WHERE {{ GRAPH {LOADS_GRAPH} {{ "
        f"?load {log.POSITION} ?p FILTER(?p > {position}) "
        f"OPTIONAL {{ ?load <{PROV}endedAtTime> ?t }} "
        f"OPTIONAL {{ ?load {record.ASSOCIATED_WITH} ?a }} "
        f"OPTIONAL {{ ?load {_SOURCE} ?s }} }} }}"
    )
    assert isinstance(rows, ox.QuerySolutions)
    found: dict[int, _Entry] = {}
    for row in rows:
        entry = found.setdefault(int(row["p"].value), _Entry(row["load"].value))
        if row["t"] is not None and entry.at is None:
            entry.at = _time(row["t"].value)
        if row["a"] is not None:
            entry.writer = record.principal_name(row["a"].value)
        if row["s"] is not None and row["s"].value not in entry.sources:
            entry.sources.append(row["s"].value)
    for change in log.since(store, position):
        if change.position in found:
            found[change.position].graphs = sorted(
                g for g in change.graphs if not g.startswith(DERIVED_GRAPH_PREFIX)
            )
    for number, e in sorted(found.items()):
        yield Write(number, e.load, e.at, e.writer, tuple(e.sources), tuple(e.graphs))


def _time(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
