"""Croissant dataset cards and Hugging Face model cards -> kg's statements (pure).

A Croissant card is an mlg:Dataset (and dcat:Dataset) with its DCAT description, its files as
dcat:Distributions and the fields of its record sets as mlg:Fields. A dataset whose `url` is its
Hugging Face page takes the IRI every source gives that Hugging Face dataset
(`<base>dataset/huggingface/<org>/<name>`, as an MLflow run that logged it names it); any other
is `<base>dataset/croissant/<name>`.

A model card is an mlg:Model `<base>model/huggingface/<name>` and, since what a card says of
training and evaluation is said of one trained artefact, the mlg:ModelVersion
`<model>/card` of it: trained on the datasets the card lists, each `model-index` result an
mlg:Evaluation `<version>/evaluation/<n>` of it with its metrics written as native documents
write them.

A card names datasets and models it does not own (what a model was trained, fine-tuned or
evaluated on, what a dataset was derived from): it says no more of them than the edge to their
IRI, since another card of the folder may own their description and a subject has one graph per
source. People and teams no card owns: every card naming them says their type and name.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pyoxigraph as ox

from kg import identity
from kg.errors import InputError
from kg.ids import to_iri
from kg.sources.base import EntityRef, Mapped
from kg.vocab import (
    DCAT,
    DCAT_KEYWORD,
    DCAT_VERSION,
    DCTERMS,
    DCTERMS_CREATED,
    DCTERMS_DESCRIPTION,
    DQV,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    XSD,
    mlg,
)

SOURCE = "cards"
SCHEMA = "https://schema.org/"
CROISSANT = "http://mlcommons.org/croissant/"
SPDX = "http://spdx.org/rdf/terms#"
FAIR4ML = "https://w3id.org/fair4ml#"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"

SOURCE_ENTITY = mlg("sourceEntity")
PLATFORM = mlg("platform")
DCAT_DATASET = ox.NamedNode(DCAT + "Dataset")
DISTRIBUTION = ox.NamedNode(DCAT + "distribution")
DISTRIBUTION_CLASS = ox.NamedNode(DCAT + "Distribution")
DOWNLOAD_URL = ox.NamedNode(DCAT + "downloadURL")
ACCESS_URL = ox.NamedNode(DCAT + "accessURL")
MEDIA_TYPE = ox.NamedNode(DCAT + "mediaType")
BYTE_SIZE = ox.NamedNode(DCAT + "byteSize")
LANDING_PAGE = ox.NamedNode(DCAT + "landingPage")
LICENSE = ox.NamedNode(DCTERMS + "license")
CREATOR = ox.NamedNode(DCTERMS + "creator")
PUBLISHER = ox.NamedNode(DCTERMS + "publisher")
ISSUED = ox.NamedNode(DCTERMS + "issued")
MODIFIED = ox.NamedNode(DCTERMS + "modified")
CITATION = ox.NamedNode(DCTERMS + "bibliographicCitation")
CONFORMS_TO = ox.NamedNode(DCTERMS + "conformsTo")
ALTERNATIVE = ox.NamedNode(DCTERMS + "alternative")
LANGUAGE = ox.NamedNode(DCTERMS + "language")
FORMAT = ox.NamedNode(DCTERMS + "format")
PART_OF = ox.NamedNode(DCTERMS + "isPartOf")
RESULT_SOURCE = ox.NamedNode(DCTERMS + "source")
SCHEMA_SAME_AS = ox.NamedNode(SCHEMA + "sameAs")
CONTENT_URL = ox.NamedNode(SCHEMA + "contentUrl")
RUNTIME_PLATFORM = ox.NamedNode(SCHEMA + "runtimePlatform")
ADDITIONAL_PROPERTY = ox.NamedNode(SCHEMA + "additionalProperty")
PROPERTY_VALUE = ox.NamedNode(SCHEMA + "PropertyValue")
SCHEMA_NAME = ox.NamedNode(SCHEMA + "name")
SCHEMA_VALUE = ox.NamedNode(SCHEMA + "value")
INCLUDES = ox.NamedNode(CROISSANT + "includes")
EXCLUDES = ox.NamedNode(CROISSANT + "excludes")
CHECKSUM = ox.NamedNode(SPDX + "checksum")
CHECKSUM_CLASS = ox.NamedNode(SPDX + "Checksum")
ALGORITHM = ox.NamedNode(SPDX + "algorithm")
CHECKSUM_VALUE = ox.NamedNode(SPDX + "checksumValue")
ML_TASK = ox.NamedNode(FAIR4ML + "mlTask")
FINE_TUNED_FROM = ox.NamedNode(FAIR4ML + "fineTunedFrom")
GENERATED_BY = ox.NamedNode(PROV + "wasGeneratedBy")
ACTIVITY = ox.NamedNode(PROV + "Activity")
PROV_USED = ox.NamedNode(PROV + "used")
MEASUREMENT = ox.NamedNode(DQV + "QualityMeasurement")
MEASUREMENT_OF = ox.NamedNode(DQV + "isMeasurementOf")
DQV_VALUE = ox.NamedNode(DQV + "value")

_SAFE = "/-._~:@!$&'()*+,;=%"  # identity's: a Hugging Face name keeps its "org/"
_SCHEMA_NAMESPACES = ("https://schema.org/", "http://schema.org/")
_DEFAULT_PREFIXES = {"sc": SCHEMA, "schema": SCHEMA, "cr": CROISSANT}
_HUGGINGFACE_HOSTS = identity.HUGGINGFACE_HOSTS
_NOT_AGENTS = {"datasets", "models", "spaces", "docs", "collections", "papers"}
_CHECKSUMS = {"sha256": 64, "md5": 32}
_HEX = re.compile(r"[0-9a-fA-F]+")
_SIZE = re.compile(r"^\s*(\d+)\s*(?:B|bytes?)?\s*$")
_MEDIA_TYPE = re.compile(r"^[a-z]+/[A-Za-z0-9.+_-]+$")
_TITLE_PREFIX = re.compile(r"^model card for\s+", re.IGNORECASE)
_DATE_TIME = ox.NamedNode(XSD + "dateTime")
_DATE = ox.NamedNode(XSD + "date")

Subject = ox.NamedNode | ox.BlankNode


# ------------------------------------------------------------------------- identity


def dataset_at(base_iri: str, url: str) -> ox.NamedNode | None:
    """The dataset a web address names: a Hugging Face dataset by its name, any other web
    address by its host and path on the platform of its scheme (as MLflow's mapping places a
    dataset logged from a URL), None for what is no web address."""
    name = identity.huggingface_dataset(url)
    if name is not None:
        return identity.dataset(base_iri, "huggingface", name)
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return identity.dataset(base_iri, parts.scheme, (parts.netloc + parts.path).strip("/"))


def model_iri(base_iri: str, name: str) -> ox.NamedNode:
    return ox.NamedNode(f"{base_iri}model/huggingface/{quote(name, safe=_SAFE)}")


def card_version_iri(base_iri: str, name: str) -> ox.NamedNode:
    return ox.NamedNode(model_iri(base_iri, name).value + "/card")


def is_croissant(card: dict[str, Any]) -> bool:
    """Whether a JSON-LD document is a Croissant dataset: a schema.org Dataset whose context
    (or conformsTo) is Croissant's."""
    context = card.get("@context")
    conforms = card.get("conformsTo") or card.get("dct:conformsTo") or ""
    mentions = str(context) + " " + str(conforms)
    if CROISSANT.removeprefix("http://").rstrip("/") not in mentions:
        return False
    prefixes = _prefixes(context)
    return any(
        _expand(t, prefixes) in {n + "Dataset" for n in _SCHEMA_NAMESPACES}
        for t in _listed(card.get("@type"))
        if isinstance(t, str)
    )


def _prefixes(context: Any) -> dict[str, str]:
    found = dict(_DEFAULT_PREFIXES)
    for part in _listed(context):
        if isinstance(part, dict):
            found.update({k: v for k, v in part.items() if isinstance(v, str)})
    return found


def _expand(term: str, prefixes: dict[str, str]) -> str:
    prefix, sep, local = term.partition(":")
    if sep and not local.startswith("//"):
        return prefixes[prefix] + local if prefix in prefixes else term
    if sep:
        return term
    return prefixes.get("@vocab", SCHEMA) + term


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ------------------------------------------------------------------------- statements


class _Card:
    """The statements of one card, with the checks every field read goes through."""

    def __init__(self, ref: EntityRef, base_iri: str) -> None:
        self.ref = ref
        self.base = base_iri
        self.mapped = Mapped(owned=[])
        self.seen: set[ox.Triple] = set()
        self.prefixes = dict(_DEFAULT_PREFIXES)

    # -- reading fields
    def error(self, field: str, problem: str) -> InputError:
        return InputError(f"field {field!r} {problem}", source=self.ref.id)

    def obj(self, value: Any, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(field, f"must be an object, not {type(value).__name__}")
        return value

    def items(self, data: dict[str, Any], key: str, field: str) -> list[tuple[str, Any]]:
        """The values of a field that holds one value or a list, with their field names."""
        value = data.get(key)
        if isinstance(value, list):
            return [(f"{field}[{n}]", item) for n, item in enumerate(value)]
        return [] if value is None else [(field, value)]

    def objects(self, data: dict[str, Any], key: str, field: str) -> list[tuple[str, Any]]:
        return [(where, self.obj(item, where)) for where, item in self.items(data, key, field)]

    def text(self, data: dict[str, Any], key: str, field: str, required: bool = False) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                raise self.error(field, "is missing")
            return ""
        return self.scalar(value, field)

    def scalar(self, value: Any, field: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(field, f"must be text, not {type(value).__name__}")
        return str(value).strip()

    def texts(self, data: dict[str, Any], key: str, field: str) -> list[str]:
        found = [self.scalar(v, where) for where, v in self.items(data, key, field)]
        return [text for text in found if text]

    def iri(self, value: str, field: str) -> ox.NamedNode:
        try:
            return ox.NamedNode(value)
        except ValueError as exc:
            raise self.error(field, f"is not a usable IRI ({value[:80]!r})") from exc

    # -- writing statements
    def add(self, s: Subject, p: ox.NamedNode, o: Subject | ox.Literal) -> None:
        triple = ox.Triple(s, p, o)
        if triple not in self.seen:
            self.seen.add(triple)
            self.mapped.triples.append(triple)

    def literal(self, s: Subject, p: ox.NamedNode, value: str) -> None:
        if value:
            self.add(s, p, ox.Literal(value))

    def own(self, subject: ox.NamedNode, *classes: ox.NamedNode) -> None:
        self.mapped.owned.append(subject)
        for kind in classes:
            self.add(subject, RDF_TYPE, kind)
        self.add(subject, SOURCE_ENTITY, ox.Literal(self.ref.key))

    def license(self, s: ox.NamedNode, value: str, field: str) -> None:
        """A licence: its document when given as an address, else its name (`mit`)."""
        if "://" in value:
            self.add(s, LICENSE, self.iri(value, field))
        else:
            self.literal(s, LICENSE, value)

    def date(self, s: ox.NamedNode, p: ox.NamedNode, data: dict[str, Any], key: str) -> None:
        value = self.text(data, key, key)
        if not value:
            return
        try:
            if "T" in value:
                moment = dt.datetime.fromisoformat(value)
                self.add(s, p, ox.Literal(moment.isoformat(), datatype=_DATE_TIME))
            else:
                self.add(s, p, ox.Literal(dt.date.fromisoformat(value).isoformat(), datatype=_DATE))
        except ValueError as exc:
            raise self.error(key, f"must be an ISO 8601 date or date-time, not {value!r}") from exc

    def agent(self, value: Any, field: str) -> ox.NamedNode:
        """A creator or publisher: a person, or a team for an organisation, named by their
        Hugging Face account when their address is one, else by their name."""
        found = {"name": value} if isinstance(value, str) else self.obj(value, field)
        name = self.text(found, "name", f"{field}.name", required=True)
        handle = _huggingface_account(self.text(found, "url", f"{field}.url"))
        types = {
            _expand(t, self.prefixes) for t in _listed(found.get("@type")) if isinstance(t, str)
        }
        organisation = any(n + "Organization" in types for n in _SCHEMA_NAMESPACES)
        mint = identity.team if organisation else identity.person
        agent = mint(self.base, handle or name)
        # No card owns a person: what every card naming them says the same is said here.
        self.add(agent, RDF_TYPE, mlg("Team" if organisation else "Person"))
        self.add(agent, RDFS_LABEL, ox.Literal(name))
        return agent

    def pair(self, s: Subject, key: str, value: str) -> None:
        """A property without a term of its own, as MLflow's tags are kept."""
        node = ox.BlankNode()
        self.add(s, ADDITIONAL_PROPERTY, node)
        self.add(node, RDF_TYPE, PROPERTY_VALUE)
        self.add(node, SCHEMA_NAME, ox.Literal(key))
        self.add(node, SCHEMA_VALUE, ox.Literal(value))


def _huggingface_account(url: str) -> str:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    is_hub = parts.netloc.lower() in _HUGGINGFACE_HOSTS
    if is_hub and len(segments) == 1 and segments[0] not in _NOT_AGENTS:
        return unquote(segments[0])
    return ""


# ------------------------------------------------------------------------- Croissant


def _dataset_card(out: _Card, state: dict[str, Any]) -> None:
    card = out.obj(state.get("card"), "card")
    out.prefixes = _prefixes(card.get("@context"))
    url = out.text(card, "url", "url")
    hf_name = identity.huggingface_dataset(url) if url else None
    name = out.text(card, "name", "name", required=hf_name is None)
    platform, key = ("huggingface", hf_name) if hf_name else ("croissant", name)
    iri = identity.dataset(out.base, platform, key)
    out.own(iri, mlg("Dataset"), DCAT_DATASET)
    out.add(iri, RDFS_LABEL, ox.Literal(name or key))
    out.add(iri, PLATFORM, ox.Literal(platform))
    out.literal(iri, DCTERMS_DESCRIPTION, out.text(card, "description", "description"))
    for alternative in out.texts(card, "alternateName", "alternateName"):
        out.add(iri, ALTERNATIVE, ox.Literal(alternative))
    for where, value in out.items(card, "license", "license"):
        out.license(iri, out.scalar(value, where), where)
    for keyword in _keywords(out.texts(card, "keywords", "keywords")):
        out.add(iri, DCAT_KEYWORD, ox.Literal(keyword))
    for key_name, predicate in (("creator", CREATOR), ("publisher", PUBLISHER)):
        for where, value in out.items(card, key_name, key_name):
            out.add(iri, predicate, out.agent(value, where))
    out.literal(iri, DCAT_VERSION, out.text(card, "version", "version"))
    out.date(iri, DCTERMS_CREATED, card, "dateCreated")
    out.date(iri, ISSUED, card, "datePublished")
    out.date(iri, MODIFIED, card, "dateModified")
    if url:
        out.add(iri, LANDING_PAGE, out.iri(url, "url"))
    for where, value in out.items(card, "sameAs", "sameAs"):
        out.add(iri, SCHEMA_SAME_AS, out.iri(out.scalar(value, where), where))
    for where, value in out.items(card, "conformsTo", "conformsTo"):
        out.add(iri, CONFORMS_TO, out.iri(out.scalar(value, where), where))
    for key_name in ("citeAs", "citation"):
        for citation in out.texts(card, key_name, key_name):
            out.add(iri, CITATION, ox.Literal(citation))
    for language in out.texts(card, "inLanguage", "inLanguage"):
        out.add(iri, LANGUAGE, ox.Literal(language))
    for upstream in _located(out, card, "prov:wasDerivedFrom"):
        out.add(iri, mlg("derivedFrom"), upstream)
    for where, activity in out.objects(card, "prov:wasGeneratedBy", "prov:wasGeneratedBy"):
        _activity(out, iri, activity, where)
    _distributions(out, iri, card)
    for where, record_set in out.objects(card, "recordSet", "recordSet"):
        for field_where, found in out.objects(record_set, "field", f"{where}.field"):
            _field(out, iri, found, field_where, "")


def _keywords(values: list[str]) -> Iterator[str]:
    # schema.org allows keywords as one comma-separated text.
    if len(values) == 1 and "," in values[0]:
        values = values[0].split(",")
    return (v.strip() for v in values if v.strip())


def _located(out: _Card, data: dict[str, Any], key: str) -> Iterator[ox.NamedNode]:
    """The datasets PROV entities name by their location (`prov:locatedAt`, `url`, or an
    address given for the entity itself)."""
    for where, value in out.items(data, key, key):
        if isinstance(value, str):
            location = value
        else:
            found = out.obj(value, where)
            location = out.text(found, "prov:locatedAt", f"{where}.prov:locatedAt") or out.text(
                found, "url", f"{where}.url"
            )
        upstream = dataset_at(out.base, location) if location else None
        if upstream is not None:
            yield upstream


def _activity(out: _Card, dataset: ox.NamedNode, found: dict[str, Any], where: str) -> None:
    node = ox.BlankNode()
    out.add(dataset, GENERATED_BY, node)
    out.add(node, RDF_TYPE, ACTIVITY)
    label = out.text(found, "name", f"{where}.name") or out.text(found, "@id", f"{where}.@id")
    out.literal(node, RDFS_LABEL, label)
    out.literal(node, DCTERMS_DESCRIPTION, out.text(found, "description", f"{where}.description"))
    for key in ("usage", "prov:used"):
        for upstream in _located(out, found, key):
            out.add(node, PROV_USED, upstream)


def _distributions(out: _Card, dataset: ox.NamedNode, card: dict[str, Any]) -> None:
    """Each FileObject and FileSet as a blank dcat:Distribution, `containedIn` as
    dcterms:isPartOf between them."""
    listed = out.objects(card, "distribution", "distribution")
    keys = [str(found.get("@id") or found.get("name") or where) for where, found in listed]
    nodes = {key: ox.BlankNode() for key in keys}
    for key, (where, found) in zip(keys, listed, strict=True):
        node = nodes[key]
        out.add(dataset, DISTRIBUTION, node)
        out.add(node, RDF_TYPE, DISTRIBUTION_CLASS)
        for kind in _listed(found.get("@type")):
            expanded = _expand(out.scalar(kind, f"{where}.@type"), out.prefixes)
            if expanded.startswith(CROISSANT):
                out.add(node, RDF_TYPE, out.iri(expanded, f"{where}.@type"))
        name = out.text(found, "name", f"{where}.name") or out.text(found, "@id", f"{where}.@id")
        out.literal(node, RDFS_LABEL, name)
        out.literal(
            node, DCTERMS_DESCRIPTION, out.text(found, "description", f"{where}.description")
        )
        _content(out, node, found, where)
        for key, predicate in (("includes", INCLUDES), ("excludes", EXCLUDES)):
            for pattern in out.texts(found, key, f"{where}.{key}"):
                out.add(node, predicate, ox.Literal(pattern))
        for part_where, container in out.items(found, "containedIn", f"{where}.containedIn"):
            target = container.get("@id") if isinstance(container, dict) else container
            if not isinstance(target, str) or target not in nodes:
                raise out.error(part_where, f"names no distribution of the card ({target!r})")
            out.add(node, PART_OF, nodes[target])


def _content(out: _Card, node: ox.BlankNode, found: dict[str, Any], where: str) -> None:
    """Where a file is, its format, size and checksums."""
    url = out.text(found, "contentUrl", f"{where}.contentUrl")
    media = out.text(found, "encodingFormat", f"{where}.encodingFormat")
    if "://" in url:
        # A git repository is where the files are reached, not one file to download.
        predicate = ACCESS_URL if media.startswith("git+") else DOWNLOAD_URL
        out.add(node, predicate, out.iri(url, f"{where}.contentUrl"))
    else:
        out.literal(node, CONTENT_URL, url)  # relative to the card: no IRI of its own
    if _MEDIA_TYPE.match(media):
        out.add(node, MEDIA_TYPE, out.iri(IANA_MEDIA_TYPES + media, f"{where}.encodingFormat"))
    else:
        out.literal(node, FORMAT, media)
    size = _SIZE.match(out.text(found, "contentSize", f"{where}.contentSize"))
    if size:
        out.add(
            node,
            BYTE_SIZE,
            ox.Literal(size.group(1), datatype=ox.NamedNode(XSD + "nonNegativeInteger")),
        )
    for algorithm, length in _CHECKSUMS.items():
        value = out.text(found, algorithm, f"{where}.{algorithm}")
        # Hugging Face's generated cards put a placeholder address here: no checksum at all.
        if len(value) == length and _HEX.fullmatch(value):
            checksum = ox.BlankNode()
            out.add(node, CHECKSUM, checksum)
            out.add(checksum, RDF_TYPE, CHECKSUM_CLASS)
            out.add(checksum, ALGORITHM, ox.NamedNode(f"{SPDX}checksumAlgorithm_{algorithm}"))
            out.add(
                checksum,
                CHECKSUM_VALUE,
                ox.Literal(value.lower(), datatype=ox.NamedNode(XSD + "hexBinary")),
            )


def _field(
    out: _Card, dataset: ox.NamedNode, found: dict[str, Any], where: str, parent: str
) -> None:
    """A record set's field as an mlg:Field of the dataset, named by its path (its `@id`,
    `recordset/field`, else its name under its parent's), its sub-fields too."""
    given = out.text(found, "@id", f"{where}.@id")
    name = out.text(found, "name", f"{where}.name")
    if given and "://" not in given:
        path = given
    elif name:
        path = f"{parent}/{name}" if parent and "/" not in name else name
    else:
        raise out.error(f"{where}.name", "is missing (and the field has no @id)")
    iri = identity.field(dataset, path)
    out.own(iri, mlg("Field"))
    out.add(dataset, mlg("field"), iri)
    out.add(iri, RDFS_LABEL, ox.Literal(path))
    for data_type in out.texts(found, "dataType", f"{where}.dataType"):
        out.add(iri, mlg("dataType"), ox.Literal(data_type))
    out.literal(iri, DCTERMS_DESCRIPTION, out.text(found, "description", f"{where}.description"))
    for sub_where, sub in out.objects(found, "subField", f"{where}.subField"):
        _field(out, dataset, sub, sub_where, path)


# ------------------------------------------------------------------------- Hugging Face


def _model_card(out: _Card, state: dict[str, Any]) -> None:
    front = out.obj(state.get("card"), "front matter")
    title = out.text(state, "title", "title")
    index = out.objects(front, "model-index", "model-index")
    name = (
        (out.text(index[0][1], "name", f"{index[0][0]}.name") if index else "")
        or _TITLE_PREFIX.sub("", title)
        or PurePosixPath(out.ref.id).stem
    )
    model = model_iri(out.base, name)
    version = card_version_iri(out.base, name)
    out.own(model, mlg("Model"))
    out.add(model, RDFS_LABEL, ox.Literal(name))
    out.add(model, PLATFORM, ox.Literal("huggingface"))
    out.literal(model, DCTERMS_DESCRIPTION, out.text(state, "description", "description"))
    for key in ("license", "license_link"):
        for where, value in out.items(front, key, key):
            out.license(model, out.scalar(value, where), where)
    for tag in out.texts(front, "tags", "tags"):
        out.add(model, DCAT_KEYWORD, ox.Literal(tag))
    for language in out.texts(front, "language", "language"):
        out.add(model, LANGUAGE, ox.Literal(language))
    out.literal(model, RUNTIME_PLATFORM, out.text(front, "library_name", "library_name"))
    out.literal(model, ML_TASK, out.text(front, "pipeline_tag", "pipeline_tag"))

    out.own(version, mlg("ModelVersion"))
    out.add(version, RDFS_LABEL, ox.Literal(f"{name} (model card)"))
    out.add(version, mlg("versionOf"), model)
    for dataset in out.texts(front, "datasets", "datasets"):
        out.add(version, mlg("trainedOn"), identity.dataset(out.base, "huggingface", dataset))
    for base_model in out.texts(front, "base_model", "base_model"):
        out.add(version, FINE_TUNED_FROM, model_iri(out.base, base_model))
    count = 0
    for where, entry in index:
        for result_where, result in out.objects(entry, "results", f"{where}.results"):
            _evaluation(out, name, version, count, result, result_where)
            count += 1


def _evaluation(
    out: _Card,
    name: str,
    version: ox.NamedNode,
    number: int,
    result: dict[str, Any],
    where: str,
) -> None:
    """One model-index result: what it evaluated on which dataset (config, split, revision and
    arguments kept as properties), and its metrics."""
    evaluation = ox.NamedNode(f"{version.value}/evaluation/{number}")
    out.own(evaluation, mlg("Evaluation"))
    out.add(evaluation, mlg("evaluates"), version)
    task = out.obj(result.get("task") or {}, f"{where}.task")
    for key in ("type", "name"):
        value = out.text(task, key, f"{where}.task.{key}")
        if value:
            out.pair(evaluation, f"task.{key}", value)
    on = f"{name} evaluation {number}"
    if result.get("dataset") is not None:
        dataset = out.obj(result["dataset"], f"{where}.dataset")
        hf_name = out.text(dataset, "type", f"{where}.dataset.type", required=True)
        out.add(evaluation, mlg("evaluatedOn"), identity.dataset(out.base, "huggingface", hf_name))
        shown = out.text(dataset, "name", f"{where}.dataset.name") or hf_name
        split = out.text(dataset, "split", f"{where}.dataset.split")
        on = f"{name} on {shown}" + (f" ({split})" if split else "")
        for key in ("name", "config", "split", "revision"):
            value = out.text(dataset, key, f"{where}.dataset.{key}")
            if value:
                out.pair(evaluation, f"dataset.{key}", value)
        for key, value in _flattened(dataset.get("args"), "dataset.args"):
            out.pair(evaluation, key, out.scalar(value, f"{where}.{key}"))
    out.add(evaluation, RDFS_LABEL, ox.Literal(on))
    source = out.obj(result.get("source") or {}, f"{where}.source")
    source_url = out.text(source, "url", f"{where}.source.url")
    if source_url:
        out.add(evaluation, RESULT_SOURCE, out.iri(source_url, f"{where}.source.url"))
    for metric_where, metric in out.objects(result, "metrics", f"{where}.metrics"):
        kind = out.text(metric, "type", f"{metric_where}.type", required=True)
        measurement = ox.BlankNode()
        out.add(evaluation, mlg("metric"), measurement)
        out.add(measurement, RDF_TYPE, MEASUREMENT)
        out.add(measurement, MEASUREMENT_OF, to_iri(f"metric/{kind}", out.base))
        out.add(measurement, DQV_VALUE, _number(out, metric.get("value"), f"{metric_where}.value"))


def _flattened(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in sorted(value.items()):
            yield from _flattened(inner, f"{prefix}.{key}")
    elif value is not None:
        yield prefix, value


def _number(out: _Card, value: Any, field: str) -> ox.Literal:
    """A metric's value as native documents write it (xsd:integer or xsd:double); a number
    written as text is read as one."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise out.error(field, f"must be a number, not {value[:40]!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise out.error(field, f"must be a number, not {type(value).__name__}")
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
    if math.isnan(value) or math.isinf(value):
        text = "NaN" if math.isnan(value) else ("INF" if value > 0 else "-INF")
        return ox.Literal(text, datatype=ox.NamedNode(XSD + "double"))
    return ox.Literal(repr(value), datatype=ox.NamedNode(XSD + "double"))


_MAPPERS: dict[str, Callable[[_Card, dict[str, Any]], None]] = {
    "dataset_card": _dataset_card,
    "model_card": _model_card,
}


def map_card(ref: EntityRef, state: dict[str, Any], base_iri: str) -> Mapped:
    """The statements of one fetched card (`CardsSource.fetch`'s output)."""
    mapper = _MAPPERS.get(ref.kind)
    if mapper is None:
        raise InputError(f"the cards source has no entity kind {ref.kind!r}", source=SOURCE)
    out = _Card(ref, base_iri)
    mapper(out, out.obj(state, "state"))
    return out.mapped
