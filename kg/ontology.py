"""The ontology as data the pipeline and lineage need: terms, hierarchies, allowed values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import pyoxigraph as ox

from kg import resources
from kg.vocab import (
    DEPENDS_ON,
    MLG,
    OWL,
    RDF,
    RDF_TYPE,
    RDFS_SUBCLASS_OF,
    RDFS_SUBPROPERTY_OF,
    SAME_AS,
)

_OWL_CLASS = ox.NamedNode(OWL + "Class")
_OBJECT_PROPERTY = ox.NamedNode(OWL + "ObjectProperty")
_DATATYPE_PROPERTY = ox.NamedNode(OWL + "DatatypeProperty")
_RDF_PROPERTY = ox.NamedNode(RDF + "Property")


def _closure(direct: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """Transitive closure of a parent map (cycles tolerated)."""
    result: dict[str, frozenset[str]] = {}
    for start in direct:
        seen: set[str] = set()
        stack = list(direct[start])
        while stack:
            node = stack.pop()
            if node in seen or node == start:
                continue
            seen.add(node)
            stack.extend(direct.get(node, ()))
        result[start] = frozenset(seen)
    return result


@dataclass(frozen=True)
class Ontology:
    triples: tuple[ox.Triple, ...]
    classes: frozenset[str]
    object_properties: frozenset[str]
    datatype_properties: frozenset[str]
    super_classes: dict[str, frozenset[str]]
    super_properties: dict[str, frozenset[str]]
    individuals: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_triples(cls, triples: Iterable[ox.Triple]) -> Ontology:
        all_triples = tuple(triples)
        classes: set[str] = set()
        object_props: set[str] = set()
        datatype_props: set[str] = set()
        parents_c: dict[str, set[str]] = {}
        parents_p: dict[str, set[str]] = {}
        typed: list[tuple[str, str]] = []
        for t in all_triples:
            if not isinstance(t.subject, ox.NamedNode) or not isinstance(t.object, ox.NamedNode):
                continue
            s, o = t.subject.value, t.object.value
            if t.predicate == RDF_TYPE:
                if t.object == _OWL_CLASS:
                    classes.add(s)
                elif t.object == _OBJECT_PROPERTY:
                    object_props.add(s)
                elif t.object in (_DATATYPE_PROPERTY, _RDF_PROPERTY):
                    datatype_props.add(s)
                else:
                    typed.append((s, o))
            elif t.predicate == RDFS_SUBCLASS_OF:
                parents_c.setdefault(s, set()).add(o)
            elif t.predicate == RDFS_SUBPROPERTY_OF:
                parents_p.setdefault(s, set()).add(o)
        individuals: dict[str, set[str]] = {}
        for s, o in typed:
            if o in classes:
                individuals.setdefault(o, set()).add(s)
        return cls(
            triples=all_triples,
            classes=frozenset(classes),
            object_properties=frozenset(object_props),
            datatype_properties=frozenset(datatype_props),
            super_classes=_closure(parents_c),
            super_properties=_closure(parents_p),
            individuals={k: frozenset(v) for k, v in individuals.items()},
        )

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> Ontology:
        triples: list[ox.Triple] = []
        for path in paths:
            triples.extend(q.triple for q in ox.parse(path=path))
        return cls.from_triples(triples)

    # -- what the pipeline and lineage ask

    def is_term(self, iri: str) -> bool:
        return (
            iri in self.classes
            or iri in self.object_properties
            or iri in self.datatype_properties
            or any(iri in members for members in self.individuals.values())
            or iri == MLG.rstrip("#")
        )

    @property
    def lineage_properties(self) -> frozenset[str]:
        """mlg:dependsOn and every property below it, and owl:sameAs (followed both ways): the
        edges lineage walks."""
        root = DEPENDS_ON.value
        subs = {p for p, supers in self.super_properties.items() if root in supers}
        return frozenset({root, *subs, SAME_AS.value})

    @cached_property
    def materialized(
        self,
    ) -> tuple[dict[object, tuple[ox.NamedNode, ...]], dict[object, tuple[ox.NamedNode, ...]]]:
        """The mlg super-classes of each class and mlg super-properties of each property: what
        the pipeline derives on every write."""
        classes = {
            ox.NamedNode(c): tuple(ox.NamedNode(s) for s in sorted(supers) if s.startswith(MLG))
            for c, supers in self.super_classes.items()
        }
        properties = {
            ox.NamedNode(p): tuple(ox.NamedNode(s) for s in sorted(supers) if s.startswith(MLG))
            for p, supers in self.super_properties.items()
        }
        return (
            {k: v for k, v in classes.items() if v},
            {k: v for k, v in properties.items() if v},
        )

    def mlg_classes(self) -> list[str]:
        return sorted(c for c in self.classes if c.startswith(MLG))

    def specific_type(self, types: Iterable[str]) -> str | None:
        """The most specific mlg class among `types` (one that no other given type is below)."""
        candidates = [t for t in types if t.startswith(MLG) and t in self.classes]
        for t in candidates:
            if not any(
                t in self.super_classes.get(other, ()) for other in candidates if other != t
            ):
                return t
        return None

    def values_of(self, class_local_name: str) -> frozenset[str]:
        return self.individuals.get(MLG + class_local_name, frozenset())


@cache
def default_ontology() -> Ontology:
    """The ontology shipped with kg (every ontology/*.ttl)."""
    return Ontology.from_files(resources.files("ontology", "*.ttl"))
