"""What the HTTP API answered, recorded in the audit: an ASGI middleware around the whole app.

It runs outside every other layer, so it sees the answers they give too (the body bounds'
413, the authentication's 401): a request whose method is not GET, HEAD or OPTIONS is recorded
whatever its status, any other only when it is refused with 401, 403 or 422. The entry is
queued just before the last part of the answer goes out, so a client that has its answer finds
it in the audit; a failure to record is logged, never raised into the request.

What it reads, and from where:
- the caller: the Principal the authentication put in `request.state.principal`;
- the address: the connection's peer (`scope["client"]`), never X-Forwarded-For;
- a refusal's reason: the detail kg.api.errors keeps in `request.state.problem`, else the
  `detail` of the answer's (problem+)JSON, or its plain text, read up to `_CAPTURE` bytes;
- a write's load records: `request.state.loads` (a list) where a route sets it, the `kg-load`
  header (SPARQL Update), and the top-level `load` of a JSON answer up to `_CAPTURE` bytes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.audit import vocab
from kg.audit.log import AuditLog
from kg.audit.vocab import Entry, cut

_log = logging.getLogger("kg.audit")

READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSALS: Final = frozenset({401, 403, 422})
_CAPTURE: Final = 1024 * 1024  # bytes of an answer read for its detail or its load
_LOAD_PREFIX: Final = "urn:kg:load:"


def recorded(method: str, status: int) -> bool:
    return method.upper() not in READS or status in REFUSALS


def outcome_of(status: int) -> str:
    if status >= 500:
        return vocab.FAILED
    return vocab.REFUSED if status >= 400 else vocab.WRITTEN


class AuditMiddleware:
    def __init__(self, app: ASGIApp, audit: Callable[[], AuditLog | None]) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        log = self.audit() if scope["type"] == "http" else None
        if log is None:
            await self.app(scope, receive, send)
            return
        # The state is shared by every scope the layers below derive from this one, so the
        # principal and the problem they put in it reach here.
        state: dict[str, Any] = scope.setdefault("state", {})
        answer = _Answer(log, scope, state, log.now())

        async def watched(message: Message) -> None:
            answer.see(message)
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except BaseException:
            answer.finish(failed=True)
            raise
        answer.finish()


class _Answer:
    """One request's answer as it goes out, and the entry it makes."""

    def __init__(self, log: AuditLog, scope: Scope, state: dict[str, Any], at_ns: int) -> None:
        self.log = log
        self.scope = scope
        self.state = state
        self.at_ns = at_ns
        self.method = str(scope.get("method", "")).upper()
        self.status: int | None = None
        self.media = ""
        self.load_header: str | None = None
        self.body = bytearray()
        self.captured = True  # False once the body passed _CAPTURE
        self.failed = False  # the app raised, before or after it began to answer
        self.done = False

    def see(self, message: Message) -> None:
        try:
            if message["type"] == "http.response.start":
                self.status = int(message["status"])
                headers = Headers(raw=message.get("headers", []))
                self.media = headers.get("content-type", "").split(";")[0].strip().lower()
                self.load_header = headers.get("kg-load")
            elif message["type"] == "http.response.body" and self._wanted():
                chunk: bytes = message.get("body", b"")
                if self.captured and len(self.body) + len(chunk) <= _CAPTURE:
                    self.body += chunk
                else:
                    self.captured = False
                    self.body.clear()
                if not message.get("more_body", False):
                    self.finish()
        except Exception:  # the answer goes out whatever happens here
            _log.exception("the audit could not follow an answer")

    def _wanted(self) -> bool:
        return not self.done and self.status is not None and recorded(self.method, self.status)

    def finish(self, *, failed: bool = False) -> None:
        """Record the entry, once: at the answer's end, or when the app stopped without one."""
        if self.done:
            return
        self.failed = failed
        if failed and self.status is None:
            self.status = 500
        if not self._wanted():
            self.done = True
            return
        self.done = True
        try:
            self.log.record(self.entry())
        except Exception:
            _log.exception("the audit could not record a request")

    def entry(self) -> Entry:
        assert self.status is not None
        outcome = vocab.FAILED if self.failed else outcome_of(self.status)
        principal = self.state.get("principal")
        client = self.scope.get("client")
        path = str(self.scope.get("path", ""))  # with the root path, as the client sent it
        query = bytes(self.scope.get("query_string", b"")).decode("latin-1")
        return Entry(
            at_ns=self.at_ns,
            outcome=outcome,
            method=cut(self.method, 32),
            target=cut(path + (f"?{query}" if query else "")),
            status=self.status,
            address=cut(str(client[0]), 200) if client else None,
            principal=cut(str(principal.name)) if principal is not None else None,
            role=cut(str(principal.role), 100) if principal is not None else None,
            kind=cut(str(principal.kind), 100) if principal is not None else None,
            detail=cut(self._detail()) if outcome != vocab.WRITTEN else None,
            loads=self._loads() if outcome == vocab.WRITTEN else (),
        )

    def _document(self) -> Any:
        if not self.captured or not self.body or not self.media.endswith("json"):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def _detail(self) -> str | None:
        kept = self.state.get("problem")
        if isinstance(kept, str):
            return kept
        document = self._document()
        if isinstance(document, dict):
            return _detail_of(document)
        if self.captured and self.media.startswith("text/plain"):
            return self.body.decode("utf-8", "replace").strip() or None
        if self.failed:
            return "the request ended before its answer did (the client left, or kg failed)"
        return None

    def _loads(self) -> tuple[str, ...]:
        found: list[str] = []
        noted = self.state.get("loads")
        if isinstance(noted, list | tuple):
            found += [str(load) for load in noted]
        if self.load_header:
            found.append(self.load_header.strip())
        document = self._document()
        if isinstance(document, dict) and isinstance(document.get("load"), str):
            found.append(document["load"])
        kept = {cut(load, 200) or "" for load in found}
        return tuple(sorted(load for load in kept if load.startswith(_LOAD_PREFIX)))


def _detail_of(problem: dict[str, Any]) -> str | None:
    """A problem's detail; FastAPI's validation errors (a list) as "where: what" items."""
    detail = problem.get("detail") or problem.get("title")
    if isinstance(detail, list):
        return "; ".join(
            f"{' '.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}"
            for item in detail
            if isinstance(item, dict)
        )
    return None if detail is None else str(detail)
