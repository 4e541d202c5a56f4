"""The native asset document: YAML or JSON for people who do not write RDF.

    assets:
      - id: clicks-clean
        type: Dataset
        name: Cleaned click events
        owner: team-data-platform
        status: Active
        tags: [clicks, events]
        derivedFrom: clicks-raw
        sameAs: urn:li:dataset:(urn:li:dataPlatform:postgres,analytics.public.clicks_clean,PROD)

A document is a mapping with `assets:`, a list of assets, or one asset. Relations name their
targets by id; `owner`, `status` and `stage` take ids and value names. Every error names the line.

A document is bounded before it is read (kg.limits): JSON nesting, and YAML nesting and alias
expansion as its node graph is composed. Errors show values shortened, never a whole document.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import reprlib
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox
import yaml

from kg.errors import InputError
from kg.ids import to_iri
from kg.ingest.batch import Batch
from kg.limits import DEFAULT_LIMITS, BoundedLoader, Limits, check_json
from kg.ontology import Ontology, default_ontology
from kg.vocab import (
    DCAT_KEYWORD,
    DCAT_VERSION,
    DCTERMS_CREATED,
    DCTERMS_DESCRIPTION,
    DQV,
    MLG,
    OWNER,
    RDF_TYPE,
    RDFS_LABEL,
    SAME_AS,
    XSD,
    mlg,
)

# Relations a document may not set by key: they have their own fields or belong to kg itself.
_NOT_RELATION_KEYS = {"owner", "metric", "wrote", "derivedGraph"}
# Fields whose value names one of a fixed set (an individual of the class given here).
_VALUE_FIELDS = {
    "status": "Status",
    "stage": "Stage",
    "classification": "Classification",
    "outcome": "ReviewOutcome",
}
_LITERAL_FIELDS = {
    "name": RDFS_LABEL,
    "description": DCTERMS_DESCRIPTION,
    "version": DCAT_VERSION,
    "email": mlg("email"),
}
_KNOWN_FIELDS = {"id", "type", "tags", "owner", "created", "metrics", "sameAs", *_VALUE_FIELDS}
_KNOWN_FIELDS |= {"properties", *_LITERAL_FIELDS}
_RELATION_ALIASES = {"testCells": "forTestCell"}


class _Mapping(dict[str, Any]):
    """A YAML mapping that remembers the line of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _LineLoader(BoundedLoader):
    pass


_SHORT = reprlib.Repr()
_SHORT.maxlevel = 2
_SHORT.maxdict = _SHORT.maxlist = 4
_SHORT.maxstring = _SHORT.maxother = 80


def _shown(value: Any) -> str:
    """A value as an error message shows it: its repr, cut short (a YAML alias can make a small
    document hold a huge value)."""
    return _SHORT.repr(value)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        mapping[str(key)] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[str(key)] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("the document is not valid UTF-8", source=source, line=line) from exc
    if text.lstrip()[:1] in ("{", "["):
        check_json(data, limits, source)
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"JSON syntax error: {exc.msg} (column {exc.colno})", source=source, line=exc.lineno
            ) from exc
    try:
        loader = _LineLoader(text, limits, source)
    except yaml.reader.ReaderError as exc:  # the reader refuses control characters at once
        line = text[: exc.position].count("\n") + 1
        raise InputError(f"YAML syntax error: {exc.reason}", source=source, line=line) from exc
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(
            f"YAML syntax error: {exc.problem}",
            source=source,
            line=mark.line + 1 if mark is not None else None,
        ) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"YAML syntax error: {exc}", source=source) from exc
    finally:
        loader.dispose()


def _assets_of(document: Any, source: str) -> list[Any]:
    if document is None:
        return []
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if "assets" in document:
            extra = sorted(set(document) - {"assets"})
            if extra:
                line = getattr(document, "key_lines", {}).get(extra[0])
                raise InputError(
                    f"unknown top-level key {_shown(extra[0])}: a document holds 'assets:' only",
                    source=source,
                    line=line,
                )
            assets = document["assets"]
            if not isinstance(assets, list):
                raise InputError("'assets' must be a list of assets", source=source)
            return assets
        return [document]
    raise InputError("a document is a mapping with 'assets:', a list of assets, or one asset")


def parse(
    data: bytes,
    *,
    source: str,
    base_iri: str,
    ontology: Ontology | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Batch:
    onto = ontology or default_ontology()
    builder = _Builder(onto, base_iri, source)
    builder.batch.limits = limits
    for item in _assets_of(_load(data, source, limits), source):
        if not isinstance(item, _Mapping):
            raise InputError(f"an asset must be a mapping, not {_shown(item)}", source=source)
        builder.add_asset(item)
    return builder.batch


class _Builder:
    def __init__(self, ontology: Ontology, base_iri: str, source: str) -> None:
        self.ontology = ontology
        self.base_iri = base_iri
        self.source = source
        self.batch = Batch(source=source)
        self.seen: dict[ox.NamedNode, int] = {}
        self.types = {c.removeprefix(MLG).lower(): c for c in ontology.mlg_classes()}
        self.relations = {
            p.removeprefix(MLG): p
            for p in ontology.object_properties
            if p.startswith(MLG)
            and p.removeprefix(MLG) not in _NOT_RELATION_KEYS
            and p.removeprefix(MLG) not in _VALUE_FIELDS
        }
        # Plural names where a list reads better (a run's `testCells: [cell-a, cell-b]`).
        self.relations |= {k: MLG + v for k, v in _RELATION_ALIASES.items()}

    def error(self, message: str, line: int | None) -> InputError:
        return InputError(message, source=self.source, line=line)

    def emit(self, s: ox.NamedNode | ox.BlankNode, p: ox.NamedNode, o: Any, line: int) -> None:
        triple = ox.Triple(s, p, o)
        self.batch.triples.append(triple)
        self.batch.lines.setdefault(triple, line)

    def iri(self, value: Any, what: str, line: int) -> ox.NamedNode:
        if not isinstance(value, str):
            raise self.error(f"{what} must be an asset id, not the literal {_shown(value)}", line)
        try:
            return to_iri(value, self.base_iri)
        except InputError as exc:
            raise self.error(exc.detail, line) from exc

    def add_asset(self, item: _Mapping) -> None:
        line = item.line
        lines = item.key_lines
        for key in item:
            if key not in _KNOWN_FIELDS and key not in self.relations:
                hint = difflib.get_close_matches(key, [*_KNOWN_FIELDS, *self.relations], n=1)
                more = f"; did you mean {hint[0]!r}?" if hint else ""
                raise self.error(f"unknown field {_shown(key)}{more}", lines[key])
        if "id" not in item:
            raise self.error("an asset needs an 'id'", line)
        subject = self.iri(item["id"], "'id'", lines["id"])
        if subject in self.seen:
            raise self.error(
                f"asset {_shown(item['id'])} is described twice "
                f"(first at line {self.seen[subject]})",
                line,
            )
        self.seen[subject] = line
        self.add_type(subject, item.get("type"), lines.get("type", line))
        for key, value in item.items():
            at = lines[key]
            if key in _LITERAL_FIELDS:
                for text in self.strings(key, value, at):
                    self.emit(subject, _LITERAL_FIELDS[key], ox.Literal(text), at)
            elif key == "tags":
                for tag in self.strings(key, value, at):
                    self.emit(subject, DCAT_KEYWORD, ox.Literal(tag), at)
            elif key == "owner":
                for target in self.many(value):
                    self.emit(subject, OWNER, self.iri(target, "'owner'", at), at)
            elif key == "sameAs":  # the same asset under another name (a URN, a source's IRI)
                for target in self.many(value):
                    self.emit(subject, SAME_AS, self.iri(target, "'sameAs'", at), at)
            elif key in _VALUE_FIELDS:
                self.add_value(subject, key, value, at)
            elif key == "created":
                self.emit(subject, DCTERMS_CREATED, self.timestamp(value, at), at)
            elif key == "metrics":
                self.add_metrics(subject, value, at)
            elif key == "properties":
                self.add_properties(subject, value, at)
            elif key in self.relations:
                predicate = ox.NamedNode(self.relations[key])
                for target in self.many(value):
                    self.emit(subject, predicate, self.iri(target, f"{key!r}", at), at)

    def add_type(self, subject: ox.NamedNode, value: Any, line: int) -> None:
        if value is None:
            raise self.error("an asset needs a 'type'", line)
        name = str(value).removeprefix("mlg:")
        iri = self.types.get(name.lower())
        if iri is None:
            known = ", ".join(sorted(c.removeprefix(MLG) for c in self.types.values()))
            raise self.error(f"unknown asset type {_shown(value)}; known types: {known}", line)
        self.emit(subject, RDF_TYPE, ox.NamedNode(iri), line)

    def add_value(self, subject: ox.NamedNode, key: str, value: Any, line: int) -> None:
        allowed = self.ontology.values_of(_VALUE_FIELDS[key])
        by_name = {v.removeprefix(MLG).lower(): v for v in allowed}
        chosen = by_name.get(str(value).removeprefix("mlg:").lower())
        if chosen is None:
            names = ", ".join(sorted(v.removeprefix(MLG) for v in allowed))
            raise self.error(f"{key} {_shown(value)} is not one of {names}", line)
        self.emit(subject, mlg(key), ox.NamedNode(chosen), line)

    def add_metrics(self, subject: ox.NamedNode, value: Any, line: int) -> None:
        if not isinstance(value, dict):
            raise self.error("'metrics' must map metric names to numbers", line)
        for name, number in value.items():
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise self.error(
                    f"metric {_shown(name)} must be a number, not {_shown(number)}", line
                )
            metric = self.iri(f"metric/{name}", "a metric name", line)
            measurement = ox.BlankNode()
            self.emit(subject, mlg("metric"), measurement, line)
            self.emit(measurement, RDF_TYPE, ox.NamedNode(DQV + "QualityMeasurement"), line)
            self.emit(measurement, ox.NamedNode(DQV + "isMeasurementOf"), metric, line)
            self.emit(measurement, ox.NamedNode(DQV + "value"), _number(number), line)

    def add_properties(self, subject: ox.NamedNode, value: Any, line: int) -> None:
        """Extra statements: `properties: {"dcterms:source": "s3://...", "ex:uses": {"id": x}}`."""
        if not isinstance(value, dict):
            raise self.error("'properties' must map property names to values", line)
        for name, raw in value.items():
            predicate = self.iri(name, "a property name", line)
            if predicate.value.startswith(MLG) and not self.ontology.is_term(predicate.value):
                raise self.error(f"unknown property {_shown(name)} in the mlg vocabulary", line)
            for item in self.many(raw):
                if isinstance(item, dict) and set(item) == {"id"}:
                    self.emit(subject, predicate, self.iri(item["id"], name, line), line)
                elif isinstance(item, dict | list):
                    raise self.error(
                        f"property {_shown(name)} takes text, numbers or {{id: ...}}", line
                    )
                else:
                    self.emit(subject, predicate, _literal(item), line)

    def strings(self, key: str, value: Any, line: int) -> list[str]:
        values = self.many(value)
        for v in values:
            if isinstance(v, dict | list) or v is None:
                raise self.error(f"{_shown(key)} must be text, not {_shown(v)}", line)
        return [str(v) for v in values]

    def timestamp(self, value: Any, line: int) -> ox.Literal:
        if isinstance(value, dt.datetime):
            return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))
        if isinstance(value, dt.date):
            return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date"))
        for parse, datatype in _TIME_PARSERS:
            try:
                return ox.Literal(parse(str(value)).isoformat(), datatype=ox.NamedNode(datatype))
            except ValueError:
                continue
        raise self.error(f"'created' must be a date or date-time, not {_shown(value)}", line)

    @staticmethod
    def many(value: Any) -> list[Any]:
        return list(value) if isinstance(value, list) else [value]


_TIME_PARSERS: list[tuple[Callable[[str], dt.date], str]] = [
    (dt.date.fromisoformat, XSD + "date"),
    (dt.datetime.fromisoformat, XSD + "dateTime"),
]


def _number(value: int | float) -> ox.Literal:
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
    return ox.Literal(repr(value), datatype=ox.NamedNode(XSD + "double"))


def _literal(value: Any) -> ox.Literal:
    if isinstance(value, bool):
        return ox.Literal(str(value).lower(), datatype=ox.NamedNode(XSD + "boolean"))
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, dt.datetime | dt.date):
        kind = "dateTime" if isinstance(value, dt.datetime) else "date"
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + kind))
    return ox.Literal(str(value))
