"""Plain-data views of domain results, shared by the JSON API and `--format json` in the CLI."""

from __future__ import annotations

from typing import Any

from kg.lineage import Edge, Impact, Lineage, Node, Owner, Paths
from kg.search import Hit, SearchResult
from kg.vocab import compact


def edge(e: Edge) -> dict[str, str | None]:
    return {
        "origin": e.origin,
        "destination": e.destination,
        "type": compact(e.type),
        "inferredBy": e.inferred,  # the rule that concluded it; None for a stated edge
    }


def node(n: Node, *, edges: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": n.id,
        "type": compact(n.type) if n.type else None,
        "label": n.label,
        "distance": n.distance,
        "owners": n.owners,
        "status": compact(n.status) if n.status else None,
        "stage": compact(n.stage) if n.stage else None,
        "resolved": n.resolved,
    }
    if edges:
        data["inEdges"] = [edge(e) for e in n.in_edges]
        data["outEdges"] = [edge(e) for e in n.out_edges]
    return data


def lineage(result: Lineage) -> dict[str, Any]:
    return {
        "root": result.root,
        "direction": result.direction.value,
        "depth": result.depth,
        "graph": [node(n) for n in result.nodes],
        "ownerNames": result.owner_names,
    }


def owner(o: Owner) -> dict[str, Any]:
    return {
        "id": o.id,
        "type": compact(o.type) if o.type else None,
        "label": o.label,
        "assets": o.assets,
        "members": o.members,
        "email": o.email,
        "memberDetails": [
            {"id": m.id, "label": m.label, "email": m.email} for m in o.member_details
        ],
    }


def impact(result: Impact) -> dict[str, Any]:
    return {
        "root": result.root,
        "affectedCount": len(result.affected),
        "byType": {compact(t): ids for t, ids in result.by_type.items()},
        "productionServices": [node(n, edges=False) for n in result.production_services],
        "services": [node(n, edges=False) for n in result.services],
        "experiments": [node(n, edges=False) for n in result.experiments],
        "owners": [owner(o) for o in result.owners],
        "unowned": result.unowned,
        "affected": [node(n, edges=False) for n in result.affected],
        "ownerNames": result.owner_names,
    }


def paths(result: Paths) -> dict[str, Any]:
    return {
        "from": result.origin,
        "to": result.target,
        "direction": result.direction.value if result.direction else None,
        "length": result.length,
        "paths": [[edge(e) for e in path] for path in result.paths],
    }


def hit(h: Hit) -> dict[str, Any]:
    return {
        "id": h.id,
        "type": compact(h.type) if h.type else None,
        "label": h.label,
        "score": h.score,
        "owners": h.owner,
        "status": compact(h.status) if h.status else None,
        "tags": h.tags,
        "description": h.description,
        "snippet": [{"text": s.text, "match": s.match} for s in h.snippet],
        "sources": h.sources,
    }


def facets(result: SearchResult) -> dict[str, dict[str, int]]:
    # sources are given as the filter takes them back (a graph IRI, never a CURIE)
    return {
        f: {k if f == "source" else compact(k): n for k, n in v.items()}
        for f, v in result.facets.items()
    }


def search(text: str, result: SearchResult) -> dict[str, Any]:
    return {
        "query": text,
        "total": result.total,
        "hits": [hit(h) for h in result.hits],
        "facets": facets(result),
        "facetsExact": result.facets_exact,
        "ownerNames": result.owner_names,
    }
