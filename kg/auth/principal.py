"""Who is asking: a principal with a name, a role and, for a writer, perhaps a team.

Every request and every local command acts as one principal. Its name is what the history and
the audit record for what it did (kg.history, kg.audit); its role says what it may do; a team
limits a writer to the assets that team owns (kg.auth.scope).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a principal may do, each role including the ones before it."""

    READER = "reader"  # read: the API, SPARQL queries, the portal
    WRITER = "writer"  # write data through every write route
    ADMIN = "admin"  # also tokens, history (prune), the audit

    def allows(self, needed: Role) -> bool:
        return _RANK[self] >= _RANK[needed]


_RANK = {Role.READER: 0, Role.WRITER: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    """One caller. `kind` says how it was recognised: "token" (KG_TOKENS_FILE), "api-token"
    (KG_API_TOKENS), "jwt" (an OIDC bearer token), "open" (no credentials where none are
    needed), "local" (a command run on the store's own machine), "kg" (kg itself: a source's
    hydration, inference)."""

    name: str
    role: Role
    team: str | None = None  # the team's IRI, for a writer scoped to it
    kind: str = "token"

    def may(self, needed: Role) -> bool:
        return self.role.allows(needed)
