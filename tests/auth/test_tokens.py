"""The tokens file: tokens kept as digests only, written whole with mode 0600, refused clearly
when malformed, followed by a running server as it changes; and `kg token` over it."""

from __future__ import annotations

import hashlib
import json
import logging
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.auth import tokens
from kg.auth.principal import Role
from kg.auth.tokens import TokenFile
from kg.cli_tokens import token_app
from kg.errors import InputError, NotFoundError, SettingsError

BASE = "https://w3id.org/mlg/id/"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "tokens.json"


def test_a_token_is_shown_once_and_kept_as_its_digest(path: Path) -> None:
    token = tokens.add(path, "alice", "writer", "team/recs", base_iri=BASE)
    assert token.startswith("kg_") and len(token) > 40
    text = path.read_text()
    assert token not in text
    document = json.loads(text)
    assert document["format"] == 1
    [entry] = document["tokens"]
    assert entry["sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert entry["team"] == BASE + "team/recs"  # an id resolved to the team's IRI
    assert entry["role"] == "writer" and entry["created"].endswith("Z")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [
        p
        for p in path.parent.iterdir()
        if p.name.startswith(".tokens.json.") and "lock" not in p.name
    ]


def test_two_tokens_are_never_the_same(path: Path) -> None:
    assert tokens.add(path, "a", Role.READER, base_iri=BASE) != tokens.add(
        path, "b", Role.READER, base_iri=BASE
    )


def test_the_list_shows_no_digest(path: Path) -> None:
    tokens.add(path, "alice", "reader", base_iri=BASE)
    tokens.add(path, "ci", "admin", base_iri=BASE)
    listed = tokens.list_tokens(path)
    assert [(t["name"], t["role"], t["team"]) for t in listed] == [
        ("alice", "reader", None),
        ("ci", "admin", None),
    ]
    assert all("sha256" not in t for t in listed)


@pytest.mark.parametrize(
    ("name", "role", "team", "says"),
    [
        ("alice", "writer", None, "exists already"),
        ("bob", "owner", None, "unknown role 'owner'"),
        ("bob", "reader", "team/recs", "only a writer has a team"),
        ("bob", "admin", "team/recs", "only a writer has a team"),
        ("api-token:1", "writer", None, "not a token name"),
        ("", "writer", None, "not a token name"),
        ("bob smith", "writer", None, "not a token name"),
    ],
)
def test_refused_additions_change_nothing(
    path: Path, name: str, role: str, team: str | None, says: str
) -> None:
    tokens.add(path, "alice", "writer", base_iri=BASE)
    before = path.read_bytes()
    with pytest.raises(InputError, match=says):
        tokens.add(path, name, role, team, base_iri=BASE)
    assert path.read_bytes() == before


def test_remove(path: Path) -> None:
    tokens.add(path, "alice", "writer", base_iri=BASE)
    tokens.add(path, "bob", "reader", base_iri=BASE)
    tokens.remove(path, "alice")
    assert [t["name"] for t in tokens.list_tokens(path)] == ["bob"]
    with pytest.raises(NotFoundError, match="no token named 'alice'"):
        tokens.remove(path, "alice")


def test_a_missing_file_holds_no_token(path: Path) -> None:
    assert tokens.read(path) == []
    assert TokenFile(path).find("kg_anything") is None


def test_a_missing_folder_is_said(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no folder"):
        tokens.add(tmp_path / "nowhere" / "tokens.json", "a", "reader", base_iri=BASE)


DIGEST = "0" * 64
GOOD = {
    "name": "a",
    "role": "reader",
    "team": None,
    "sha256": DIGEST,
    "created": "2026-01-01T00:00:00Z",
}


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{", "not JSON"),
        ("[]", "not a JSON object"),
        (json.dumps({"format": 2, "tokens": []}), "format is 2"),
        (json.dumps({"format": 1}), "'tokens' is not a list"),
        (json.dumps({"format": 1, "tokens": ["x"]}), r"tokens\[0\] is not an object"),
        (json.dumps({"format": 1, "tokens": [GOOD, GOOD]}), "there twice"),
        (
            json.dumps({"format": 1, "tokens": [{**GOOD, "role": "root"}]}),
            r"tokens\[0\]\.role 'root'",
        ),
        (json.dumps({"format": 1, "tokens": [{**GOOD, "sha256": "abc"}]}), "not a SHA-256 digest"),
        (
            json.dumps({"format": 1, "tokens": [{**GOOD, "team": "urn:t"}]}),
            "only a writer has a team",
        ),
        (json.dumps({"format": 1, "tokens": [{**GOOD, "name": 7}]}), "not a token name"),
        (json.dumps({"format": 1, "tokens": [{**GOOD, "created": None}]}), "created is not a date"),
    ],
)
def test_a_malformed_file_is_a_settings_error_naming_it(
    path: Path, content: str, says: str
) -> None:
    path.write_text(content)
    with pytest.raises(SettingsError, match=says) as refused:
        TokenFile(path)
    assert str(path) in refused.value.message and "KG_TOKENS_FILE" in refused.value.message


def test_a_running_server_follows_the_file(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = tokens.add(path, "alice", "writer", "team/recs", base_iri=BASE)
    followed = TokenFile(path, interval=0)
    found = followed.find(first)
    assert found is not None and found.name == "alice" and found.team == BASE + "team/recs"
    second = tokens.add(path, "bob", "reader", base_iri=BASE)
    assert followed.find(second) is not None  # added while it runs: no restart
    tokens.remove(path, "alice")
    assert followed.find(first) is None
    # an edit that breaks the file: logged, and the tokens read before stay in force
    good = path.read_text()
    path.write_text(good.replace('"reader"', '"boss"'))
    with caplog.at_level(logging.ERROR, logger="kg.auth.tokens"):
        assert followed.find(second) is not None
    assert "malformed" in caplog.text and str(path) in caplog.text
    path.write_text(good)
    assert followed.find(second) is not None


def test_the_file_is_looked_at_no_more_than_its_interval(path: Path) -> None:
    followed = TokenFile(path, interval=3600)
    token = tokens.add(path, "alice", "reader", base_iri=BASE)
    assert followed.find(token) is None  # not yet looked at again


def test_a_wrong_token_is_not_found(path: Path) -> None:
    token = tokens.add(path, "alice", "reader", base_iri=BASE)
    assert TokenFile(path).find(token + "x") is None
    assert TokenFile(path).find(token[:-1]) is None


# -- kg token


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no .env of the repository
    for name in ("KG_TOKENS_FILE", "KG_BASE_IRI"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_kg_token_add_list_remove(runner: CliRunner, path: Path) -> None:
    env = {"KG_TOKENS_FILE": str(path)}
    added = runner.invoke(
        token_app, ["add", "alice", "--role", "writer", "--team", "team/recs"], env=env
    )
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()
    assert token.startswith("kg_") and "\n" not in token
    assert "shown only now" in added.stderr and token not in added.stderr
    assert TokenFile(path).find(token) is not None

    listed = runner.invoke(token_app, ["list"], env=env)
    assert listed.exit_code == 0
    assert (
        "alice" in listed.stdout
        and "writer" in listed.stdout
        and BASE + "team/recs" in listed.stdout
    )
    assert token not in listed.stdout
    as_json = runner.invoke(token_app, ["list", "--json"], env=env)
    assert [t["name"] for t in json.loads(as_json.stdout)] == ["alice"]

    again = runner.invoke(token_app, ["add", "alice", "--role", "reader"], env=env)
    assert again.exit_code == 1 and "exists already" in again.stderr

    removed = runner.invoke(token_app, ["remove", "alice"], env=env)
    assert removed.exit_code == 0
    assert TokenFile(path).find(token) is None
    assert runner.invoke(token_app, ["remove", "alice"], env=env).exit_code == 1


def test_kg_token_takes_a_file_option(runner: CliRunner, path: Path) -> None:
    added = runner.invoke(token_app, ["add", "ci", "--role", "admin", "--file", str(path)])
    assert added.exit_code == 0, added.output
    assert [t["name"] for t in tokens.list_tokens(path)] == ["ci"]


def test_kg_token_without_a_file_says_how_to_name_one(runner: CliRunner) -> None:
    refused = runner.invoke(token_app, ["add", "alice", "--role", "reader"])
    assert refused.exit_code == 2
    assert "KG_TOKENS_FILE" in refused.stderr and "--file" in refused.stderr


def test_kg_token_refuses_an_unknown_role(runner: CliRunner, path: Path) -> None:
    refused = runner.invoke(token_app, ["add", "alice", "--role", "root", "--file", str(path)])
    assert refused.exit_code == 2  # a usage error, as for any option value
    assert not path.exists()
