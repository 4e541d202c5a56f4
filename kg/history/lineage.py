"""Lineage as of any position, without rebuilding the index.

For each node, the history keeps the lineage edges each write added to it or took from it, and
its attributes (types, label, owners, status, stage) as they were before each write that changed
them. The index as of a position is then the present index with the later changes undone: a
node no later write touched reads as it is now, so an answer as of a moment costs about what
the same answer costs now, plus the changes since, on the nodes it passes.

Kept in step with every write this process commits (told by the lineage follower, before the
index applies the write); built from the versions in the store (kg.history.record) the first
time it is asked for, and again whenever the index was rebuilt or other processes wrote.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import pyoxigraph as ox

from kg.graphs import INFERRED_GRAPH_PREFIX, derived_graph
from kg.history import timeline as tl
from kg.lineage.index import _ATTRIBUTES, Attributes, LineageIndex, attributes_of, rule_of
from kg.lineage.walkers import IndexedWalker
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.write.pipeline import derive


@dataclass(frozen=True)
class Delta:
    position: int
    sign: int  # +1: the write added the edge, -1: it took it away
    prop: int
    other: int
    rule: str | None  # the rule whose graph held it (None: stated)


_PRESENT = -1  # a position past every write: the index as it is


class LineageHistory:
    def __init__(self, index: LineageIndex, ontology: Ontology) -> None:
        self.index = index
        self.ontology = ontology
        self._reset()

    def _reset(self) -> None:
        self.restarts = getattr(self, "restarts", 0) + 1  # what cached walkers are of
        self.out: dict[int, list[Delta]] = {}
        self.into: dict[int, list[Delta]] = {}
        self.before: dict[int, list[tuple[int, Attributes | None]]] = {}
        self.position: int | None = None  # the last write followed (None: not built)
        self.generation = self.index.generation
        # Going back: the changes of the writes after `_down_to` are held, walked back from
        # the head `_head`; what each subject's attributes were at `_down_to`, graph by graph.
        self._head = self._down_to = 0
        self._described: dict[str, dict[str, list[ox.Triple]]] = {}

    @property
    def ready(self) -> bool:
        return self.position is not None and self.generation == self.index.generation

    # -- following writes

    def follow(
        self,
        position: int,
        old: Mapping[ox.NamedNode, list[ox.Triple]],
        new: Mapping[ox.NamedNode, Iterable[ox.Triple]],
    ) -> None:
        """Keep the changes of the write at `position` (called before the index applies it:
        the attributes it holds are still those before the write)."""
        if not self.ready or self.position is None or position != self.position + 1:
            self.position = None  # a write missed: build again when next asked
            return
        subjects: set[str] = set()
        for graph in {*old, *new}:
            if graph.value.startswith("urn:kg:graph:derived:"):
                continue
            before = old.get(graph, [])
            after = list(new.get(graph, []))
            self._edges(position, graph.value, before, after)
            subjects |= _subjects(before) | _subjects(after)
        for iri in subjects:
            node = self.index.id(iri)
            self._attributes(position, node, self.index.attributes(node))
        self.position = position

    def _edges(
        self, position: int, graph: str, before: list[ox.Triple], after: list[ox.Triple]
    ) -> None:
        rule = rule_of(graph) if graph.startswith(INFERRED_GRAPH_PREFIX) else None
        was, now = Counter(self.index.edge_ids(before)), Counter(self.index.edge_ids(after))
        for sign, edges in ((1, now - was), (-1, was - now)):
            for (s, p, o), count in edges.items():
                for _ in range(count):
                    self.out.setdefault(s, []).append(Delta(position, sign, p, o, rule))
                    self.into.setdefault(o, []).append(Delta(position, sign, p, s, rule))

    def _attributes(self, position: int, node: int, about: Attributes | None) -> None:
        kept = (
            None
            if about is None
            else Attributes(about.types, about.label, about.owners, about.status, about.stage)
        )
        self.before.setdefault(node, []).append((position, kept))

    # -- building from the store

    def reach(self, store: GraphStore, timeline: tl.Timeline, position: int) -> None:
        """Hold the changes of every write after `position`, walking back from the present
        (and on from where an earlier call stopped, when no write came since): each write's
        versions are what its graphs held before it, and what they held after is the present
        or the version the next write kept."""
        with self.index.lock:
            head = timeline.read_up_to
            if not self.ready or self.position != head:  # writes missed, or a new index
                self._restart(head)
            if position >= self._down_to:
                return
            if self._head != head:  # writes came since the walk back began, from its head
                self._restart(head)
            for write in reversed(timeline.between(position, self._down_to)):
                self._back(store, timeline, write)
            self._down_to = position
            for table in (self.out, self.into):
                for deltas in table.values():
                    deltas.sort(key=lambda d: d.position)
            for entries in self.before.values():
                entries.sort(key=lambda e: e[0])
            self.position = head

    def _restart(self, head: int) -> None:
        self._reset()
        self._head = self._down_to = head
        self.position = head  # nothing held yet: answers from `head` on are the index's

    def _back(self, store: GraphStore, timeline: tl.Timeline, write: tl.Write) -> None:
        graphs = list(write.graphs)
        before = tl.kept(store, {g: write.position for g in graphs})
        after = tl.content_at(store, timeline, graphs, write.position)
        touched: dict[str, list[str]] = {}  # subject -> the graphs of the write about it
        for graph in graphs:
            self._edges(write.position, graph, before[graph], after[graph])
            for iri in _subjects(before[graph]) | _subjects(after[graph]):
                touched.setdefault(iri, []).append(graph)
        for iri, mine in touched.items():
            held = self._described.get(iri)
            if held is None:
                held = self._described[iri] = _statements(store, iri)
            for graph in mine:
                about = [t for t in before[graph] if _about(t, iri)]
                held[graph] = about
                held[derived_graph(ox.NamedNode(graph)).value] = [
                    t for t in derive(about, self.ontology) if _about(t, iri)
                ]
            statements = dict.fromkeys(t for ts in held.values() for t in ts)
            found = attributes_of(statements)  # before this write: going back in time
            described_then = (
                found.types or found.label or found.owners or found.status or found.stage
            )
            self._attributes(write.position, self.index.id(iri), found if described_then else None)

    def at(self, position: int) -> AsOfIndex:
        return AsOfIndex(self, position)


class AsOfIndex:
    """The lineage index as it was just after the write at a position (kg.lineage.EdgeIndex)."""

    def __init__(self, history: LineageHistory, position: int) -> None:
        self.history = history
        self.index = history.index
        self.position = position
        self.lock = history.index.lock
        self.inferred = _InferredAt(self)
        # The nodes a later write changed, found once per head (the history grows with each
        # write), and each one's edges as of the position (which no later write changes).
        self._seen_head: int | None = None
        self._changed_out: set[int] = set()
        self._changed_in: set[int] = set()
        self._out: dict[int, list[tuple[int, int]]] = {}
        self._in: dict[int, list[tuple[int, int]]] = {}

    def _changed(self) -> None:
        head = self.history.position
        if head == self._seen_head:
            return
        after = self.position
        self._changed_out = {n for n, ds in self.history.out.items() if ds[-1].position > after}
        self._changed_in = {n for n, ds in self.history.into.items() if ds[-1].position > after}
        self._out = {n: ls for n, ls in self._out.items() if n in self._changed_out}
        self._in = {n: ls for n, ls in self._in.items() if n in self._changed_in}
        self._seen_head = head

    def known(self, iri: str) -> int | None:
        return self.index.known(iri)

    def name(self, node: int) -> str:
        return self.index.name(node)

    def out_edges(self, node: int) -> list[tuple[int, int]]:
        self._changed()
        if node not in self._changed_out:
            return self.index.out_edges(node)
        found = self._out.get(node)
        if found is None:
            found = self._out[node] = self._undone(
                self.index.out_edges(node), self.history.out.get(node)
            )
        return found

    def in_edges(self, node: int) -> list[tuple[int, int]]:
        self._changed()
        if node not in self._changed_in:
            return self.index.in_edges(node)
        found = self._in.get(node)
        if found is None:
            found = self._in[node] = self._undone(
                self.index.in_edges(node), self.history.into.get(node)
            )
        return found

    def _later(self, deltas: list[Delta] | None) -> list[Delta]:
        if not deltas or deltas[-1].position <= self.position:
            return []
        return deltas[bisect.bisect_right(deltas, self.position, key=lambda d: d.position) :]

    def _undone(
        self, present: list[tuple[int, int]], deltas: list[Delta] | None
    ) -> list[tuple[int, int]]:
        later = self._later(deltas)
        if not later:
            return present
        counts = Counter(present)
        for delta in later:
            counts[(delta.prop, delta.other)] -= delta.sign
        return [pair for pair, n in counts.items() for _ in range(max(n, 0))]

    def attributes(self, node: int) -> Attributes | None:
        entries = self.history.before.get(node)
        if entries and entries[-1][0] > self.position:
            index = bisect.bisect_right(entries, self.position, key=lambda e: e[0])
            return entries[index][1]
        return self.index.attributes(node)

    def exists(self, node: int) -> bool:
        return bool(self.attributes(node) or self.out_edges(node) or self.in_edges(node))


class _InferredAt(Mapping[tuple[int, int, int], str]):
    """Which edges a rule had concluded as of the position: the present marks, with the
    later changes of inferred graphs undone."""

    def __init__(self, view: AsOfIndex) -> None:
        self.view = view

    def get(self, key: tuple[int, int, int], default: str | None = None) -> str | None:  # type: ignore[override]
        s, p, o = key
        present = self.view.index.inferred.get(key)
        later = [
            d
            for d in self.view._later(self.view.history.out.get(s))
            if d.prop == p and d.other == o and d.rule is not None
        ]
        if not later:
            return present if present is not None else default
        count = 1 if present is not None else 0
        for delta in later:
            count -= delta.sign
        return (present or later[0].rule) if count > 0 else default

    def __getitem__(self, key: tuple[int, int, int]) -> str:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        return iter(())  # only looked up, never listed

    def __len__(self) -> int:
        return 0


def _subjects(triples: Iterable[ox.Triple]) -> set[str]:
    return {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}


def _about(triple: ox.Triple, iri: str) -> bool:
    return (
        isinstance(triple.subject, ox.NamedNode)
        and triple.subject.value == iri
        and triple.predicate in _ATTRIBUTES
    )


def _statements(store: GraphStore, iri: str) -> dict[str, list[ox.Triple]]:
    """What the store says now about a subject's attributes, graph by graph."""
    held: dict[str, list[ox.Triple]] = {}
    term = ox.NamedNode(iri)
    for prop in _ATTRIBUTES:
        for quad in store.quads(term, prop, None):
            if isinstance(quad.graph_name, ox.NamedNode):
                held.setdefault(quad.graph_name.value, []).append(quad.triple)
    return held


class AsOfWalker(IndexedWalker):
    """The index walks as of a position: an asset exists if it did then."""

    def __init__(self, store: GraphStore, ontology: Ontology, index: AsOfIndex) -> None:
        super().__init__(store, ontology, index)
        self.view = index

    def exists(self, node: str) -> bool:
        found = self.view.known(node)
        return found is not None and self.view.exists(found)


class AsOfWalkers:
    """The walkers of the last few positions asked for, kept with what they cache (edges,
    types): an answer as of a moment never changes, so neither does what it caches."""

    KEPT = 8

    def __init__(self, store: GraphStore, ontology: Ontology) -> None:
        self.store = store
        self.ontology = ontology
        self._kept: dict[tuple[int, int], AsOfWalker] = {}

    def walker(self, history: LineageHistory, position: int) -> AsOfWalker:
        key = (history.restarts, position)  # a restart makes new tables: new walkers
        found = self._kept.get(key)
        if found is None:
            if len(self._kept) >= self.KEPT:
                self._kept.pop(next(iter(self._kept)))
            found = self._kept[key] = AsOfWalker(self.store, self.ontology, history.at(position))
        return found
