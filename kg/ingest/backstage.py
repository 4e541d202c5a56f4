"""Backstage catalog-info YAML (multi-document, every kind) -> statements per subject (pure).

Groups and Users become mlg:Team and mlg:Person (the identity rules' team and person IRIs, so
DataHub's `urn:li:corpuser:jdoe` and Backstage's `user:default/jdoe` meet), with membership;
Components of type service (or website) become mlg:Service; APIs mlg:Api; Resources
mlg:Resource; Systems and Domains group what is `mlg:partOf` them. `spec.owner` ->
`mlg:owner`, `dependsOn` -> `mlg:dependsOn`, `providesApis` / `consumesApis` ->
`mlg:providesApi` / `mlg:consumesApi`, `spec.lifecycle` -> status (and production stage for
services). Entity refs resolve as Backstage does: `[kind:][namespace/]name`, the kind defaulting
by the field (owner -> Group, providesApis -> API, system -> System, memberOf -> Group...) and the
namespace to the referring entity's. The YAML is composed within kg.limits' bounds (nesting,
alias expansion) before any entity is built.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
import yaml

from kg import identity
from kg.errors import InputError
from kg.ingest.report import Description, Read, Refusal
from kg.limits import DEFAULT_LIMITS, BoundedLoader, Limits
from kg.vocab import (
    DCAT_KEYWORD,
    DCTERMS,
    DCTERMS_DESCRIPTION,
    OWNER,
    RDF_TYPE,
    RDFS,
    RDFS_LABEL,
    STAGE,
    STATUS,
    mlg,
)

ORG_SUB_ORGANIZATION_OF = ox.NamedNode("http://www.w3.org/ns/org#subOrganizationOf")
IDENTIFIER = ox.NamedNode(DCTERMS + "identifier")
_SERVICE_TYPES = {"service", "website"}
_CLASSES = {
    "api": mlg("Api"),
    "resource": mlg("Resource"),
    "system": mlg("System"),
    "domain": mlg("Domain"),
    "group": mlg("Team"),
    "user": mlg("Person"),
}
_LIFECYCLE = {
    "experimental": "Experimental",
    "production": "Active",
    "deprecated": "Deprecated",
    "retired": "Retired",
}


def _documents(data: bytes, source: str, limits: Limits) -> list[tuple[int, Any]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", source=source) from exc
    found = []
    try:
        loader = BoundedLoader(text, limits, source)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is not None:
                    found.append((node.start_mark.line + 1, loader.construct_document(node)))
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(f"not YAML: {getattr(exc, 'problem', exc)}", source=source,
                         line=line) from exc  # fmt: skip
    return found


class _Mapper:
    def __init__(self, base_iri: str, source: str) -> None:
        self.base = base_iri
        self.source = source
        self.subjects: Description = {}
        self.skipped: list[Refusal] = []
        self.locations: list[str] = []
        self.defined: set[ox.NamedNode] = set()

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        statements = self.subjects.setdefault(s, [])
        triple = ox.Triple(s, p, o)
        if triple not in statements:
            statements.append(triple)

    def ref(self, text: Any, default_kind: str | None, namespace: str, line: int) -> ox.NamedNode:
        """An entity ref (`[kind:][namespace/]name`) -> the entity's IRI."""
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"an entity ref must be a non-empty string, not {text!r}",
                             source=self.source, line=line)  # fmt: skip
        kind, sep, rest = text.strip().partition(":")
        if not sep:
            kind, rest = default_kind or "", text.strip()
        if not kind:
            raise InputError(f"the entity ref {text!r} needs a kind (kind:name)",
                             source=self.source, line=line)  # fmt: skip
        ns, slash, name = rest.partition("/")
        if not slash:
            ns, name = namespace, rest
        return self.entity_iri(kind.lower(), ns.lower(), name)

    def entity_iri(self, kind: str, namespace: str, name: str) -> ox.NamedNode:
        local = name if namespace == "default" else f"{namespace}/{name}"
        if kind == "user":
            return identity.person(self.base, local)
        if kind == "group":
            return identity.team(self.base, local)
        return ox.NamedNode(
            self.base + "/".join(quote(p, safe="") for p in ("backstage", kind, namespace, name))
        )

    def entity(self, entity: Any, line: int) -> None:
        if not isinstance(entity, dict):
            raise InputError("a catalog entity must be a mapping", source=self.source, line=line)
        kind = entity.get("kind")
        metadata = entity.get("metadata")
        if not isinstance(kind, str) or not isinstance(metadata, dict) or not metadata.get("name"):
            raise InputError(
                "a catalog entity needs apiVersion, kind and metadata.name",
                source=self.source,
                line=line,
            )
        spec = entity.get("spec") or {}
        if not isinstance(spec, dict):
            raise InputError("spec must be a mapping", source=self.source, line=line)
        kind_key = kind.lower()
        name = str(metadata["name"])
        namespace = str(metadata.get("namespace") or "default").lower()
        label = f"{kind_key}:{namespace}/{name}"
        if kind_key == "location":
            for target in [spec.get("target"), *(spec.get("targets") or [])]:
                if isinstance(target, str):
                    self.locations.append(target)
            return
        cls = _CLASSES.get(kind_key)
        if kind_key == "component":
            component_type = str(spec.get("type", "")).lower()
            cls = mlg("Service") if component_type in _SERVICE_TYPES else None
            if cls is None:
                self.skipped.append(Refusal(f"{self.source}: {label}",
                                            f"a component of type {component_type or 'none'} "
                                            "is not a service"))  # fmt: skip
                return
        if cls is None:
            reason = f"kind {kind} is not part of the ML lifecycle graph"
            self.skipped.append(Refusal(f"{self.source}: {label}", reason))
            return
        subject = self.entity_iri(kind_key, namespace, name)
        self.defined.add(subject)
        self.add(subject, RDF_TYPE, cls)
        self.add(subject, IDENTIFIER, ox.Literal(label))
        profile: dict[str, Any] = spec["profile"] if isinstance(spec.get("profile"), dict) else {}
        title = metadata.get("title") or profile.get("displayName") or name
        self.add(subject, RDFS_LABEL, ox.Literal(str(title)))
        if metadata.get("description"):
            self.add(subject, DCTERMS_DESCRIPTION, ox.Literal(str(metadata["description"])))
        for tag in metadata.get("tags") or []:
            self.add(subject, DCAT_KEYWORD, ox.Literal(str(tag)))
        for link in metadata.get("links") or []:
            if isinstance(link, dict) and link.get("url"):
                try:
                    self.add(subject, ox.NamedNode(RDFS + "seeAlso"), ox.NamedNode(link["url"]))
                except ValueError:
                    continue
        if profile.get("email"):
            self.add(subject, mlg("email"), ox.Literal(str(profile["email"])))
        self.relations(subject, kind_key, spec, namespace, line)

    def relations(
        self, subject: ox.NamedNode, kind: str, spec: dict[str, Any], namespace: str, line: int
    ) -> None:
        def refs(key: str, default_kind: str | None) -> list[ox.NamedNode]:
            value = spec.get(key)
            items = value if isinstance(value, list) else ([value] if value else [])
            return [self.ref(item, default_kind, namespace, line) for item in items]

        for owner in refs("owner", "group"):
            self.add(subject, OWNER, owner)
        for target in refs("system", "system"):
            self.add(subject, mlg("partOf"), target)
        for target in refs("domain", "domain"):
            self.add(subject, mlg("partOf"), target)
        for target in refs("subcomponentOf", "component"):
            self.add(subject, mlg("partOf"), target)
        for target in refs("dependsOn", None):
            self.add(subject, mlg("dependsOn"), target)
        for target in refs("providesApis", "api"):
            self.add(subject, mlg("providesApi"), target)
        for target in refs("consumesApis", "api"):
            self.add(subject, mlg("consumesApi"), target)
        if kind == "user":
            for team in refs("memberOf", "group"):
                self.add(subject, mlg("memberOf"), team)
        if kind == "group":
            for parent in refs("parent", "group"):
                self.add(subject, ORG_SUB_ORGANIZATION_OF, parent)
            for member in refs("members", "user"):
                self.add(member, mlg("memberOf"), subject)
        lifecycle = str(spec.get("lifecycle", "")).lower()
        if lifecycle in _LIFECYCLE:
            self.add(subject, STATUS, mlg(_LIFECYCLE[lifecycle]))
            if lifecycle == "production" and kind == "component":
                self.add(subject, STAGE, mlg("Production"))


def read(data: bytes, source: str, base_iri: str, *, limits: Limits = DEFAULT_LIMITS) -> Read:
    mapper = _Mapper(base_iri, source)
    documents = _documents(data, source, limits)
    for line, entity in documents:
        if entity is None:
            continue
        mapper.entity(entity, line)
    items = sum(1 for _, entity in documents if entity is not None)
    return Read(mapper.subjects, items, mapper.skipped, mapper.defined, mapper.locations)


def locations_of(data: bytes, source: str, *, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """The targets of the Location entities of a catalog file (relative paths or URLs)."""
    targets: list[str] = []
    for _, entity in _documents(data, source, limits):
        if isinstance(entity, dict) and str(entity.get("kind", "")).lower() == "location":
            spec = entity.get("spec") or {}
            targets += [t for t in [spec.get("target"), *(spec.get("targets") or [])]
                        if isinstance(t, str)]  # fmt: skip
    return targets
