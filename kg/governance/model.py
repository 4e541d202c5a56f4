"""Validation results as plain data, independent of the engine that found them."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

SH = "http://www.w3.org/ns/shacl#"


class Severity(StrEnum):
    VIOLATION = "violation"
    WARNING = "warning"
    INFO = "info"

    @property
    def iri(self) -> str:
        return SH + self.value.capitalize()

    @property
    def rank(self) -> int:
        return {"violation": 3, "warning": 2, "info": 1}[self.value]

    @classmethod
    def from_iri(cls, iri: str) -> Severity:
        name = iri.removeprefix(SH).lower()
        return cls(name) if name in cls._value2member_map_ else cls.VIOLATION


# Hashed by value, not frozen: a full run at scale makes a million of them, and a frozen
# dataclass's __init__ costs three times as much. Nothing changes a result once made.
@dataclass(unsafe_hash=True, order=True, slots=True)
class Result:
    """One sh:ValidationResult. Terms are in N-Triples syntax (`<iri>`, `"lit"^^<dt>`, `_:b`)."""

    severity: Severity
    shape: str
    focus: str
    path: str | None
    value: str | None
    component: str
    # Two constraints of one shape may find the same value (a dataset both deprecated and
    # retired): their messages tell the results apart, so neither is dropped as a duplicate.
    message: str
    node_shape: str | None = field(default=None, compare=False)

    def order(self) -> tuple[str, str, str, str, str, str, str]:
        """The dataclass order with a missing path or value first, for sorting reports (the
        generated comparison fails on None against a string)."""
        return (
            self.severity.value,
            self.shape,
            self.focus,
            self.path or "",
            self.value or "",
            self.component,
            self.message,
        )

    def key(self) -> tuple[str, str | None, str | None, str, str, str | None]:
        """What two engines must agree on (blank-node shape ids differ between engines)."""
        shape = self.shape if self.shape.startswith("<") else None
        return (self.focus, self.path, self.value, self.component, self.severity.value, shape)


def now() -> str:
    """The current time in UTC, ISO 8601 in the canonical xsd:dateTime form Oxigraph stores
    (`Z`, no trailing zeros), so a kept report reads back with the very time its run gave."""
    at = dt.datetime.now(dt.UTC)
    fraction = f"{at.microsecond:06d}".rstrip("0")
    return at.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


@dataclass
class Report:
    results: list[Result]
    shapes: int = 0
    engine: str = "compiled"
    focus_nodes: int | None = None
    # When the run ended (ISO 8601, UTC): a kept report says when it was made, not when read.
    generated_at: str = field(default_factory=now)

    def counts(self) -> dict[str, int]:
        counted = Counter(r.severity.value for r in self.results)
        return {s.value: counted.get(s.value, 0) for s in Severity}

    def conforms(self, fail_on: Severity = Severity.VIOLATION) -> bool:
        """True when no result is at or above the threshold."""
        return not any(r.severity.rank >= fail_on.rank for r in self.results)

    def by_rule(self) -> dict[str, dict[str, int]]:
        """Counts by rule (a result's shape, as a bare IRI): per severity, and the assets."""
        counted: dict[str, Counter[str]] = {}
        assets: dict[str, set[str]] = {}
        for r in self.results:
            rule = r.shape[1:-1] if r.shape.startswith("<") else r.shape
            counted.setdefault(rule, Counter())[r.severity.value] += 1
            assets.setdefault(rule, set()).add(r.focus)
        return {
            rule: {**{s.value: n.get(s.value, 0) for s in Severity}, "assets": len(assets[rule])}
            for rule, n in counted.items()
        }

    def at_least(self, severity: Severity) -> list[Result]:
        return [r for r in self.results if r.severity.rank >= severity.rank]
