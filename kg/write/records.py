"""What a write reports, and the load record it leaves in the store.

A leaf of the write package: the pipeline fills these in; the importers, the HTTP layer and the
CLI read them. The load record is a PROV activity in `urn:kg:graph:loads` naming when the write
ended, its sources and every graph it wrote or dropped (the change log, see kg.write.log).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.governance.model import Result
from kg.graphs import LOADS_GRAPH
from kg.vocab import PROV, RDF_TYPE, XSD, mlg


@dataclass(frozen=True)
class Reference:
    """An edge whose target is not (yet) described in the graph."""

    subject: str
    predicate: str
    target: str


@dataclass
class LoadReport:
    load: str
    sources: list[str]
    assets: int = 0
    triples: int = 0
    derived: int = 0
    graphs: list[str] = field(default_factory=list)
    unresolved: list[Reference] = field(default_factory=list)
    gate: str = "off"
    violations: list[Result] = field(default_factory=list)
    position: int = 0  # in the change log (kg.write.log), once committed
    subjects: set[str] = field(default_factory=set)  # whose descriptions the write changed
    # The new descriptions of assets written whole (asset graph with its derived graph).
    descriptions: dict[str, list[ox.Triple]] = field(default_factory=dict, repr=False)
    # What the check reports without refusing it (ill-typed literals the ontology does not fix).
    warnings: list[str] = field(default_factory=list)
    # The load of what inference rules concluded from this write (kg.inference), when any.
    inferred: LoadReport | None = None
    inferred_rules: dict[str, int] = field(default_factory=dict)  # rule -> assets recomputed

    @property
    def last(self) -> LoadReport:
        """The write's last load: the inferred one, when rules concluded anything."""
        return self.inferred if self.inferred is not None else self

    def as_dict(self) -> dict[str, object]:
        result: dict[str, object] = {
            "load": self.load,
            "sources": self.sources,
            "assets": self.assets,
            "triples": self.triples,
            "derived": self.derived,
            "graphs": len(self.graphs),
            "unresolved": [
                {"subject": r.subject, "predicate": r.predicate, "target": r.target}
                for r in self.unresolved
            ],
            "gate": self.gate,
            "violations": [
                {
                    "focusNode": r.focus.strip("<>"),
                    "shape": r.shape.strip("<>"),
                    "severity": r.severity.value,
                    "value": r.value,
                    "message": r.message,
                }
                for r in self.violations
            ],
        }
        if self.warnings:
            result["warnings"] = self.warnings
        if self.inferred is not None:
            result["inferred"] = {
                "load": self.inferred.load,
                "rules": dict(sorted(self.inferred_rules.items())),
                "graphs": len(self.inferred.graphs),
            }
        return result


def load_record(
    load: ox.NamedNode, sources: Sequence[str], graphs: Iterable[ox.NamedNode]
) -> list[ox.Quad]:
    """The record of a write, but its time (`ended`, added as it commits)."""
    quads = [
        ox.Quad(load, RDF_TYPE, mlg("Load"), LOADS_GRAPH),
        ox.Quad(load, RDF_TYPE, ox.NamedNode(PROV + "Activity"), LOADS_GRAPH),
    ]
    quads += [ox.Quad(load, mlg("source"), ox.Literal(s), LOADS_GRAPH) for s in sources]
    quads += [ox.Quad(load, mlg("wrote"), g, LOADS_GRAPH) for g in graphs]
    return quads


ENDED_AT = ox.NamedNode(PROV + "endedAtTime")


def ended(load: ox.NamedNode, at: dt.datetime | None = None) -> ox.Quad:
    """When the write ended: the time it commits at (now, by default), to the microsecond."""
    moment = (at or dt.datetime.now(dt.UTC)).isoformat()
    return ox.Quad(
        load, ENDED_AT, ox.Literal(moment, datatype=ox.NamedNode(XSD + "dateTime")), LOADS_GRAPH
    )
