"""Asset identity: one IRI per asset, from a local id, a CURIE or a full IRI."""

from __future__ import annotations

import re
from urllib.parse import quote

from pyoxigraph import NamedNode

from kg.errors import InputError
from kg.vocab import PREFIXES, compact, expand

_ABSOLUTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|urn:|mailto:|tag:)")
_SAFE = "/-._~:@!$&'()*+,;=%"

ASSET_GRAPH_PREFIX = "urn:kg:graph:asset:"
DERIVED_GRAPH_PREFIX = "urn:kg:graph:derived:"
SOURCE_GRAPH_PREFIX = "urn:kg:graph:source:"


def to_iri(identifier: str, base_iri: str) -> NamedNode:
    """An id as users write it -> the asset's IRI.

    Full IRIs stay as they are, `prefix:local` expands with the known prefixes, anything else is a
    local id minted under `base_iri`.

    >>> to_iri("clicks-raw", "https://kg.example/id/").value
    'https://kg.example/id/clicks-raw'
    >>> to_iri("mlg:Active", "https://kg.example/id/").value
    'https://w3id.org/mlg#Active'
    """
    text = identifier.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if not text:
        raise InputError("an asset id is empty")
    iri = text if _ABSOLUTE.match(text) else expand(text) or base_iri + quote(text, safe=_SAFE)
    try:
        return NamedNode(iri)
    except ValueError as exc:
        raise InputError(f"{identifier!r} is not a valid asset id: {exc}") from exc


def to_id(iri: str, base_iri: str) -> str:
    """The shortest readable id of an IRI: local id under the base, else a CURIE, else the IRI."""
    if iri.startswith(base_iri) and len(iri) > len(base_iri):
        return iri[len(base_iri) :]
    return compact(iri, PREFIXES)


def asset_graph(subject: NamedNode) -> NamedNode:
    """The named graph holding what the sources said about one asset."""
    return NamedNode(ASSET_GRAPH_PREFIX + subject.value)


def derived_graph(source_graph: NamedNode) -> NamedNode:
    """The named graph of triples kg derived from one source graph; replaced with it."""
    return NamedNode(DERIVED_GRAPH_PREFIX + source_graph.value)


def source_graph(scope: str, subject: NamedNode) -> NamedNode:
    """The named graph holding what one importer (scope) said about one asset."""
    return NamedNode(f"{SOURCE_GRAPH_PREFIX}{scope}:{subject.value}")


def described_subject(graph: str) -> str | None:
    """The asset an asset graph or a source graph describes; None for other graphs."""
    if graph.startswith(ASSET_GRAPH_PREFIX):
        return graph.removeprefix(ASSET_GRAPH_PREFIX)
    if graph.startswith(SOURCE_GRAPH_PREFIX):
        scope_and_subject = graph.removeprefix(SOURCE_GRAPH_PREFIX)
        return scope_and_subject.partition(":")[2] or None
    return None
