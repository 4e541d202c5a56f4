"""RDF documents (Turtle, TriG, N-Triples, N-Quads, RDF/XML, JSON-LD) into a batch."""

from __future__ import annotations

import pyoxigraph as ox

from kg.errors import InputError
from kg.ingest import Batch


def parse(data: bytes, rdf_format: ox.RdfFormat, *, source: str, base_iri: str) -> Batch:
    text = _decode(data, source)
    batch = Batch(source=source, text=text)
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
    return batch


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("the document is not valid UTF-8", source=source, line=line) from exc
