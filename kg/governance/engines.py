"""The two validation engines: SPARQL compiled from the shapes, run in the store (fast), and
pyshacl over an rdflib graph (the reference, and the fallback for shapes we do not compile)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pyoxigraph as ox
from pyshacl import validate as pyshacl_validate
from rdflib import RDF, Graph
from rdflib.namespace import SH
from rdflib.term import Node

from kg.governance.closure import closure_rows, walkable
from kg.governance.model import Result, Severity
from kg.governance.shapes import Check, Shapes, nt
from kg.graphs import LOADS_GRAPH, SHAPES_GRAPH
from kg.lineage.index import LineageIndex
from kg.store import GraphStore

_TEMPLATE = re.compile(r"\{[$?](\w+)\}")


def _fill(template: str, row: dict[str, str]) -> str:
    return _TEMPLATE.sub(lambda m: row.get(m.group(1), m.group(0)), template)


def _display(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)


Term = ox.NamedNode | ox.BlankNode | ox.Literal


def _rows(
    store: GraphStore, check: Check, focus: Iterable[str] | None, index: LineageIndex | None
) -> Iterable[tuple[set[str], Mapping[str, Any], Term | None]]:
    if focus is None and index is not None and walkable(check, index):
        walked = closure_rows(store, check, index)
        if walked is not None:
            for row in walked:
                yield {"this", "value"}, row, None
            return
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
    index: LineageIndex | None = None,
) -> list[Result]:
    """The check's results over the focus nodes (N-Triples IRIs) or every target; `index`, the
    lineage index of this very store, answers path rules over every target faster
    (kg.governance.closure)."""
    found = []
    for names, row, focus_node in _rows(store, check, focus, index):
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


def run_compiled(
    store: GraphStore,
    shapes: Shapes,
    focus: Iterable[str] | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    index: LineageIndex | None = None,
) -> list[Result]:
    """Every compiled check over the store (or only over the focus nodes, as N-Triples IRIs).
    `progress` is told how many checks have run, after each; `index` is the store's own
    lineage index, for path rules (see `run_check`)."""
    focus_list = None if focus is None else sorted(set(focus))
    if focus_list is not None and not focus_list:
        return []
    results: set[Result] = set()
    for done, check in enumerate(shapes.checks, 1):
        results.update(run_check(store, check, focus_list, index))
        if progress is not None:
            progress(done)
    return sorted(results, key=Result.order)


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
