"""Who a request's caller is, from its `Authorization: Bearer` header.

A token is looked for in the tokens file (KG_TOKENS_FILE) first, then among KG_API_TOKENS
(each a writer, named by its place in the list), and a JWT (three dot-separated parts) is
checked as an OIDC token when KG_OIDC_ISSUER is set. A token presented and not valid is
refused (401), never taken as no token.

Without credentials: when no authentication is configured at all (no token in the file, no
KG_API_TOKENS, no OIDC), kg is the open development server it always was and the caller is an
admin; once one is, an anonymous caller reads (KG_READ_OPEN, the default) or is refused.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from kg.auth.oidc import Verifier
from kg.auth.principal import Principal, Role
from kg.auth.tokens import TokenFile
from kg.config import Settings
from kg.errors import UnauthorizedError

OPEN_SERVER = Principal("anonymous", Role.ADMIN, kind="open")
ANONYMOUS_READER = Principal("anonymous", Role.READER, kind="open")


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization` header (None without one); 401 for another scheme."""
    if authorization is None or not authorization.strip():
        return None
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise UnauthorizedError("kg takes credentials as Authorization: Bearer <token> only")
    return credentials.strip() or None  # "Bearer " with nothing after: no credentials


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def authenticate(
    settings: Settings,
    authorization: str | None,
    tokens: TokenFile | None,
    oidc: Verifier | None,
) -> Principal | None:
    """The principal the header's bearer token names; None when there is none; 401
    (UnauthorizedError, saying why) for one kg does not accept."""
    token = bearer(authorization)
    if token is None:
        return None
    if tokens is not None:
        entry = tokens.find(token)
        if entry is not None:
            return Principal(entry.name, entry.role, entry.team, kind="token")
    matched = None
    for place, known in enumerate(settings.tokens(), start=1):
        if hmac.compare_digest(token.encode(), known.encode()):
            matched = matched or place
    if matched is not None:
        return Principal(f"api-token:{matched}", Role.WRITER, kind="api-token")
    if oidc is not None and looks_like_jwt(token):
        return oidc.verify(token)
    raise UnauthorizedError("the bearer token is not one kg knows")


@dataclass
class Authenticator:
    """The credentials kg accepts under one set of settings: the tokens file (followed as it
    changes) and the OIDC verifier, loaded once."""

    settings: Settings
    tokens: TokenFile | None
    oidc: Verifier | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        """Load what the settings name: a SettingsError for a malformed tokens file, OIDC
        settings that are incomplete, or keys that cannot be used."""
        path = settings.tokens_file
        return cls(
            settings,
            TokenFile(path) if path is not None else None,
            Verifier.from_settings(settings),
        )

    def serves(self, settings: Settings) -> bool:
        """Whether this was loaded for these settings' credentials (a test or an operator may
        give the graph new settings)."""
        return _credentials(settings) == _credentials(self.settings)

    def configured(self) -> bool:
        """Whether any caller has to say who it is: a token in the file, KG_API_TOKENS, OIDC."""
        return bool(
            (self.tokens is not None and self.tokens.entries())
            or self.settings.tokens()
            or self.oidc is not None
        )

    def anonymous(self) -> Principal | None:
        """Who a caller without credentials is; None when it must give some."""
        if not self.configured():
            return OPEN_SERVER
        return ANONYMOUS_READER if self.settings.read_open else None

    def authenticate(self, authorization: str | None) -> Principal | None:
        if not self.configured():  # an open server: whatever a client sends, it may do all
            return None
        return authenticate(self.settings, authorization, self.tokens, self.oidc)

    def may_fetch(self, authorization: str | None) -> bool:
        """Whether checking this header may call out (a JWT whose keys come from a URL): the
        HTTP layer then checks it off the event loop."""
        if self.oidc is None or authorization is None:
            return False
        return looks_like_jwt(authorization)


def _credentials(settings: Settings) -> tuple[object, ...]:
    return (
        settings.tokens_file,
        settings.api_tokens,
        settings.read_open,
        settings.oidc_issuer,
        settings.oidc_audience,
        settings.oidc_jwks,
        settings.oidc_role_claim,
        settings.oidc_team_claim,
        settings.oidc_name_claim,
        settings.federation_allow,
        settings.base_iri,
    )
