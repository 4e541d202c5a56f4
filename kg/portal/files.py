"""The portal's scripts and styles: kg's own (web/) and the few browser libraries installed at
set-up from the npm registry (node_modules/, at the versions package-lock.json pins). Served from
kg's origin so that the pages' Content-Security-Policy can forbid every other script, and so
that the portal works with no internet."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from kg.api.deps import reader
from kg.errors import NotFoundError

# The portal's files are reads like its pages: a reader's, when KG_READ_OPEN=false.
router = APIRouter(include_in_schema=False, dependencies=[Depends(reader)])

HERE: Final = Path(__file__).parent
WEB: Final = HERE / "web"
MEDIA_TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
# the name a page asks for -> where npm put it; nothing else in node_modules is served
VENDOR: Final = {
    "cytoscape.min.js": "cytoscape/dist/cytoscape.min.js",
    "elk.bundled.js": "elkjs/lib/elk.bundled.js",
    "cytoscape-elk.js": "cytoscape-elk/dist/cytoscape-elk.js",
    "yasgui.min.js": "@zazuko/yasgui/build/yasgui.min.js",
    "yasgui.min.css": "@zazuko/yasgui/build/yasgui.min.css",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}
_CACHE: Final = {"Cache-Control": "public, max-age=3600"}


def vendor_root() -> Path:
    """Where the libraries are: KG_PORTAL_MODULES, else beside this package (`make setup`)."""
    return Path(os.environ.get("KG_PORTAL_MODULES") or HERE / "node_modules")


def installed() -> bool:
    """Whether `make setup` installed the browser libraries the lineage picture, the SPARQL
    workbench and the API docs need (search, asset, impact and governance pages work without)."""
    root = vendor_root()
    return all((root / path).is_file() for path in VENDOR.values())


def _media(name: str) -> str:
    return MEDIA_TYPES.get(Path(name).suffix, "application/octet-stream")


@cache
def _own(name: str) -> bytes:
    return (WEB / name).read_bytes()


@router.get("/portal/{name}")
def own_file(name: str) -> Response:
    if Path(name).suffix not in MEDIA_TYPES or not (WEB / name).is_file() or "/" in name:
        raise NotFoundError(f"the portal has no file {name!r}")
    return Response(_own(name), media_type=_media(name), headers=_CACHE)


@cache
def _vendored(name: str) -> bytes:
    return (vendor_root() / VENDOR[name]).read_bytes()


@router.get("/vendor/{name}")
def vendor_file(name: str) -> Response:
    if name not in VENDOR:
        raise NotFoundError(f"the portal serves no library {name!r}")
    if not (vendor_root() / VENDOR[name]).is_file():
        raise NotFoundError(
            f"the portal's browser libraries are not installed ({name}): run `make setup`"
        )
    return Response(_vendored(name), media_type=_media(name), headers=_CACHE)
