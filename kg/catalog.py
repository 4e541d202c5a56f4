"""Named queries: queries/*.rq with a small header, run with bound parameters.

    # summary: Everything a given asset depends on, at any depth.
    # param: asset iri (required) The asset whose lineage to list.
    # param: limit integer (default 100) The largest number of rows.

Parameters are SPARQL variables of the same name, bound through pyoxigraph's substitutions,
never pasted into the query text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from kg import resources
from kg.errors import InputError, NotFoundError
from kg.ids import to_iri
from kg.vocab import XSD

_PARAM = re.compile(
    r"^#\s*param:\s*(?P<name>\w+)\s+(?P<kind>iri|string|integer)"
    r"(?:\s+\((?P<flag>required|default\s+[^)]*)\))?\s*(?P<doc>.*)$"
)


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str
    required: bool
    default: str | None
    description: str


@dataclass(frozen=True)
class NamedQuery:
    name: str
    summary: str
    text: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    def bind(self, values: dict[str, str], base_iri: str) -> dict[str, ox.NamedNode | ox.Literal]:
        """Parameter values as RDF terms; unknown or missing required parameters are errors."""
        known = {p.name: p for p in self.parameters}
        for name in values:
            if name not in known:
                raise InputError(
                    f"query {self.name!r} has no parameter {name!r}; "
                    f"it takes: {', '.join(known) or 'none'}"
                )
        bound: dict[str, ox.NamedNode | ox.Literal] = {}
        for p in self.parameters:
            raw = values.get(p.name, p.default)
            if raw is None:
                if p.required:
                    raise InputError(f"query {self.name!r} needs the parameter {p.name!r}")
                continue
            bound[p.name] = _term(p, raw, base_iri)
        return bound


def _term(parameter: Parameter, raw: str, base_iri: str) -> ox.NamedNode | ox.Literal:
    if parameter.kind == "iri":
        return to_iri(raw, base_iri)
    if parameter.kind == "integer":
        if not re.fullmatch(r"-?\d+", raw.strip()):
            raise InputError(f"parameter {parameter.name!r} must be an integer, not {raw!r}")
        return ox.Literal(raw.strip(), datatype=ox.NamedNode(XSD + "integer"))
    return ox.Literal(raw)


def parse_query_file(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    summary = ""
    parameters = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# summary:"):
            summary = line.removeprefix("# summary:").strip()
        match = _PARAM.match(line)
        if match:
            flag = match["flag"] or ""
            parameters.append(
                Parameter(
                    name=match["name"],
                    kind=match["kind"],
                    required=flag == "required",
                    default=flag.removeprefix("default").strip()
                    if flag.startswith("default")
                    else None,
                    description=match["doc"].strip(),
                )
            )
    return NamedQuery(path.stem, summary, text, tuple(parameters))


@cache
def catalogue() -> dict[str, NamedQuery]:
    """Every named query shipped in queries/, by name."""
    return {q.name: q for q in map(parse_query_file, resources.files("queries", "*.rq"))}


def named_query(name: str) -> NamedQuery:
    try:
        return catalogue()[name]
    except KeyError:
        known = ", ".join(sorted(catalogue()))
        raise NotFoundError(f"no named query {name!r}; known: {known}") from None
