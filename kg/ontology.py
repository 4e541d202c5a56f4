"""The ontology as data the pipeline and lineage need: terms, hierarchies, allowed values, the
XSD datatype each datatype property takes (its `rdfs:range`), and the lexical forms of the
common XSD datatypes, so that an ill-typed literal ("abc"^^xsd:integer) is told apart."""

from __future__ import annotations

import re
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
    RDFS,
    RDFS_SUBCLASS_OF,
    RDFS_SUBPROPERTY_OF,
    SAME_AS,
    XSD,
)

_OWL_CLASS = ox.NamedNode(OWL + "Class")
_OBJECT_PROPERTY = ox.NamedNode(OWL + "ObjectProperty")
_DATATYPE_PROPERTY = ox.NamedNode(OWL + "DatatypeProperty")
_RDF_PROPERTY = ox.NamedNode(RDF + "Property")
_RDFS_RANGE = ox.NamedNode(RDFS + "range")


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
    # The XSD datatypes (rdfs:range) of each datatype property that declares any.
    datatype_ranges: dict[str, frozenset[str]] = field(default_factory=dict)
    # The mlg classes (rdfs:range) an mlg object property's targets must be of: the pipeline
    # refuses an edge to a target typed with none of them (nor a subclass).
    ranges: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_triples(cls, triples: Iterable[ox.Triple]) -> Ontology:
        all_triples = tuple(triples)
        classes: set[str] = set()
        object_props: set[str] = set()
        datatype_props: set[str] = set()
        parents_c: dict[str, set[str]] = {}
        parents_p: dict[str, set[str]] = {}
        typed: list[tuple[str, str]] = []
        ranges: dict[str, set[str]] = {}
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
            elif t.predicate == _RDFS_RANGE:
                ranges.setdefault(s, set()).add(o)
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
            datatype_ranges={
                p: frozenset(x for x in r if x.startswith(XSD))
                for p, r in ranges.items()
                if p in datatype_props and any(x.startswith(XSD) for x in r)
            },
            ranges={
                p: frozenset(c for c in r if c.startswith(MLG) and c in classes)
                for p, r in ranges.items()
                if p.startswith(MLG)
                and p in object_props
                and any(c.startswith(MLG) and c in classes for c in r)
            },
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

    def within(self, cls: str, range_: str) -> bool:
        """Whether `cls` is `range_` or one of its subclasses."""
        return cls == range_ or range_ in self.super_classes.get(cls, ())

    def mlg_classes(self) -> list[str]:
        return sorted(c for c in self.classes if c.startswith(MLG))

    def specific_type(self, types: Iterable[str]) -> str | None:
        """The most specific mlg class among `types` (one that no other given type is below);
        of several unrelated ones, the first by IRI, so that every count agrees."""
        candidates = sorted({t for t in types if t.startswith(MLG) and t in self.classes})
        for t in candidates:
            if not any(
                t in self.super_classes.get(other, ()) for other in candidates if other != t
            ):
                return t
        return None

    def values_of(self, class_local_name: str) -> frozenset[str]:
        return self.individuals.get(MLG + class_local_name, frozenset())

    def resolve(self, kind: str, value: str) -> str:
        """The IRI a user means by a type, status or stage (`kind`): a local name in any case
        (`dataset` is mlg:Dataset), a prefixed name or the IRI. Anything else is refused,
        naming the value, the closest known names and all of them."""
        import difflib

        from kg.errors import InputError
        from kg.vocab import compact

        choices = {
            "type": self.mlg_classes(),
            "status": self.values_of("Status"),
            "stage": self.values_of("Stage"),
        }[kind]
        known = sorted(choices)
        names: dict[str, str] = {}
        for iri in known:
            short = compact(iri)
            for key in (iri, short, short.rpartition(":")[2]):
                names.setdefault(key.lower(), iri)
        if value.lower() in names:
            return names[value.lower()]
        shown = [compact(i).removeprefix("mlg:") for i in known]
        hint = [n for n in shown if n.lower().startswith(value.lower())][:3] or (
            difflib.get_close_matches(value, shown, n=3, cutoff=0.5)
        )
        more = f" (did you mean {' or '.join(hint)}?)" if hint else ""
        raise InputError(f"unknown {kind} {value!r}{more}; known: {', '.join(shown)}")


@cache
def default_ontology() -> Ontology:
    """The ontology shipped with kg (every ontology/*.ttl)."""
    return Ontology.from_files(resources.files("ontology", "*.ttl"))


# -- XSD datatypes: which derives from which, and the lexical forms of the common ones

# Built-in derivations (XSD 1.1 part 2): a literal of the left type is also of the right one.
_DERIVED_FROM: dict[str, str] = {
    XSD + sub: XSD + base
    for sub, base in {
        "integer": "decimal",
        "nonPositiveInteger": "integer",
        "negativeInteger": "nonPositiveInteger",
        "long": "integer",
        "int": "long",
        "short": "int",
        "byte": "short",
        "nonNegativeInteger": "integer",
        "positiveInteger": "nonNegativeInteger",
        "unsignedLong": "nonNegativeInteger",
        "unsignedInt": "unsignedLong",
        "unsignedShort": "unsignedInt",
        "unsignedByte": "unsignedShort",
        "dateTimeStamp": "dateTime",
        "dayTimeDuration": "duration",
        "yearMonthDuration": "duration",
        "normalizedString": "string",
        "token": "normalizedString",
        "language": "token",
    }.items()
}


def derives_from(datatype: str, base: str) -> bool:
    """Whether a literal of `datatype` is also one of `base` (rdfs:Literal takes any)."""
    if base == RDFS + "Literal":
        return True
    current: str | None = datatype
    while current is not None:
        if current == base:
            return True
        current = _DERIVED_FROM.get(current)
    return False


_TZ = r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_YEAR = r"(?P<y>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))"
_DATE = _YEAR + r"-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
_DECIMAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_DAY_TIME = r"(?:[0-9]+D)?(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?"
_LEXICAL: dict[str, re.Pattern[str]] = {
    XSD + name: re.compile(pattern, re.ASCII)
    for name, pattern in {
        "integer": r"[+-]?[0-9]+",
        "decimal": _DECIMAL,
        "double": rf"{_DECIMAL}(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN",
        "float": rf"{_DECIMAL}(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN",
        "boolean": r"true|false|1|0",
        "date": rf"{_DATE}{_TZ}?",
        "dateTime": rf"{_DATE}T{_TIME}{_TZ}?",
        "dateTimeStamp": rf"{_DATE}T{_TIME}{_TZ}",
        "time": rf"{_TIME}{_TZ}?",
        "gYear": rf"{_YEAR}{_TZ}?",
        "gYearMonth": rf"{_YEAR}-(?:0[1-9]|1[0-2]){_TZ}?",
        "duration": r"-?P(?=[0-9T])(?:[0-9]+Y)?(?:[0-9]+M)?" + _DAY_TIME,
        "dayTimeDuration": r"-?P(?=[0-9T])" + _DAY_TIME,
        "yearMonthDuration": r"-?P(?=[0-9])(?:[0-9]+Y)?(?:[0-9]+M)?",
        # An IRI reference (RFC 3987): none of the characters no IRI may hold, even escaped.
        "anyURI": r'[^\x00-\x20<>"{}|\\^`\x7f]*',
    }.items()
}
# The integer types' bounds, inclusive (None: unbounded).
_INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    XSD + name: bounds
    for name, bounds in {
        "integer": (None, None),
        "nonPositiveInteger": (None, 0),
        "negativeInteger": (None, -1),
        "long": (-(2**63), 2**63 - 1),
        "int": (-(2**31), 2**31 - 1),
        "short": (-(2**15), 2**15 - 1),
        "byte": (-(2**7), 2**7 - 1),
        "nonNegativeInteger": (0, None),
        "positiveInteger": (1, None),
        "unsignedLong": (0, 2**64 - 1),
        "unsignedInt": (0, 2**32 - 1),
        "unsignedShort": (0, 2**16 - 1),
        "unsignedByte": (0, 2**8 - 1),
    }.items()
}
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def valid_lexical(datatype: str, text: str) -> bool:
    """Whether `text` is in the lexical space of the XSD `datatype` (exactly: no surrounding
    white space). Datatypes outside the table (xsd:string, rdf:langString, any other) pass."""
    bounds = _INTEGER_RANGES.get(datatype)
    if bounds is not None:
        if _LEXICAL[XSD + "integer"].fullmatch(text) is None:
            return False
        low, high = bounds
        if low is None and high is None:
            return True
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > 20:  # past every finite bound (and int()'s limit on digits)
            return low is None if text.startswith("-") else high is None
        number = int(text)
        return (low is None or number >= low) and (high is None or number <= high)
    pattern = _LEXICAL.get(datatype)
    if pattern is None:
        return True
    found = pattern.fullmatch(text)
    if found is None:
        return False
    day = found.groupdict().get("d")
    if day is not None and int(day) > 28:  # the day must exist in that month of that year
        year, month = int(found.group("y")), int(found.group("m"))
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return int(day) <= (_MONTH_DAYS[month - 1] if month != 2 else 29 if leap else 28)
    return True
