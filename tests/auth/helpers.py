"""What the auth tests share: a tokens file with one token per role, and the name a load
record gives its writer."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kg.auth import tokens
from kg.graph import KnowledgeGraph
from kg.history.record import principal_name

BASE = "https://w3id.org/mlg/id/"
PROV_ASSOCIATED = ox.NamedNode("http://www.w3.org/ns/prov#wasAssociatedWith")


def role_tokens(path: Path, team: str | None = None) -> dict[str, str]:
    """A token for a reader, a writer and an admin (and a team writer, with `team`), by name."""
    made = {
        "reader": tokens.add(path, "rita", "reader", base_iri=BASE),
        "writer": tokens.add(path, "walt", "writer", base_iri=BASE),
        "admin": tokens.add(path, "ada", "admin", base_iri=BASE),
    }
    if team is not None:
        made["team"] = tokens.add(path, "tess", "writer", team, base_iri=BASE)
    return made


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def writer_of(graph: KnowledgeGraph, load: str) -> list[str]:
    """The names the load record `load` gives whoever made it."""
    return sorted(
        principal_name(str(getattr(agent.object, "value", "")))
        for agent in graph.store.quads(ox.NamedNode(load), PROV_ASSOCIATED, None)
    )
