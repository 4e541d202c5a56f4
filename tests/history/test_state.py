"""The whole graph as of a moment (SPARQL, exports, validation, asset pages) equals the graph
that received only the writes made up to then."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.exports import ExportFormat
from kg.graph import KnowledgeGraph
from kg.graphs import is_data_graph
from tests.conftest import iri, settings
from tests.history.steps import STEPS, apply, moments, replayed


def _data(store: object) -> set[str]:
    """Every statement of the data graphs and what kg derives, blank nodes left out."""
    found = set()
    for q in store.quads(None, None, None):  # type: ignore[attr-defined]
        name = q.graph_name
        if not isinstance(name, ox.NamedNode) or not (
            is_data_graph(name) or name.value.startswith("urn:kg:graph:derived:")
        ):
            continue
        if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
            continue
        found.add(str(q))
    return found


def _exported(document: bytes) -> set[str]:
    """An export's statements but the load records (the replay made other loads)."""
    triples = ox.parse(document, format=ox.RdfFormat.TURTLE)
    return {
        str(t)
        for t in triples
        if not str(t.subject).startswith(("<urn:kg:load:", "<urn:kg:principal:"))
        and not isinstance(t.subject, ox.BlankNode)
        and not isinstance(t.object, ox.BlankNode)
    }


def _page(page: dict[str, Any]) -> dict[str, Any]:
    """An asset page but the load records' ids and times (the replay made other loads)."""
    sources = page.pop("sources")
    page["sources"] = [(s["source"], s["graph"]) for s in sources]
    return page


@pytest.mark.parametrize("on_disk", [False, True])
def test_state_as_of_each_write_equals_the_replay(tmp_path: Path, on_disk: bool) -> None:
    options = {"memory": False, "store": tmp_path / "store"} if on_disk else {}
    graph = KnowledgeGraph.open(settings(**options))
    try:
        for step in range(len(STEPS) + 2):
            apply(graph, step)
        for step, moment in enumerate(moments(graph)[:-1]):
            fresh = replayed(step)
            try:
                assert _data(graph.state(moment)) == _data(fresh.store), f"step {step}"
                for name in ("v1", "clean", "raw"):
                    then = _page(graph.asset(name, as_of=moment).as_dict())
                    assert then == _page(fresh.asset(name).as_dict())
                assert graph.validate(as_of=moment).results == fresh.validate().results
                ask = f"SELECT ?o WHERE {{ <{iri('clean')}> <https://w3id.org/mlg#owner> ?o }}"
                owners = sorted(str(r["o"]) for r in graph.state(moment).query(ask))  # type: ignore[union-attr]
                assert owners == sorted(str(r["o"]) for r in fresh.store.query(ask))  # type: ignore[union-attr]
                exported = graph.export(ExportFormat("turtle"), as_of=moment)
                assert _exported(exported) == _exported(fresh.export(ExportFormat("turtle")))
            finally:
                fresh.close()
    finally:
        graph.close()
