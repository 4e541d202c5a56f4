"""Validation of the whole graph or of some assets, by the compiled engine or by pyshacl."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import pyoxigraph as ox

from kg.governance.closure import Edges, dependency_edges, walked_rule
from kg.governance.engines import run_compiled, run_reference, store_as_rdflib
from kg.governance.model import Report, Result
from kg.governance.shapes import Shapes
from kg.lineage.index import LineageIndex
from kg.store import GraphStore
from kg.vocab import MEMBER_OF, OWNER, RDF_TYPE, RDFS_LABEL, value


class Engine(StrEnum):
    COMPILED = "compiled"
    PYSHACL = "pyshacl"


def validate(
    store: GraphStore,
    shapes: Shapes,
    focus: Iterable[str] | None = None,
    engine: Engine = Engine.COMPILED,
    *,
    progress: Callable[[int], None] | None = None,
    index: LineageIndex | None = None,
) -> Report:
    """Validate every focus node (all when `focus` is None; N-Triples IRIs otherwise).

    The compiled engine runs what it compiled inside the store and hands the other shapes to
    pyshacl; `Engine.PYSHACL` runs everything through pyshacl (the reference). `progress` is
    told how many compiled checks have run, after each. `index`: the store's own lineage
    index, which answers path rules over the whole graph (kg.governance.closure); without it
    a full run reads the store's mlg:dependsOn edges for them.
    """
    wanted = None if focus is None else set(focus)
    results: list[Result] = []
    if engine is Engine.COMPILED:
        edges: Edges | None = index
        if wanted is None and index is None and any(map(walked_rule, shapes.checks)):
            edges = dependency_edges(store)  # no index: path rules walk the store's edges
        results = run_compiled(store, shapes, wanted, progress=progress, index=edges)
        fallback = shapes.fallback
    else:
        fallback = shapes.graph
    if fallback is not None and (wanted is None or wanted):
        reference = run_reference(store_as_rdflib(store), fallback)
        found = {r for r in reference if wanted is None or r.focus in wanted}
        results = sorted(found.union(results), key=Result.order)
    # otherwise run_compiled's results are already unique and in order: a full run at scale
    # has hundreds of thousands, and hashing and sorting them again costs seconds
    return Report(
        results=results,
        shapes=shapes.count,
        engine=engine.value,
        focus_nodes=None if wanted is None else len(wanted),
    )


@dataclass
class FocusInfo:
    """Who to tell about a focus node: its name, type, owners and their teams."""

    label: str | None = None
    types: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)


def focus_info(store: GraphStore, nodes: Iterable[str]) -> dict[str, FocusInfo]:
    """Names, owners and owning teams (a person's teams) of the given N-Triples IRIs."""
    info: dict[str, FocusInfo] = {}
    for text in set(nodes):
        if not text.startswith("<"):
            continue
        node = ox.NamedNode(text[1:-1])
        entry = info.setdefault(text, FocusInfo())
        for t in store.triples(node, None, None):
            if t.predicate == RDFS_LABEL and entry.label is None:
                entry.label = value(t.object)
            elif t.predicate == RDF_TYPE:
                entry.types.append(value(t.object))
            elif t.predicate == OWNER and isinstance(t.object, ox.NamedNode):
                entry.owners.append(t.object.value)
                teams = [value(m.object) for m in store.triples(t.object, MEMBER_OF, None)]
                entry.teams.extend(teams or [t.object.value])
        entry.owners.sort()
        entry.teams = sorted(set(entry.teams))
    return info
