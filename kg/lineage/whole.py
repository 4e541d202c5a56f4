"""Whole lineage and impact answers, as kg.views gives them of kg.lineage.answers (the same
JSON), made from the index's integers and written by orjson: a few times faster, since no
object is made per node but its row."""

from __future__ import annotations

from typing import Any

import orjson
import pyoxigraph as ox

from kg.lineage.answers import email
from kg.lineage.ordered import PRODUCTION
from kg.lineage.pages import Answers, Question, kept_rows
from kg.lineage.rows import label_of, owner_names
from kg.lineage.walkers import IndexedWalker, collector_paused
from kg.store import GraphStore
from kg.vocab import MEMBER_OF, compact, value


@collector_paused()
def lineage_whole(
    walker: IndexedWalker, answers: Answers, question: Question, state: str
) -> dict[str, Any]:
    """The whole lineage answer as kg.views.lineage gives it."""
    kept, rows = kept_rows(walker, answers, question, state)
    ordered = kept.ordered
    whole = ordered.slice(0, len(ordered))
    graph = [rows.lonely()] if ordered.start is None else rows.every(whole)
    return {
        "root": question.root,
        "direction": question.direction.value,
        "depth": question.depth,
        "graph": graph,
        "ownerNames": owner_names(graph, label_of(walker)),
    }


@collector_paused()
def impact_whole(
    walker: IndexedWalker, store: GraphStore, answers: Answers, question: Question, state: str
) -> dict[str, Any]:
    """The whole impact answer as kg.views.impact gives it."""
    kept, rows = kept_rows(walker, answers, question, state)
    ordered = kept.ordered
    nodes = [] if ordered.start is None else ordered.slice(1, len(ordered))
    index, kinds = ordered.index, kept.kinds
    affected, services, production, experiments, unowned = [], [], [], [], []
    by_type: dict[str, list[str]] = {}
    owned: dict[str, list[str]] = {}
    for n in nodes:
        row = rows.node(n, edges=False)
        affected.append(row)
        about = index.attributes(n)
        if about is None:
            kind, service, experiment, stage = None, False, False, None
        else:
            kind, _, service, experiment, _ = kinds.of(about.types)
            stage = about.stage
        by_type.setdefault(kind or "unknown", []).append(row["id"])
        if service:
            services.append(row)
            if stage == PRODUCTION:
                production.append(row)
        if experiment:
            experiments.append(row)
        for owner in row["owners"]:
            owned.setdefault(owner, []).append(row["id"])
        if not row["owners"] and row["resolved"]:
            unowned.append(row["id"])
    owners = [_owner(walker, store, o, sorted(ids)) for o, ids in sorted(owned.items())]
    return {
        "root": question.root,
        "affectedCount": len(affected),
        "byType": {compact(t): ids for t, ids in sorted(by_type.items())},
        "productionServices": production,
        "services": services,
        "experiments": experiments,
        "owners": owners,
        "unowned": sorted(unowned),
        "affected": affected,
        "ownerNames": {o["id"]: o["label"] for o in owners},
    }


def _owner(
    walker: IndexedWalker, store: GraphStore, owner: str, assets: list[str]
) -> dict[str, Any]:
    info = walker.describe(owner, 0)
    members = sorted(value(t.subject) for t in store.triples(None, MEMBER_OF, ox.NamedNode(owner)))
    return {
        "id": owner,
        "type": compact(info.type) if info.type else None,
        "label": info.label,
        "assets": assets,
        "members": members,
        "email": email(store, owner),
        "memberDetails": [
            {"id": m, "label": label, "email": email(store, m)}
            for m, label in walker.labels(members).items()
        ],
    }


def dumps(data: dict[str, Any]) -> bytes:
    """JSON as the routes send it (orjson: a few times faster than json on large answers)."""
    return orjson.dumps(data)
