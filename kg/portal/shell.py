"""The one HTML shell every portal page is (templates/shell.html): a header with the search box
and the navigation, an empty <main> the page's script fills from the public API, and the page's
data as a JSON block (never run: the Content-Security-Policy runs only the scripts kg serves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined

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


# Autoescaped: a title (an asset's name) is text, never markup. `tojson` writes the page's data
# with <, > and & (and ') as \u escapes, so nothing in a value can end or change its block; the
# data's own order and characters are kept.
_TEMPLATES: Final = Environment(
    loader=FileSystemLoader(files.HERE / "templates"),
    autoescape=True,
    auto_reload=False,  # the templates ship with the package
    undefined=StrictUndefined,
)
_TEMPLATES.policies["json.dumps_kwargs"] = {"ensure_ascii": False}


def render(page: str, title: str, data: dict[str, object] | None = None) -> str:
    """The page `page` (a key of PAGES) titled `title`; `data` reaches its script as
    `document.getElementById("page-data")`, with the base IRI and whether the libraries
    are installed always in it."""
    spec = PAGES[page]
    return _TEMPLATES.get_template("shell.html").render(
        page=page,
        title=title,
        styles=spec.styles,
        own_style=(files.WEB / f"{page}.css").is_file(),  # after the libraries' styles
        libraries=spec.libraries,
        navigation=_NAVIGATION,
        data={"page": page, "libraries": files.installed(), **(data or {})},
    )
