"""A small client of kg's own HTTP API, for the CLI beside a running `kg serve`.

Only the standard library: the CLI must not need more than kg itself to reach its server.
Errors come back as kg's own: the server's problem+json answer (status, detail, violations)
becomes a `ServerError` that the CLI maps like any other KGError.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import KGError

# Written by `kg serve` into the store folder it holds, removed when it stops: how the CLI
# finds the server of a store it cannot open.
SERVER_FILE = "kg-server.json"

Params = Mapping[str, str | int | Sequence[str] | None]


class ServerError(KGError):
    """What the server refused, with its status and (for the write gate) the violations."""

    def __init__(self, status: int, message: str, violations: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.status = status
        self.violations = violations


class UnreachableError(KGError):
    """No kg server answers at the URL."""

    status = 502
    title = "Server unreachable"


@dataclass(frozen=True)
class Reply:
    status: int
    media: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Part:
    """One file of a multipart/form-data body."""

    name: str
    data: bytes
    media: str | None


class Client:
    def __init__(self, url: str, token: str | None = None, timeout: float = 3600.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        # Straight to the server: a proxy configured for the internet has no business with it.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(
        self,
        method: str,
        path: str,
        params: Params | None = None,
        *,
        body: bytes | None = None,
        media: str | None = None,
        accept: str | None = None,
    ) -> Reply:
        query = urllib.parse.urlencode(
            [(k, v) for k, value in (params or {}).items() for v in _values(value)]
        )
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        headers = {"Accept": accept or "application/json"}
        if media:
            headers["Content-Type"] = media
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310  # kg's own URL, http(s) by construction
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return Reply(
                    answer.status,
                    answer.headers.get_content_type(),
                    {k.lower(): v for k, v in answer.headers.items()},
                    answer.read(),
                )
        except urllib.error.HTTPError as exc:
            raise _refusal(exc.code, exc.read(), exc.headers.get_content_type()) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UnreachableError(f"no kg server answers at {self.url} ({reason})") from None

    def get(self, path: str, params: Params | None = None, accept: str | None = None) -> Reply:
        return self.request("GET", path, params, accept=accept)

    def post(
        self,
        path: str,
        params: Params | None = None,
        *,
        body: bytes = b"",
        media: str | None = None,
        accept: str | None = None,
    ) -> Reply:
        return self.request("POST", path, params, body=body, media=media, accept=accept)

    def post_files(self, path: str, parts: Sequence[Part], params: Params | None = None) -> Reply:
        body, media = multipart(parts)
        return self.post(path, params, body=body, media=media)


def _values(value: str | int | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | int):
        return [str(value)]
    return list(value)


def _refusal(status: int, body: bytes, media: str) -> ServerError:
    """The server's problem+json (or plain text) answer as an error with its message."""
    message, violations = body.decode("utf-8", "replace").strip(), []
    if media.endswith("json"):
        try:
            problem = json.loads(body)
        except ValueError:
            problem = None
        if isinstance(problem, dict):
            detail = problem.get("detail") or problem.get("title") or message
            if isinstance(detail, list):  # request validation: where and what, per item
                detail = "; ".join(
                    f"{' '.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}"
                    for d in detail
                    if isinstance(d, dict)
                )
            message = str(detail)
            violations = list(problem.get("violations") or [])
    return ServerError(status, message or f"HTTP {status}", violations)


def multipart(parts: Sequence[Part]) -> tuple[bytes, str]:
    """A multipart/form-data body of files (RFC 7578), and its Content-Type."""
    boundary = f"kg-{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for part in parts:
        name = part.name.replace('"', "%22").replace("\r", "").replace("\n", "")
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {part.media or 'application/octet-stream'}\r\n\r\n".encode()
        )
        chunks.append(part.data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


# -- discovery: the server that holds a store


def announce(store: Path, url: str) -> Path:
    """Say in the store folder which server holds it (replaced atomically)."""
    target = store / SERVER_FILE
    scratch = target.with_suffix(".tmp")
    scratch.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    scratch.replace(target)
    return target


def withdraw(store: Path) -> None:
    """Remove the announcement, when it is still this process's own."""
    target = store / SERVER_FILE
    try:
        if json.loads(target.read_text(encoding="utf-8")).get("pid") == os.getpid():
            target.unlink()
    except (OSError, ValueError):
        pass


def announced(store: Path) -> str | None:
    """The URL of the live server that announced itself in the store folder, if any."""
    try:
        found = json.loads((store / SERVER_FILE).read_text(encoding="utf-8"))
        pid, url = int(found["pid"]), str(found["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a server that died without tidying up
    except PermissionError:
        pass  # alive, another user's
    return url


def listen_url(host: str, port: int) -> str:
    """The URL a local client reaches a server listening on host:port at."""
    if host in {"0.0.0.0", ""}:  # noqa: S104  # every interface: loopback is one of them
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
