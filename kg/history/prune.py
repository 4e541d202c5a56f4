"""`kg history prune --before T`: the one way history is destroyed, and it leaves a record.

The versions the writes up to a moment kept are dropped (one graph per write), and history is
marked as starting after them: answers as of an earlier moment are refused from then on (410).
The load records stay (the change log is what keeps every index in step) and the prune itself
is recorded in `urn:kg:graph:history`, with who did it, when and up to where (an
mlg:HistoryPrune, stating no rdf:type: lineage and search read every typed subject as an asset).
"""

from __future__ import annotations

import datetime as dt
import uuid

import pyoxigraph as ox

from kg.auth.principal import Principal
from kg.errors import NotKeptError
from kg.graphs import HISTORY_GRAPH, LOG_GRAPH, history_graph
from kg.history import record
from kg.history.timeline import Timeline
from kg.store import GraphStore, GraphWrite
from kg.vocab import PROV, XSD, mlg
from kg.write import log

PRUNE = mlg("HistoryPrune")
PRUNED_UP_TO = mlg("prunedUpTo")
_INTEGER = ox.NamedNode(XSD + "integer")


def prune(
    store: GraphStore, timeline: Timeline, position: int, principal: Principal
) -> dict[str, object]:
    """Drop the versions of the writes up to `position` (the caller holds the write turn)."""
    start = record.since(store)
    if start is None:
        raise NotKeptError("this store keeps no history: there is nothing to prune")
    writes = [w for w in timeline.writes if start <= w.position <= position]
    head = log.head(store)
    new_start = max(start, position + 1)
    activity = ox.NamedNode(f"urn:kg:prune:{uuid.uuid4()}")
    at = dt.datetime.now(dt.UTC)
    quads = [
        ox.Quad(
            activity,
            ox.NamedNode(PROV + "endedAtTime"),
            ox.Literal(at.isoformat(), datatype=ox.NamedNode(XSD + "dateTime")),
            HISTORY_GRAPH,
        ),
        ox.Quad(
            activity, record.ASSOCIATED_WITH, record.principal_iri(principal.name), HISTORY_GRAPH
        ),
        ox.Quad(
            activity, PRUNED_UP_TO, ox.Literal(str(position), datatype=_INTEGER), HISTORY_GRAPH
        ),
    ]
    kept = [
        ox.Triple(log.HEAD, log.POSITION, ox.Literal(str(head), datatype=_INTEGER)),
        ox.Triple(record.HISTORY, record.SINCE, ox.Literal(str(new_start), datatype=_INTEGER)),
    ]
    store.commit(
        GraphWrite(
            replace={LOG_GRAPH: kept},
            drop=[history_graph(w.position) for w in writes],
            append=quads,
        )
    )
    return {
        "pruned": len(writes),
        "upTo": position,
        "historySince": new_start,
        "by": principal.name,
        "at": at.isoformat(),
        "record": activity.value,
    }
