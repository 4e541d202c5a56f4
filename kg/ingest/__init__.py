"""Turn input documents into batches of triples (pure: no store access).

Formats: Turtle, TriG, N-Triples, N-Quads, RDF/XML, JSON-LD, and the native asset document
(YAML or JSON). The format comes from the media type, else the file name, else the content.
Every document meets kg.limits' bounds before a parser sees it (nesting, entities, YAML
expansion); the pipeline's check bounds the literals and IRIs the parsers give.
"""

from __future__ import annotations

import json
from pathlib import PurePath

import pyoxigraph as ox

from kg.errors import InputError
from kg.ingest.batch import Batch as Batch
from kg.ingest.batch import Document as Document
from kg.limits import DEFAULT_LIMITS, Limits, check_json

NATIVE = "native"

_EXTENSIONS: dict[str, ox.RdfFormat | str] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json-ld": ox.RdfFormat.JSON_LD,
    ".yaml": NATIVE,
    ".yml": NATIVE,
    ".json": NATIVE,
}

_NATIVE_MEDIA_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "application/json"}


def detect_format(
    name: str | None,
    media_type: str | None,
    data: bytes,
    *,
    limits: Limits = DEFAULT_LIMITS,
) -> ox.RdfFormat | str:
    """The input's format: media type first, then file extension, then a look at the content
    (JSON is read to tell JSON-LD from an asset document, once its nesting is within `limits`).
    """
    if media_type:
        base = media_type.split(";", 1)[0].strip().lower()
        if base in _NATIVE_MEDIA_TYPES:
            return _json_ld_or_native(data, limits, name) if base == "application/json" else NATIVE
        rdf_format = ox.RdfFormat.from_media_type(base)
        if rdf_format is not None:
            return rdf_format
        if base not in ("application/octet-stream", "text/plain", ""):
            raise InputError(
                f"unsupported media type {base!r}: send Turtle, TriG, N-Triples, N-Quads, "
                "RDF/XML, JSON-LD, or a YAML/JSON asset document",
                source=name,
            )
    if name:
        suffix = PurePath(name).suffix.lower()
        found = _EXTENSIONS.get(suffix)
        if found == NATIVE and suffix == ".json":
            return _json_ld_or_native(data, limits, name)
        if found is not None:
            return found
    stripped = data.lstrip()[:1]
    if stripped in (b"{", b"["):
        return _json_ld_or_native(data, limits, name)
    if stripped in (b"@", b"<") or data.lstrip().upper().startswith(b"PREFIX"):
        return ox.RdfFormat.TRIG if stripped != b"<" else ox.RdfFormat.N_QUADS
    return NATIVE


def _json_ld_or_native(data: bytes, limits: Limits, name: str | None) -> ox.RdfFormat | str:
    """JSON that carries JSON-LD keywords is JSON-LD; other JSON is an asset document."""
    check_json(data, limits, name or "input")
    try:
        value = json.loads(data)
    except ValueError:
        return NATIVE  # the native parser reports the syntax error with its position
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict) and any(k in item for k in ("@context", "@graph", "@id")):
            return ox.RdfFormat.JSON_LD
    return NATIVE


def parse_document(
    data: bytes,
    *,
    source: str,
    base_iri: str,
    media_type: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Batch:
    """Parse one input document of any supported format into a batch, within `limits`
    (kg.errors.LimitError past one of them)."""
    from kg.ingest import native, rdf

    fmt = detect_format(source, media_type, data, limits=limits)
    if fmt == NATIVE:
        return native.parse(data, source=source, base_iri=base_iri, limits=limits)
    assert isinstance(fmt, ox.RdfFormat)
    return rdf.parse(data, fmt, source=source, base_iri=base_iri, limits=limits)
