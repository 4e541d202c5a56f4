"""RDF documents (Turtle, TriG, N-Triples, N-Quads, RDF/XML, JSON-LD) into a batch.

Each document is bounded before pyoxigraph reads it (kg.limits): JSON-LD's nesting, RDF/XML's
DTD, nesting and completeness, the Turtle family's nesting. pyoxigraph recurses on deep
JSON-LD and triple terms and expands RDF/XML entities, and reads a truncated RDF/XML document
as the triples before the cut."""

from __future__ import annotations

import pyoxigraph as ox

from kg.errors import InputError
from kg.ingest.batch import Batch
from kg.limits import DEFAULT_LIMITS, Limits, check_json, check_rdf_text, check_xml

_JSON_FORMATS = (ox.RdfFormat.JSON_LD, ox.RdfFormat.STREAMING_JSON_LD)


def parse(
    data: bytes,
    rdf_format: ox.RdfFormat,
    *,
    source: str,
    base_iri: str,
    limits: Limits = DEFAULT_LIMITS,
) -> Batch:
    text = _decode(data, source)
    malformed = None  # an RDF/XML error after the root element, if pyoxigraph misses it
    if rdf_format in _JSON_FORMATS:
        check_json(data, limits, source)
    elif rdf_format == ox.RdfFormat.RDF_XML:
        malformed = check_xml(data, limits, source)
    else:
        check_rdf_text(data, limits, source)
    batch = Batch(source=source, text=text, limits=limits)
    try:
        # base_iri: relative IRIs (and JSON-LD relative @id, which would otherwise be dropped)
        # resolve against the asset base. Blank nodes are renamed so two inputs never share one.
        for quad in ox.parse(data, rdf_format, base_iri=base_iri, rename_blank_nodes=True):
            if isinstance(quad.graph_name, ox.DefaultGraph):
                batch.triples.append(quad.triple)
            elif isinstance(quad.graph_name, ox.NamedNode):
                batch.named_graphs.setdefault(quad.graph_name, []).append(quad.triple)
            else:
                raise InputError("a named graph must be named by an IRI", source=source)
    except SyntaxError as exc:
        raise InputError(
            f"{rdf_format.name} syntax error: {exc.msg}", source=source, line=exc.lineno
        ) from exc
    if malformed is not None:  # pyoxigraph read a truncated document as the part before the cut
        raise malformed
    return batch


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("the document is not valid UTF-8", source=source, line=line) from exc
