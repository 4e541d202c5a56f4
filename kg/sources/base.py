"""What a source of truth is to kg: a system that can list what it holds, give one entity's
complete current state, and a pure mapping of that state to kg's statements.

Sources are hydrated from thin events ("model version churn/2 changed") and by sync: kg never
trusts an event's content, it asks the source for the entity as it is now, so that events
arriving twice, out of order or not at all end in the source's current state.

A source module defines a class with the `Source` protocol; the mapping is a plain function of
the fetched state (golden-tested), the fetching the only part that talks to the system.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyoxigraph as ox

from kg.errors import KGError


class SourceUnavailableError(KGError):
    """The source did not answer, or answered with a server error: worth asking again later
    (the worker retries with exponential backoff)."""

    status = 503
    title = "Source unavailable"


class SourceRefusedError(KGError):
    """The source answered that kg may not have what it asked (a wrong token) or that the
    request is wrong: asking again will not help until someone changes a setting."""

    status = 502
    title = "Source refused"


@dataclass(frozen=True, order=True)
class EntityRef:
    """One entity of a source: which source, which kind of entity, its id there.

    >>> EntityRef("mlflow", "model_version", "churn-model/2").key
    'model_version/churn-model/2'
    """

    source: str
    kind: str
    id: str

    @property
    def key(self) -> str:
        """How kg names the entity within its source (kept on its subjects as
        mlg:sourceEntity, so that sync can tell what kg holds from that source)."""
        return f"{self.kind}/{self.id}"


@dataclass
class Mapped:
    """One entity's statements as kg holds them.

    `owned` are the subjects the entity's description is (the model version; a run and the
    evaluation of its metrics): their graphs of this source are replaced by each hydration and
    dropped when the entity is gone. `triples` may also describe other subjects it names (a
    run's input dataset, its user): those are said again, the same, by every entity naming
    them, and outlive any one of them. `references` are entities of the same source the
    description names that kg should hydrate too (a version's source run), with their IRI: those
    not yet hydrated are marked pending until they are. `refresh` are entities whose own
    description depends on this one (the run whose evaluation names a new version): hydrated
    again whenever this one changes.
    """

    owned: list[ox.NamedNode]
    triples: list[ox.Triple] = field(default_factory=list)
    references: dict[EntityRef, ox.NamedNode] = field(default_factory=dict)
    refresh: set[EntityRef] = field(default_factory=set)


class Source(Protocol):
    """A system of record kg hydrates from."""

    name: str  # the source's name in events, graph names and status ("mlflow")
    kinds: tuple[str, ...]  # the entity kinds it has ("registered_model", "model_version", ...)

    def entities(self) -> Iterator[EntityRef]:
        """Every entity that exists at the source now (for sync), in the order to hydrate them.
        Raises SourceUnavailableError / SourceRefusedError."""
        ...

    def fetch(self, ref: EntityRef) -> dict[str, Any] | None:
        """The entity's complete current state as JSON-like data, or None when the source no
        longer has it. Raises SourceUnavailableError / SourceRefusedError."""
        ...

    def map(self, ref: EntityRef, state: dict[str, Any]) -> Mapped:
        """The statements of a fetched state (pure: no store, no network)."""
        ...
