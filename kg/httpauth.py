"""HTTP credentials for a remote store: a bearer token, or a user and password sent the way the
server asks for them (HTTP Basic, or Digest, RFC 7616, which the standard library's
`http.client` does not do: Virtuoso's authenticated endpoints take nothing else).

A password goes out only once a server has said how it wants it: the first request carries no
credentials, and the challenge of its 401 (`WWW-Authenticate`) picks the scheme kept for every
later request. A Digest challenge's nonce is used again with a growing count, so one challenge
answers many requests; a nonce the server calls stale is replaced by its new challenge.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass

# A challenge is a scheme, then a token68 or auth-params (name = token / quoted-string), RFC 9110
_TCHARS = r"[!#$%&'*+\-.^_`|~\w]+"
_ITEM = re.compile(
    rf'(?P<name>{_TCHARS})\s*=\s*(?P<value>"(?:[^"\\]|\\.)*"|[^\s,]*)'
    rf"|(?P<scheme>{_TCHARS})(?:\s+[\w\-.~+/]+=*(?=\s*(?:,|$)))?"
    r"|[^\s,]"  # anything else is skipped
)
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@dataclass(frozen=True)
class Challenge:
    """One `WWW-Authenticate` challenge: its scheme (lower case) and its parameters."""

    scheme: str
    params: dict[str, str]


def challenges(header: str) -> list[Challenge]:
    """The challenges of a `WWW-Authenticate` header value, in their order."""
    found: list[Challenge] = []
    for m in _ITEM.finditer(header):
        if m.group("scheme"):
            found.append(Challenge(m.group("scheme").lower(), {}))
        elif m.group("name") and found:
            value = m.group("value")
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            found[-1].params[m.group("name").lower()] = value
    return found


class Credentials:
    """What a remote store sends in `Authorization`: `header` for each request, `challenged`
    when the server answers 401."""

    def __init__(self, secret: tuple[str, str] | str) -> None:
        self._secret = secret
        self._scheme: str | None = "bearer" if isinstance(secret, str) else None
        self._digest: Challenge | None = None
        self._count = 0
        self._lock = threading.Lock()

    def header(self, method: str, target: str) -> str | None:
        """The `Authorization` value for a request to `target` (path and query), or None while
        the server has not asked for a password."""
        if isinstance(self._secret, str):
            return f"Bearer {self._secret}"
        user, password = self._secret
        if self._scheme == "basic":
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        if self._scheme == "digest" and self._digest is not None:
            with self._lock:
                self._count += 1
                count = self._count
            return _digest(self._digest, user, password, method, target, count)
        return None

    def challenged(self, header: str | None) -> bool:
        """Take the challenge of a 401: True if the request is worth sending again (the first
        challenge, a new scheme, a stale nonce), False if the credentials were refused."""
        if isinstance(self._secret, str):
            return False
        offered = {c.scheme: c for c in challenges(header or "")}
        digest = offered.get("digest")
        if digest is not None and digest.params.get("algorithm", "MD5").upper() in _HASHES:
            with self._lock:
                fresh = (
                    self._scheme != "digest"
                    or self._digest is None
                    or digest.params.get("stale", "").lower() == "true"
                    or digest.params.get("nonce") != self._digest.params.get("nonce")
                )
                self._scheme, self._digest, self._count = "digest", digest, 0
            return fresh
        if self._scheme is None:  # Basic, or a 401 that names no scheme: try Basic once
            self._scheme = "basic"
            return True
        return False


def _digest(
    challenge: Challenge, user: str, password: str, method: str, target: str, count: int
) -> str:
    params = challenge.params
    algorithm = params.get("algorithm", "MD5").upper()
    hashed = _HASHES[algorithm]

    def h(text: str) -> str:
        return hashed(text.encode("utf-8")).hexdigest()

    realm, nonce = params.get("realm", ""), params.get("nonce", "")
    qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    ha1 = h(f"{user}:{realm}:{password}")
    ha2 = h(f"{method}:{target}")
    fields = {
        "username": user,
        "realm": realm,
        "nonce": nonce,
        "uri": target,
        "algorithm": algorithm,
    }
    if "auth" in qops:
        cnonce, nc = secrets.token_hex(8), f"{count:08x}"
        fields["response"] = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields.update(qop="auth", nc=nc, cnonce=cnonce)
    else:  # RFC 2069, no qop
        fields["response"] = h(f"{ha1}:{nonce}:{ha2}")
    if "opaque" in params:
        fields["opaque"] = params["opaque"]
    unquoted = {"algorithm", "qop", "nc"}
    return "Digest " + ", ".join(
        f"{k}={v}" if k in unquoted else f'{k}="{_quoted(v)}"' for k, v in fields.items()
    )


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
