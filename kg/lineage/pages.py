"""Large lineage and impact answers a page at a time: a summary (on the first page only),
`limit` nodes in answer order (distance, then IRI) and the cursor of the next page, read from
the index's integers (kg.lineage.ordered, kg.lineage.rows) with no object per node.

The ordered walks of the last few questions are kept, so pages after the first cost a slice of
them; the whole answers (kg.lineage.whole) read the same kept walks.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

from kg.errors import InputError
from kg.lineage import cursor as cursors
from kg.lineage.ordered import (
    Kinds,
    Ordered,
    Summary,
    order,
    summarize,
)
from kg.lineage.rows import Rows, label_of, owner_names
from kg.lineage.walk import Direction
from kg.lineage.walkers import IndexedWalker, collector_paused

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class Question:
    """What an answer answers; a cursor is bound to it (and to the graph's state)."""

    kind: str  # "lineage" or "impact"
    root: str
    direction: Direction
    depth: int | None
    types: tuple[str, ...] | None  # type IRIs, sorted
    as_of: str | None  # the moment, normalized

    def text(self) -> str:
        types = ",".join(self.types) if self.types is not None else "*"
        return f"{self.kind} {self.root} {self.direction.value} {self.depth} {types} {self.as_of}"


@dataclass
class Kept:
    """An ordered walk and what was worked out about it."""

    walker: IndexedWalker
    generation: int  # of the index's ids (a rebuild renumbers them)
    ordered: Ordered
    kinds: Kinds
    summaries: dict[bool, Summary] = field(default_factory=dict)  # by: the root counted


class Answers:
    """The ordered walks of the last few questions, by walk and state (an impact and the
    downstream lineage of its root share one): a state the graph has left is never asked for
    again, and ages out."""

    KEPT = 4
    KEPT_NODES = 1_500_000  # about 150 MB of walks at most, however large the graph

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[Question, str], Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, walker: IndexedWalker, question: Question, state: str) -> Kept:
        key = (replace(question, kind="walk"), state)
        generation = getattr(walker.index, "generation", 0)
        with self._lock:
            found = self._kept.get(key)
            if found is not None and found.walker is walker and found.generation == generation:
                self._kept.move_to_end(key)
                return found
        wanted = set(question.types) if question.types is not None else None
        kinds = Kinds(walker, wanted)
        ordered = order(walker, question.root, question.direction, question.depth, kinds)
        found = Kept(walker, generation, ordered, kinds)
        with self._lock:
            self._kept[key] = found
            while len(self._kept) > self.KEPT or (
                len(self._kept) > 1
                and sum(len(k.ordered) for k in self._kept.values()) > self.KEPT_NODES
            ):
                self._kept.popitem(last=False)
        return found


# -- pages


def _page_bounds(
    question: Question, state: str, limit: int | None, cursor: str | None
) -> tuple[int, int]:
    """(offset, limit) of the page asked for: 400s name `limit` or `cursor`."""
    offset = 0
    if cursor is not None:
        position = cursors.decode(cursor, question.text(), state)
        offset, limit = position.offset, limit if limit is not None else position.limit
    if limit is None:
        limit = 100
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"from 1 to {MAX_LIMIT:,} nodes a page, not {limit}", source="limit")
    return offset, limit


def _next(question: Question, state: str, offset: int, limit: int, total: int) -> str | None:
    if offset + limit >= total:
        return None
    return cursors.encode(cursors.Position(question.text(), state, offset + limit, limit))


@dataclass
class LineagePage:
    root: str
    direction: Direction
    depth: int | None
    summary: Summary | None  # on the first page only
    graph: list[dict[str, Any]]  # the page's nodes, as the whole answer's `graph` has them
    owner_names: dict[str, str | None]
    next_cursor: str | None

    def view(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "direction": self.direction.value,
            "depth": self.depth,
            "summary": self.summary.view() if self.summary is not None else None,
            "graph": self.graph,
            "ownerNames": self.owner_names,
            "nextCursor": self.next_cursor,
        }


@dataclass
class ImpactPage:
    root: str
    summary: Summary | None  # on the first page only; counts the affected, not the root
    affected: list[dict[str, Any]]
    owner_names: dict[str, str | None]
    next_cursor: str | None

    def view(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "summary": self.summary.view() if self.summary is not None else None,
            "affected": self.affected,
            "ownerNames": self.owner_names,
            "nextCursor": self.next_cursor,
        }


def kept_rows(
    walker: IndexedWalker, answers: Answers, question: Question, state: str
) -> tuple[Kept, Rows]:
    walker.require(question.root)
    kept = answers.get(walker, question, state)
    return kept, Rows(walker, kept.ordered, kept.kinds)


def _summary(kept: Kept, walker: IndexedWalker, *, root: bool) -> Summary:
    found = kept.summaries.get(root)
    if found is None:
        found = kept.summaries[root] = summarize(
            kept.ordered, kept.kinds, label_of(walker), root=root
        )
    return found


@collector_paused()
def lineage_page(
    walker: IndexedWalker,
    answers: Answers,
    question: Question,
    state: str,
    limit: int | None,
    cursor: str | None,
) -> LineagePage:
    """One page of a lineage answer (`limit` nodes, 100 when only a cursor or neither is
    given), its summary when it is the first."""
    offset, limit = _page_bounds(question, state, limit, cursor)
    kept, rows = kept_rows(walker, answers, question, state)
    ordered = kept.ordered
    if ordered.start is None:
        graph = [rows.lonely()] if offset == 0 else []
    else:
        graph = [rows.node(n, edges=True) for n in ordered.slice(offset, offset + limit)]
    return LineagePage(
        question.root,
        question.direction,
        question.depth,
        _summary(kept, walker, root=True) if cursor is None else None,
        graph,
        owner_names(graph, label_of(walker)),
        _next(question, state, offset, limit, len(ordered)),
    )


@collector_paused()
def impact_page(
    walker: IndexedWalker,
    answers: Answers,
    question: Question,
    state: str,
    limit: int | None,
    cursor: str | None,
) -> ImpactPage:
    """One page of an impact answer: the affected assets in answer order, the summary of all
    of them on the first page."""
    offset, limit = _page_bounds(question, state, limit, cursor)
    kept, rows = kept_rows(walker, answers, question, state)
    ordered = kept.ordered
    affected = max(len(ordered) - 1, 0)  # the root is first, alone at distance 0
    nodes = [] if ordered.start is None else ordered.slice(offset + 1, offset + 1 + limit)
    page = [rows.node(n, edges=False) for n in nodes]
    return ImpactPage(
        question.root,
        _summary(kept, walker, root=False) if cursor is None else None,
        page,
        owner_names(page, label_of(walker)),
        _next(question, state, offset, limit, affected),
    )
