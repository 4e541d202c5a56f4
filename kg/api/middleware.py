"""The HTTP layer's bounds, before any route, parser or authentication sees a request: the body
size (KG_MAX_BODY, counted as it inflates), its content coding, the nesting of JSON bodies,
and the security headers of every response. Pure ASGI, so nothing is read before it is
checked."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Final

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.api.errors import problem
from kg.config import Settings
from kg.errors import BodyTooLargeError, InputError, KGError
from kg.limits import Limits, check_json

SOURCE: Final = "request body"
_STEP: Final = 1024 * 1024  # most bytes inflated at once
_OFFLOAD: Final = 64 * 1024  # JSON bodies past this are depth-checked off the event loop
_CODINGS: Final = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate"}


class UnsupportedEncodingError(KGError):
    status = 415
    title = "Unsupported Content-Encoding"


def _problem(exc: KGError, *, close: bool = False) -> Response:
    """The same problem+json the app's error mapping gives (kg.api.errors)."""
    extra: dict[str, object] = {}
    if isinstance(exc, InputError):
        extra = {"source": exc.source, "line": exc.line}
    response = problem(exc.status, exc.title, exc.message, **extra)
    if isinstance(exc, UnsupportedEncodingError):
        response.headers["Accept-Encoding"] = "gzip, deflate"
    if close:  # the rest of the body is never read: do not reuse the connection
        response.headers["Connection"] = "close"
    return response


def _coding(header: str | None) -> str | None:
    """The one content coding to undo (None: identity), or UnsupportedEncodingError."""
    codings = [c.strip().lower() for c in (header or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise UnsupportedEncodingError(
            f"the body is encoded {header!r}; kg undoes one coding, gzip or deflate"
        )
    if codings[0] not in _CODINGS:
        raise UnsupportedEncodingError(
            f"unsupported Content-Encoding {codings[0]!r}: send gzip, deflate or identity"
        )
    return _CODINGS[codings[0]]


class Inflater:
    """Undoes gzip (members may follow each other) or deflate (zlib-wrapped or raw) as the
    chunks come, never producing more than `limit` + 1 bytes in all."""

    def __init__(self, coding: str, limit: int) -> None:
        self.coding = coding
        self.limit = limit
        self.size = 0
        self.pending = b""  # deflate: bytes held until the zlib header can be told apart
        self.inflater: zlib._Decompress | None = None

    def _start(self, head: bytes) -> zlib._Decompress:
        if self.coding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        zlib_wrapped = (head[0] & 0x0F) == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)

    def feed(self, data: bytes) -> bytes:
        if self.inflater is None:
            data = self.pending + data
            if len(data) < 2:  # deflate's first two bytes tell zlib from raw
                self.pending = data
                return b""
            self.pending = b""
            self.inflater = self._start(data)
        out: list[bytes] = []
        while True:
            inflater = self.inflater
            if inflater.eof:
                if not data:
                    break
                if self.coding == "deflate":
                    raise InputError("data follows the end of the deflate stream", source=SOURCE)
                inflater = self.inflater = self._start(data)  # the next gzip member
            room = min(_STEP, self.limit + 1 - self.size)
            try:
                chunk = inflater.decompress(data, room)
            except zlib.error as exc:
                raise InputError(
                    f"the body is not valid {self.coding}: {exc}", source=SOURCE
                ) from exc
            self.size += len(chunk)
            if self.size > self.limit:
                raise BodyTooLargeError(
                    f"the {self.coding} body inflates past the limit of {self.limit} bytes "
                    "(KG_MAX_BODY)"
                )
            out.append(chunk)
            if inflater.eof:
                data = inflater.unused_data
            else:
                data = inflater.unconsumed_tail
                if not data and len(chunk) < room:  # a full output may hide more: go on
                    break
        return b"".join(out)

    def finish(self, raw_size: int) -> None:
        if raw_size and not (self.inflater is not None and self.inflater.eof):
            what = "truncated" if self.inflater is not None else "too short"
            raise InputError(f"the {self.coding} body is {what}", source=SOURCE)


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media in ("application/json", "application/ld+json") or media.endswith("+json")


class BodyLimits:
    """Every request body, on every route, bounded before the app reads it: a declared
    Content-Length past KG_MAX_BODY is refused at once (413), gzip and deflate bodies are
    inflated step by step and refused the moment they pass it, other codings are 415, and
    JSON bodies are checked against the nesting limit (KG_MAX_DEPTH). The app then gets the
    plain body as one message, without the Content-Encoding."""

    def __init__(self, app: ASGIApp, settings: Callable[[], Settings]) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.settings()
        limit = settings.max_body
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "").strip()
        try:
            if declared.isascii() and declared.isdigit() and int(declared) > limit:
                raise BodyTooLargeError(
                    f"the body is {declared} bytes; the limit is {limit} (KG_MAX_BODY)"
                )
            coding = _coding(headers.get("content-encoding"))
        except KGError as exc:
            await _problem(exc, close=True)(scope, receive, send)
            return
        try:
            body = await self._read(receive, limit, coding)
            if body and _is_json(headers.get("content-type")):
                await self._check_json(body, settings)
        except ClientDisconnect:
            return
        except KGError as exc:
            await _problem(exc, close=True)(scope, receive, send)
            return
        if "content-encoding" in headers:
            kept = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")
            ]
            scope = {**scope, "headers": [*kept, (b"content-length", str(len(body)).encode())]}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, limit: int, coding: str | None) -> bytes:
        inflater = Inflater(coding, limit) if coding else None
        chunks: list[bytes] = []
        raw = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect
            data: bytes = message.get("body", b"")
            raw += len(data)
            if raw > limit:
                raise BodyTooLargeError(f"the body passes the limit of {limit} bytes (KG_MAX_BODY)")
            if data:
                chunks.append(inflater.feed(data) if inflater else data)
            if not message.get("more_body", False):
                break
        if inflater:
            inflater.finish(raw)
        return b"".join(chunks)

    @staticmethod
    async def _check_json(body: bytes, settings: Settings) -> None:
        limits = Limits.from_settings(settings)
        if len(body) > _OFFLOAD:
            await anyio.to_thread.run_sync(check_json, body, limits, SOURCE)
        else:
            check_json(body, limits, SOURCE)


CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class SecurityHeaders:
    """`X-Content-Type-Options: nosniff` on every response; on HTML a Content-Security-Policy
    that runs only the scripts kg serves, no framing and no referrer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if headers.get("content-type", "").lower().startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
                    headers.setdefault("Referrer-Policy", "no-referrer")
            await send(message)

        await self.app(scope, receive, send_with_headers)
