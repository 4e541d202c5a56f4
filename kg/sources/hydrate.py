"""Hydration: one entity of a source, asked for as it is now, written as kg's description of it.

The entity's owned subjects are described in their graphs of that source
(`urn:kg:graph:source:<source>:<IRI>`), replaced whole, through the one write pipeline (so the
gate reports on them, the indexes and the change log see them); each carries
`mlg:sourceEntity "<kind>/<id>"`, which is how kg knows what it holds of each entity. An entity
the source no longer has loses those graphs. Entities the description names that kg has not
hydrated yet are marked `mlg:hydrationPending "<source>:<kind>/<id>"` until they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyoxigraph as ox

from kg.governance.gate import GateMode
from kg.graphs import SOURCE_GRAPH_PREFIX, source_graph
from kg.ingest import Batch
from kg.limits import Limits
from kg.sources.base import EntityRef, Source
from kg.vocab import mlg
from kg.write.importers import Loader, as_stored
from kg.write.pipeline import group

SOURCE_ENTITY = mlg("sourceEntity")
HYDRATION_PENDING = mlg("hydrationPending")


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REMOVED = "removed"
    ABSENT = "absent"  # gone at the source, and kg held nothing of it


@dataclass
class Hydrated:
    ref: EntityRef
    outcome: Outcome
    subjects: list[str] = field(default_factory=list)
    references: list[EntityRef] = field(default_factory=list)  # to hydrate next (not held yet)
    refresh: list[EntityRef] = field(default_factory=list)  # whose description depends on it


def pending_mark(ref: EntityRef) -> ox.Literal:
    return ox.Literal(f"{ref.source}:{ref.key}")


def held(graph: Loader, source: str, key: str) -> list[ox.NamedNode]:
    """The subjects kg holds of one entity of a source (its graphs name them)."""
    prefix = f"{SOURCE_GRAPH_PREFIX}{source}:"
    found = []
    for quad in graph.store.quads(None, SOURCE_ENTITY, ox.Literal(key)):
        name = quad.graph_name
        in_source = isinstance(name, ox.NamedNode) and name.value.startswith(prefix)
        if in_source and isinstance(quad.subject, ox.NamedNode):
            found.append(quad.subject)
    return sorted(set(found), key=str)


def held_entities(graph: Loader, source: str) -> set[str]:
    """Every entity key kg holds of a source (for sync: what the source no longer has)."""
    prefix = f"{SOURCE_GRAPH_PREFIX}{source}:"
    return {
        q.object.value
        for q in graph.store.quads(None, SOURCE_ENTITY, None)
        if isinstance(q.graph_name, ox.NamedNode)
        and q.graph_name.value.startswith(prefix)
        and isinstance(q.object, ox.Literal)
    }


def pending_entities(graph: Loader, source: str) -> list[EntityRef]:
    """Entities named but not hydrated yet (their marks), for sync to ask for again."""
    found = []
    for q in graph.store.quads(None, HYDRATION_PENDING, None):
        mark = q.object.value if isinstance(q.object, ox.Literal) else ""
        name, _, key = mark.partition(":")
        kind, _, ident = key.partition("/")
        if name == source and kind and ident:
            found.append(EntityRef(source, kind, ident))
    return sorted(set(found))


def hydrate(graph: Loader, source: Source, ref: EntityRef) -> Hydrated:
    """Ask the source for the entity and make kg's description of it the source's (fetching
    first, outside the write turn: a slow source holds up no other write)."""
    state = source.fetch(ref)
    mapped = None if state is None else source.map(ref, state)
    with graph.writing:
        before = held(graph, source.name, ref.key)
        if mapped is None:
            if not before:
                return Hydrated(ref, Outcome.ABSENT)
            batch = Batch(
                source=f"{source.name}: {ref.key} (gone at the source)",
                scope=source.name,
                drop=[source_graph(source.name, s) for s in before],
            )
            graph.load_batches([batch], GateMode.WARN)
            return Hydrated(ref, Outcome.REMOVED, [s.value for s in before])
        key = ox.Literal(ref.key)
        owned = list(dict.fromkeys(mapped.owned))
        triples = [*mapped.triples, *(ox.Triple(s, SOURCE_ENTITY, key) for s in owned)]
        # One graph per subject of this source, blank nodes with theirs, as the pipeline groups.
        described = Batch(source=f"{source.name}: {ref.key}", triples=triples, scope=source.name)
        description = group(described)
        references = []
        for other, iri in sorted(mapped.references.items()):
            name = source_graph(source.name, iri)
            if other == ref or name in description or graph.store.graph(name):
                continue  # described here, or hydrated (or marked pending) already
            description[name] = [ox.Triple(iri, HYDRATION_PENDING, pending_mark(other))]
            references.append(other)
        changed = {
            name: content
            for name, content in description.items()
            if as_stored(content) != as_stored(graph.store.graph(name))
        }
        dropped = [source_graph(source.name, s) for s in before]
        dropped = [name for name in dropped if name not in description]
        subjects = [s.value for s in owned]
        if not changed and not dropped:  # (what depends on it may still be stale: see refresh)
            return Hydrated(ref, Outcome.UNCHANGED, subjects, references, sorted(mapped.refresh))
        batch = Batch(
            source=described.source,
            triples=[t for content in changed.values() for t in content],
            scope=source.name,
            drop=dropped,
            limits=Limits.from_settings(graph.settings),
        )
        graph.load_batches([batch], GateMode.WARN)
        outcome = Outcome.UPDATED if before else Outcome.CREATED
        return Hydrated(ref, outcome, subjects, references, sorted(mapped.refresh))
