"""A writer's team scope: a writer with a team changes only what that team looks after.

That is every asset the team, or one of its members (`?member mlg:memberOf ?team`), owns
(`mlg:owner`) now, as any data graph says (an importer's graph may be the one naming the owner);
the team's own description and those of its members; and new assets (with no statement in any
data graph yet) that the write itself makes the team or a member owner of. Dropping a graph
changes what it held: that needs ownership now, as any change to an existing asset does. A
subject the write makes a new member of the team is in its scope too, so a team can describe
a newcomer and what they own in one write.

What inference rules conclude is not checked: kg writes it, following a write that passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import pyoxigraph as ox

from kg.auth.principal import Principal
from kg.errors import ForbiddenError
from kg.graphs import data_graph_filter, is_inferred_graph
from kg.store import GraphStore, GraphWrite
from kg.vocab import MEMBER_OF, OWNER

NAMED: Final = 5  # refused assets a refusal names
_CHUNK: Final = 500  # subjects looked up in one query


def check(store: GraphStore, principal: Principal, write: GraphWrite, subjects: set[str]) -> None:
    """Refuse (ForbiddenError, naming up to five assets and their owners) a write that changes
    an asset outside the principal's team. `subjects` are the IRIs the write changes, read
    before it is committed; a principal without a team is not limited."""
    team = principal.team
    if team is None or not subjects:
        return
    graphs = [*write.replace, *write.drop]
    if graphs and all(is_inferred_graph(g) for g in graphs):
        return
    existing = _existing(store, subjects)
    stated = _stated(write.replace.values())
    members = _members(store, team)
    # a member the write adds is in scope only when new: naming someone else's asset or person
    # a member of one's team is no way into it
    newcomers = {s for s, o in stated[MEMBER_OF.value] if o == team and s in subjects - existing}
    owners_now = _owners(store, existing)
    owners_new: dict[str, set[str]] = {}
    for subject, owner in stated[OWNER.value]:
        owners_new.setdefault(subject, set()).add(owner)
    refused: dict[str, set[str]] = {}
    for subject in sorted(subjects - {team} - members - newcomers):
        if subject in existing:
            owners, ours = owners_now.get(subject, set()), {team} | members
        else:
            owners, ours = owners_new.get(subject, set()), {team} | members | newcomers
        if not owners & ours:
            refused[subject] = owners
    if refused:
        raise ForbiddenError(_message(principal, team, refused))


def _message(principal: Principal, team: str, refused: dict[str, set[str]]) -> str:
    named = []
    for subject, owners in list(refused.items())[:NAMED]:
        by = ", ".join(sorted(owners)) if owners else "no owner"
        named.append(f"{subject} ({by})")
    more = len(refused) - NAMED
    tail = f", and {more} more" if more > 0 else ""
    return (
        f"{principal.name} writes for the team {team} only: its assets, its members' and new "
        f"assets the write makes it or a member owner of. Refused: {'; '.join(named)}{tail}"
    )


def _stated(graphs: Iterable[Iterable[ox.Triple]]) -> dict[str, list[tuple[str, str]]]:
    """The owner and member statements the write's graphs hold, as (subject, object) IRIs."""
    found: dict[str, list[tuple[str, str]]] = {OWNER.value: [], MEMBER_OF.value: []}
    for triples in graphs:
        for t in triples:
            if (
                t.predicate.value in found
                and isinstance(t.subject, ox.NamedNode)
                and isinstance(t.object, ox.NamedNode)
            ):
                found[t.predicate.value].append((t.subject.value, t.object.value))
    return found


def _rows(store: GraphStore, query: str) -> list[ox.QuerySolution]:
    result = store.query(query)
    assert isinstance(result, ox.QuerySolutions)
    return list(result)


def _values(subjects: Sequence[str]) -> str:
    return " ".join(str(ox.NamedNode(s)) for s in subjects)


def _chunks(subjects: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(subjects)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _members(store: GraphStore, team: str) -> set[str]:
    rows = _rows(
        store,
        f"SELECT DISTINCT ?m WHERE {{ GRAPH ?g {{ ?m {MEMBER_OF} {ox.NamedNode(team)} }} "
        f"FILTER({data_graph_filter('?g')}) }}",
    )
    return {r["m"].value for r in rows if isinstance(r["m"], ox.NamedNode)}


def _existing(store: GraphStore, subjects: set[str]) -> set[str]:
    """The subjects with a statement in some data graph: not new."""
    found: set[str] = set()
    for chunk in _chunks(subjects):
        rows = _rows(
            store,
            f"SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {_values(chunk)} }} "
            f"GRAPH ?g {{ ?s ?p ?o }} FILTER({data_graph_filter('?g')}) }}",
        )
        found |= {r["s"].value for r in rows}
    return found


def _owners(store: GraphStore, subjects: set[str]) -> dict[str, set[str]]:
    """The owners any data graph names now, by subject."""
    owners: dict[str, set[str]] = {}
    for chunk in _chunks(subjects):
        rows = _rows(
            store,
            f"SELECT DISTINCT ?s ?o WHERE {{ VALUES ?s {{ {_values(chunk)} }} "
            f"GRAPH ?g {{ ?s {OWNER} ?o }} FILTER(isIRI(?o) && {data_graph_filter('?g')}) }}",
        )
        for r in rows:
            owners.setdefault(r["s"].value, set()).add(r["o"].value)
    return owners
