"""The write gate: check a write against the shapes before it lands, on what it can affect.

A write replaces some named graphs. The rules about an asset can see its own statements, its
direct neighbours and, through property paths, everything upstream of it; so the assets whose
conformance a write can change are the touched assets, their direct neighbours (before and
after), and everything downstream of them. Those are the focus nodes. Their data (the focus
nodes, their neighbours and their upstream closure, as the graph will be after the write) is
copied with the ontology into a small in-memory store and validated there; the same focus nodes
are validated in the store as it is now. A Violation that the write adds is a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import pyoxigraph as ox

from kg.errors import KGError
from kg.governance.model import Report, Result, Severity
from kg.governance.shapes import Shapes
from kg.governance.validation import validate
from kg.graphs import ASSET_GRAPH_PREFIX, ONTOLOGY_GRAPH, STAGING_GRAPH
from kg.lineage import LineageIndex, reach
from kg.store import GraphStore, GraphWrite, open_store
from kg.vocab import DEPENDS_ON, PREFIXES, RDF_TYPE, SAME_AS, STAGE, STATUS, mlg

_KIND_PREDICATES = {RDF_TYPE, STATUS, STAGE}
VOCABULARY = tuple(PREFIXES.values())
# A gate check tells a progress callback (steps done, steps in all; `Gate.steps`) as it goes:
# the focus nodes found; then, for the graph after the write and for the graph as it is, the
# neighbourhood read, the scratch store filled and each compiled rule run (the pyshacl fallback,
# where there is one, runs after the last); then the production dependencies checked.
Steps = Callable[[int, int], None]


class _Told:
    """Steps of one gate check, told to a callback (when there is one)."""

    def __init__(self, progress: Steps | None, total: int) -> None:
        self.progress = progress
        self.total = total

    def at(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, self.total)

    def from_(self, base: int) -> Callable[[int], None] | None:
        return None if self.progress is None else lambda done: self.at(base + done)


_QUIET = _Told(None, 0)


class GateMode(StrEnum):
    ENFORCE = "enforce"
    WARN = "warn"
    OFF = "off"


class GateError(KGError):
    """A write refused because it adds violations; nothing was written."""

    status = 422
    title = "Refused by governance"

    def __init__(self, report: Report) -> None:
        added = report.results
        first = added[0]
        more = f" (and {len(added) - 1} more)" if len(added) > 1 else ""
        super().__init__(f"the write adds a violation: {first.message}{more}")
        self.report = report


class _Overlay:
    """The graph as it will be after a write, read without writing."""

    def __init__(self, store: GraphStore, write: GraphWrite) -> None:
        self.store = store
        self.replaced = {*write.replace.keys(), *write.drop}
        self.by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
        self.by_object: dict[ox.NamedNode | ox.BlankNode | ox.Literal, list[ox.Triple]] = {}
        self._stored: dict[ox.NamedNode | ox.BlankNode, list[ox.Quad]] = {}  # read_ahead
        for triples in write.replace.values():
            for t in triples:
                self.by_subject.setdefault(t.subject, []).append(t)  # type: ignore[arg-type]
                self.by_object.setdefault(t.object, []).append(t)  # type: ignore[arg-type]

    @property
    def subjects_replaced(self) -> set[ox.NamedNode]:
        """Subjects of the asset graphs the write replaces or drops."""
        return {
            ox.NamedNode(g.value.removeprefix(ASSET_GRAPH_PREFIX))
            for g in self.replaced
            if g.value.startswith(ASSET_GRAPH_PREFIX)
        }

    def flagged(self) -> list[ox.Triple]:
        """Deprecated or retired statuses and classifications, as the graph will be."""
        found = []
        for predicate, values in (
            (STATUS, (mlg("Deprecated"), mlg("Retired"))),
            (mlg("classification"), (None,)),
        ):
            for value_term in values:
                for q in self.store.quads(None, predicate, value_term):
                    if q.graph_name not in self.replaced:
                        found.append(q.triple)
        for triples in self.by_subject.values():
            found.extend(
                t for t in triples
                if t.predicate == mlg("classification")
                or (t.predicate == STATUS and t.object in (mlg("Deprecated"), mlg("Retired")))
            )  # fmt: skip
        return found

    def read_ahead(self, nodes: Iterable[ox.NamedNode | ox.BlankNode]) -> None:
        """Read the stored statements of many nodes at once (one request per few hundred on a
        server, instead of one each), for `about` to answer from."""
        wanted = [n for n in nodes if n not in self._stored]
        if wanted:
            found = self.store.quads_of(wanted)
            for node in wanted:
                self._stored[node] = found.get(node, [])

    def about(self, node: ox.NamedNode | ox.BlankNode) -> list[ox.Triple]:
        stored = self._stored.get(node)
        if stored is None:
            stored = list(self.store.quads(node, None, None))
        kept = [q.triple for q in stored if q.graph_name not in self.replaced]
        return kept + self.by_subject.get(node, [])

    def pointing_at(
        self, node: ox.NamedNode, predicate: ox.NamedNode | None = None
    ) -> list[ox.Triple]:
        kept = [
            q.triple
            for q in self.store.quads(None, predicate, node)
            if q.graph_name not in self.replaced
        ]
        new = self.by_object.get(node, [])
        if predicate is not None:
            new = [t for t in new if t.predicate == predicate]
        return kept + new


def _iris(terms: Iterable[object]) -> set[ox.NamedNode]:
    return {t for t in terms if isinstance(t, ox.NamedNode)}


@dataclass
class Gate:
    shapes: Shapes
    mode: GateMode = GateMode.ENFORCE
    # With the lineage index, the upstream closures come from it, and the staging store gets
    # only what path rules read far upstream (dependsOn edges, deprecated or retired status,
    # classification) instead of every upstream asset's whole description.
    index: LineageIndex | None = None

    def touched(self, store: GraphStore, write: GraphWrite) -> set[ox.NamedNode]:
        subjects: set[ox.NamedNode] = set()
        for name in {*write.replace.keys(), *write.drop}:
            subjects |= _iris(t.subject for t in store.graph(name))
        for triples in write.replace.values():
            subjects |= _iris(t.subject for t in triples)
        return subjects

    def focus(self, store: GraphStore, write: GraphWrite, overlay: _Overlay) -> set[ox.NamedNode]:
        touched = self.touched(store, write)
        focus = set(touched)
        for node in touched:
            focus |= _iris(t.object for t in overlay.about(node))
            focus |= _iris(q.object for q in store.quads(node, None, None))
            focus |= _iris(t.subject for t in overlay.pointing_at(node))
        downstream = reach(
            touched, lambda n: _iris(t.subject for t in overlay.pointing_at(n, DEPENDS_ON))
        )
        # Vocabulary terms (classes, status values) are not assets a rule is about; as focus
        # nodes they would pull in everything typed or valued with them.
        return {n for n in focus | downstream if not n.value.startswith(VOCABULARY)}

    def _upstream(self, overlay: _Overlay, focus: set[ox.NamedNode]) -> list[ox.Triple]:
        """What path rules read far upstream of the focus nodes, as the graph will be: the
        statuses and classifications they look for, and the dependsOn edges on the paths from
        the focus nodes to the assets that carry them (from the index). Edges leading nowhere
        flagged cannot change a rule's answer, and a deep model's upstream is thousands."""
        index = self.index
        assert index is not None
        changed = {n.value for n in set(overlay.by_subject) | overlay.subjects_replaced
                   if isinstance(n, ox.NamedNode)}  # fmt: skip
        same_as = index.known(SAME_AS.value)
        targets_of: dict[str, set[str]] = {}

        def dependencies(node: str) -> set[str]:
            """What a node depends on, as the graph will be (kept for the edges copied below)."""
            if node in changed:
                found = {
                    t.object.value
                    for t in overlay.about(ox.NamedNode(node))
                    if t.predicate == DEPENDS_ON and isinstance(t.object, ox.NamedNode)
                }
            else:
                known = index.known(node)
                pairs = index.out_edges(known) if known is not None else []
                found = {index.name(o) for p, o in pairs if p != same_as}
            targets_of[node] = found
            return found

        seen = reach((n.value for n in focus), dependencies)
        flags = [
            t
            for t in overlay.flagged()
            if isinstance(t.subject, ox.NamedNode) and t.subject.value in seen
        ]
        sources_of: dict[str, list[str]] = {}
        for node, targets in targets_of.items():
            for target in targets:
                sources_of.setdefault(target, []).append(node)
        # the walk back from the flagged assets: every node on a path to one
        useful = reach(
            {t.subject.value for t in flags if isinstance(t.subject, ox.NamedNode)},
            lambda node: sources_of.get(node, ()),
        )
        edges = [
            ox.Triple(ox.NamedNode(node), DEPENDS_ON, ox.NamedNode(target))
            for node, targets in targets_of.items()
            if node in useful
            for target in targets
            if target in useful
        ]
        return edges + flags

    def neighbourhood(self, overlay: _Overlay, focus: set[ox.NamedNode]) -> list[ox.Triple]:
        """What the rules about the focus nodes can see, as the graph will be."""
        if self.index is not None:
            nodes: set[ox.NamedNode] = set(focus)
            far = self._upstream(overlay, focus)
        else:
            nodes = reach(
                focus,
                lambda n: _iris(t.object for t in overlay.about(n) if t.predicate == DEPENDS_ON),
                level=overlay.read_ahead,
            )
            far = []
        # Who points at a focus node matters by the edge and by what it is (its type, status,
        # stage: an evaluation, a production service, an active dependent); its whole
        # description would be a team's every asset.
        pointing: list[ox.Triple] = []
        dependents: list[ox.NamedNode] = []
        overlay.read_ahead(focus)
        for node in focus:
            nodes |= _iris(t.object for t in overlay.about(node))
            for t in overlay.pointing_at(node):
                pointing.append(t)
                # dependents (every lineage edge also holds as mlg:dependsOn) are described by
                # kind; owners' and teams' other assets are not
                if (
                    t.predicate == DEPENDS_ON
                    and isinstance(t.subject, ox.NamedNode)
                    and t.subject not in nodes
                ):
                    dependents.append(t.subject)
        overlay.read_ahead(dependents)
        for dependent in dependents:
            pointing.extend(s for s in overlay.about(dependent) if s.predicate in _KIND_PREDICATES)
        # the nodes' statements, and those hanging off them through blank nodes
        described: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}

        def hanging(node: ox.NamedNode | ox.BlankNode) -> list[ox.NamedNode | ox.BlankNode]:
            about = described[node] = overlay.about(node)
            return [t.object for t in about if isinstance(t.object, ox.BlankNode)]

        starts: list[ox.NamedNode | ox.BlankNode] = [*nodes]
        reach(starts, hanging, level=overlay.read_ahead)
        return [*pointing, *(t for about in described.values() for t in about), *far]

    def _validate(
        self, store: GraphStore, focus: list[str], progress: Callable[[int], None] | None = None
    ) -> list[Result]:
        return validate(store, self.shapes, focus, progress=progress).results

    @property
    def _side(self) -> int:
        """Steps of validating one side: the neighbourhood, the scratch store, the rules."""
        return 2 + len(self.shapes.checks)

    @property
    def steps(self) -> int:
        """Steps a check tells its progress callback: the focus nodes, both sides, the
        production dependencies."""
        return 1 + 2 * self._side + 1

    def candidate(self, store: GraphStore, write: GraphWrite) -> tuple[list[str], list[Result]]:
        """The focus nodes of a write, and their results as the graph would be after it."""
        if self.index is not None:
            with self.index.lock:
                return self._candidate(store, write)
        return self._candidate(store, write)

    def _candidate(
        self, store: GraphStore, write: GraphWrite, told: _Told = _QUIET
    ) -> tuple[list[str], list[Result]]:
        overlay = _Overlay(store, write)
        focus_nodes = self.focus(store, write, overlay)
        focus = sorted(str(n) for n in focus_nodes)
        told.at(1)
        content = self.neighbourhood(overlay, focus_nodes)
        told.at(2)
        return focus, self._staged(store, content, focus, told, 3)

    def _staged(
        self,
        store: GraphStore,
        content: list[ox.Triple],
        focus: list[str],
        told: _Told = _QUIET,
        step: int = 0,
    ) -> list[Result]:
        """The focus nodes' results over a scratch store holding what the rules can see
        (`told` at `step` once it is filled, then rule by rule)."""
        staging = open_store(None)
        try:
            staging.commit(
                GraphWrite(
                    replace={STAGING_GRAPH: content, ONTOLOGY_GRAPH: store.graph(ONTOLOGY_GRAPH)}
                )
            )
            told.at(step)
            results = self._validate(staging, focus, told.from_(step))
            told.at(step + len(self.shapes.checks))
            return results
        finally:
            staging.close()

    def added_violations(
        self, store: GraphStore, write: GraphWrite, *, progress: Steps | None = None
    ) -> Report:
        """The Violations the write would add on the assets it can affect: the focus nodes'
        results as the graph would be, less those it already has. Both sides are computed over
        the focus nodes' neighbourhood (before and after), not the whole store, so a write's
        cost follows what it touches, not the size of the graph. `progress` is told
        (steps done, `steps`) as each step ends."""
        told = _Told(progress, self.steps)
        told.at(0)
        if self.index is not None:
            with self.index.lock:
                return self._added(store, write, told)
        return self._added(store, write, told)

    def _added(self, store: GraphStore, write: GraphWrite, told: _Told) -> Report:
        focus, after = self._candidate(store, write, told)
        side = self._side
        focus_nodes = {ox.NamedNode(f[1:-1]) for f in focus}
        now = self.neighbourhood(_Overlay(store, GraphWrite(replace={})), focus_nodes)
        told.at(2 + side)
        before = {r.key() for r in self._staged(store, now, focus, told, 3 + side)}
        added = [r for r in after if r.severity is Severity.VIOLATION and r.key() not in before]
        added += production_dependencies_removed(store, write)
        told.at(self.steps)
        return Report(results=added, shapes=self.shapes.count, focus_nodes=len(focus))

    def check(
        self, store: GraphStore, write: GraphWrite, *, progress: Steps | None = None
    ) -> Report | None:
        """Refuse (enforce) or report (warn) what a write would add; None when off (then
        `progress` is told nothing)."""
        if self.mode is GateMode.OFF:
            return None
        report = self.added_violations(store, write, progress=progress)
        if report.results and self.mode is GateMode.ENFORCE:
            raise GateError(report)
        return report


PRODUCTION_DEPENDENCY = "<https://w3id.org/mlg/shapes#ProductionDependencyKept>"


def production_dependencies_removed(store: GraphStore, write: GraphWrite) -> list[Result]:
    """A rule SHACL cannot state, since it cannot tell "deleted" from "not loaded yet": a write
    that removes the description of an asset a production asset still depends on (a model
    version a production service deploys, a dataset a production version is trained on) adds
    a Violation on the dependent. References to assets never described stay allowed."""
    overlay = _Overlay(store, write)
    found: list[Result] = []
    for subject in sorted(overlay.subjects_replaced, key=str):
        described_before = next(store.triples(subject, RDF_TYPE, None), None) is not None
        if not described_before or any(t.predicate == RDF_TYPE for t in overlay.about(subject)):
            continue
        for edge in overlay.pointing_at(subject, DEPENDS_ON):
            dependent = edge.subject
            if not isinstance(dependent, ox.NamedNode) or dependent == subject:
                continue
            if any(t.predicate == STAGE and t.object == mlg("Production")
                   for t in overlay.about(dependent)):  # fmt: skip
                found.append(Result(
                    severity=Severity.VIOLATION,
                    shape=PRODUCTION_DEPENDENCY,
                    focus=str(dependent),
                    path=str(DEPENDS_ON),
                    value=str(subject),
                    component="<http://www.w3.org/ns/shacl#SPARQLConstraintComponent>",
                    message=f"{dependent.value} runs in production and depends on "
                    f"{subject.value}, which this write would remove.",
                ))  # fmt: skip
    return found
