"""The JSON answers of the public HTTP API, as pydantic models: what /openapi.json says each
route answers, and what FastAPI checks each answer against before it leaves.

kg.views, kg.assets and the pipeline's and importers' reports build the answers; these models
describe and check them, for the routes (their response models) and for the CLI's `--format
json` on a store of its own (`shaped`), so that both give one shape. The named-query catalogue
is built here (`NamedQuery.of`) for both.
Field names are the JSON's own, camelCase or snake_case as it has them, in the order it has
them. Every model forbids keys it does not name: an answer that grows a key fails its tests
until the contract says so, instead of the key being dropped on the way out.
"""

# ruff: noqa: N815 (the fields are named as the JSON names them, camelCase)

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kg import catalog
from kg.governance.gate import GateMode
from kg.governance.model import Severity
from kg.lineage import Direction


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


def shaped(model: type[BaseModel], data: Any) -> dict[str, Any]:
    """`data` as a route with `model` as its response model answers it: checked, in the
    model's order, optional keys left out when the answer did not set them."""
    return model.model_validate(data).model_dump(mode="json", by_alias=True, exclude_unset=True)


# -- lineage, impact, path


class Edge(_Answer):
    origin: str
    destination: str
    type: str = Field(description="The most specific lineage property, e.g. mlg:trainedOn.")
    inferredBy: str | None = Field(
        None, description="Only on an edge an inference rule concluded: the rule's name."
    )


class Node(_Answer):
    id: str
    type: str | None
    label: str | None
    distance: int = Field(description="Shortest hop count from the root.")
    owners: list[str]
    status: str | None
    stage: str | None
    resolved: bool = Field(description="False: only referenced, never described.")


class LineageNode(Node):
    inEdges: list[Edge]
    outEdges: list[Edge]


class Lineage(_Answer):
    root: str
    direction: Direction
    depth: int | None
    graph: list[LineageNode]
    ownerNames: dict[str, str | None] = Field(
        description="The name of every owner the answer gives, by IRI (null: it has none)."
    )


class Member(_Answer):
    id: str
    label: str | None
    email: str | None = Field(description="mlg:email, when known.")


class ImpactOwner(_Answer):
    id: str
    type: str | None
    label: str | None
    assets: list[str] = Field(description="The affected assets it owns.")
    members: list[str]
    email: str | None = Field(description="mlg:email, when known.")
    memberDetails: list[Member] = Field(description="The members, with their names and e-mails.")


class Impact(_Answer):
    root: str
    affectedCount: int
    byType: dict[str, list[str]]
    productionServices: list[Node]
    services: list[Node]
    experiments: list[Node]
    owners: list[ImpactOwner]
    unowned: list[str]
    affected: list[Node]
    ownerNames: dict[str, str | None] = Field(
        description="The name of every owner the answer gives, by IRI (null: it has none)."
    )


class SummaryOwner(_Answer):
    id: str
    label: str | None
    nodes: int = Field(description="How many of the answer's nodes it owns.")


class AnswerSummary(_Answer):
    """A large answer counted, so that a client can show it without all its nodes."""

    nodes: int = Field(description="Nodes in the whole answer (lineage: the root included).")
    maxDistance: int
    byType: dict[str, int] = Field(description="Nodes by most specific type ('unknown': none).")
    services: int
    productionServices: int
    experiments: int
    owners: list[SummaryOwner] = Field(description="Owners, those with the most nodes first.")
    unowned: int = Field(description="Described nodes no one owns.")


class LineagePage(_Answer):
    """A page of a lineage answer (`limit` or `cursor` given)."""

    root: str
    direction: Direction
    depth: int | None
    summary: AnswerSummary | None = Field(description="On the first page only.")
    graph: list[LineageNode] = Field(
        description="The page's nodes by distance, then IRI; edges to any node of the answer."
    )
    ownerNames: dict[str, str | None] = Field(description="The names of the page's owners.")
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class ImpactPage(_Answer):
    """A page of an impact answer (`limit` or `cursor` given)."""

    root: str
    summary: AnswerSummary | None = Field(description="Of the affected, on the first page only.")
    affected: list[Node] = Field(description="The page's affected assets by distance, then IRI.")
    ownerNames: dict[str, str | None] = Field(description="The names of the page's owners.")
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class Paths(_Answer):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    direction: Direction | None = Field(description="None: no path either way.")
    length: int | None
    paths: list[list[Edge]]


# -- assets


class OwnerRelation(_Answer):
    property: str
    id: str
    label: str | None
    type: str | None
    resolved: bool = Field(description="False: only referenced, never described.")
    status: str | None = Field(description="The related asset's mlg:status, e.g. mlg:Deprecated.")


class OutgoingRelation(_Answer):
    property: str
    target: str
    label: str | None
    type: str | None
    resolved: bool
    status: str | None


class IncomingRelation(_Answer):
    property: str
    source: str
    label: str | None
    type: str | None
    resolved: bool
    status: str | None


class AssetSource(_Answer):
    source: str = Field(description="kg, an importer (openlineage...), or a graph IRI.")
    graph: str
    at: str | None = Field(description="When it last said something (ISO 8601).")
    load: str | None = Field(description="The load record of that write.")


class Metric(_Answer):
    metric: str
    value: int | float | str
    dataset: str | None


class SchemaField(_Answer):
    id: str | None
    name: str
    type: str | None
    description: str | None
    upstream: list[str] = Field(description="The fields it is computed from.")


class Asset(_Answer):
    id: str
    type: str | None
    label: str | None
    description: str | None
    tags: list[str]
    owners: list[OwnerRelation]
    status: str | None
    stage: str | None
    properties: dict[str, list[str]]
    outgoing: list[OutgoingRelation]
    incoming: list[IncomingRelation]
    classification: str | None
    sources: list[AssetSource]
    metrics: list[Metric] = Field(description="An evaluation's measured values.")
    fields: list[SchemaField] = Field(description="A dataset's schema fields.")


# -- search and discovery


class Segment(_Answer):
    text: str
    match: bool


class Hit(_Answer):
    id: str
    type: str | None
    label: str | None
    score: float
    owners: list[str]
    status: str | None
    tags: list[str]
    description: str | None
    snippet: list[Segment] = Field(
        description="Where the words matched (the description, else the name); empty without words."
    )
    sources: list[str]


class Facets(_Answer):
    """Counts by facet value over the whole selection, largest first."""

    type: dict[str, int]
    owner: dict[str, int]
    status: dict[str, int]
    stage: dict[str, int]
    tag: dict[str, int]
    source: dict[str, int]


FACETS_EXACT = (
    "True: the facet counts are exact. False: estimated from a sample of the matches (there "
    "are more than a few thousand); ask with `exactFacets=true` for exact counts."
)


class SearchResult(_Answer):
    query: str
    total: int
    hits: list[Hit]
    facets: Facets
    facetsExact: bool = Field(description=FACETS_EXACT)
    ownerNames: dict[str, str | None] = Field(
        description="The name of every owner the hits and the owner facet give, by IRI."
    )


class AssetList(_Answer):
    total: int
    limit: int
    offset: int
    items: list[Hit]
    facets: Facets
    facetsExact: bool = Field(description=FACETS_EXACT)


class Candidate(_Answer):
    id: str
    type: str | None
    label: str | None
    owners: list[str]
    score: float
    textScore: float
    sharedSources: list[str]


class Similar(_Answer):
    candidates: list[Candidate]


class QueryParameter(_Answer):
    name: str
    type: str
    required: bool
    default: str | None
    description: str


class NamedQuery(_Answer):
    name: str
    summary: str
    parameters: list[QueryParameter]
    href: str
    text: str = Field(
        description="The SPARQL, as the file has it: a parameter is the variable of its name, "
        "which the route binds as a constant for the whole query (a substitution, not a join)."
    )

    @classmethod
    def of(cls, query: catalog.NamedQuery) -> NamedQuery:
        """The catalogue entry as `GET /api/v1/queries` and `kg queries --format json` give it."""
        return cls(
            name=query.name,
            summary=query.summary,
            parameters=[
                QueryParameter(
                    name=p.name,
                    type=p.kind,
                    required=p.required,
                    default=p.default,
                    description=p.description,
                )
                for p in query.parameters
            ],
            href=f"/api/v1/queries/{query.name}",
            text=query.text,
        )


class SparqlTerm(BaseModel):
    """A term of SPARQL 1.1 Query Results JSON; a literal may carry `xml:lang`."""

    model_config = ConfigDict(extra="allow")

    type: Literal["uri", "literal", "bnode", "triple"]
    value: str | dict[str, Any]
    datatype: str | None = None


class SparqlHead(BaseModel):
    model_config = ConfigDict(extra="allow")

    vars: list[str] = Field(default_factory=list)
    link: list[str] = Field(default_factory=list, description="urn:kg:truncated: a cut answer.")


class SparqlBindings(BaseModel):
    model_config = ConfigDict(extra="allow")

    bindings: list[dict[str, SparqlTerm]]


class SparqlResults(BaseModel):
    """SPARQL 1.1 Query Results JSON: `results` for a SELECT, `boolean` for an ASK."""

    model_config = ConfigDict(extra="allow")

    head: SparqlHead
    results: SparqlBindings | None = None
    boolean: bool | None = None


# -- writes


class Reference(_Answer):
    subject: str
    predicate: str
    target: str


class Violation(_Answer):
    focusNode: str
    shape: str
    severity: Severity
    value: str | None
    message: str


class InferredLoad(_Answer):
    load: str = Field(description="The load that wrote the rules' conclusions.")
    rules: dict[str, int] = Field(description="Per rule, the assets whose conclusions changed.")
    graphs: int


class LoadReport(_Answer):
    load: str
    sources: list[str]
    assets: int
    triples: int
    derived: int
    graphs: int
    unresolved: list[Reference]
    gate: GateMode
    violations: list[Violation]
    warnings: list[str] = Field(
        default_factory=list, description="Only when the check reported some (ill-typed literals)."
    )
    inferred: InferredLoad | None = Field(
        None, description="Only when inference rules concluded something new from the write."
    )


class EventsAccepted(_Answer):
    accepted: int = Field(description="Events queued (on disk) by this request.")
    pending: int = Field(description="Entities waiting to be hydrated, this request's included.")


class SyncReport(_Answer):
    source: str
    listed: int = Field(description="Entities the source has now.")
    queued: int = Field(description="Entities queued that were not pending already.")
    removed: int = Field(description="Entities kg holds that the source no longer has.")


class LastSync(_Answer):
    started: float | None = Field(description="Unix time.")
    finished: float | None
    listed: int | None
    removed: int | None
    error: str | None


class Retrying(_Answer):
    entity: str
    id: str
    attempts: int
    reason: str | None


class SourceStatus(_Answer):
    source: str
    kinds: list[str]
    lastSync: LastSync | None
    pending: int
    retrying: list[Retrying] = Field(description="Pending entities that failed before, why.")
    failed: int = Field(description="Entities given up on until their next event or sync.")
    failures: list[Retrying]
    hydrated: int
    lastHydrated: float | None
    lastEntity: str | None


class InferenceRule(_Answer):
    name: str
    description: str
    file: str
    assets: int = Field(description="Assets with conclusions of this rule.")
    triples: int


class InferenceReport(_Answer):
    changed: dict[str, int] = Field(description="Per rule, the assets whose conclusions changed.")
    load: str | None


class IngestCounts(_Answer):
    items: int
    accepted: int
    created: int
    updated: int
    unchanged: int
    unresolved: int
    refused: int
    skipped: int
    violations: int


class TypeCounts(_Answer):
    created: int
    updated: int
    unchanged: int


class Refusal(_Answer):
    item: str
    reason: str


class IngestReport(_Answer):
    importer: str
    counts: IngestCounts
    byType: dict[str, TypeCounts]
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    refused: list[Refusal]
    skipped: list[Refusal]
    unresolved: list[Reference]
    gate: GateMode
    violations: list[Violation]
    load: str | None = Field(description="None: nothing changed, nothing was written.")


# -- governance


class SeverityCounts(_Answer):
    violation: int
    warning: int
    info: int


class ValidationResult(_Answer):
    severity: Severity
    focusNode: str
    focusLabel: str | None
    owners: list[str]
    teams: list[str]
    path: str | None
    value: str | None
    shape: str
    component: str
    message: str


class ValidationReport(_Answer):
    conforms: bool
    failOn: Severity
    counts: SeverityCounts
    engine: str
    shapes: int
    focusNodes: int | None = Field(description="None: the whole graph.")
    generatedAt: str = Field(description="When the validation ran (ISO 8601, UTC).")
    results: list[ValidationResult]


class RuleGroup(_Answer):
    id: str = Field(description="The node shape holding the rule.")
    curie: str
    name: str | None


class RuleCounts(_Answer):
    violation: int
    warning: int
    info: int
    assets: int = Field(description="Distinct focus nodes with a finding.")


class Rule(_Answer):
    id: str = Field(description="The shape's IRI: what a report's results name as `shape`.")
    curie: str
    name: str | None = Field(description="sh:name.")
    description: str | None = Field(description="sh:description or rdfs:comment (or its group's).")
    message: str | None = Field(description="sh:message: what a finding says.")
    severity: Severity
    targets: list[str] = Field(description="The classes it applies to (sh:targetClass).")
    group: RuleGroup | None
    file: str | None = Field(description="The shapes file it comes from.")
    counts: RuleCounts | None = Field(
        default=None,
        description="`counts=true` only: its findings in the kept report; null while none is kept.",
    )


class Rules(_Answer):
    rules: list[Rule]
    generatedAt: str | None = Field(
        default=None,
        description="`counts=true` only: when the kept report the counts are from was made.",
    )


class TeamScore(_Answer):
    team: str
    total: int
    rules: dict[str, int]


class Scorecard(_Answer):
    """`format=scorecard`: results by owning team and rule."""

    teams: list[TeamScore]


# -- operations


class Stats(_Answer):
    triples: int
    graphs: int
    asset_graphs: int
    source_graphs: dict[str, int]
    assets: int
    assets_by_type: dict[str, int]


class Health(_Answer):
    status: Literal["ok"]


# -- history


class Change(_Answer):
    position: int = Field(description="The write's place in the change log.")
    at: str | None = Field(description="When the write committed (ISO-8601).")
    by: str | None = Field(description="Who wrote: a token's name, jwt:<subject>, source:<name>.")
    sources: list[str]
    load: str = Field(description="The write's load record.")
    graph: str = Field(description="The named graph the change is in.")
    subject: str
    kind: Literal["edge", "type", "name", "owner", "status", "stage", "classification", "attribute"]
    property: str
    change: Literal["added", "removed", "changed"]
    value: str | None = Field(description="The new value, or the one removed.")
    previous: str | None = Field(description="A changed value's former one.")


class ChangesPage(_Answer):
    changes: list[Change]
    next: str = Field(description="The cursor to ask with for what follows.")
    more: bool = Field(description="Whether more changes are there already (false: up to date).")


class AssetVersion(_Answer):
    position: int
    at: str | None
    by: str | None
    sources: list[str]
    load: str
    changes: list[Change]


class AssetHistory(_Answer):
    id: str
    historySince: int | None = Field(
        description="The first write whose replaced graphs are kept (null: no history)."
    )
    versions: list[AssetVersion] = Field(description="Newest first.")


class Pruned(_Answer):
    pruned: int = Field(description="Writes whose kept versions were removed.")
    upTo: int
    historySince: int
    by: str
    at: str
    record: str = Field(description="The prune's own record, in urn:kg:graph:history.")
