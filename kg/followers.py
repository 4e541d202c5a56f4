"""The structures kept in step with the store, as followers of the write pipeline.

Each is told of every write this process commits (with what the write replaced, so it can
update in place) and, when the process catches up with the change log, of the assets other
processes' writes changed (kg.write.log). Both indexes can be rebuilt from the store alone:
the log only saves the time.
"""

from __future__ import annotations

from kg.history.lineage import LineageHistory
from kg.lineage import LineageIndex
from kg.search import SearchIndex
from kg.store import GraphStore
from kg.write import log
from kg.write.bulk import Added
from kg.write.pipeline import Applied


class LineageFollower:
    """The in-memory lineage index (kg.lineage.index), and the changes each write made to it
    for answers as of a moment (kg.history.lineage), taken before the index applies them."""

    def __init__(self, index: LineageIndex, history: LineageHistory | None = None) -> None:
        self.index = index
        self.history = history

    def applied(self, store: GraphStore, change: Applied) -> None:
        new = {g: list(ts) for g, ts in change.write.replace.items()}
        with self.index.lock:
            if self.history is not None:
                self.history.follow(change.report.position, change.old, new)
            self.index.apply(store, change.old, new, change.report.descriptions)

    def bulk_added(self, store: GraphStore, added: Added) -> None:
        with self.index.lock:
            if self.history is not None:
                self.history.position = None  # built again, from the load records, when asked
            self.index.extend(added.names, added.edges, added.described)

    def caught_up(self, store: GraphStore, subjects: set[str] | None, stamp: str) -> str:
        if self.history is not None and (subjects is None or subjects):
            self.history.position = None  # other processes' writes: built again when asked
        # many changed assets: reading them one by one costs more than reading every edge
        if subjects is None or len(subjects) > max(1000, self.index.size() // 4):
            self.index.rebuild(store)
            return "rebuilt"
        if subjects:
            self.index.repair(store, subjects)
        return f"repaired ({len(subjects)} assets)"


class SearchFollower:
    """The full-text search index (kg.search), stamped with the write it reflects."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index

    def applied(self, store: GraphStore, change: Applied) -> None:
        # searchable before the write's request returns
        report = change.report
        self.index.refresh(store, report.subjects, log.stamp(report.position, report.load))

    def bulk_added(self, store: GraphStore, added: Added) -> None:
        self.index.add_described(added.statements(), added.stamp)

    def caught_up(self, store: GraphStore, subjects: set[str] | None, stamp: str) -> str:
        if subjects is None:
            self.index.rebuild(store, stamp)
            return "rebuilt"
        self.index.refresh(store, subjects, stamp)
        return f"repaired ({len(subjects)} assets)"
