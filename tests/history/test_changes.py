"""`changes` lists exactly the differences each write made, with who and when, across a
restart; the cursor pages through them and follows new ones; an asset's history; pruning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.auth.context import acting_as
from kg.auth.principal import Principal, Role
from kg.errors import NotKeptError
from kg.graph import KnowledgeGraph
from kg.graphs import is_data_graph
from kg.lineage import Direction
from tests.conftest import iri, settings
from tests.history.steps import STEPS, apply, moments, replayed

WRITERS = ["alice", "bob", "alice", "carol", "bob", "alice"]


def _statements(graph: KnowledgeGraph) -> set[tuple[str, str, str]]:
    """What sources said (data graphs), about IRIs, as (subject, property, value)."""
    found = set()
    for q in graph.store.quads(None, None, None):
        if not isinstance(q.graph_name, ox.NamedNode) or not is_data_graph(q.graph_name):
            continue
        if not isinstance(q.subject, ox.NamedNode) or isinstance(q.object, ox.BlankNode):
            continue
        found.add((q.subject.value, q.predicate.value, str(getattr(q.object, "value", q.object))))
    return found


def _expected() -> list[set[tuple[str, str, str, str]]]:
    """Per write, (change, subject, property, value) from replays before and after it."""
    expected = []
    before: set[tuple[str, str, str]] = set()
    for step in range(len(STEPS) + 2):
        fresh = replayed(step)
        after = _statements(fresh)
        fresh.close()
        expected.append(
            {("removed", *t) for t in before - after} | {("added", *t) for t in after - before}
        )
        before = after
    return expected


def _listed(changes: list[dict[str, Any]], position: int) -> set[tuple[str, str, str, str]]:
    found: set[tuple[str, str, str, str]] = set()
    for c in changes:
        if c["position"] != position:
            continue
        if c["change"] == "changed":
            found.add(("removed", c["subject"], c["property"], c["previous"]))
            found.add(("added", c["subject"], c["property"], c["value"]))
        else:
            found.add((c["change"], c["subject"], c["property"], c["value"]))
    return found


def _written(graph: KnowledgeGraph) -> None:
    for step, name in enumerate(WRITERS):
        with acting_as(Principal(name, Role.WRITER)):
            apply(graph, step)


@pytest.fixture
def store(tmp_path: Path) -> dict[str, object]:
    return {"memory": False, "store": tmp_path / "store"}


def test_changes_are_exactly_the_differences_with_who_and_when(store: dict[str, object]) -> None:
    graph = KnowledgeGraph.open(settings(**store))
    _written(graph)
    graph.close()
    graph = KnowledgeGraph.open(settings(**store))  # across a restart
    try:
        page = graph.changes()
        assert not page.more
        listed = [c.as_dict() for c in page.changes]
        times = moments(graph)
        for step, expected in enumerate(_expected()):
            position = step + 1
            assert _listed(listed, position) == expected, f"write {position}"
            for c in listed:
                if c["position"] == position:
                    assert c["by"] == WRITERS[step]
                    assert c["at"] == times[step].isoformat()
        kinds = {(c["kind"], c["change"]) for c in listed}
        assert {("edge", "added"), ("edge", "removed"), ("owner", "added")} <= kinds
        assert {("owner", "removed"), ("status", "changed"), ("name", "changed")} <= kinds
        status = next(c for c in listed if c["kind"] == "status" and c["change"] == "changed")
        assert (status["previous"], status["value"]) == (
            "https://w3id.org/mlg#Active",
            "https://w3id.org/mlg#Deprecated",
        )
        # a time window: only the writes in it
        window = graph.changes(since=times[1], until=times[2])
        assert {c.position for c in window.changes} == {3}
    finally:
        graph.close()


def test_the_cursor_pages_and_follows_new_changes() -> None:
    graph = KnowledgeGraph.open(settings())
    try:
        _written(graph)
        everything = [c.as_dict() for c in graph.changes().changes]
        paged: list[dict[str, object]] = []
        cursor = None
        while True:
            page = graph.changes(cursor=cursor, limit=1)
            paged += [c.as_dict() for c in page.changes]
            cursor = page.next
            if not page.more:
                break
        assert paged == everything
        assert graph.changes(cursor=cursor).changes == []  # up to date
        apply(graph, 3)  # raw described as it is: a write, but no change to list
        apply(graph, 0)  # v1 again: its old edges and owners come back
        fresh = [c.as_dict() for c in graph.changes(cursor=cursor).changes]
        assert {c["position"] for c in fresh} == {len(WRITERS) + 2}
        assert ("added", iri("clean"), "https://w3id.org/mlg#owner", iri("team/a")) in _listed(
            fresh, len(WRITERS) + 2
        )
    finally:
        graph.close()


def test_changes_about_a_lineage() -> None:
    graph = KnowledgeGraph.open(settings())
    try:
        _written(graph)
        about = {
            c.subject for c in graph.changes(node="raw2", direction=Direction.DOWNSTREAM).changes
        }
        # raw2, clean that came to depend on it, and the edges to clean that changed since
        assert about == {iri("raw2"), iri("clean"), iri("v1"), iri("feat")}
        edges = graph.changes(node="svc", kinds=["edge"]).changes
        assert edges and all(c.kind == "edge" for c in edges)
    finally:
        graph.close()


def test_asset_history_lists_its_versions_newest_first() -> None:
    graph = KnowledgeGraph.open(settings())
    try:
        _written(graph)
        history = graph.asset_history("clean")
        versions = history["versions"]
        assert [v["position"] for v in versions] == [5, 3, 1]
        assert [v["by"] for v in versions] == ["bob", "alice", "alice"]
        deleted = graph.asset_history("feat")  # gone now, its history kept
        assert deleted["versions"][0]["changes"]
    finally:
        graph.close()


def test_prune_removes_history_before_a_moment_and_says_so() -> None:
    graph = KnowledgeGraph.open(settings())
    try:
        _written(graph)
        times = moments(graph)
        kept = graph.lineage("svc", as_of=times[3])
        with acting_as(Principal("root", Role.ADMIN)):
            result = graph.prune_history(times[2])
        assert result["pruned"] == 3 and result["by"] == "root"
        with pytest.raises(NotKeptError):
            graph.lineage("svc", as_of=times[1])
        assert graph.lineage("svc", as_of=times[3]).nodes == kept.nodes  # later moments stay
        assert {c.position for c in graph.changes().changes} == {4, 5, 6}
        record = graph.query(
            "SELECT ?by WHERE { GRAPH <urn:kg:graph:history> { ?p <https://w3id.org/mlg#prunedUpTo> 3 ; "
            "<http://www.w3.org/ns/prov#wasAssociatedWith> ?by } }"
        )
        assert [r["by"].value for r in record] == ["urn:kg:principal:root"]  # type: ignore[union-attr]
    finally:
        graph.close()
