"""OIDC bearer tokens: JWTs an identity provider signed, checked against its published keys.

Only asymmetric signatures are accepted, each with a key of its own kind picked by the token's
`kid`: a token cannot choose `none`, or an HMAC keyed with the provider's public key. `iss`,
`aud` and `exp` are required. The provider's keys (KG_OIDC_JWKS) are a JWKS file, or a URL
that KG_FEDERATION_ALLOW allows (the same rule as SPARQL SERVICE: kg calls out only where it
was told it may), fetched with a timeout and a size bound, kept for five minutes, and fetched
again early when a token names a key kg does not know (the provider rotated them).

The token's claims give the principal: its role (KG_OIDC_ROLE_CLAIM: reader, writer or admin;
refused when missing or unknown, never taken as a reader), a writer's team
(KG_OIDC_TEAM_CLAIM) and the name the history records, `jwt:<name>` (KG_OIDC_NAME_CLAIM).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from kg.auth.principal import Principal, Role
from kg.config import Settings
from kg.errors import InputError, SettingsError, UnauthorizedError
from kg.ids import to_iri

MAX_TOKEN: Final = 8 * 1024  # characters of a token read at most, before any parsing
MAX_JWKS: Final = 1024 * 1024  # bytes of a key set read at most
FETCH_TIMEOUT: Final = 5.0
KEYS_TTL: Final = 300.0  # seconds the keys are kept before they are fetched again
UNKNOWN_KID_WAIT: Final = 30.0  # at most one early fetch this often, however many tokens ask
LEEWAY: Final = 30  # seconds of clock skew allowed on exp, nbf and iat
_RSA = (rsa.RSAPublicKey,)
_CURVES: Final = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1}
# The algorithms accepted, each with the kind of key it must be verified with.
ALGORITHMS: Final[dict[str, tuple[type, ...]]] = {
    "RS256": _RSA,
    "RS384": _RSA,
    "RS512": _RSA,
    "PS256": _RSA,
    "ES256": (ec.EllipticCurvePublicKey,),
    "ES384": (ec.EllipticCurvePublicKey,),
    "EdDSA": (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey),
}
log = logging.getLogger(__name__)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead anywhere: only the URL KG_FEDERATION_ALLOW allowed is fetched."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _fetch(url: str) -> bytes:
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(url, timeout=FETCH_TIMEOUT) as answer:
        data: bytes = answer.read(MAX_JWKS + 1)
    if len(data) > MAX_JWKS:
        raise ValueError(f"the key set passes {MAX_JWKS} bytes")
    return data


@dataclass(frozen=True)
class SigningKey:
    """A key of the set, and the one algorithm it names for itself (its "alg"), if any."""

    key: jwt.PyJWK
    algorithm: str | None


def parse_keys(data: bytes) -> dict[str | None, SigningKey]:
    """The signing keys of a JWKS document by kid. Keys kg would never verify with (symmetric,
    private, for encryption, of an unknown kind) are left out."""
    document = json.loads(data)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('a JWKS is a JSON object with a "keys" list')
    keys: dict[str | None, SigningKey] = {}
    for item in document["keys"]:
        if not isinstance(item, dict) or item.get("kty") == "oct" or "d" in item:
            continue
        if item.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(item)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError) as exc:
            log.warning("a key of the OIDC key set is left out: %s", exc)
            continue
        kid, named = item.get("kid"), item.get("alg")
        keys[kid if isinstance(kid, str) else None] = SigningKey(
            key, named if isinstance(named, str) else None
        )
    if not keys:
        raise ValueError("the key set holds no signing key kg can use")
    return keys


class KeySet:
    """The provider's keys from `load` (a file's or a URL's bytes), kept for KEYS_TTL seconds;
    the last good keys stay in use while they cannot be read again."""

    def __init__(
        self, load: Callable[[], bytes], where: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._load = load
        self.where = where
        self._clock = clock
        self._keys: dict[str | None, SigningKey] = {}
        self._loaded_at: float | None = None
        self._early_at: float | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read the keys now (a SettingsError when they cannot be read or used)."""
        try:
            keys = parse_keys(self._load())
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise SettingsError(f"the OIDC keys at {self.where} (KG_OIDC_JWKS): {exc}") from exc
        self._keys, self._loaded_at = keys, self._clock()

    def _try_refresh(self) -> None:
        try:
            self.refresh()
        except SettingsError as exc:
            log.error("%s; the keys read before stay in use", exc.message)

    def key(self, kid: str | None) -> SigningKey | None:
        with self._lock:
            now = self._clock()
            if self._loaded_at is None or now - self._loaded_at >= KEYS_TTL:
                self._try_refresh()
            elif self._find(kid) is None and (
                self._early_at is None or now - self._early_at >= UNKNOWN_KID_WAIT
            ):
                self._early_at = now
                self._try_refresh()
            return self._find(kid)

    def _find(self, kid: str | None) -> SigningKey | None:
        if kid is None:  # a token without kid: only a set of one key says which
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def ready(self) -> bool:
        return bool(self._keys)


def _fits(algorithm: str, found: SigningKey) -> bool:
    """Whether the key may verify `algorithm`: of its kind (and curve), and the algorithm the
    key names for itself when it names one."""
    public = found.key.key
    if found.algorithm not in (None, algorithm) or not isinstance(public, ALGORITHMS[algorithm]):
        return False
    curve = _CURVES.get(algorithm)
    return curve is None or (
        isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, curve)
    )


class Verifier:
    """Checks OIDC bearer tokens of one issuer and audience, and names their principal."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        keys: KeySet,
        *,
        role_claim: str = "kg_role",
        team_claim: str = "kg_team",
        name_claim: str = "sub",
        base_iri: str = "https://w3id.org/mlg/id/",
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.role_claim = role_claim
        self.team_claim = team_claim
        self.name_claim = name_claim
        self.base_iri = base_iri

    @classmethod
    def from_settings(cls, settings: Settings) -> Verifier | None:
        """The verifier KG_OIDC_* describe (None without KG_OIDC_ISSUER), or a SettingsError
        saying what is missing or not allowed. A key file is read now; a URL at the first
        token, so that a provider down at start does not stop kg."""
        if not settings.oidc_issuer:
            return None
        if not settings.oidc_audience or not settings.oidc_jwks:
            raise SettingsError(
                "KG_OIDC_ISSUER needs KG_OIDC_AUDIENCE and KG_OIDC_JWKS (the issuer's keys) too"
            )
        source = settings.oidc_jwks.strip()
        if source.lower().startswith(("http://", "https://")):
            allowed = settings.federation_prefixes()
            if not any(source.startswith(prefix) for prefix in allowed):
                raise SettingsError(
                    f"KG_OIDC_JWKS {source} is a URL KG_FEDERATION_ALLOW does not allow "
                    "(add its prefix there, or give a file)"
                )
            keys = KeySet(lambda: _fetch(source), source)
        else:
            path = Path(source)
            keys = KeySet(path.read_bytes, str(path))
            keys.refresh()
        return cls(
            settings.oidc_issuer,
            settings.oidc_audience,
            keys,
            role_claim=settings.oidc_role_claim,
            team_claim=settings.oidc_team_claim,
            name_claim=settings.oidc_name_claim,
            base_iri=settings.base_iri,
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; UnauthorizedError saying why otherwise (never
        quoting the token)."""
        if len(token) > MAX_TOKEN:
            raise _refused(f"it is longer than {MAX_TOKEN} characters")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _refused(f"it is not a JWT ({exc})") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise _refused(
                f"it is signed with {algorithm!r}; kg accepts {', '.join(ALGORITHMS)} only"
            )
        kid = header.get("kid")
        key = self.keys.key(kid if isinstance(kid, str) else None)
        if key is None:
            if not self.keys.ready():
                raise _refused(f"the issuer's keys could not be read ({self.keys.where})")
            raise _refused("it names a key (kid) the issuer does not publish")
        if not _fits(algorithm, key):
            raise _refused(f"its key (kid) is not one to verify {algorithm} with")
        try:
            claims = jwt.decode(
                token,
                key.key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise _refused("it has expired") from None
        except jwt.InvalidAudienceError:
            raise _refused(f"it is not for this audience ({self.audience})") from None
        except jwt.InvalidIssuerError:
            raise _refused(f"it was not issued by {self.issuer}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _refused(f"it has no {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise _refused("its signature does not verify") from None
        except jwt.PyJWTError as exc:
            raise _refused(str(exc)[:200]) from None
        return self._principal(claims)

    def _principal(self, claims: dict[str, Any]) -> Principal:
        role = _role(claims.get(self.role_claim))
        if role is None:
            raise _refused(
                f"its claim {self.role_claim!r} (KG_OIDC_ROLE_CLAIM) is missing or names no role "
                f"of kg (reader, writer, admin)"
            )
        name = claims.get(self.name_claim)
        if not isinstance(name, str) or not name:
            raise _refused(f"its claim {self.name_claim!r} (KG_OIDC_NAME_CLAIM) is missing")
        team = None
        given = claims.get(self.team_claim)
        if role is Role.WRITER and given is not None:
            if not isinstance(given, str):
                raise _refused(
                    f"its claim {self.team_claim!r} (KG_OIDC_TEAM_CLAIM) is not a team id"
                )
            try:
                team = to_iri(given, self.base_iri).value
            except InputError:
                raise _refused(
                    f"its claim {self.team_claim!r} (KG_OIDC_TEAM_CLAIM) is not a team id"
                ) from None
        return Principal(f"jwt:{name}", role, team, kind="jwt")


def _role(value: object) -> Role | None:
    """A role claim: one role, or a list of them (the highest known one counts)."""
    values = value if isinstance(value, list) else [value]
    known = [Role(v) for v in values if isinstance(v, str) and v in set(Role)]
    best = None
    for role in known:
        if best is None or role.allows(best):
            best = role
    return best


def _refused(reason: str) -> UnauthorizedError:
    return UnauthorizedError(f"the bearer token is refused: {reason}")
