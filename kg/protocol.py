"""SPARQL 1.1 Protocol helpers with no HTTP in them: content negotiation, query shape, limits,
and the service description."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kg.errors import QueryError

RESULT_TYPES: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
# ?format= (and ?output=, ?results=) names, as SPARQLWrapper, YASGUI and Fuseki clients send them.
RESULT_NAMES = {"json": "application/sparql-results+json", "srj": "application/sparql-results+json",
                "xml": "application/sparql-results+xml", "srx": "application/sparql-results+xml",
                "csv": "text/csv", "tsv": "text/tab-separated-values"}  # fmt: skip
GRAPH_NAMES = {"turtle": "text/turtle", "ttl": "text/turtle", "n3": "text/turtle",
               "text/n3": "text/turtle", "ntriples": "application/n-triples",
               "n-triples": "application/n-triples", "nt": "application/n-triples",
               "xml": "application/rdf+xml", "rdf": "application/rdf+xml",
               "rdfxml": "application/rdf+xml", "rdf+xml": "application/rdf+xml",
               "rdf/xml": "application/rdf+xml", "jsonld": "application/ld+json",
               "json-ld": "application/ld+json", "json": "application/ld+json",
               "nquads": "application/n-quads", "n-quads": "application/n-quads",
               "nq": "application/n-quads", "trig": "application/trig"}  # fmt: skip
FORMAT_PARAMETERS = ("format", "output", "results")


def accepted(header: str | None) -> list[str]:
    """Media types of an Accept header, best first (q-values honoured, q=0 dropped)."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media and quality > 0:
            ranked.append((-quality, position, media.lower()))
    return [media for _, _, media in sorted(ranked)]


def _named(value: str, table: Mapping[str, object], names: Mapping[str, str]) -> str | None:
    key = value.split(";", 1)[0].strip().lower()
    return names.get(key) or (key if key in table else None)


def negotiate(
    accept: str | None,
    formats: Sequence[str] | str | None,
    table: Mapping[str, object],
    names: Mapping[str, str],
    default: str,
) -> str:
    """The media type to answer with: the first usable `format` value (each may be a comma
    list of names or media types), else the best usable Accept, else the default. A format
    this answer cannot take (turtle for a SELECT) never overrides a usable Accept; a value no
    answer could take, with nothing else usable, is an error naming the known ones."""
    values = [formats] if isinstance(formats, str) else list(formats or ())
    parts = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for part in parts:
        chosen = _named(part, table, names)
        if chosen is not None:
            return chosen
    for media in accepted(accept):
        if media in table:
            return media
        if media in ("*/*", "application/*", "text/*"):
            return default
    everything = {**RESULT_TYPES, **GRAPH_TYPES}
    known = {**RESULT_NAMES, **GRAPH_NAMES}
    unknown = [p for p in parts if _named(p, everything, known) is None]
    if unknown and len(unknown) == len(parts):
        raise QueryError(
            f"unknown format {unknown[0]!r}; use a media type or one of "
            + ", ".join(sorted(set(RESULT_NAMES) | set(GRAPH_NAMES)))
        )
    return default


def results_media(accept: str | None, formats: Sequence[str] | str | None) -> str:
    default = "application/sparql-results+json"
    return negotiate(accept, formats, RESULT_TYPES, RESULT_NAMES, default)


def graph_media(accept: str | None, formats: Sequence[str] | str | None) -> str:
    return negotiate(accept, formats, GRAPH_TYPES, GRAPH_NAMES, "text/turtle")


_PROLOGUE = re.compile(
    r"^(?:\s|#[^\n]*\n|(?:PREFIX\s+[^\s:]*:\s*<[^>]*>)|(?:BASE\s*<[^>]*>))*", re.IGNORECASE
)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class QueryShape:
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    prologue: str
    body: str

    def capped(self, rows: int) -> str:
        """A SELECT wrapped so it returns at most `rows` solutions."""
        if self.form != "SELECT":
            return self.prologue + self.body
        return f"{self.prologue}SELECT * WHERE {{ {self.body} }} LIMIT {rows}"


def shape(query: str) -> QueryShape | None:
    """The query form and where the prologue ends (None when it does not look like a query)."""
    prologue = _PROLOGUE.match(query)
    end = prologue.end() if prologue else 0
    form = _FORM.match(query, end)
    if form is None:
        return None
    return QueryShape(form.group(1).upper(), query[:end], query[end:])


def service_description(endpoint: str, graph_sizes: dict[str, int], listed: int = 500) -> bytes:
    """The SPARQL 1.1 Service Description of the endpoint, as Turtle."""
    sd = "http://www.w3.org/ns/sparql-service-description#"
    void = "http://rdfs.org/ns/void#"
    lines = [
        f"@prefix sd: <{sd}> .", f"@prefix void: <{void}> .",
        f"<{endpoint}> a sd:Service ;",
        f"  sd:endpoint <{endpoint}> ;",
        "  sd:supportedLanguage sd:SPARQL11Query , sd:SPARQL11Update ;",
        "  sd:feature sd:UnionDefaultGraph , sd:BasicFederatedQuery ;",
        "  sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON> ,"
        " <http://www.w3.org/ns/formats/SPARQL_Results_XML> , <http://www.w3.org/ns/formats/SPARQL_Results_CSV> ,"  # noqa: E501
        " <http://www.w3.org/ns/formats/SPARQL_Results_TSV> , <http://www.w3.org/ns/formats/Turtle> ,"  # noqa: E501
        " <http://www.w3.org/ns/formats/N-Triples> , <http://www.w3.org/ns/formats/RDF_XML> ,"
        " <http://www.w3.org/ns/formats/JSON-LD> , <http://www.w3.org/ns/formats/N-Quads> ,"
        " <http://www.w3.org/ns/formats/TriG> ;",
        "  sd:defaultDataset [ a sd:Dataset ;",
        f"    sd:defaultGraph [ a sd:Graph ; void:triples {sum(graph_sizes.values())} ]",
    ]  # fmt: skip
    for name, size in sorted(graph_sizes.items())[:listed]:
        graph = ox.NamedNode(name)
        lines.append(
            f"    ; sd:namedGraph [ sd:name {graph} ; sd:graph [ a sd:Graph ; void:triples {size} ] ]"  # noqa: E501
        )
    lines.append("  ] .")
    return ("\n".join(lines) + "\n").encode()
