"""Answers as of a moment equal the present answers of a graph that received only the writes
made up to that moment (replayed into a fresh store without history): every edge, name,
owner and status of then."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kg import views
from kg.errors import KGError as KGErrorLike
from kg.graph import Document, KnowledgeGraph
from kg.history.timeline import NotKeptError
from kg.lineage import Direction
from tests.conftest import settings

V1 = """
assets:
  - {id: team/a, type: Team, name: Team A}
  - {id: team/b, type: Team, name: Team B}
  - {id: raw, type: Dataset, name: Raw events, owner: team/a, status: Active}
  - {id: clean, type: Dataset, name: Clean events, owner: team/a, derivedFrom: [raw]}
  - {id: feat, type: Feature, name: Watch time, owner: team/a, derivedFrom: [clean]}
  - {id: model, type: Model, name: Ranker, owner: team/a}
  - {id: v1, type: ModelVersion, name: ranker v1, owner: team/a, versionOf: model, trainedOn: [clean]}
  - {id: svc, type: Service, name: Home, owner: team/a, deploys: [v1]}
"""
# Each step: what is written, one document at a time (a whole asset described again).
STEPS = [
    # an edge removed and another added
    "assets:\n  - {id: v1, type: ModelVersion, name: ranker v1, owner: team/a, versionOf: model,"
    " trainedOn: [raw]}\n",
    # an owner changed
    "assets:\n  - {id: clean, type: Dataset, name: Clean events, owner: team/b, derivedFrom: [raw]}\n",
    # a status deprecated, a name changed
    "assets:\n  - {id: raw, type: Dataset, name: Raw events (old), owner: team/a,"
    " status: Deprecated}\n",
    # a new asset upstream, an edge to it
    "assets:\n  - {id: raw2, type: Dataset, name: Raw v2, owner: team/b}\n"
    "  - {id: clean, type: Dataset, name: Clean events, owner: team/b, derivedFrom: [raw, raw2]}\n",
]
DELETE = "feat"  # and at last an asset deleted


def _apply(graph: KnowledgeGraph, step: int) -> None:
    if step == 0:
        graph.load([Document("v1.yaml", V1.encode())])
    elif step <= len(STEPS):
        graph.load([Document(f"step{step}.yaml", STEPS[step - 1].encode())])
    else:
        graph.delete_asset(DELETE)


def _replayed(upto: int) -> KnowledgeGraph:
    fresh = KnowledgeGraph.open(settings(history=False))
    for step in range(upto + 1):
        _apply(fresh, step)
    return fresh


def _answers(graph: KnowledgeGraph, at: dt.datetime | None) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ("svc", "v1", "raw", "clean", "raw2", "feat"):
        for direction in Direction:
            try:
                result = views.lineage(graph.lineage(node, direction, as_of=at))
            except KGErrorLike as exc:
                result = {"error": exc.status}
            found[f"{node} {direction.value}"] = result
        try:
            found[f"{node} impact"] = views.impact(graph.impact(node, as_of=at))
        except KGErrorLike as exc:
            found[f"{node} impact"] = {"error": exc.status}
    try:
        found["path"] = views.paths(graph.paths("svc", "raw", as_of=at))
    except KGErrorLike as exc:
        found["path"] = {"error": exc.status}
    return found


def _moments(graph: KnowledgeGraph) -> list[dt.datetime]:
    graph.timeline.refresh(graph.store)
    return [w.at for w in graph.timeline.writes if w.at is not None]


@pytest.mark.parametrize("on_disk", [False, True])
def test_as_of_every_write_equals_the_replayed_graph(tmp_path: Path, on_disk: bool) -> None:
    options = {"memory": False, "store": tmp_path / "store"} if on_disk else {}
    graph = KnowledgeGraph.open(settings(**options))
    steps = len(STEPS) + 2
    for step in range(steps):
        _apply(graph, step)
    if on_disk:  # the history outlives the process
        graph.close()
        graph = KnowledgeGraph.open(settings(**options))
    try:
        moments = _moments(graph)
        assert len(moments) == steps
        for step, moment in enumerate(moments):
            fresh = _replayed(step)
            try:
                assert _answers(graph, moment) == _answers(fresh, None), f"as of step {step}"
            finally:
                fresh.close()
        # a moment between two writes is the earlier one's
        between = moments[1] + (moments[2] - moments[1]) / 2
        assert _answers(graph, between) == _answers(graph, moments[1])
        # now, and any moment after the last write, is the present
        assert _answers(graph, moments[-1] + dt.timedelta(days=1)) == _answers(graph, None)
    finally:
        graph.close()


def test_before_the_first_write_nothing_existed() -> None:
    graph = KnowledgeGraph.open(settings())
    try:
        _apply(graph, 0)
        before = _moments(graph)[0] - dt.timedelta(seconds=1)
        with pytest.raises(KGErrorLike) as refused:
            graph.lineage("svc", as_of=before)
        assert refused.value.status == 404
    finally:
        graph.close()


def test_a_store_without_history_refuses_as_of() -> None:
    graph = KnowledgeGraph.open(settings(history=False))
    try:
        _apply(graph, 0)
        with pytest.raises(NotKeptError):
            graph.lineage("svc", as_of=dt.datetime.now(dt.UTC))
    finally:
        graph.close()
