"""Recognising a caller: the tokens file first, then KG_API_TOKENS, then a JWT; a token kg does
not accept is a 401, never an anonymous caller; anonymous is an admin on an open server only,
a reader once any authentication is configured, and refused with KG_READ_OPEN=false. The
principal a request is recognised as is the one its work acts as, in the threadpool too."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kg.api.deps import PrincipalDep, WriterDep
from kg.auth.authenticate import (
    ANONYMOUS_READER,
    OPEN_SERVER,
    Authenticator,
    authenticate,
)
from kg.auth.context import acting
from kg.auth.principal import Principal, Role
from kg.auth.tokens import TokenFile
from kg.errors import UnauthorizedError
from kg.graph import KnowledgeGraph
from tests.auth.helpers import BASE, bearer, role_tokens
from tests.conftest import settings


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "tokens.json"


def test_a_token_of_the_file_names_its_principal(path: Path) -> None:
    made = role_tokens(path, team="team/recs")
    file = TokenFile(path)
    current = settings(tokens_file=path)
    found = {role: authenticate(current, f"Bearer {t}", file, None) for role, t in made.items()}
    assert found == {
        "reader": Principal("rita", Role.READER, kind="token"),
        "writer": Principal("walt", Role.WRITER, kind="token"),
        "admin": Principal("ada", Role.ADMIN, kind="token"),
        "team": Principal("tess", Role.WRITER, BASE + "team/recs", kind="token"),
    }


def test_api_tokens_are_writers_named_by_their_place() -> None:
    current = settings(api_tokens="first, second ,third")
    assert authenticate(current, "Bearer second", None, None) == Principal(
        "api-token:2", Role.WRITER, kind="api-token"
    )
    assert authenticate(current, "bearer first", None, None) == Principal(
        "api-token:1", Role.WRITER, kind="api-token"
    )


def test_the_tokens_file_comes_first(path: Path) -> None:
    token = role_tokens(path)["reader"]
    current = settings(tokens_file=path, api_tokens=token)  # the same token in both
    principal = authenticate(current, f"Bearer {token}", TokenFile(path), None)
    assert principal is not None and principal.name == "rita"


def test_no_credentials_is_none() -> None:
    current = settings(api_tokens="secret")
    assert authenticate(current, None, None, None) is None
    assert authenticate(current, "", None, None) is None
    assert authenticate(current, "Bearer ", None, None) is None  # an empty $TOKEN in a script


def test_an_open_server_ignores_credentials() -> None:
    opened = Authenticator.from_settings(settings())
    assert opened.authenticate("Bearer anything") is None
    assert opened.anonymous() == OPEN_SERVER


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ("Bearer wrong-secret", "not one kg knows"),
        ("Bearer secre", "not one kg knows"),
        ("Basic dXNlcjpwYXNz", "Bearer <token> only"),
        ("secret", "Bearer <token> only"),
        ("Bearer a.b.c", "not one kg knows"),  # shaped as a JWT, but no OIDC configured
    ],
)
def test_credentials_kg_does_not_accept_are_refused(header: str, says: str) -> None:
    with pytest.raises(UnauthorizedError, match=says) as refused:
        authenticate(settings(api_tokens="secret"), header, None, None)
    assert "wrong-secret" not in refused.value.message


def test_anonymous_on_an_open_server_is_an_admin(path: Path) -> None:
    assert Authenticator.from_settings(settings()).anonymous() == OPEN_SERVER
    # a tokens file without tokens configures nothing yet
    empty = Authenticator.from_settings(settings(tokens_file=path))
    assert not empty.configured() and empty.anonymous() == OPEN_SERVER
    assert OPEN_SERVER.role is Role.ADMIN and OPEN_SERVER.kind == "open"


@pytest.mark.parametrize("kind", ["tokens file", "api tokens"])
def test_anonymous_once_authentication_is_configured(path: Path, kind: str) -> None:
    role_tokens(path)
    values: dict[str, object] = (
        {"tokens_file": path} if kind == "tokens file" else {"api_tokens": "secret"}
    )
    opened = Authenticator.from_settings(settings(**values))
    assert opened.configured() and opened.anonymous() == ANONYMOUS_READER
    closed = Authenticator.from_settings(settings(read_open=False, **values))
    assert closed.anonymous() is None


def test_an_authenticator_serves_the_settings_it_was_loaded_for(path: Path) -> None:
    loaded = Authenticator.from_settings(settings(api_tokens="a"))
    assert loaded.serves(settings(api_tokens="a"))
    assert not loaded.serves(settings(api_tokens="b"))
    assert not loaded.serves(settings(api_tokens="a", read_open=False))
    assert not loaded.serves(settings(api_tokens="a", tokens_file=path))


# -- the principal a request acts as


def _echo_app(graph: KnowledgeGraph) -> FastAPI:
    """Routes that answer who they act as: a plain `def` one runs in the threadpool."""
    app = FastAPI()
    app.state.graph = graph

    @app.get("/sync")
    def sync_route(principal: PrincipalDep) -> dict[str, str]:
        return {"given": principal.name, "acting": acting().name}

    @app.get("/async")
    async def async_route(principal: PrincipalDep) -> dict[str, str]:
        return {"given": principal.name, "acting": acting().name}

    @app.post("/write")
    def write_route(graph: WriterDep) -> dict[str, str]:
        return {"acting": acting().name}

    return app


def test_the_principal_reaches_routes_run_in_the_threadpool(
    graph: KnowledgeGraph, path: Path
) -> None:
    made = role_tokens(path)
    graph.settings = settings(tokens_file=path)
    client = TestClient(_echo_app(graph))
    for route in ("/sync", "/async"):
        assert client.get(route, headers=bearer(made["reader"])).json() == {
            "given": "rita",
            "acting": "rita",
        }
        # the next request, on the same connection and thread, is someone else
        assert client.get(route).json() == {"given": "anonymous", "acting": "anonymous"}
        assert client.get(route, headers=bearer(made["admin"])).json()["acting"] == "ada"
    assert client.post("/write", headers=bearer(made["writer"])).json() == {"acting": "walt"}


def test_a_write_over_http_names_its_writer(graph: KnowledgeGraph, path: Path) -> None:
    from kg.api.app import create_app
    from tests.auth.helpers import writer_of

    made = role_tokens(path)
    graph.settings = settings(tokens_file=path, api_tokens="static")
    client = TestClient(create_app(graph=graph))
    yaml = {"content-type": "application/yaml"}
    loads = {}
    for who, token in [("walt", made["writer"]), ("ada", made["admin"]), ("api", "static")]:
        body = f"- {{id: dataset/{who}, type: Dataset, name: By {who}}}".encode()
        answer = client.post("/api/v1/assets", content=body, headers={**yaml, **bearer(token)})
        assert answer.status_code == 201, answer.text
        loads[who] = writer_of(graph, answer.json()["load"])
    assert loads == {"walt": ["walt"], "ada": ["ada"], "api": ["api-token:1"]}
