"""What an import did: created, updated, unchanged, unresolved, refused and skipped, with
reasons."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kg.write.records import LoadReport

# What an importer says, subject by subject (each subject's statements go to its own graph).
Description = dict[ox.NamedNode, list[ox.Triple]]


@dataclass(frozen=True)
class Refusal:
    item: str  # where: a file, `file#3` for the fourth event, an entity URN
    reason: str


@dataclass
class Read:
    """What a catalog importer read from one file."""

    description: Description
    items: int  # entities or records read
    skipped: list[Refusal] = field(default_factory=list)
    defined: set[ox.NamedNode] = field(default_factory=set)  # entities described whole
    locations: list[str] = field(default_factory=list)  # other files the file points at
    # datasets whose upstream lineage (field-level lineage included) the file states anew
    lineage_restated: set[ox.NamedNode] = field(default_factory=set)


@dataclass
class IngestReport:
    importer: str
    items: int = 0  # events or entities read
    created: dict[str, str] = field(default_factory=dict)  # IRI -> type
    updated: dict[str, str] = field(default_factory=dict)
    unchanged: dict[str, str] = field(default_factory=dict)  # said again as its source has it
    refused: list[Refusal] = field(default_factory=list)
    skipped: list[Refusal] = field(default_factory=list)
    rejected: int = 0  # items refused (a refused file refuses all its items)
    load: LoadReport | None = None

    @property
    def accepted(self) -> int:
        return self.items - self.rejected

    def counts(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "accepted": self.accepted,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "unresolved": len(self.load.unresolved) if self.load else 0,
            "refused": self.rejected,
            "skipped": len(self.skipped),
            "violations": len(self.load.violations) if self.load else 0,
        }

    def by_type(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for label, found in (
            ("created", self.created),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
        ):
            for kind, n in Counter(found.values()).items():
                result.setdefault(kind, {"created": 0, "updated": 0, "unchanged": 0})[label] = n
        return dict(sorted(result.items()))

    def as_dict(self) -> dict[str, Any]:
        load = self.load.as_dict() if self.load else None
        return {
            "importer": self.importer,
            "counts": self.counts(),
            "byType": self.by_type(),
            "created": sorted(self.created),
            "updated": sorted(self.updated),
            "unchanged": sorted(self.unchanged),
            "refused": [{"item": r.item, "reason": r.reason} for r in self.refused],
            "skipped": [{"item": r.item, "reason": r.reason} for r in self.skipped],
            "unresolved": load["unresolved"] if load else [],
            "gate": load["gate"] if load else "off",
            "violations": load["violations"] if load else [],
            "load": load["load"] if load else None,
        }

    def lines(self) -> list[str]:
        return summary_lines(self.as_dict())


def summary_lines(report: dict[str, Any]) -> list[str]:
    """An ingestion report (as `IngestReport.as_dict` gives it, locally or from a server) as
    the CLI prints it: the counts, then the counts of each type."""
    counts = report["counts"]
    found = [
        f"{report['importer']}: {counts['items']} read, {counts['accepted']} accepted; "
        f"{counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['unresolved']} unresolved, "
        f"{counts['refused']} refused, {counts['skipped']} skipped"
    ]
    for kind, numbers in report["byType"].items():
        found.append(
            f"  {kind}: {numbers['created']} created, {numbers['updated']} updated, "
            f"{numbers['unchanged']} unchanged"
        )
    return found
