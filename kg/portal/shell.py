"""The one HTML shell every portal page is: a header with the search box and the navigation,
an empty <main> the page's script fills from the public API, and the page's data as a JSON
block (never run: the Content-Security-Policy runs only the scripts kg serves)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Final

from kg.portal import files


@dataclass(frozen=True)
class Page:
    """A page's script (web/<name>.js) and the libraries it needs, in load order."""

    name: str
    styles: tuple[str, ...] = ()
    libraries: tuple[str, ...] = field(default_factory=tuple)


PAGES: Final = {
    page.name: page
    for page in (
        Page("search"),
        Page("asset"),
        Page("lineage", libraries=("cytoscape.min.js",)),  # ELK loads when asked for
        Page("impact"),
        Page("governance"),
        Page("workbench", styles=("yasgui.min.css",), libraries=("yasgui.min.js",)),
        Page("docs", styles=("swagger-ui.css",), libraries=("swagger-ui-bundle.js",)),
    )
}
_NAVIGATION: Final = (
    ("/", "Search", "search"),
    ("/governance", "Governance", "governance"),
    ("/sparql", "SPARQL", "workbench"),
    ("/docs", "API", "docs"),
)


def _data_block(data: dict[str, object]) -> str:
    """JSON that no `</script>`, `<!--` or `&` inside a value can end or change."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(page: str, title: str, data: dict[str, object] | None = None) -> str:
    """The page `page` (a key of PAGES) titled `title`; `data` reaches its script as
    `document.getElementById("page-data")`, with the base IRI and whether the libraries
    are installed always in it."""
    spec = PAGES[page]
    payload = {"page": page, "libraries": files.installed(), **(data or {})}
    styles = "".join(f'<link rel="stylesheet" href="/vendor/{s}">' for s in spec.styles)
    if (files.WEB / f"{page}.css").is_file():  # the page's own styles, after the libraries'
        styles += f'<link rel="stylesheet" href="/portal/{page}.css">'
    scripts = "".join(f'<script src="/vendor/{s}" defer></script>' for s in spec.libraries)
    links = "".join(
        f'<a href="{href}"{" aria-current=page" if name == page else ""} '
        f'data-testid="nav-{name}">{label}</a>'
        for href, label, name in _NAVIGATION
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · kg</title>
<link rel="icon" href="/portal/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/portal/portal.css">{styles}
</head><body data-page="{page}">
<header class="topbar">
<a class="brand" href="/" data-testid="brand"><img src="/portal/icon.svg" alt=""> kg</a>
<form class="quick-search" action="/" method="get" role="search">
<input type="search" name="q" placeholder="Search datasets, features, models, teams…"
 aria-label="Search every asset" data-testid="quick-search" autocomplete="off"></form>
<nav>{links}</nav>
<button type="button" class="token" data-testid="token-button" hidden>Sign in to write</button>
</header>
<main id="main" tabindex="-1"><p class="loading">Loading…</p></main>
<script type="application/json" id="page-data">{_data_block(payload)}</script>
{scripts}<script type="module" src="/portal/app.js"></script>
</body></html>"""
