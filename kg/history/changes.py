"""What changed between two moments: every edge added or removed, every status, stage, owner,
classification, type and name changed, with when, which source and who.

Each write's changes are the differences between what each graph it changed held before it
(its version) and after it (the version the next write kept, or the graph as it is now). The
list runs in write order, graph by graph, and pages by a cursor, `<position>:<graph index>`,
that a client keeps to follow the feed: asking again with the last `next` gives what came after.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kg.errors import InputError
from kg.history import timeline as tl
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.vocab import OWNER, RDF_TYPE, RDFS_LABEL, STAGE, STATUS, mlg, value

CLASSIFICATION = mlg("classification")
# What a changed statement is, by its property; the ones that hold one value are "changed"
# from one to the other rather than removed and added.
KINDS = {
    RDF_TYPE.value: "type",
    RDFS_LABEL.value: "name",
    OWNER.value: "owner",
    STATUS.value: "status",
    STAGE.value: "stage",
    CLASSIFICATION.value: "classification",
}
SINGLE = {"name", "status", "stage"}
ALL_KINDS = ("edge", "type", "name", "owner", "status", "stage", "classification", "attribute")
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Change:
    position: int
    write: tl.Write
    graph: str
    subject: str
    kind: str
    property: str
    change: str  # added, removed, changed
    value: str | None  # the new value (added, changed) or the one removed
    previous: str | None = None  # a changed value's former one

    def as_dict(self) -> dict[str, object]:
        return {
            "position": self.position,
            "at": self.write.at.isoformat() if self.write.at else None,
            "by": self.write.writer,
            "sources": list(self.write.sources),
            "load": self.write.load,
            "graph": self.graph,
            "subject": self.subject,
            "kind": self.kind,
            "property": self.property,
            "change": self.change,
            "value": self.value,
            "previous": self.previous,
        }


@dataclass(frozen=True)
class Page:
    changes: list[Change]
    next: str  # the cursor to ask with for what follows
    more: bool  # whether more changes are already there (false: the client is up to date)


def parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    if cursor is None or cursor == "":
        return None
    number, _, index = cursor.partition(":")
    if not (number.isdigit() and index.isdigit()) or len(cursor) > 40:
        raise InputError(f"cursor {cursor[:40]!r} is not one kg gave: pass a `next` it returned")
    return int(number), int(index)


def cursor_of(position: int, index: int) -> str:
    return f"{position}:{index}"


def diff(
    ontology: Ontology, before: Iterable[ox.Triple], after: Iterable[ox.Triple]
) -> list[tuple[str, str, str, str, str | None, str | None]]:
    """(subject, kind, property, change, value, previous) for each statement about an IRI that
    differs; statements about blank nodes (the inside of a metric) are left out."""
    was = {t for t in before if _named(t)}
    now = {t for t in after if _named(t)}
    removed, added = sorted(was - now, key=str), sorted(now - was, key=str)
    lineage = ontology.lineage_properties
    found: list[tuple[str, str, str, str, str | None, str | None]] = []
    singles: dict[tuple[str, str], list[str | None]] = {}  # (subject, property) -> [old, new]

    def kind_of(t: ox.Triple) -> str:
        p = t.predicate.value
        if p in KINDS:
            return KINDS[p]
        return "edge" if p in lineage and isinstance(t.object, ox.NamedNode) else "attribute"

    for change, triples in (("removed", removed), ("added", added)):
        for t in triples:
            kind = kind_of(t)
            subject = t.subject.value  # type: ignore[union-attr]
            shown = value(t.object)
            if kind in SINGLE:
                pair = singles.setdefault((subject, t.predicate.value), [None, None])
                pair[0 if change == "removed" else 1] = shown
                continue
            found.append((subject, kind, t.predicate.value, change, shown, None))
    for (subject, prop), (old, new) in singles.items():
        kind = KINDS[prop]
        if old is not None and new is not None:
            found.append((subject, kind, prop, "changed", new, old))
        elif new is not None:
            found.append((subject, kind, prop, "added", new, None))
        else:
            found.append((subject, kind, prop, "removed", old, None))
    return found


def _named(t: ox.Triple) -> bool:
    return isinstance(t.subject, ox.NamedNode) and not isinstance(t.object, ox.BlankNode)


def between(
    store: GraphStore,
    ontology: Ontology,
    timeline: tl.Timeline,
    start: int,
    end: int,
    *,
    cursor: tuple[int, int] | None = None,
    limit: int = 1000,
    subjects: set[str] | None = None,
    graphs: set[str] | None = None,
    kinds: set[str] | None = None,
) -> Page:
    """The changes of the writes after `start` up to `end`, from `cursor` on, at most about
    `limit` (a graph's changes are never split across pages). `subjects` keeps the changes
    about those assets (an edge counts when either end is one), `graphs` those of those
    graphs, `kinds` those kinds."""
    found: list[Change] = []
    position, skip = cursor if cursor is not None else (start + 1, 0)
    position = max(position, start + 1)
    for write in timeline.between(position - 1, end):
        first = skip if write.position == position else 0
        names = list(write.graphs)
        for index in range(first, len(names), 200):
            if len(found) >= limit:
                return Page(found, cursor_of(write.position, index), True)
            chunk = [g for g in names[index : index + 200] if graphs is None or g in graphs]
            for graph, changes in _graph_changes(store, ontology, timeline, write, chunk):
                for subject, kind, prop, change, shown, previous in changes:
                    if kinds is not None and kind not in kinds:
                        continue
                    if (
                        subjects is not None
                        and subject not in subjects
                        and not (kind == "edge" and shown in subjects)
                    ):
                        continue
                    found.append(
                        Change(
                            write.position,
                            write,
                            graph,
                            subject,
                            kind,
                            prop,
                            change,
                            shown,
                            previous,
                        )
                    )
    return Page(found, cursor_of(end + 1, 0), False)


def _graph_changes(
    store: GraphStore,
    ontology: Ontology,
    timeline: tl.Timeline,
    write: tl.Write,
    graphs: list[str],
) -> list[tuple[str, list[tuple[str, str, str, str, str | None, str | None]]]]:
    if not graphs:
        return []
    before = tl.kept(store, {g: write.position for g in graphs})
    after = tl.content_at(store, timeline, graphs, write.position)
    return [(g, diff(ontology, before[g], after[g])) for g in graphs]


def history_of(
    store: GraphStore, ontology: Ontology, timeline: tl.Timeline, subject: str, limit: int = 100
) -> list[tuple[tl.Write, list[Change]]]:
    """The writes that changed an asset's graphs, newest first, each with its changes."""
    graphs = timeline.graphs_of(subject)
    positions = sorted({p for g in graphs for p in timeline.by_graph.get(g, ())}, reverse=True)
    found: list[tuple[tl.Write, list[Change]]] = []
    for position in positions[:limit]:
        write = timeline.write(position)
        if write is None:
            continue
        mine = [g for g in write.graphs if g in graphs]
        changes = [
            Change(position, write, graph, s, kind, prop, change, shown, previous)
            for graph, listed in _graph_changes(store, ontology, timeline, write, mine)
            for s, kind, prop, change, shown, previous in listed
        ]
        found.append((write, changes))
    return found
