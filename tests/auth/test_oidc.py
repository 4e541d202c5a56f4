"""OIDC bearer tokens signed with keys made here (RSA and EC), the issuer's keys read from a file
and from a URL on a loopback server: valid tokens name their principal, and every token kg must
not trust (expired, for another audience or issuer, an unknown key, `alg: none`, HMAC keyed
with the public key, a key of the wrong kind, no role) is refused with the reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from kg.api.app import create_app
from kg.auth.authenticate import authenticate
from kg.auth.oidc import MAX_JWKS, Verifier
from kg.auth.principal import Principal, Role
from kg.errors import SettingsError, UnauthorizedError
from kg.graph import KnowledgeGraph
from tests.auth.helpers import writer_of
from tests.conftest import settings

ISSUER = "https://login.example.org/"
AUDIENCE = "kg"
BASE = "https://w3id.org/mlg/id/"


@dataclass(frozen=True)
class Keys:
    rsa: RSAPrivateKey
    ec: EllipticCurvePrivateKey
    other: RSAPrivateKey  # a key the issuer does not publish

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        return {"keys": [{**rsa_jwk, "kid": "rsa-1", "use": "sig"}, {**ec_jwk, "kid": "ec-1"}]}


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP256R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    found: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + 600,
        "iat": now,
        "sub": "bob",
        "kg_role": "writer",
        "kg_team": "team/recs",
    }
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def signed(key: Any, algorithm: str = "RS256", kid: str | None = "rsa-1", **changes: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**changes), key, algorithm=algorithm, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], secret: bytes | None) -> str:
    """A token made by hand, as an attacker would: PyJWT refuses to make these."""
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims()).encode())
    if secret is None:
        return head + "."
    return head + "." + _b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())


@pytest.fixture
def jwks_file(tmp_path: Path, keys: Keys) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.jwks()))
    return path


@pytest.fixture
def verifier(jwks_file: Path) -> Verifier:
    found = Verifier.from_settings(
        settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks=str(jwks_file))
    )
    assert found is not None
    return found


def test_a_valid_token_names_its_principal(verifier: Verifier, keys: Keys) -> None:
    assert verifier.verify(signed(keys.rsa)) == Principal(
        "jwt:bob", Role.WRITER, BASE + "team/recs", kind="jwt"
    )
    assert verifier.verify(signed(keys.ec, "ES256", "ec-1", kg_role="reader")) == Principal(
        "jwt:bob", Role.READER, None, kind="jwt"
    )  # a team means nothing to a reader
    for algorithm in ("RS384", "RS512", "PS256"):
        assert verifier.verify(signed(keys.rsa, algorithm)).role is Role.WRITER


def test_a_role_list_counts_its_highest_known_role(verifier: Verifier, keys: Keys) -> None:
    token = signed(keys.rsa, kg_role=["viewer", "reader", "admin"])
    assert verifier.verify(token).role is Role.ADMIN


def test_the_claims_kg_reads_are_settings(jwks_file: Path, keys: Keys) -> None:
    verifier = Verifier.from_settings(
        settings(
            oidc_issuer=ISSUER,
            oidc_audience=AUDIENCE,
            oidc_jwks=str(jwks_file),
            oidc_role_claim="groups",
            oidc_team_claim="squad",
            oidc_name_claim="email",
        )
    )
    assert verifier is not None
    token = signed(keys.rsa, groups="writer", squad="team/ads", email="bob@example.org")
    assert verifier.verify(token) == Principal(
        "jwt:bob@example.org", Role.WRITER, BASE + "team/ads", kind="jwt"
    )


def test_a_small_clock_skew_is_allowed(verifier: Verifier, keys: Keys) -> None:
    assert verifier.verify(signed(keys.rsa, exp=int(time.time()) - 5)).name == "jwt:bob"


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda k: signed(k.rsa, exp=int(time.time()) - 3600), "expired"),
        (lambda k: signed(k.rsa, aud="another-service"), "not for this audience"),
        (lambda k: signed(k.rsa, iss="https://evil.example/"), "not issued by"),
        (lambda k: signed(k.rsa, exp=None), "no 'exp' claim"),
        (lambda k: signed(k.rsa, aud=None), "no 'aud' claim"),
        (lambda k: signed(k.rsa, iss=None), "no 'iss' claim"),
        (lambda k: signed(k.other, kid="rsa-9"), "names a key"),
        (lambda k: signed(k.other, kid="rsa-1"), "signature does not verify"),
        (lambda k: signed(k.rsa, kid=None), "names a key"),  # two keys published: which one?
        (lambda k: signed(k.ec, "ES256", "rsa-1"), "not one to verify ES256"),
        (lambda k: signed(k.rsa, "RS256", "ec-1"), "not one to verify RS256"),
        (lambda k: forged({"alg": "none", "typ": "JWT", "kid": "rsa-1"}, None), "'none'"),
        (lambda k: forged({"alg": "HS256", "kid": "rsa-1"}, _public_pem(k)), "'HS256'"),
        (lambda k: forged({"alg": "HS256", "kid": "rsa-1"}, b"secret"), "'HS256'"),
        (lambda k: signed(k.rsa, kg_role=None), "'kg_role'"),
        (lambda k: signed(k.rsa, kg_role="root"), "'kg_role'"),
        (lambda k: signed(k.rsa, sub=None), "'sub'"),
        (lambda k: signed(k.rsa, kg_team=["a", "b"]), "'kg_team'"),
        (lambda k: "a.b.c", "not a JWT"),
        (lambda k: signed(k.rsa, padding="x" * 9000), "longer than"),
    ],
)
def test_tokens_kg_must_not_trust_are_refused(
    verifier: Verifier, keys: Keys, make: Any, says: str
) -> None:
    token = make(keys)
    with pytest.raises(UnauthorizedError, match=says) as refused:
        verifier.verify(token)
    assert token not in refused.value.message


def _public_pem(keys: Keys) -> bytes:
    return keys.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_a_key_named_for_one_algorithm_verifies_no_other(tmp_path: Path, keys: Keys) -> None:
    jwk = {**json.loads(RSAAlgorithm.to_jwk(keys.rsa.public_key())), "kid": "k", "alg": "RS512"}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    verifier = Verifier.from_settings(
        settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks=str(path))
    )
    assert verifier is not None
    assert verifier.verify(signed(keys.rsa, "RS512", "k")).role is Role.WRITER
    with pytest.raises(UnauthorizedError, match="not one to verify RS256"):
        verifier.verify(signed(keys.rsa, "RS256", "k"))
    # a set of one key: a token without kid means that one
    assert verifier.verify(signed(keys.rsa, "RS512", None)).name == "jwt:bob"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"oidc_audience": ""}, "KG_OIDC_AUDIENCE"),
        ({"oidc_jwks": ""}, "KG_OIDC_JWKS"),
        ({"oidc_jwks": "/nowhere/jwks.json"}, "/nowhere/jwks.json"),
        ({"oidc_jwks": "https://login.example.org/jwks"}, "KG_FEDERATION_ALLOW does not allow"),
    ],
)
def test_oidc_settings_kg_cannot_use_are_refused_at_start(
    jwks_file: Path, changes: dict[str, str], says: str
) -> None:
    values = {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_jwks": str(jwks_file)}
    with pytest.raises(SettingsError, match=says):
        Verifier.from_settings(settings(**{**values, **changes}))


def test_a_key_file_without_usable_keys_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}))
    with pytest.raises(SettingsError, match="no signing key"):
        Verifier.from_settings(
            settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks=str(path))
        )


def test_no_issuer_no_verifier() -> None:
    assert Verifier.from_settings(settings()) is None


# -- keys from a URL


class _Keys(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        served: Server = self.server  # type: ignore[assignment]
        served.requests += 1
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/jwks")
            self.end_headers()
            return
        body = served.body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class Server(http.server.ThreadingHTTPServer):
    body = b""
    requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server(keys: Keys) -> Iterator[Server]:
    running = Server(("127.0.0.1", 0), _Keys)
    running.body = json.dumps(keys.jwks()).encode()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    thread.join()


def _from_url(server: Server, path: str = "/jwks", allow: str | None = None) -> Verifier:
    found = Verifier.from_settings(
        settings(
            oidc_issuer=ISSUER,
            oidc_audience=AUDIENCE,
            oidc_jwks=server.url + path,
            federation_allow=allow if allow is not None else server.url + "/",
        )
    )
    assert found is not None
    return found


def test_keys_from_an_allowed_url(server: Server, keys: Keys) -> None:
    verifier = _from_url(server)
    assert server.requests == 0  # fetched at the first token, not at start
    assert verifier.verify(signed(keys.rsa)).name == "jwt:bob"
    assert verifier.verify(signed(keys.ec, "ES256", "ec-1")).name == "jwt:bob"
    assert server.requests == 1  # kept
    with pytest.raises(UnauthorizedError, match="names a key"):
        verifier.verify(signed(keys.other, kid="rotated"))
    assert server.requests == 2  # an unknown kid: fetched again once
    with pytest.raises(UnauthorizedError, match="names a key"):
        verifier.verify(signed(keys.other, kid="rotated-again"))
    assert server.requests == 2  # not for every unknown kid


def test_a_rotated_key_is_found_by_fetching_again(server: Server, keys: Keys) -> None:
    verifier = _from_url(server)
    assert verifier.verify(signed(keys.rsa)).name == "jwt:bob"
    rotated = keys.jwks()
    rotated["keys"].append(
        {**json.loads(RSAAlgorithm.to_jwk(keys.other.public_key())), "kid": "new"}
    )
    server.body = json.dumps(rotated).encode()
    assert verifier.verify(signed(keys.other, kid="new")).name == "jwt:bob"


def test_a_url_not_allowed_is_refused_at_start(server: Server) -> None:
    with pytest.raises(SettingsError, match="KG_FEDERATION_ALLOW does not allow"):
        _from_url(server, allow="http://127.0.0.1:1/")
    with pytest.raises(SettingsError, match="KG_FEDERATION_ALLOW does not allow"):
        _from_url(server, allow="")


def test_a_redirect_is_not_followed(server: Server, keys: Keys) -> None:
    verifier = _from_url(server, "/moved")
    with pytest.raises(UnauthorizedError, match="keys could not be read"):
        verifier.verify(signed(keys.rsa))
    assert server.requests == 1


def test_a_key_set_past_the_bound_is_not_read(server: Server, keys: Keys) -> None:
    server.body = b" " * (MAX_JWKS + 10) + json.dumps(keys.jwks()).encode()
    with pytest.raises(UnauthorizedError, match="keys could not be read"):
        _from_url(server).verify(signed(keys.rsa))


# -- through authenticate and HTTP


def test_authenticate_checks_a_jwt_when_oidc_is_set(verifier: Verifier, keys: Keys) -> None:
    current = settings(api_tokens="static")
    token = signed(keys.rsa)
    assert authenticate(current, f"Bearer {token}", None, verifier) == verifier.verify(token)
    with pytest.raises(UnauthorizedError, match="not one kg knows"):
        authenticate(current, f"Bearer {token}", None, None)  # no OIDC: not a token kg knows
    with pytest.raises(UnauthorizedError, match="not issued by"):
        authenticate(current, f"Bearer {signed(keys.rsa, iss='x')}", None, verifier)


def test_a_jwt_writes_and_the_load_names_it(
    graph: KnowledgeGraph, jwks_file: Path, keys: Keys
) -> None:
    graph.settings = settings(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks=str(jwks_file))
    client = TestClient(create_app(graph=graph))
    body = b"- {id: dataset/jwt, type: Dataset, name: Written with a JWT}"
    yaml = {"content-type": "application/yaml"}
    assert client.post("/api/v1/assets", content=body, headers=yaml).status_code == 401
    reader = {**yaml, "authorization": f"Bearer {signed(keys.rsa, kg_role='reader')}"}
    refused = client.post("/api/v1/assets", content=body, headers=reader)
    assert refused.status_code == 403 and "'jwt:bob' is a reader" in refused.json()["detail"]
    expired = {**yaml, "authorization": f"Bearer {signed(keys.rsa, exp=1)}"}
    answer = client.post("/api/v1/assets", content=body, headers=expired)
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    writer = {**yaml, "authorization": f"Bearer {signed(keys.rsa, kg_team=None)}"}
    written = client.post("/api/v1/assets", content=body, headers=writer)
    assert written.status_code == 201, written.text
    assert writer_of(graph, written.json()["load"]) == ["jwt:bob"]
