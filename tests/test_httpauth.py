"""The remote store's credentials: challenges read, the scheme a server asks for taken, Digest
answered as RFC 7616 computes it (a live Virtuoso answers it in tests/test_store_contract.py)."""

from __future__ import annotations

import pytest

from kg import httpauth
from kg.httpauth import Challenge, Credentials, challenges

# RFC 7616, 3.9.1: the MD5 example
RFC_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Digest realm="SPARQL", nonce="n1", qop="auth", algorithm="MD5"',
            [
                Challenge(
                    "digest", {"realm": "SPARQL", "nonce": "n1", "qop": "auth", "algorithm": "MD5"}
                )
            ],
        ),
        (
            'Negotiate abc==, Basic realm="a, \\"b\\"", Digest realm=x,nonce=y',
            [
                Challenge("negotiate", {}),
                Challenge("basic", {"realm": 'a, "b"'}),
                Challenge("digest", {"realm": "x", "nonce": "y"}),
            ],
        ),
        ("", []),
    ],
)
def test_challenges(header: str, expected: list[Challenge]) -> None:
    assert challenges(header) == expected


def test_digest_answers_as_the_rfc_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpauth.secrets, "token_hex", lambda _: RFC_CNONCE)
    credentials = Credentials(("Mufasa", "Circle of Life"))
    assert credentials.header("GET", "/dir/index.html") is None  # nothing before a challenge
    assert credentials.challenged(RFC_CHALLENGE)
    header = credentials.header("GET", "/dir/index.html")
    assert header is not None and header.startswith("Digest ")
    fields = challenges(header)[0].params
    assert fields["response"] == "8ca523f5e9506fed4657c9700eebdbec"
    assert (fields["nc"], fields["qop"], fields["uri"]) == ("00000001", "auth", "/dir/index.html")
    assert fields["opaque"] == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
    # the nonce is used again, counted
    again = credentials.header("POST", "/dir/index.html")
    assert again is not None and challenges(again)[0].params["nc"] == "00000002"


def test_a_refused_digest_and_a_stale_nonce() -> None:
    credentials = Credentials(("kg", "secret"))
    assert credentials.challenged('Digest realm="r", nonce="n1", qop="auth"')
    # the same nonce challenged again: the password was wrong
    assert not credentials.challenged('Digest realm="r", nonce="n1", qop="auth"')
    assert credentials.challenged('Digest realm="r", nonce="n2", qop="auth", stale=true')


def test_basic_once_asked_and_bearer_always() -> None:
    credentials = Credentials(("kg", "secret"))
    assert credentials.challenged('Basic realm="r"')  # or a 401 that names no scheme
    assert credentials.header("GET", "/") == "Basic a2c6c2VjcmV0"
    assert not credentials.challenged('Basic realm="r"')  # refused
    token = Credentials("t0k3n")
    assert token.header("GET", "/") == "Bearer t0k3n"
    assert not token.challenged('Bearer realm="r"')
