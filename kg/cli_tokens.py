"""`kg token`: the named tokens of KG_TOKENS_FILE (add, list, remove).

Run on the server's machine: the server reads the file again when it changes, so a token added
or removed counts at once, without a restart. A token is shown once, when it is added: the file
keeps only its digest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kg.auth import tokens
from kg.auth.principal import Role
from kg.config import Settings, load_settings
from kg.errors import KGError

token_app = typer.Typer(
    name="token",
    help="Named bearer tokens with a role (and a writer's team), kept in KG_TOKENS_FILE.",
    no_args_is_help=True,
    add_completion=False,
)
_err = Console(stderr=True)

FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="The tokens file (default KG_TOKENS_FILE).", show_default=False),
]


def _fail(message: str, code: int) -> typer.Exit:
    _err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except KGError as exc:
        raise _fail(exc.message, 2) from exc


def _file(given: Path | None, settings: Settings) -> Path:
    path = given or settings.tokens_file
    if path is None:
        raise _fail("no tokens file: set KG_TOKENS_FILE (the file the server reads) or --file", 2)
    return path


@token_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Who or what the token is for: alice, ci-deploy…")],
    role: Annotated[Role, typer.Option("--role", help="What it may do.", case_sensitive=False)],
    team: Annotated[
        str | None,
        typer.Option(
            "--team",
            help="A writer's team (id or IRI): it then writes that team's assets only.",
            show_default=False,
        ),
    ] = None,
    file: FileOption = None,
) -> None:
    """Add a token and print it, once."""
    settings = _settings()
    path = _file(file, settings)
    try:
        token = tokens.add(path, name, role, team, base_iri=settings.base_iri)
    except KGError as exc:
        raise _fail(exc.message, 1) from exc
    sys.stdout.write(token + "\n")
    _err.print(
        f"the token {name!r} ({role.value}) is shown only now: {path} keeps its digest, not it",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@token_app.command("list")
def list_(
    file: FileOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
) -> None:
    """The tokens: name, role, team and when each was added (never the token)."""
    path = _file(file, _settings())
    try:
        listed = tokens.list_tokens(path)
    except KGError as exc:
        raise _fail(exc.message, 2) from exc
    if as_json:
        sys.stdout.write(json.dumps(listed, indent=2) + "\n")
        return
    for entry in listed:
        team = f"  team {entry['team']}" if entry["team"] else ""
        sys.stdout.write(f"{entry['name']}  {entry['role']}  {entry['created']}{team}\n")


@token_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    file: FileOption = None,
) -> None:
    """Remove a token: requests bearing it are refused from then on."""
    path = _file(file, _settings())
    try:
        tokens.remove(path, name)
    except KGError as exc:
        raise _fail(exc.message, 1) from exc
    _err.print(f"removed the token {name!r} from {path}", markup=False, highlight=False)
