"""A graph's life in a few writes, for the history tests: v1, then edges removed and added,
an owner changed, a status deprecated and a name changed, an asset added, an asset deleted."""

from __future__ import annotations

import datetime as dt

from kg.graph import Document, KnowledgeGraph
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


def apply(graph: KnowledgeGraph, step: int) -> None:
    if step == 0:
        graph.load([Document("v1.yaml", V1.encode())])
    elif step <= len(STEPS):
        graph.load([Document(f"step{step}.yaml", STEPS[step - 1].encode())])
    else:
        graph.delete_asset(DELETE)


def replayed(upto: int) -> KnowledgeGraph:
    fresh = KnowledgeGraph.open(settings(history=False))
    for step in range(upto + 1):
        apply(fresh, step)
    return fresh


def moments(graph: KnowledgeGraph) -> list[dt.datetime]:
    """When each write of the graph committed, in order."""
    graph.timeline.refresh(graph.store)
    return [w.at for w in graph.timeline.writes if w.at is not None]
