"""The few files kg's own pages load (their scripts), served by kg itself so that the pages'
Content-Security-Policy can forbid every other script."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from kg.errors import NotFoundError

router = APIRouter(include_in_schema=False)
MEDIA_TYPES = {"sparql.js": "text/javascript; charset=utf-8"}


@cache
def _read(name: str) -> bytes:
    return (resources.files("kg") / "static" / name).read_bytes()


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    if name not in MEDIA_TYPES:
        raise NotFoundError(f"no static file {name!r}")
    return Response(
        _read(name),
        media_type=MEDIA_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )
