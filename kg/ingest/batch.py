"""What the parsers give: an input document, and the batch of triples it said (a leaf: the
parsers, the importers and the write pipeline all build on it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.limits import DEFAULT_LIMITS, Limits
from kg.vocab import value


@dataclass(frozen=True)
class Document:
    """One input to load: its name (a file name or a request), its bytes, its media type."""

    name: str
    data: bytes
    media_type: str | None = None


@dataclass
class Batch:
    """What one input said: triples of its default graph, and any named graphs it carried.

    `lines` maps a triple to the line it came from, where the parser told us. A batch with a
    `scope` (an importer: openlineage, datahub, backstage) describes each subject in the graph
    of that source, beside what other sources said of it, instead of in the asset's own graph.
    """

    source: str
    triples: list[ox.Triple] = field(default_factory=list)
    named_graphs: dict[ox.NamedNode, list[ox.Triple]] = field(default_factory=dict)
    lines: dict[ox.Triple, int] = field(default_factory=dict)
    text: str | None = None
    drop: list[ox.NamedNode] = field(default_factory=list)  # graphs the input removes
    scope: str | None = None
    limits: Limits = DEFAULT_LIMITS  # the literal and IRI sizes the pipeline's check allows
    warnings: list[str] = field(default_factory=list)  # what the check reports, not refuses
    inferred: bool = False  # kg's inference wrote it: the only writer of inferred graphs

    def line_of(self, triple: ox.Triple) -> int | None:
        if triple in self.lines:
            return self.lines[triple]
        return _locate(self.text, triple) if self.text is not None else None

    def all_triples(self) -> list[ox.Triple]:
        return self.triples + [t for ts in self.named_graphs.values() for t in ts]


def _locate(text: str, triple: ox.Triple) -> int | None:
    """Best-effort line of a parsed triple in RDF text: the parsers give no positions.

    Looks for the object (in full, or its local name when written with a prefix) on a line,
    preferring a line that also names the predicate.
    """
    obj = value(triple.object)
    needles = [obj]
    if isinstance(triple.object, ox.NamedNode):
        needles.append(_local_name(obj))
    predicate = _local_name(triple.predicate.value)
    fallback = None
    for number, line in enumerate(text.splitlines(), start=1):
        if any(needle and needle in line for needle in needles):
            if predicate in line:
                return number
            fallback = fallback or number
    return fallback


def _local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
