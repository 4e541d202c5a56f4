"""`kg audit`: who changed what, and what was refused, newest first.

With `--url` (or KG_URL) it asks that server (`GET /api/v1/audit`, KG_TOKEN as the bearer: an
admin's). Without, it reads the audit beside the store (`<store>.audit/`) read-only; while a
`kg serve` holds the store, that server keeps the audit open for writing, and the command
refuses, naming the server to ask instead. Exit codes as every kg command's: 1 for input the
server or the audit refuses, 2 for the environment (no audit, no server, a refused token).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kg.audit import vocab
from kg.audit.log import MAX_PAGE, AuditLog, Page, audit_path
from kg.client import Client, ServerError, UnreachableError, announced
from kg.config import Settings, load_settings
from kg.errors import KGError, SettingsError

out = Console()
err = Console(stderr=True)


class Output(StrEnum):
    table = "table"
    json = "json"


COLUMNS = ("at", "principal", "method", "path", "status", "outcome", "address", "detail / loads")


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _fail(
            f"{option} {value!r} is not an ISO 8601 time (2026-12-02T16:50:00Z)", 2
        ) from None


def audit(
    since: Annotated[str | None, typer.Option(help="At or after (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="At or before (ISO 8601).")] = None,
    principal: Annotated[str | None, typer.Option(help="Only this caller's entries.")] = None,
    refused: Annotated[bool, typer.Option("--refused", help="Only refusals.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="Most entries shown.")] = 50,
    output: Annotated[Output, typer.Option("--format", help="Output format.")] = Output.table,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store", help="Store folder (default ./kg-data, or KG_STORE).", show_default=False
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="The kg server to ask (KG_URL).", show_default=False),
    ] = None,
) -> None:
    """Who wrote what, when, from which address, and what was refused and why (admins)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(exc.message, 2) from exc
    if store is not None:
        settings = settings.model_copy(update={"store": store})
    filters: dict[str, Any] = {
        "since": _moment(since, "--since"),
        "until": _moment(until, "--until"),
        "principal": principal,
        "outcome": vocab.REFUSED if refused else None,
        "limit": limit,
    }
    server = url or settings.url
    try:
        page = _asked(server, settings, filters) if server else _read(settings, filters)
    except (UnreachableError, ServerError) as exc:
        status = getattr(exc, "status", 502)
        raise _fail(exc.message, 2 if status in (401, 403, 502) or status >= 500 else 1) from exc
    except KGError as exc:
        raise _fail(exc.message, 1) from exc
    if output is Output.json:
        sys.stdout.write(json.dumps({"entries": page.entries, "next": page.next}, indent=2) + "\n")
        return
    _table(page)


def _asked(server: str, settings: Settings, filters: dict[str, Any]) -> Page:
    params = {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in filters.items()
        if v is not None
    }
    found = Client(server, settings.client_token()).get("/api/v1/audit", params).json()
    return Page(list(found.get("entries", [])), found.get("next"))


def _read(settings: Settings, filters: dict[str, Any]) -> Page:
    folder = settings.store_path()
    path = audit_path(settings)
    if folder is None or path is None:
        raise _fail("an in-memory store keeps its audit in its server: ask it with --url", 2)
    if not (folder.is_dir() and any(folder.iterdir())):
        raise _fail(f"no store at {folder}", 2)
    held = announced(folder)
    if held is not None:
        raise _fail(
            f"the audit of {folder} is held by kg serve at {held}: ask it with --url {held} "
            "(KG_TOKEN an admin's)",
            2,
        )
    if not (path.is_dir() and any(path.iterdir())):
        err.print(
            f"no audit at {path} yet: kg keeps one for the requests a server answers",
            markup=False,
            highlight=False,
        )
        return Page([], None)
    log = AuditLog.open_read_only(path, settings)
    try:
        return log.entries(**filters)
    finally:
        log.close()


def _table(page: Page) -> None:
    table = Table(*COLUMNS)
    for entry in page.entries:
        who = entry.get("principal") or {}
        said = entry.get("detail") or " ".join(entry.get("loads") or [])
        if entry.get("count"):
            said = f"({entry['count']}) {said}"
        cells = [
            entry.get("at") or "",
            who.get("name") or "-",
            entry.get("method") or "",
            entry.get("path") or "",
            str(entry.get("status") or ""),
            entry.get("outcome") or "",
            entry.get("address") or "",
            said,
        ]
        table.add_row(*(Text(cell) for cell in cells))  # plain text: no markup in a path
    out.print(table)
    if page.next is not None:
        err.print(
            f"more entries: narrow --since / --until, or raise --limit (next: {page.next})",
            markup=False,
            highlight=False,
        )
