"""The two validation engines: SPARQL compiled from the shapes, run in the store (fast), and
pyshacl over an rdflib graph (the reference, and the fallback for shapes we do not compile)."""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import RDF, Graph
from rdflib.namespace import SH
from rdflib.term import Node

from kg.governance.closure import Edges, Reached, closure_pairs, walkable
from kg.governance.model import Result, Severity
from kg.governance.shapes import Check, Shapes, nt
from kg.graphs import LOADS_GRAPH, SHAPES_GRAPH
from kg.lineage.walkers import collector_paused
from kg.store import GraphStore

_TEMPLATE = re.compile(r"\{[$?](\w+)\}")
_ESCAPED_PLACEHOLDER = re.compile(r"\{\{[$?](\w+)\}\}")


def _fill(template: str, row: dict[str, str]) -> str:
    return _TEMPLATE.sub(lambda m: row.get(m.group(1), m.group(0)), template)


def _format_of(template: str, names: tuple[str, ...]) -> str:
    """The message template as a str.format string taking `names` by position, as `_fill`
    fills it (a placeholder of another name stays as written)."""
    escaped = template.replace("{", "{{").replace("}", "}}")
    return _ESCAPED_PLACEHOLDER.sub(
        lambda m: f"{{{names.index(m.group(1))}}}" if m.group(1) in names else m.group(0),
        escaped,
    )


def _display(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)


Term = ox.NamedNode | ox.BlankNode | ox.Literal


def _rows(
    store: GraphStore, check: Check, focus: Iterable[str] | None
) -> Iterable[tuple[set[str], Mapping[str, Any], Term | None]]:
    if not check.per_focus:
        result = store.query(check.sparql(focus))
        assert isinstance(result, ox.QuerySolutions)
        names = {v.value for v in result.variables}
        for row in result:
            yield names, row, None
        return
    nodes = store.query(check.focus_sparql(focus))
    assert isinstance(nodes, ox.QuerySolutions)
    for node in [row["this"] for row in nodes]:
        assert isinstance(node, ox.NamedNode | ox.BlankNode | ox.Literal)
        if isinstance(node, ox.BlankNode):  # a query cannot name a stored blank node
            result = store.query(check.query, substitutions={"this": node})
        else:
            result = store.query(check.bound_to(str(node)))
        assert isinstance(result, ox.QuerySolutions)
        names = {v.value for v in result.variables}
        for row in result:
            yield names, row, node


def run_check(
    store: GraphStore,
    check: Check,
    focus: Iterable[str] | None = None,
    index: Edges | None = None,
) -> list[Result]:
    """The check's results over the focus nodes (N-Triples IRIs) or every target. `index`, the
    lineage index of this very store or its edges (kg.governance.closure.dependency_edges),
    answers path rules over every target faster, in report order."""
    walked = _walked(store, check, index) if focus is None else None
    if walked is not None:
        return walked
    found = []
    for names, row, focus_node in _rows(store, check, focus):
        this = row["this"] if row["this"] is not None else focus_node
        if this is None:
            continue
        values = {name: str(row[name]) for name in names if row[name] is not None}
        shown = {name: _display(row[name]) for name in names if row[name] is not None}
        value = values.get("value")
        if check.component.endswith("SPARQLConstraintComponent") and value is None:
            value = str(this)  # SHACL-SPARQL: no ?value means the focus node is the value
        found.append(
            Result(
                severity=check.severity,
                shape=check.shape,
                focus=str(this),
                path=values.get("path", check.path),
                value=value,
                component=check.component,
                message=_fill(check.message, shown),
                node_shape=check.node_shape,
            )
        )
    return found


def _walked(store: GraphStore, check: Check, index: Edges | None) -> list[Result] | None:
    """A path rule's results over every target from the edges in memory, as run_check makes
    them from its SPARQL rows, distinct and in report order (kg.governance.closure gives the
    pairs so); None when they cannot answer it. A million of them at scale: each node's
    text is made once, and the message's template is compiled once."""
    if not walkable(check, index):
        return None
    assert index is not None
    with collector_paused():  # a million objects made, and none in a cycle
        pairs = closure_pairs(store, check, index)
        return None if pairs is None else _results_of(check, pairs)


def _results_of(check: Check, reached: Reached) -> list[Result]:
    shown = [(str(value), value.value) for value in reached.values]
    template = _format_of(check.message, ("this", "value"))
    severity, shape, path = check.severity, check.shape, check.path
    component, node_shape = check.component, check.node_shape
    return [
        Result(
            severity,
            shape,
            this_nt,
            path,
            shown[i][0],
            component,
            template.format(this_value, shown[i][1]),
            node_shape,
        )
        for this, found in reached.targets
        for this_nt, this_value in [(str(this), this.value)]
        for i in found
    ]


def run_compiled(
    store: GraphStore,
    shapes: Shapes,
    focus: Iterable[str] | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    index: Edges | None = None,
) -> list[Result]:
    """Every compiled check over the store (or only over the focus nodes, as N-Triples IRIs).
    `progress` is told how many checks have run, after each; `index` is the store's own
    lineage index or its edges, for path rules (see `run_check`)."""
    focus_list = None if focus is None else sorted(set(focus))
    if focus_list is not None and not focus_list:
        return []
    results: set[Result] = set()
    # A walked path rule's results come distinct and in order, and a full run at scale has a
    # million of them: merged with the sorted rest rather than hashed and sorted again.
    in_order: list[list[Result]] = []
    for done, check in enumerate(shapes.checks, 1):
        walked = _walked(store, check, index) if focus_list is None else None
        if walked is not None:
            in_order.append(walked)
        else:
            results.update(run_check(store, check, focus_list))
        if progress is not None:
            progress(done)
    merged = heapq.merge(sorted(results, key=Result.order), *in_order, key=Result.order)
    # two checks of one shape may find one result: equal results meet in the merge
    return [r for r, _ in itertools.groupby(merged)]


def store_as_rdflib(store: GraphStore) -> Graph:
    """The union of the data graphs (everything but shapes and load records) as rdflib."""
    result = store.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
        f"FILTER(?g NOT IN ({SHAPES_GRAPH}, {LOADS_GRAPH})) }}",
        default_graph=None,
    )
    assert isinstance(result, ox.QueryTriples)
    data = result.serialize(format=ox.RdfFormat.N_TRIPLES) or b""
    del result  # dropped here, in the thread that made it (pyoxigraph results stay in theirs)
    return Graph().parse(data=data.decode("utf-8"), format="nt")


def _one(graph: Graph, subject: Node, predicate: Node) -> str | None:
    value = graph.value(subject, predicate)
    return nt(value) if value is not None else None


def run_reference(data: Graph, shapes_graph: Graph) -> list[Result]:
    """pyshacl, as the W3C reference for what the shapes mean."""
    _, report, _ = pyshacl_validate(
        data, shacl_graph=shapes_graph, advanced=True, inference="none", allow_warnings=True
    )
    assert isinstance(report, Graph)
    results = set()
    for node in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(node, SH.resultSeverity)
        results.add(
            Result(
                severity=Severity.from_iri(str(severity)),
                shape=_one(report, node, SH.sourceShape) or "",
                focus=_one(report, node, SH.focusNode) or "",
                path=_one(report, node, SH.resultPath),
                value=_one(report, node, SH.value),
                component=str(report.value(node, SH.sourceConstraintComponent)),
                message=str(report.value(node, SH.resultMessage) or ""),
            )
        )
    return sorted(results, key=Result.order)
