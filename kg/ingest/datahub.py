"""DataHub metadata files (MCE and MCP JSON, as DataHub's file sink writes them) -> statements
per subject (pure).

Datasets take the one dataset IRI of the identity rules (so OpenLineage and DataHub meet) and
keep their URN as `dcterms:identifier`; users and groups become the people and teams of the
identity rules; every other entity keeps its URN as its IRI. What maps where:

- dataset: schemaMetadata -> fields, upstreamLineage -> `mlg:derivedFrom` (fine-grained ->
  `mlg:fieldDerivedFrom`), datasetProperties -> name and description
- mlModelGroup -> mlg:Model; mlModel -> mlg:ModelVersion (`groups` -> `mlg:versionOf`,
  `mlFeatures` -> `mlg:usesFeature`, trainingData -> `mlg:trainedOn`, evaluationData -> an
  mlg:Evaluation of the model on each dataset, `deployments` -> the deployment `mlg:deploys` it)
- mlFeature / mlPrimaryKey -> mlg:Feature (`sources` -> `mlg:derivedFrom`), mlFeatureTable ->
  mlg:FeatureSet (its features are `mlg:inFeatureSet` it), mlModelDeployment -> mlg:Service
- dataFlow / dataJob -> mlg:Workflow (inputs and outputs as dependencies)
- corpuser / corpGroup -> mlg:Person / mlg:Team with membership; ownership -> `mlg:owner`
  plus a qualified `prov:Attribution` carrying the ownership type
- glossaryTerm, glossaryNode, tag -> skos:Concept (terms as `dcterms:subject`, tags as
  `dcat:keyword`); domain -> mlg:Domain; container -> dcat:Catalog (`mlg:partOf`)
- status `removed` -> mlg:Retired, deprecation -> mlg:Deprecated

Entities and aspects outside the ML lifecycle graph (charts, dashboards, profiles, usage...) are
skipped and counted in the report. The file, and each aspect value given as JSON text, is bounded
(kg.limits.check_json) before it is parsed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox

from kg import identity
from kg.errors import InputError
from kg.ingest.report import Description, Read, Refusal
from kg.limits import DEFAULT_LIMITS, Limits, check_json
from kg.vocab import (
    DCAT,
    DCAT_KEYWORD,
    DCAT_VERSION,
    DCTERMS,
    DCTERMS_DESCRIPTION,
    OWL,
    OWNER,
    PROV,
    RDF_TYPE,
    RDFS,
    RDFS_LABEL,
    STATUS,
    mlg,
)

SKOS = "http://www.w3.org/2004/02/skos/core#"
IDENTIFIER = ox.NamedNode(DCTERMS + "identifier")
_ACCUMULATING = {RDF_TYPE, IDENTIFIER, ox.NamedNode(OWL + "sameAs")}
_CLASSES = {
    "dataset": mlg("Dataset"),
    "mlModel": mlg("ModelVersion"),
    "mlModelGroup": mlg("Model"),
    "mlFeature": mlg("Feature"),
    "mlPrimaryKey": mlg("Feature"),
    "mlFeatureTable": mlg("FeatureSet"),
    "mlModelDeployment": mlg("Service"),
    "dataJob": mlg("Workflow"),
    "dataFlow": mlg("Workflow"),
    "corpuser": mlg("Person"),
    "corpGroup": mlg("Team"),
    "glossaryTerm": ox.NamedNode(SKOS + "Concept"),
    "glossaryNode": ox.NamedNode(SKOS + "Concept"),
    "tag": ox.NamedNode(SKOS + "Concept"),
    "domain": mlg("Domain"),
    "container": ox.NamedNode(DCAT + "Catalog"),
}
_URN = re.compile(r"^urn:li:([A-Za-z]+):(.+)$")
_TUPLE_NAME = re.compile(r"^\((?:urn:li:dataPlatform:[^,]+,)?(.+?)(?:,[A-Z]+)?\)$")


def _records(data: bytes, source: str, limits: Limits) -> list[Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", source=source) from exc
    check_json(data, limits, source)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not JSON: {exc.msg} (column {exc.colno})", source=source, line=exc.lineno
        ) from exc
    items = parsed if isinstance(parsed, list) else [parsed]
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not (
            "proposedSnapshot" in item or ("entityUrn" in item and "aspectName" in item)
        ):
            raise InputError(
                f"record {n} is neither an MCE (proposedSnapshot) nor an MCP "
                "(entityUrn, aspectName, aspect)",
                source=source,
            )
    return items


def _aspects(
    record: dict[str, Any], source: str, n: int, limits: Limits
) -> list[tuple[str, str, Any, str]]:
    """(urn, aspect name, aspect value, change type) of one record."""
    if "proposedSnapshot" in record:
        snapshot = record["proposedSnapshot"]
        if not isinstance(snapshot, dict) or len(snapshot) != 1:
            raise InputError(f"record {n}: proposedSnapshot must hold one snapshot", source=source)
        body = next(iter(snapshot.values()))
        urn = body.get("urn") if isinstance(body, dict) else None
        if not isinstance(urn, str):
            raise InputError(f"record {n}: the snapshot has no urn", source=source)
        found = []
        for aspect in body.get("aspects") or []:
            if not isinstance(aspect, dict) or len(aspect) != 1:
                raise InputError(f"record {n} ({urn}): an aspect must be a one-key object",
                                 source=source)  # fmt: skip
            key, value = next(iter(aspect.items()))
            found.append((urn, _aspect_name(key.rsplit(".", 1)[-1]), value, "UPSERT"))
        return found
    aspect = record.get("aspect") or {}
    if "json" in aspect:
        value = aspect["json"]
    elif "value" in aspect:
        if isinstance(aspect["value"], str):
            check_json(aspect["value"].encode(), limits, f"{source} record {n} aspect.value")
        try:
            value = json.loads(aspect["value"])
        except (TypeError, json.JSONDecodeError) as exc:
            raise InputError(
                f"record {n} ({record['entityUrn']}): aspect.value is not JSON: {exc}",
                source=source,
            ) from exc
    else:
        raise InputError(f"record {n} ({record['entityUrn']}): the aspect has no value",
                         source=source)  # fmt: skip
    return [
        (record["entityUrn"], record["aspectName"], value, record.get("changeType") or "UPSERT")
    ]


def _aspect_name(class_name: str) -> str:
    """An MCE aspect class (`MLFeatureProperties`) -> its aspect name (`mlFeatureProperties`)."""
    acronym = re.match(r"^([A-Z]+)([A-Z][a-z].*)$", class_name)
    if acronym:
        return acronym.group(1).lower() + acronym.group(2)
    return class_name[:1].lower() + class_name[1:]


def _field_path(path: str) -> str:
    """A DataHub field path -> the field's name path, as DataHub reads it.

    A v2 path (it starts `[version=2.0]`) interleaves annotations in brackets (`[type=struct]`,
    `[key=True]`) with the names, and a bracket may hold a dot: `[version=2.0].[type=struct]
    .address.[type=string].zip` -> `address.zip` (`""` where it names no field). A v1 path is
    the dotted names themselves."""
    segments: list[str] = []
    current: list[str] = []
    depth = 0
    for char in path:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        if char == "." and not depth:
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    segments.append("".join(current))
    if not segments[0].startswith("[version="):
        return path
    return ".".join(s for s in segments if s and not (s.startswith("[") and s.endswith("]")))


_SCHEMA_FIELD = re.compile(r"^urn:li:schemaField:\((urn:li:dataset:\(.+\)),(.+)\)$")


class _Mapper:
    def __init__(self, base_iri: str, source: str) -> None:
        self.base = base_iri
        self.source = source
        self.subjects: Description = {}
        self.skipped: Counter[str] = Counter()
        self.restated: set[ox.NamedNode] = set()  # datasets given a whole upstreamLineage
        self.patching = False

    # -- naming

    def node(self, urn: str) -> ox.NamedNode:
        kind = self.kind(urn)
        if kind == "dataset":
            return identity.datahub_dataset_iri(self.base, urn)
        if kind in ("corpuser", "corpGroup"):
            return identity.datahub_agent(self.base, urn)
        if kind == "schemaField":
            dataset, name = self.schema_field(urn)
            return identity.field(identity.datahub_dataset_iri(self.base, dataset), name)
        return identity.urn(urn)

    def schema_field(self, urn: str) -> tuple[str, str]:
        """A schemaField URN -> (its dataset's URN, the field's name path)."""
        found = _SCHEMA_FIELD.match(urn)
        if found is None:
            raise InputError(f"{urn[:200]!r} is not a DataHub schemaField URN", source=self.source)
        return found.group(1), _field_path(found.group(2))

    def kind(self, urn: str) -> str:
        found = _URN.match(urn)
        if found is None:
            raise InputError(f"{urn[:200]!r} is not a DataHub URN", source=self.source)
        return found.group(1)

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        statements = self.subjects.setdefault(s, [])
        triple = ox.Triple(s, p, o)
        if triple not in statements:
            statements.append(triple)

    def text(self, s: ox.NamedNode, p: ox.NamedNode, value: Any) -> None:
        if isinstance(value, dict) and "string" in value:  # Avro unions in older MCEs
            value = value["string"]
        if value not in (None, ""):
            self.add(s, p, ox.Literal(str(value)))

    def entity(self, urn: str) -> ox.NamedNode | None:
        kind = self.kind(urn)
        cls = _CLASSES.get(kind)
        if cls is None:
            return None
        subject = self.node(urn)
        self.add(subject, RDF_TYPE, cls)
        self.add(subject, IDENTIFIER, ox.Literal(urn))
        if not any(t.predicate in (RDFS_LABEL,) for t in self.subjects[subject]):
            self.add(subject, RDFS_LABEL, ox.Literal(self.default_name(urn, kind)))
        if kind == "dataset":
            platform = identity.datahub_dataset(urn)[0]
            self.add(subject, mlg("platform"), ox.Literal(platform))
        return subject

    def default_name(self, urn: str, kind: str) -> str:
        rest = urn.split(":", 3)[3]
        if kind == "dataset":
            return identity.datahub_dataset(urn)[1]
        tupled = _TUPLE_NAME.match(rest)
        if tupled:
            return tupled.group(1).rsplit(",", 1)[-1]
        return rest

    def name(self, subject: ox.NamedNode, value: Any) -> None:
        if isinstance(value, dict) and "string" in value:
            value = value["string"]
        if value:
            statements = self.subjects.setdefault(subject, [])
            self.subjects[subject] = [t for t in statements if t.predicate != RDFS_LABEL]
            self.add(subject, RDFS_LABEL, ox.Literal(str(value)))

    # -- aspects

    def aspect(self, urn: str, name: str, value: Any, change: str) -> None:
        subject = self.entity(urn)
        if subject is None:
            self.skipped[f"entity type {self.kind(urn)}"] += 1
            return
        if change == "PATCH":
            value = _patched(name, value)
        elif change not in ("UPSERT", "CREATE", "UPDATE", "RESTATE"):
            self.skipped[f"change type {change}"] += 1
            return
        method = _HANDLERS.get(name)
        handler: Callable[[ox.NamedNode, Any], None] | None = (
            getattr(self, method) if method else None
        )
        if handler is None or not isinstance(value, dict):
            self.skipped[f"aspect {name}"] += 1
            return
        self.patching = change == "PATCH"
        handler(subject, value)

    def _status(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        if v.get("removed"):
            self.add(s, STATUS, mlg("Retired"))

    def _deprecation(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        if v.get("deprecated"):
            self.add(s, STATUS, mlg("Deprecated"))
            self.text(s, ox.NamedNode(RDFS + "comment"), v.get("note"))

    def _properties(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self.name(s, v.get("name") or v.get("displayName"))
        self.text(s, DCTERMS_DESCRIPTION, v.get("description"))
        for tag in v.get("tags") or []:
            self.text(s, DCAT_KEYWORD, tag)

    def _data_job_info(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self._properties(s, v)
        if v.get("flowUrn"):
            flow = self.entity(v["flowUrn"])
            if flow is not None:
                self.add(s, mlg("partOf"), flow)

    def _schema_metadata(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for column in v.get("fields") or []:
            name = _field_path(str(column.get("fieldPath", "")))
            if not name:
                continue
            target = identity.field(s, name)
            self.add(s, mlg("field"), target)
            self.add(target, RDF_TYPE, mlg("Field"))
            self.add(target, RDFS_LABEL, ox.Literal(name))
            self.text(target, mlg("dataType"), column.get("nativeDataType"))
            self.text(target, DCTERMS_DESCRIPTION, column.get("description"))

    def _upstream_lineage(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        if not self.patching:  # the aspect replaces the lineage, its field-level lineage too
            self.restated.add(s)
            clear_field_lineage(self.subjects, s)
        for upstream in v.get("upstreams") or []:
            if upstream.get("dataset"):
                self.add(s, mlg("derivedFrom"), self.node(upstream["dataset"]))
        for fine in v.get("fineGrainedLineages") or []:
            upstreams = [
                self.node(u)
                for u in fine.get("upstreams") or []
                if self.kind(u) == "schemaField" and self.schema_field(u)[1]
            ]
            for downstream in fine.get("downstreams") or []:
                if self.kind(downstream) != "schemaField":
                    continue
                name = self.schema_field(downstream)[1]
                if not name:
                    continue
                target = self.node(downstream)
                self.add(target, RDF_TYPE, mlg("Field"))
                self.add(target, RDFS_LABEL, ox.Literal(name))
                for upstream in upstreams:
                    self.add(target, mlg("fieldDerivedFrom"), upstream)

    def _ownership(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for item in v.get("owners") or []:
            owner_urn = str(item.get("owner", ""))
            if self.kind(owner_urn) not in ("corpuser", "corpGroup"):
                continue
            agent = self.entity(owner_urn)
            assert agent is not None
            self.add(s, OWNER, agent)
            kind = item.get("typeUrn") or item.get("type")
            if kind:
                local = quote(owner_urn.rsplit(":", 1)[-1], safe="")
                attribution = ox.NamedNode(f"{s.value}#attribution-{local}")
                self.add(s, ox.NamedNode(PROV + "qualifiedAttribution"), attribution)
                self.add(attribution, RDF_TYPE, ox.NamedNode(PROV + "Attribution"))
                self.add(attribution, ox.NamedNode(PROV + "agent"), agent)
                self.add(attribution, mlg("ownershipType"), ox.Literal(str(kind)))

    def _global_tags(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for tag in v.get("tags") or []:
            urn = str(tag.get("tag", ""))
            self.text(s, DCAT_KEYWORD, urn.removeprefix("urn:li:tag:"))

    def _glossary_terms(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for term in v.get("terms") or []:
            concept = self.entity(str(term.get("urn", "")))
            if concept is not None:
                self.add(s, ox.NamedNode(DCTERMS + "subject"), concept)

    def _domains(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for urn in v.get("domains") or []:
            domain = self.entity(urn)
            if domain is not None:
                self.add(s, mlg("partOf"), domain)

    def _container(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        container = self.entity(str(v.get("container", "")))
        if container is not None:
            self.add(s, mlg("partOf"), container)

    def _institutional_memory(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for element in v.get("elements") or []:
            if element.get("url"):
                self.add(s, ox.NamedNode(RDFS + "seeAlso"), ox.NamedNode(element["url"]))

    def _ml_model_properties(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self._properties(s, v)
        version = v.get("version")
        if isinstance(version, dict) and version.get("versionTag"):
            self.text(s, DCAT_VERSION, version["versionTag"])
        for group in v.get("groups") or []:
            model = self.entity(group)
            if model is not None:
                self.add(s, mlg("versionOf"), model)
        for feature in v.get("mlFeatures") or []:
            target = self.entity(feature)
            if target is not None:
                self.add(s, mlg("usesFeature"), target)
        for deployment in v.get("deployments") or []:
            service = self.entity(deployment)
            if service is not None:
                self.add(service, mlg("deploys"), s)
        for job in v.get("trainingJobs") or []:
            workflow = self.entity(job)
            if workflow is not None:
                self.add(s, mlg("dependsOn"), workflow)

    def _training_data(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for item in v.get("trainingData") or []:
            if item.get("dataset"):
                self.add(s, mlg("trainedOn"), self.node(item["dataset"]))

    def _evaluation_data(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for item in v.get("evaluationData") or []:
            if not item.get("dataset"):
                continue
            dataset = self.node(item["dataset"])
            evaluation = ox.NamedNode(f"{s.value}#evaluation-{quote(item['dataset'], safe='')}")
            self.add(evaluation, RDF_TYPE, mlg("Evaluation"))
            self.add(evaluation, RDFS_LABEL, ox.Literal("evaluation data of the model"))
            self.add(evaluation, mlg("evaluates"), s)
            self.add(evaluation, mlg("evaluatedOn"), dataset)

    def _ml_feature_properties(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self.text(s, DCTERMS_DESCRIPTION, v.get("description"))
        self.text(s, mlg("dataType"), v.get("dataType"))
        for source in v.get("sources") or []:
            if self.kind(source) == "dataset":
                self.add(s, mlg("derivedFrom"), self.node(source))

    def _ml_feature_table_properties(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self._properties(s, v)
        for feature in [*(v.get("mlFeatures") or []), *(v.get("mlPrimaryKeys") or [])]:
            member = self.entity(feature)
            if member is not None:
                self.add(member, mlg("inFeatureSet"), s)

    def _ml_model_deployment_properties(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self._properties(s, v)
        if str(v.get("status", "")).upper() in ("IN_SERVICE", "INSERVICE"):
            self.add(s, mlg("stage"), mlg("Production"))

    def _data_job_input_output(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        inputs = [*(v.get("inputDatasets") or [])]
        inputs += [e["destinationUrn"] for e in v.get("inputDatasetEdges") or []]
        outputs = [*(v.get("outputDatasets") or [])]
        outputs += [e["destinationUrn"] for e in v.get("outputDatasetEdges") or []]
        for urn in inputs:
            self.add(s, mlg("dependsOn"), self.node(urn))
        for urn in outputs:
            output = self.node(urn)
            self.add(output, RDF_TYPE, mlg("Dataset"))
            self.add(output, mlg("dependsOn"), s)
            for source in inputs:
                self.add(output, mlg("derivedFrom"), self.node(source))
        for job in v.get("inputDatajobs") or []:
            self.add(s, mlg("dependsOn"), self.node(job))

    def _corp_user_info(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self.name(s, v.get("displayName") or v.get("fullName"))
        self.text(s, mlg("email"), v.get("email"))
        self.text(s, ox.NamedNode(DCTERMS + "description"), v.get("title"))

    def _corp_group_info(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self.name(s, v.get("displayName"))
        self.text(s, mlg("email"), v.get("email"))
        self.text(s, DCTERMS_DESCRIPTION, v.get("description"))
        for member in [*(v.get("members") or []), *(v.get("admins") or [])]:
            person = self.entity(member)
            if person is not None:
                self.add(person, mlg("memberOf"), s)

    def _group_membership(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        for group in v.get("groups") or []:
            team = self.entity(group)
            if team is not None:
                self.add(s, mlg("memberOf"), team)

    def _glossary_term_info(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self.name(s, v.get("name"))
        self.text(s, ox.NamedNode(SKOS + "definition"), v.get("definition"))
        if v.get("parentNode"):
            parent = self.entity(v["parentNode"])
            if parent is not None:
                self.add(s, ox.NamedNode(SKOS + "broader"), parent)

    def _glossary_node_info(self, s: ox.NamedNode, v: dict[str, Any]) -> None:
        self._glossary_term_info(s, v)


# Aspect name -> the mapper method that reads it.
_HANDLERS = {
    "container": "_container",
    "containerProperties": "_properties",
    "corpGroupInfo": "_corp_group_info",
    "corpUserEditableInfo": "_corp_user_info",
    "corpUserInfo": "_corp_user_info",
    "dataFlowInfo": "_properties",
    "dataJobInfo": "_data_job_info",
    "dataJobInputOutput": "_data_job_input_output",
    "datasetProperties": "_properties",
    "deprecation": "_deprecation",
    "domainProperties": "_properties",
    "domains": "_domains",
    "editableDatasetProperties": "_properties",
    "evaluationData": "_evaluation_data",
    "globalTags": "_global_tags",
    "glossaryNodeInfo": "_glossary_node_info",
    "glossaryTermInfo": "_glossary_term_info",
    "glossaryTerms": "_glossary_terms",
    "groupMembership": "_group_membership",
    "institutionalMemory": "_institutional_memory",
    "mlFeatureProperties": "_ml_feature_properties",
    "mlFeatureTableProperties": "_ml_feature_table_properties",
    "mlModelDeploymentProperties": "_ml_model_deployment_properties",
    "mlModelGroupProperties": "_properties",
    "mlModelProperties": "_ml_model_properties",
    "mlPrimaryKeyProperties": "_ml_feature_properties",
    "ownership": "_ownership",
    "schemaMetadata": "_schema_metadata",
    "status": "_status",
    "tagProperties": "_properties",
    "trainingData": "_training_data",
    "upstreamLineage": "_upstream_lineage",
}


def _patched(name: str, operations: Any) -> dict[str, Any]:
    """A PATCH of upstream lineage (JSON Patch `add` operations) as the aspect it adds."""
    result: dict[str, Any] = {"upstreams": [], "fineGrainedLineages": []}
    if name != "upstreamLineage" or not isinstance(operations, list):
        return {}
    for op in operations:
        if not isinstance(op, dict) or op.get("op") != "add":
            continue
        path = str(op.get("path", ""))
        if path.startswith("/upstreams/") and isinstance(op.get("value"), dict):
            result["upstreams"].append(op["value"])
        elif path.startswith("/fineGrainedLineages/"):
            urns = re.findall(r"urn:li:schemaField:\(urn:li:dataset:\([^)]*\),[^)]*\)", path)
            if len(urns) == 2:
                result["fineGrainedLineages"].append(
                    {"downstreams": [urns[0]], "upstreams": [urns[1]]}
                )
    return result


def read(data: bytes, source: str, base_iri: str, *, limits: Limits = DEFAULT_LIMITS) -> Read:
    records = _records(data, source, limits)
    mapper = _Mapper(base_iri, source)
    for n, record in enumerate(records):
        for urn, name, value, change in _aspects(record, source, n, limits):
            mapper.aspect(urn, name, value, change)
    skipped = [
        Refusal(f"{source}: {what}", f"not part of the ML lifecycle graph ({count} times)")
        for what, count in sorted(mapper.skipped.items())
    ]
    return Read(mapper.subjects, len(records), skipped, lineage_restated=mapper.restated)


FIELD_DERIVED_FROM = mlg("fieldDerivedFrom")


def fields_of(dataset: ox.NamedNode, subject: ox.NamedNode) -> bool:
    return subject.value.startswith(dataset.value + "/field/")


def clear_field_lineage(
    description: Description, dataset: ox.NamedNode, *, dataset_too: bool = False
) -> None:
    """Forget the field-level lineage of the dataset's fields (a new upstreamLineage aspect of
    the dataset says it all again), and with `dataset_too` the dataset's `mlg:derivedFrom`
    (what an earlier file or import said: an aspect with no upstreams leaves none)."""
    for subject, triples in description.items():
        if fields_of(dataset, subject):
            description[subject] = [t for t in triples if t.predicate != FIELD_DERIVED_FROM]
        elif dataset_too and subject == dataset:
            description[subject] = [t for t in triples if t.predicate != mlg("derivedFrom")]


def merge(old: list[ox.Triple], new: list[ox.Triple]) -> list[ox.Triple]:
    """What DataHub says of a subject after a newer file: predicates it states anew replace the
    old values, the others stay (aspects update one by one), types and identifiers add up."""
    if not old:
        return list(new)
    stated = {t.predicate for t in new}
    kept = [t for t in old if t.predicate in _ACCUMULATING or t.predicate not in stated]
    present = set(kept)
    return kept + [t for t in new if t not in present]
