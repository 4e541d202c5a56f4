"""Keeping rules' conclusions in step with the graph.

For a write touching assets T, a rule's anchors to recompute are those its WHERE group reaches
from T before the write (their conclusions may lose a premise) and after it (they may gain
one): the group joined with T on each of its variables in turn. Each such anchor's conclusions
are computed again, from the graph after the write, and its inferred graph replaced, or dropped
when nothing follows any more. A write touching more than `WHOLE_ABOVE` assets recomputes every
rule whole and compares with what is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.graphs import INFERRED_GRAPH_PREFIX, inferred_graph
from kg.inference.rules import RDF_TYPE, Rule
from kg.ingest import Batch
from kg.ontology import Ontology
from kg.store import GraphStore

WHOLE_ABOVE = 2000  # touched assets past which a rule is recomputed whole
_CHUNK = 400  # IRIs per VALUES block: the query text stays small


Anchors = dict[str, set[ox.NamedNode] | None]  # rule name -> anchors (None: every one)


@dataclass
class Conclusions:
    """What a recomputation found: per rule, the anchors whose graph it replaced or dropped."""

    batch: Batch
    changed: dict[str, int] = field(default_factory=dict)  # rule -> graphs written or dropped


def _values(variable: str, iris: Sequence[ox.NamedNode]) -> str:
    return f"VALUES ?{variable} {{ {' '.join(str(i) for i in iris)} }}"


def _chunks(items: Sequence[ox.NamedNode]) -> Iterable[Sequence[ox.NamedNode]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class Inference:
    """The rules of one graph, and how to keep their conclusions in step."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)

    def properties(self) -> set[ox.NamedNode]:
        """The properties the rules conclude."""
        return {
            p for rule in self.rules for _, p, _ in rule.template if isinstance(p, ox.NamedNode)
        }

    def affected(
        self,
        ontology: Ontology,
        old: Mapping[ox.NamedNode, Iterable[ox.Triple]],
        new: Mapping[ox.NamedNode, Iterable[ox.Triple]],
    ) -> list[Rule]:
        """The rules a change from `old` to `new` (graph contents) can affect: those whose
        premises name a predicate (or a class) of a triple the change adds or removes, or one
        of their sub-properties (sub-classes)."""
        if not self.rules:
            return []
        named: set[str] = set()
        for graph in {*old, *new}:
            before, after = set(old.get(graph, ())), set(new.get(graph, ()))
            for t in before ^ after:
                if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
                    named.add(t.object.value)
                else:
                    named.add(t.predicate.value)
        classes, properties = ontology.materialized
        for name in list(named):  # a change to mlg:trainedOn is a change to mlg:dependsOn too
            term = ox.NamedNode(name)
            named |= {t.value for t in (*properties.get(term, ()), *classes.get(term, ()))}
        return [r for r in self.rules if r.premises is None or r.premises & named]

    def anchors(
        self, store: GraphStore, subjects: set[str], rules: Sequence[Rule] | None = None
    ) -> Anchors:
        """Per rule (of `rules`, else all), the anchors its premises reach from `subjects` in
        the store as it is."""
        chosen = self.rules if rules is None else rules
        if not chosen or not subjects:
            return {}
        if len(subjects) > WHOLE_ABOVE:
            return {rule.name: None for rule in chosen}
        touched = sorted(ox.NamedNode(s) for s in subjects)
        found: Anchors = {}
        for rule in chosen:
            anchors: set[ox.NamedNode] = set()
            for chunk in _chunks(touched):
                branches = " UNION ".join(
                    f"{{ {_values(v, chunk)} {rule.where} }}" for v in rule.variables
                )
                query = f"{rule.prologue}SELECT DISTINCT ?{rule.anchor} WHERE {{ {branches} }}"
                for row in store.query(query):  # type: ignore[union-attr]
                    anchor = row[0]
                    if isinstance(anchor, ox.NamedNode):
                        anchors.add(anchor)
            found[rule.name] = anchors
        return found

    def conclude(
        self, store: GraphStore, *reaches: Anchors, source: str = "inference"
    ) -> Conclusions:
        """The write that brings the named anchors' conclusions in step with the store."""
        wanted: Anchors = {}
        for reach in reaches:
            for rule_name, anchors in reach.items():
                if rule_name in wanted and wanted[rule_name] is None:
                    continue
                known = wanted.get(rule_name) or set()
                wanted[rule_name] = None if anchors is None else {*known, *anchors}
        batch = Batch(source=source, inferred=True)
        result = Conclusions(batch)
        for rule in self.rules:
            if rule.name not in wanted:
                continue
            anchors = wanted[rule.name]
            if anchors is not None and not anchors:
                continue
            now = self._concluded(store, rule, anchors)
            if anchors is None:  # every anchor: what is kept of the rule decides what to drop
                kept = _kept_graphs(store, rule)
                names = sorted({*kept, *(inferred_graph(rule.name, a) for a in now)}, key=str)
            else:
                names = [inferred_graph(rule.name, a) for a in sorted(anchors, key=str)]
            before = store.graphs_content(names)
            by_graph = {inferred_graph(rule.name, a): ts for a, ts in now.items()}
            for graph in names:
                new = by_graph.get(graph, [])
                if set(new) == set(before.get(graph, [])):
                    continue
                if new:
                    batch.named_graphs[graph] = new
                else:
                    batch.drop.append(graph)
                result.changed[rule.name] = result.changed.get(rule.name, 0) + 1
        if result.changed:
            batch.source = f"{source}: " + ", ".join(f"rule {n}" for n in sorted(result.changed))
        return result

    def _concluded(
        self, store: GraphStore, rule: Rule, anchors: set[ox.NamedNode] | None
    ) -> dict[ox.NamedNode, list[ox.Triple]]:
        """The rule's conclusions, per anchor (of those given, or all)."""
        names = rule.template_variables
        selected = " ".join(f"?{n}" for n in names)
        groups: list[str] = []
        if anchors is None:
            groups.append(rule.where)
        else:
            groups += [
                f"{{ {_values(rule.anchor, chunk)} {rule.where} }}"
                for chunk in _chunks(sorted(anchors, key=str))
            ]
        found: dict[ox.NamedNode, dict[ox.Triple, None]] = {}
        for group in groups:
            query = f"{rule.prologue}SELECT DISTINCT {selected} WHERE {group}"
            for row in store.query(query):  # type: ignore[union-attr]
                bound = dict(zip(names, row, strict=True))
                anchor = bound[rule.anchor]
                if not isinstance(anchor, ox.NamedNode):
                    continue
                for triple in _instances(rule, bound):
                    found.setdefault(anchor, {}).setdefault(triple)
        return {a: list(ts) for a, ts in found.items()}

    def counts(self, store: GraphStore) -> dict[str, tuple[int, int]]:
        """Per rule: (assets with conclusions, triples concluded)."""
        counted = {rule.name: (0, 0) for rule in self.rules}
        for name, size in store.graph_sizes().items():
            if name.startswith(INFERRED_GRAPH_PREFIX):
                rule = name.removeprefix(INFERRED_GRAPH_PREFIX).partition(":")[0]
                if rule in counted:
                    assets, triples = counted[rule]
                    counted[rule] = (assets + 1, triples + size)
        return counted


def _instances(rule: Rule, bound: dict[str, object]) -> list[ox.Triple]:
    """The template's triples under one solution (a triple with an unbound or ill-placed term
    is left out, as CONSTRUCT does)."""
    made = []
    for s, p, o in rule.template:
        terms = [bound.get(t) if isinstance(t, str) else t for t in (s, p, o)]
        subject, predicate, obj = terms
        if (
            isinstance(subject, ox.NamedNode)
            and isinstance(predicate, ox.NamedNode)
            and isinstance(obj, ox.NamedNode | ox.Literal)
        ):
            made.append(ox.Triple(subject, predicate, obj))
    return made


def _kept_graphs(store: GraphStore, rule: Rule) -> list[ox.NamedNode]:
    """The rule's inferred graphs in the store, found by the predicates it concludes (an index
    read) rather than by listing every graph."""
    prefix = f"{INFERRED_GRAPH_PREFIX}{rule.name}:"
    predicates = {p for _, p, _ in rule.template}
    if any(isinstance(p, str) for p in predicates):
        return [ox.NamedNode(n) for n in store.graph_sizes() if n.startswith(prefix)]
    found: set[ox.NamedNode] = set()
    for predicate in predicates:
        assert isinstance(predicate, ox.NamedNode)
        for quad in store.quads(None, predicate, None):
            graph = quad.graph_name
            if isinstance(graph, ox.NamedNode) and graph.value.startswith(prefix):
                found.add(graph)
    return sorted(found, key=str)
