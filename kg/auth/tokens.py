"""The tokens file (KG_TOKENS_FILE): named bearer tokens, each with a role and, for a writer, a
team, kept only as SHA-256 digests.

    {"format": 1, "tokens": [{"name": "alice", "role": "writer", "team": "https://…/team/recs",
                              "sha256": "9f86…", "created": "2026-12-01T10:00:00Z"}]}

A token is `kg_` and 32 random bytes (URL-safe base64): with that much entropy a fast hash is
the right one (a slow password hash guards guessable secrets, which these are not). The file is
replaced whole (a temporary file, then a rename), readable by its owner only, and a running
server reads it again when it changes (TokenFile), so `kg token add` needs no restart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from kg.auth.principal import Role
from kg.errors import InputError, NotFoundError, SettingsError
from kg.ids import to_iri

FORMAT: Final = 1
PREFIX: Final = "kg_"
# No colon: names of other kinds of principal ("api-token:1", "jwt:…", "local:…") have one, so
# a token's name can never pass for one of them in the history.
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
_DIGEST: Final = re.compile(r"[0-9a-f]{64}")
_ROLES: Final = ", ".join(r.value for r in Role)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenEntry:
    """One token of the file: never the token itself, only its digest."""

    name: str
    role: Role
    team: str | None
    sha256: str
    created: str

    def public(self) -> dict[str, str | None]:
        """What `kg token list` shows: everything but the digest."""
        return {
            "name": self.name,
            "role": self.role.value,
            "team": self.team,
            "created": self.created,
        }


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def read(path: Path) -> list[TokenEntry]:
    """The tokens of the file (none when it does not exist yet), or a SettingsError naming the
    file and what is wrong in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"the tokens file {path} (KG_TOKENS_FILE) cannot be read: {exc}"
        ) from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise _malformed(path, f"not JSON: {exc}") from exc
    return _entries(path, document)


def _malformed(path: Path, problem: str) -> SettingsError:
    return SettingsError(f"the tokens file {path} (KG_TOKENS_FILE) is malformed: {problem}")


def _entries(path: Path, document: Any) -> list[TokenEntry]:
    if not isinstance(document, dict):
        raise _malformed(path, "it is not a JSON object")
    if document.get("format") != FORMAT:
        raise _malformed(
            path, f"its format is {document.get('format')!r}; kg reads format {FORMAT}"
        )
    listed = document.get("tokens")
    if not isinstance(listed, list):
        raise _malformed(path, "'tokens' is not a list")
    entries: list[TokenEntry] = []
    names: set[str] = set()
    for place, item in enumerate(listed):
        where = f"tokens[{place}]"
        if not isinstance(item, dict):
            raise _malformed(path, f"{where} is not an object")
        name, role, team = item.get("name"), item.get("role"), item.get("team")
        sha256, created = item.get("sha256"), item.get("created")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise _malformed(path, f"{where}.name {name!r} is not a token name")
        if name in names:
            raise _malformed(path, f"{where}: the name {name!r} is there twice")
        if role not in set(Role):
            raise _malformed(path, f"{where}.role {role!r} is not one of {_ROLES}")
        if team is not None and (not isinstance(team, str) or role != Role.WRITER):
            raise _malformed(path, f"{where}.team: only a writer has a team, as an IRI")
        if not isinstance(sha256, str) or not _DIGEST.fullmatch(sha256):
            raise _malformed(path, f"{where}.sha256 is not a SHA-256 digest in hex")
        if not isinstance(created, str):
            raise _malformed(path, f"{where}.created is not a date")
        names.add(name)
        entries.append(TokenEntry(name, Role(role), team, sha256, created))
    return entries


def _write(path: Path, entries: list[TokenEntry]) -> None:
    """Replace the file whole, mode 0600: a reader sees the old file or the new, never half."""
    document = {"format": FORMAT, "tokens": [asdict(e) for e in entries]}
    data = json.dumps(document, indent=2) + "\n"
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp creates it 0600
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def _changing(path: Path) -> Iterator[list[TokenEntry]]:
    """The file's tokens to change, one `kg token` at a time (a lock beside the file, since the
    file itself is replaced), written back when the block ends without an error."""
    if not path.parent.is_dir():
        raise InputError(f"no folder {path.parent} for the tokens file {path}")
    lock_path = path.with_name(f".{path.name}.lock")
    with lock_path.open("a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = read(path)
        yield entries
        _write(path, entries)


def add(path: Path, name: str, role: Role | str, team: str | None = None, *, base_iri: str) -> str:
    """Add a token named `name` and return it: the only time it is seen, since the file keeps
    its digest. `team` (a writer's only) is an asset id or IRI, kept as the IRI."""
    if not _NAME.fullmatch(name):
        raise InputError(
            f"{name!r} is not a token name: letters, digits, '.', '_', '@' and '-', up to 100"
        )
    try:
        chosen = Role(role)
    except ValueError:
        raise InputError(f"unknown role {role!r}; use one of {_ROLES}") from None
    team_iri = None
    if team is not None:
        if chosen is not Role.WRITER:
            raise InputError(
                f"only a writer has a team; a {chosen.value} can do everything its role allows"
            )
        team_iri = to_iri(team, base_iri).value
    token = PREFIX + secrets.token_urlsafe(32)
    created = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    with _changing(path) as entries:
        if any(e.name == name for e in entries):
            raise InputError(f"a token named {name!r} exists already in {path}")
        entries.append(TokenEntry(name, chosen, team_iri, digest(token), created))
    return token


def remove(path: Path, name: str) -> None:
    with _changing(path) as entries:
        kept = [e for e in entries if e.name != name]
        if len(kept) == len(entries):
            raise NotFoundError(f"no token named {name!r} in {path}")
        entries[:] = kept


def list_tokens(path: Path) -> list[dict[str, str | None]]:
    """The tokens of the file, without their digests."""
    return [e.public() for e in read(path)]


class TokenFile:
    """The tokens file as a running server sees it: read at start (a malformed file is a
    SettingsError then), and again when its size or modification time changes, looked at most
    once every `interval` seconds. A file that turns malformed is logged and the last good
    tokens stay in force, so a slip in an edit locks no one out."""

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self._signature = self._stat()
        self._entries = read(path)
        self._looked = time.monotonic()

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            found = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("the tokens file %s cannot be looked at: %s", self.path, exc)
            return self._signature
        return (found.st_ino, found.st_size, found.st_mtime_ns)

    def entries(self) -> list[TokenEntry]:
        now = time.monotonic()
        if now - self._looked >= self.interval:
            self._looked = now
            signature = self._stat()
            if signature != self._signature:
                try:
                    self._entries = read(self.path)
                except SettingsError as exc:
                    log.error("%s; the tokens read before stay in force", exc.message)
                self._signature = signature
        return self._entries

    def find(self, token: str) -> TokenEntry | None:
        """The entry of `token`, every digest compared in constant time."""
        presented = digest(token)
        found = None
        for entry in self.entries():
            if hmac.compare_digest(presented, entry.sha256):
                found = entry
        return found
