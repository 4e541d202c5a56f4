"""Answers as of a moment equal the present answers of a graph that received only the writes
made up to that moment (replayed into a fresh store without history): every edge, name,
owner and status of then."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kg import views
from kg.errors import KGError as KGErrorLike
from kg.errors import NotKeptError
from kg.graph import KnowledgeGraph
from kg.lineage import Direction
from tests.conftest import settings
from tests.history.steps import STEPS, apply, moments, replayed


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


@pytest.mark.parametrize("on_disk", [False, True])
def test_as_of_every_write_equals_the_replayed_graph(tmp_path: Path, on_disk: bool) -> None:
    options = {"memory": False, "store": tmp_path / "store"} if on_disk else {}
    graph = KnowledgeGraph.open(settings(**options))
    steps = len(STEPS) + 2
    for step in range(steps):
        apply(graph, step)
    if on_disk:  # the history outlives the process
        graph.close()
        graph = KnowledgeGraph.open(settings(**options))
    try:
        times = moments(graph)
        assert len(times) == steps
        for step, moment in enumerate(times):
            fresh = replayed(step)
            try:
                assert _answers(graph, moment) == _answers(fresh, None), f"as of step {step}"
            finally:
                fresh.close()
        # a moment between two writes is the earlier one's
        between = times[1] + (times[2] - times[1]) / 2
        assert _answers(graph, between) == _answers(graph, times[1])
        # now, and any moment after the last write, is the present
        assert _answers(graph, times[-1] + dt.timedelta(days=1)) == _answers(graph, None)
    finally:
        graph.close()


def test_before_the_first_write_nothing_existed() -> None:
    graph = KnowledgeGraph.open(settings())
    try:
        apply(graph, 0)
        before = moments(graph)[0] - dt.timedelta(seconds=1)
        with pytest.raises(KGErrorLike) as refused:
            graph.lineage("svc", as_of=before)
        assert refused.value.status == 404
    finally:
        graph.close()


def test_a_store_without_history_refuses_as_of() -> None:
    graph = KnowledgeGraph.open(settings(history=False))
    try:
        apply(graph, 0)
        with pytest.raises(NotKeptError):
            graph.lineage("svc", as_of=dt.datetime.now(dt.UTC))
    finally:
        graph.close()
