"""Asset identity: one IRI per asset, from a local id, a CURIE or a full IRI."""

from __future__ import annotations

import re
from urllib.parse import quote

from pyoxigraph import NamedNode

from kg.errors import InputError
from kg.vocab import PREFIXES, compact, expand

_ABSOLUTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://|urn:|mailto:|tag:)")
_SAFE = "/-._~:@!$&'()*+,;=%"


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
