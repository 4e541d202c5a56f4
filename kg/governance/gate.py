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

import re
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

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
# What path rules look for at the far end of a dependsOn+ path: these statuses, and any
# classification.
CLASSIFICATION = mlg("classification")
_FLAG_STATUSES = (mlg("Deprecated"), mlg("Retired"))
# Below this many nodes, their flags are read node by node rather than every flag at once.
_FLAGS_READ_ONE_BY_ONE = 2000
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
            (STATUS, _FLAG_STATUSES),
            (CLASSIFICATION, (None,)),
        ):
            for value_term in values:
                for q in self.store.quads(None, predicate, value_term):
                    if q.graph_name not in self.replaced:
                        found.append(q.triple)
        for triples in self.by_subject.values():
            found.extend(t for t in triples if _is_flag(t))
        return found

    def flags_of(self, nodes: Collection[str]) -> list[ox.Triple]:
        """The flags (as `flagged`) of these nodes: read node by node when they are few, from
        every flag in the store when they are many (the same answer either way)."""
        if len(nodes) > _FLAGS_READ_ONE_BY_ONE:
            return [
                t
                for t in self.flagged()
                if isinstance(t.subject, ox.NamedNode) and t.subject.value in nodes
            ]
        found: list[ox.Triple] = []
        for node in nodes:
            term = ox.NamedNode(node)
            for predicate in (STATUS, CLASSIFICATION):
                found.extend(
                    q.triple
                    for q in self.store.quads(term, predicate, None)
                    if q.graph_name not in self.replaced and _is_flag(q.triple)
                )
            found.extend(t for t in self.by_subject.get(term, ()) if _is_flag(t))
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


def _is_flag(t: ox.Triple) -> bool:
    return t.predicate == CLASSIFICATION or (t.predicate == STATUS and t.object in _FLAG_STATUSES)


def _iris(terms: Iterable[object]) -> set[ox.NamedNode]:
    return {t for t in terms if isinstance(t, ox.NamedNode)}


# For each property a rule reads into its focus node (`?x p $this`), the statements the node
# must have itself for that rule to read it (one set per rule; an empty set: always).
Incoming = dict[ox.NamedNode, list[frozenset[tuple[ox.NamedNode, ox.NamedNode]]]]

# IRIs (kept as they are), and strings and comments (blanked), in SPARQL text
_TEXTS = re.compile(
    r"""<[^<>\s]*>|"{3}[\s\S]*?"{3}|'{3}[\s\S]*?'{3}|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|#[^\n]*"""
)
_PREFIX = re.compile(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", re.IGNORECASE)
_BEFORE_THIS = re.compile(r"(\S+)\s+[?$]this\b")
_OWN_STATEMENT = re.compile(r"[?$]this\s+(\S+)\s+(\S+?)\s*(?=[.;]|$)")
_INVERSE = re.compile(r"(?<!\^)\^(?!\^)")
_NOT_A_PREDICATE = {"SELECT", "DISTINCT", "REDUCED", "WHERE", "BY", ".", "("}


def _named(word: str, prefixes: dict[str, str]) -> ox.NamedNode | None:
    if word == "a":
        return RDF_TYPE
    if word.startswith("<") and word.endswith(">"):
        return ox.NamedNode(word[1:-1])
    prefix, colon, local = word.partition(":")
    if colon and prefix in prefixes and re.fullmatch(r"[\w.-]*", local):
        return ox.NamedNode(prefixes[prefix] + local)
    return None


def _own_texts(text: str) -> list[str]:
    """The text of each {...} group of a query, without the groups nested in it."""
    found: list[str] = []
    stack: list[list[str]] = []
    start = 0
    for at, char in enumerate(text):
        if char not in "{}":
            continue
        if stack:
            stack[-1].append(text[start:at])
        if char == "{":
            stack.append([])
        elif stack:
            found.append(" ".join(stack.pop()))
        start = at + 1
    return found


def incoming_reads(shapes: Shapes) -> Incoming | None:
    """Which edges into a focus node the Violation rules read, from their SPARQL (only a
    Violation can be added, so what Warnings alone read need not be copied): a pattern
    `?x p $this` reads p, and only of a node with the constant statements `$this q o` of
    the same group (`$this mlg:status mlg:Retired`): without them the group matches nothing
    whatever points at the node. None (read every edge) when a rule is not plain enough to
    tell: an inverse or other path, or a variable, ending on $this; or shapes left to
    pyshacl."""
    if shapes.fallback is not None:
        return None
    found: Incoming = {}
    for check in shapes.checks:
        if check.severity is not Severity.VIOLATION:
            continue
        text = _TEXTS.sub(lambda m: m[0] if m[0].startswith("<") else '""', check.sparql(None))
        prefixes = dict(_PREFIX.findall(text))
        if _INVERSE.search(text):
            return None
        for own in _own_texts(text):
            needs = frozenset(
                (p, o)
                for p_word, o_word in _OWN_STATEMENT.findall(own)
                if (p := _named(p_word, prefixes)) is not None
                and (o := _named(o_word, prefixes)) is not None
            )
            for word in _BEFORE_THIS.findall(own):
                if word.upper() in _NOT_A_PREDICATE:
                    continue
                predicate = _named(word, prefixes)
                if predicate is None:
                    return None
                found.setdefault(predicate, []).append(needs)
    return found


def _pointing(
    overlay: _Overlay, node: ox.NamedNode, about: list[ox.Triple], incoming: Incoming | None
) -> list[ox.Triple]:
    """The edges into a node (as `overlay` sees the graph) that the rules read."""
    if incoming is None:
        return overlay.pointing_at(node)
    has = {(t.predicate, t.object) for t in about if isinstance(t.object, ox.NamedNode)}
    return [
        t
        for predicate, needs in incoming.items()
        if any(need <= has for need in needs)
        for t in overlay.pointing_at(node, predicate)
    ]


class _Dependencies:
    """The dependsOn edges before and after a write, from the lineage index and the write:
    only the assets the write changes have edges of their own in it."""

    def __init__(self, index: LineageIndex, overlay: _Overlay) -> None:
        self.index = index
        self.overlay = overlay
        self.stored = _Overlay(overlay.store, GraphWrite(replace={}))
        self.same_as = index.known(SAME_AS.value)
        written = set(overlay.by_subject) | overlay.subjects_replaced
        self.changed = {n.value for n in written if isinstance(n, ox.NamedNode)}
        self._after = {node: self._written(node) for node in self.changed}

    def _written(self, node: str) -> set[str]:
        return {
            t.object.value
            for t in self.overlay.about(ox.NamedNode(node))
            if t.predicate == DEPENDS_ON and isinstance(t.object, ox.NamedNode)
        }

    def before(self, node: str) -> set[str]:
        """What a node depends on as stored (owl:sameAs is no dependency)."""
        index = self.index
        known = index.known(node)
        pairs = index.out_edges(known) if known is not None else []
        return {index.name(o) for p, o in pairs if p != self.same_as}

    def after(self, node: str) -> set[str]:
        """What a node depends on as the graph will be."""
        found = self._after.get(node)
        return self.before(node) if found is None else found

    @cached_property
    def _linked(self) -> set[str]:
        """What the changed assets point at, before or after, by a property that is not a
        dependency (an owner, a privacy review)."""
        lineage = self.index.properties
        return {
            t.object.value
            for side in (self.overlay, self.stored)
            for node in self.changed
            for t in side.about(ox.NamedNode(node))
            if t.predicate not in lineage and isinstance(t.object, ox.NamedNode)
        }

    def beside(self, node: ox.NamedNode) -> bool:
        """Whether a node and a changed asset are linked, either way, before or after, by a
        property that is not a dependency."""
        if node.value in self._linked:
            return True
        lineage = self.index.properties
        return any(
            t.predicate not in lineage and _value_of(t.object) in self.changed
            for side in (self.overlay, self.stored)
            for t in side.about(node)
        )


def _value_of(term: object) -> str | None:
    return term.value if isinstance(term, ox.NamedNode) else None


def _paths_to_flags(
    dependencies: Callable[[str], set[str]], starts: Iterable[str], overlay: _Overlay
) -> list[ox.Triple]:
    """The flags (as `overlay` sees them) upstream of the start nodes, and the dependsOn edges
    on the paths to them."""
    targets_of: dict[str, set[str]] = {}

    def step(node: str) -> set[str]:
        found = targets_of[node] = dependencies(node)
        return found

    seen = reach(starts, step)
    if not seen:
        return []
    flags = overlay.flags_of(seen)
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


def _paths(dependencies: Callable[[str], set[str]], start: str, ends: set[str]) -> list[ox.Triple]:
    """A shortest path of dependsOn edges (one or more) from `start` to each of `ends` it
    reaches, walking no further than the last one found."""
    parent: dict[str, str | None] = {start: None}
    queue, remaining = deque([start]), set(ends)
    edges: set[tuple[str, str]] = set()
    while queue and remaining:
        node = queue.popleft()
        for target in dependencies(node):
            if target in remaining:
                remaining.discard(target)
                edges.add((node, target))
                back = node
                while (up := parent[back]) is not None:
                    edges.add((up, back))
                    back = up
            if target not in parent:
                parent[target] = node
                queue.append(target)
    return [ox.Triple(ox.NamedNode(s), DEPENDS_ON, ox.NamedNode(o)) for s, o in sorted(edges)]


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
        assert self.index is not None
        edges = _Dependencies(self.index, overlay)
        return _paths_to_flags(edges.after, (n.value for n in focus), overlay)

    def _changed_upstream(self, edges: _Dependencies, focus: set[ox.NamedNode]) -> list[ox.Triple]:
        """What path rules read far upstream as the graph will be, for the added violations
        alone: as `_upstream`, but only from the focus nodes whose own side of a path rule may
        change (those written, and those beside one by a property other than a dependency: a
        privacy review). Another focus node (what stands downstream of the write, say) has a
        path result the stored graph lacks only through a path by a written asset: the path
        to it is among the focus nodes' own statements (all that reaches a written asset is
        a focus node), and the rest is walked from the written asset. Any other path, and
        the flag it ends on, is in the stored graph too, so its result is there already (and
        the before side, `_witnesses`, finds it)."""
        starts = [n.value for n in focus if n.value in edges.changed or edges.beside(n)]
        return _paths_to_flags(edges.after, starts, edges.overlay)

    def _witnesses(self, edges: _Dependencies, after: list[Result]) -> list[ox.Triple]:
        """What the stored graph needs to show of its far upstream for the before side of
        `_changed_upstream`: for each Violation the write would leave on a focus node with a
        flagged asset as its value, a path of dependencies from the node to it, as stored (and
        the asset's flags), when there is one. A result there already is then found, and only
        it: everything copied is in the stored graph."""
        wanted: dict[str, set[str]] = {}
        for r in after:
            iris = r.focus.startswith("<") and (r.value or "").startswith("<")
            if r.severity is Severity.VIOLATION and iris and r.value is not None:
                wanted.setdefault(r.focus[1:-1], set()).add(r.value[1:-1])
        values = {v for vs in wanted.values() for v in vs}
        flags = edges.stored.flags_of(values) if values else []
        flagged = {t.subject.value for t in flags if isinstance(t.subject, ox.NamedNode)}
        found = list(flags)
        for node, targets in wanted.items():
            if targets & flagged:
                found += _paths(edges.before, node, targets & flagged)
        return found

    def neighbourhood(self, overlay: _Overlay, focus: set[ox.NamedNode]) -> list[ox.Triple]:
        """What the rules about the focus nodes can see, as the graph will be."""
        if self.index is not None:
            return self._near(overlay, focus, set(focus)) + self._upstream(overlay, focus)
        nodes = reach(
            focus,
            lambda n: _iris(t.object for t in overlay.about(n) if t.predicate == DEPENDS_ON),
            level=overlay.read_ahead,
        )
        return self._near(overlay, focus, nodes)

    def _near(
        self,
        overlay: _Overlay,
        focus: set[ox.NamedNode],
        nodes: set[ox.NamedNode],
        incoming: Incoming | None = None,
    ) -> list[ox.Triple]:
        """The focus nodes' one-hop neighbourhood: the statements of `nodes` (the focus nodes
        and what else is to be described) and of what they point at, and who points at them
        (by the properties in `incoming` alone, when given)."""
        nodes = set(nodes)
        # Who points at a focus node matters by the edge and by what it is (its type, status,
        # stage: an evaluation, a production service, an active dependent); its whole
        # description would be a team's every asset.
        pointing: list[ox.Triple] = []
        dependents: list[ox.NamedNode] = []
        lineage = self.index.properties if self.index is not None else set()
        overlay.read_ahead(focus)
        for node in focus:
            about = overlay.about(node)
            nodes |= _iris(t.object for t in about)
            for t in _pointing(overlay, node, about, incoming):
                pointing.append(t)
                # dependents (every lineage edge also holds as mlg:dependsOn) are described by
                # kind; owners' and teams' other assets are not
                if (
                    (t.predicate == DEPENDS_ON or (incoming is not None and t.predicate in lineage))
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
        return [*pointing, *(t for about in described.values() for t in about)]

    @cached_property
    def _incoming(self) -> Incoming | None:
        """What the Violation rules read of who points at a focus node (see `incoming_reads`)."""
        return incoming_reads(self.shapes)

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
        side = self._side
        if self.index is None:
            focus, after = self._candidate(store, write, told)
            focus_nodes = {ox.NamedNode(f[1:-1]) for f in focus}
            now = self.neighbourhood(_Overlay(store, GraphWrite(replace={})), focus_nodes)
        else:
            overlay = _Overlay(store, write)
            focus_nodes = self.focus(store, write, overlay)
            focus = sorted(str(n) for n in focus_nodes)
            told.at(1)
            edges = _Dependencies(self.index, overlay)
            incoming = self._incoming
            content = self._near(overlay, focus_nodes, focus_nodes, incoming)
            content += self._changed_upstream(edges, focus_nodes)
            told.at(2)
            after = self._staged(store, content, focus, told, 3)
            now = self._near(edges.stored, focus_nodes, focus_nodes, incoming)
            now += self._witnesses(edges, after)
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
