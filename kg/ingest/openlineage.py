"""OpenLineage events -> what they say about jobs, runs, datasets and fields (pure).

A job is an mlg:Workflow, a run an mlg:Run (runOf, start and end times, state, parent run,
error), inputs are `mlg:used` by the run, outputs `mlg:generatedBy` it and `mlg:derivedFrom`
every input. Facets: schema -> the dataset's fields, columnLineage -> field-level lineage,
ownership -> owners, symlinks -> `owl:sameAs` the dataset under its other name, lifecycle state
change -> status, documentation -> description, tags -> keywords.

Each event becomes an observation: statements per subject, stamped with the event time. An
observation merges with what earlier events said (`merge`) so that START then COMPLETE make one
run, and so that the result is the same in any arrival order: a later event's statements replace
an earlier one's, edges and identifiers accumulate, a run starts at its earliest START and ends
at its latest terminal event. Event bodies are bounded (kg.limits.check_json) before they are
parsed.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kg import identity
from kg.errors import InputError
from kg.graphs import source_graph
from kg.ingest.batch import Batch
from kg.ingest.report import Description
from kg.limits import DEFAULT_LIMITS, Limits, check_json
from kg.store import GraphStore
from kg.vocab import (
    DCAT_KEYWORD,
    DCTERMS,
    DCTERMS_DESCRIPTION,
    OWL,
    OWNER,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    STATUS,
    XSD,
    mlg,
)

SCOPE = "openlineage"
OBSERVED_AT = mlg("observedAt")
STARTED = ox.NamedNode(PROV + "startedAtTime")
ENDED = ox.NamedNode(PROV + "endedAtTime")
IDENTIFIER = ox.NamedNode(DCTERMS + "identifier")
SAME_AS = ox.NamedNode(OWL + "sameAs")
GENERATED_BY = mlg("generatedBy")
_STATES = {
    "START": "Started",
    "RUNNING": "Running",
    "COMPLETE": "Completed",
    "ABORT": "Aborted",
    "FAIL": "Failed",
    "OTHER": "OtherState",
}
_LIFECYCLE = {"DROP": "Retired", "CREATE": "Active", "OVERWRITE": "Active", "ALTER": "Active"}
# Statements that add up across events instead of being replaced by the latest one.
ACCUMULATING = {
    RDF_TYPE,
    IDENTIFIER,
    SAME_AS,
    mlg("used"),
    mlg("generatedBy"),
    mlg("derivedFrom"),
    mlg("fieldDerivedFrom"),
    mlg("errorMessage"),
}
_DATE_TIME = ox.NamedNode(XSD + "dateTime")
# Owners an observation gives by precedence: an ownership facet states `mlg:owner` itself; the
# producing job's owner (of an output) and the namespace's default owner are stated with these
# working predicates, which `resolve` turns into `mlg:owner` (the strongest that is there) before
# anything is stored. They are replaced by a later event like `mlg:owner`.
JOB_OWNER = ox.NamedNode("urn:kg:openlineage:jobOwner")
DEFAULT_OWNER = ox.NamedNode("urn:kg:openlineage:defaultOwner")
_OWNERS = (OWNER, JOB_OWNER, DEFAULT_OWNER)


def read_events(data: bytes, source: str, *, limits: Limits = DEFAULT_LIMITS) -> list[Any]:
    """One event, an array of events, or JSON lines (as the HTTP transport and files hold them),
    nested no deeper than `limits` allow."""
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", source=source) from exc
    if not text:
        raise InputError("no event: the body is empty", source=source)
    check_json(data, limits, source)  # JSON lines too: each balanced line leaves the depth at 0
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as whole:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            raise InputError(f"not JSON: {whole.msg}", source=source, line=whole.lineno) from whole
        events = []
        for number, line in lines:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"JSON line {number} is not JSON: {exc.msg} (column {exc.colno})",
                    source=source,
                    line=number,
                ) from exc
        return events
    return parsed if isinstance(parsed, list) else [parsed]


@dataclass
class Settings:
    """How ownership is found when an event does not say: a namespace -> owner id mapping
    (`team:ml-platform`, `user:jdoe`)."""

    base_iri: str
    namespace_owners: Mapping[str, str] = field(default_factory=dict)


def _literal_time(text: str) -> ox.Literal:
    """An event time in UTC, so that times compare as text (offsets and nanoseconds vary)."""
    found = re.match(r"^(.*?T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", text.strip())
    if found is None:
        return ox.Literal(text, datatype=_DATE_TIME)
    fraction = (found.group(2) or "")[:7]
    zone = found.group(3) or "+00:00"
    try:
        moment = dt.datetime.fromisoformat(found.group(1) + fraction + zone.replace("z", "Z"))
    except ValueError:
        return ox.Literal(text, datatype=_DATE_TIME)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    stamp = moment.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return ox.Literal(stamp.replace("+00:00", "Z"), datatype=_DATE_TIME)


class _Observation:
    def __init__(self, settings: Settings, event_time: str) -> None:
        self.settings = settings
        self.time = _literal_time(event_time)
        self.subjects: Description = {}

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        statements = self.subjects.setdefault(s, [])
        triple = ox.Triple(s, p, o)
        if triple not in statements:
            statements.append(triple)

    def stamp(self) -> Description:
        for subject in self.subjects:
            self.add(subject, OBSERVED_AT, self.time)
        return self.subjects

    def owner(self, asset: ox.NamedNode, name: str, rank: ox.NamedNode = OWNER) -> None:
        agent = identity.owner(self.settings.base_iri, name)
        kind = "Team" if "/team/" in agent.value else "Person"
        self.add(agent, RDF_TYPE, mlg(kind))
        self.add(agent, RDFS_LABEL, ox.Literal(name.partition(":")[2] or name))
        self.add(asset, rank, agent)

    def owners_from(self, asset: ox.NamedNode, facets: dict[str, Any]) -> bool:
        owners = (facets.get("ownership") or {}).get("owners") or []
        for item in owners:
            self.owner(asset, str(item["name"]))
        return bool(owners)

    def default_owner(self, asset: ox.NamedNode, namespace: str) -> None:
        if namespace in self.settings.namespace_owners:
            self.owner(asset, self.settings.namespace_owners[namespace], DEFAULT_OWNER)

    def job(self, job: dict[str, Any]) -> tuple[ox.NamedNode, list[str]]:
        """The job, and the owners its ownership facet names."""
        namespace, name = str(job["namespace"]), str(job["name"])
        iri = identity.job(self.settings.base_iri, namespace, name)
        facets = job.get("facets") or {}
        self.add(iri, RDF_TYPE, mlg("Workflow"))
        self.add(iri, RDFS_LABEL, ox.Literal(name))
        self.add(iri, IDENTIFIER, ox.Literal(f"{namespace}/{name}"))
        doc = (facets.get("documentation") or {}).get("description")
        if doc:
            self.add(iri, DCTERMS_DESCRIPTION, ox.Literal(str(doc)))
        owners = [str(o["name"]) for o in (facets.get("ownership") or {}).get("owners") or []]
        for owner in owners:
            self.owner(iri, owner)
        if not owners:
            self.default_owner(iri, namespace)
        return iri, owners

    def dataset(self, item: dict[str, Any], owners: list[str] | None = None) -> ox.NamedNode:
        """A dataset and its facets; `owners` are the producing job's (its ownership facet),
        for outputs."""
        namespace, name = str(item["namespace"]), str(item["name"])
        platform, key = identity.openlineage_dataset(namespace, name)
        iri = identity.dataset(self.settings.base_iri, platform, key)
        facets = item.get("facets") or {}
        self.add(iri, RDF_TYPE, mlg("Dataset"))
        self.add(iri, RDFS_LABEL, ox.Literal(name))
        self.add(iri, mlg("platform"), ox.Literal(platform))
        self.add(iri, IDENTIFIER, ox.Literal(f"{namespace}/{name}"))
        doc = (facets.get("documentation") or {}).get("description")
        if doc:
            self.add(iri, DCTERMS_DESCRIPTION, ox.Literal(str(doc)))
        if not self.owners_from(iri, facets):
            for owner in owners or []:
                self.owner(iri, owner, JOB_OWNER)
            if not owners:
                self.default_owner(iri, namespace)
        self._schema(iri, facets.get("schema"))
        for link in (facets.get("symlinks") or {}).get("identifiers") or []:
            other = identity.dataset(
                self.settings.base_iri,
                *identity.openlineage_dataset(link["namespace"], link["name"]),
            )
            if other != iri:
                self.add(iri, SAME_AS, other)
                self.add(iri, IDENTIFIER, ox.Literal(f"{link['namespace']}/{link['name']}"))
        change = (facets.get("lifecycleStateChange") or {}).get("lifecycleStateChange")
        if change in _LIFECYCLE:
            self.add(iri, STATUS, mlg(_LIFECYCLE[change]))
        for tag in (facets.get("tags") or {}).get("tags") or []:
            if isinstance(tag, dict) and tag.get("key"):
                text = f"{tag['key']}:{tag['value']}" if tag.get("value") else str(tag["key"])
                self.add(iri, DCAT_KEYWORD, ox.Literal(text))
        return iri

    def _schema(self, dataset: ox.NamedNode, facet: Any, prefix: str = "") -> None:
        if not isinstance(facet, dict):
            return
        for column in facet.get("fields") or []:
            name = prefix + str(column["name"])
            iri = identity.field(dataset, name)
            self.add(dataset, mlg("field"), iri)
            self.add(iri, RDF_TYPE, mlg("Field"))
            self.add(iri, RDFS_LABEL, ox.Literal(name))
            if column.get("type"):
                self.add(iri, mlg("dataType"), ox.Literal(str(column["type"])))
            if column.get("description"):
                self.add(iri, DCTERMS_DESCRIPTION, ox.Literal(str(column["description"])))
            if column.get("fields"):
                self._schema(dataset, column, prefix=name + ".")

    def column_lineage(self, output: ox.NamedNode, facet: Any) -> None:
        if not isinstance(facet, dict):
            return
        for name, spec in (facet.get("fields") or {}).items():
            target = identity.field(output, name)
            self.add(target, RDF_TYPE, mlg("Field"))
            self.add(target, RDFS_LABEL, ox.Literal(name))
            for source in (spec or {}).get("inputFields") or []:
                platform, key = identity.openlineage_dataset(source["namespace"], source["name"])
                origin = identity.field(
                    identity.dataset(self.settings.base_iri, platform, key), str(source["field"])
                )
                self.add(target, mlg("fieldDerivedFrom"), origin)


def event_order(event: dict[str, Any]) -> dt.datetime:
    """The event's time, for sorting events."""
    return _moment(_literal_time(str(event.get("eventTime", ""))))


def observe(event: dict[str, Any], settings: Settings) -> Description:
    """What one (valid) event says, per subject, stamped with its event time."""
    seen = _Observation(settings, str(event["eventTime"]))
    job_iri, job_owners = (
        seen.job(event["job"]) if isinstance(event.get("job"), dict) else (None, [])
    )
    job_namespace = str(event["job"]["namespace"]) if job_iri is not None else ""
    if "dataset" in event and "run" not in event:
        seen.dataset(event["dataset"])
        return seen.stamp()
    inputs = [seen.dataset(item) for item in event.get("inputs") or []]
    outputs = []
    for item in event.get("outputs") or []:
        output = seen.dataset(item, job_owners)
        outputs.append(output)
        seen.column_lineage(output, (item.get("facets") or {}).get("columnLineage"))
        for source in inputs:
            if source != output:
                seen.add(output, mlg("derivedFrom"), source)
    run = event.get("run")
    if isinstance(run, dict) and job_iri is not None:
        run_iri = identity.run(settings.base_iri, str(run["runId"]))
        seen.add(run_iri, RDF_TYPE, mlg("Run"))
        seen.add(run_iri, RDFS_LABEL, ox.Literal(f"{event['job']['name']} run {run['runId']}"))
        seen.add(run_iri, IDENTIFIER, ox.Literal(str(run["runId"])))
        seen.add(run_iri, mlg("runOf"), job_iri)
        for owner in job_owners:
            seen.owner(run_iri, owner)
        if not job_owners:
            seen.default_owner(run_iri, job_namespace)
        state = str(event.get("eventType") or "OTHER")
        seen.add(run_iri, mlg("runState"), mlg(_STATES.get(state, "OtherState")))
        if state == "START":
            seen.add(run_iri, STARTED, seen.time)
        elif state in ("COMPLETE", "ABORT", "FAIL"):
            seen.add(run_iri, ENDED, seen.time)
        facets = run.get("facets") or {}
        parent = facets.get("parent")
        if isinstance(parent, dict) and isinstance(parent.get("run"), dict):
            parent_run = identity.run(settings.base_iri, str(parent["run"]["runId"]))
            seen.add(run_iri, mlg("parentRun"), parent_run)
            seen.add(parent_run, RDF_TYPE, mlg("Run"))
            if isinstance(parent.get("job"), dict):
                parent_job = seen.job(parent["job"])[0]
                seen.add(parent_run, mlg("runOf"), parent_job)
        error = facets.get("errorMessage")
        if isinstance(error, dict) and error.get("message"):
            seen.add(run_iri, mlg("errorMessage"), ox.Literal(str(error["message"])))
        for source in inputs:
            seen.add(run_iri, mlg("used"), source)
        for output in outputs:
            seen.add(output, mlg("generatedBy"), run_iri)
    return seen.stamp()


def resolve(
    subject: ox.NamedNode, triples: list[ox.Triple], *, owned_elsewhere: bool = False
) -> list[ox.Triple]:
    """One subject's statements as stored: its owners are the ownership facet's, else the
    producing job's, else the namespace's default (only for what has no owner elsewhere)."""
    by_rank = {rank: [t.object for t in triples if t.predicate == rank] for rank in _OWNERS}
    kept = [t for t in triples if t.predicate not in _OWNERS]
    owners = by_rank[OWNER] or by_rank[JOB_OWNER]
    if not owners and not owned_elsewhere:
        owners = by_rank[DEFAULT_OWNER]
    return kept + [ox.Triple(subject, OWNER, o) for o in dict.fromkeys(owners)]


def ranked(
    triples: list[ox.Triple], defaults: set[ox.NamedNode], job_owners: set[ox.NamedNode]
) -> list[ox.Triple]:
    """Stored statements (owners resolved) with their owners ranked again, for a merge: owners
    that are all the namespace's default count as the default, owners that the producing jobs
    gave as theirs, the others as the ownership facet's."""
    owners = {t.object for t in triples if t.predicate == OWNER}
    if not owners:
        return triples
    rank = DEFAULT_OWNER if owners <= defaults else JOB_OWNER if owners <= job_owners else OWNER
    return [ox.Triple(t.subject, rank, t.object) if t.predicate == OWNER else t for t in triples]


def _text(term: object) -> str:
    return term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)


def _moment(term: object) -> dt.datetime:
    """A stored time as a datetime: the store rewrites literals to their canonical form, so
    their text does not sort (`10:12:30.5Z` < `10:12:30Z`)."""
    try:
        moment = dt.datetime.fromisoformat(_text(term).replace("z", "Z"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _observed(triples: list[ox.Triple]) -> dt.datetime:
    return max(
        (_moment(t.object) for t in triples if t.predicate == OBSERVED_AT),
        default=dt.datetime.min.replace(tzinfo=dt.UTC),
    )


def merge(old: list[ox.Triple], new: list[ox.Triple]) -> list[ox.Triple]:
    """One subject's statements after a new observation (the same whatever the arrival order)."""
    if not old:
        return list(new)
    later, earlier = (new, old) if _observed(new) >= _observed(old) else (old, new)
    result: dict[ox.Triple, None] = {}
    stated = {t.predicate for t in later}
    for t in later:
        if t.predicate not in (STARTED, ENDED):
            result.setdefault(t)
    for t in earlier:
        if t.predicate in ACCUMULATING or (
            t.predicate not in stated and t.predicate not in (STARTED, ENDED)
        ):
            result.setdefault(t)
    # A run starts at its earliest START and ends at its latest terminal event.
    for predicate, pick in ((STARTED, min), (ENDED, max)):
        times = [t for t in [*old, *new] if t.predicate == predicate]
        if times:
            result.setdefault(pick(times, key=lambda t: _moment(t.object)))
    observed = [t for t in result if t.predicate == OBSERVED_AT]
    for t in observed[1:] if len(observed) > 1 else []:
        del result[t]
    if observed:
        latest = max(observed, key=lambda t: _moment(t.object))
        result = {t: None for t in result if t.predicate != OBSERVED_AT}
        result[latest] = None
    return list(result)


def names_yielded(store: GraphStore, batches: Sequence[Batch]) -> list[Batch]:
    """A team or person another source names (a catalog, an asset document, an update) loses
    the name an ownership facet gave it (`data-platform` for `team:data-platform`), in the
    same write: one name, the other source's, whichever came first."""
    # The few agents a facet described, first: without any, a write costs no pass over its
    # triples (a million-asset load included).
    facet_named = {
        q.subject
        for agent in (mlg("Team"), mlg("Person"))
        for q in store.quads(None, RDF_TYPE, agent)
        if isinstance(q.subject, ox.NamedNode) and q.graph_name == source_graph(SCOPE, q.subject)
    }
    if not facet_named:
        return []
    kept: list[ox.Triple] = []
    for batch in batches:
        if batch.scope == SCOPE:
            continue
        said = itertools.chain(batch.triples, *batch.named_graphs.values())
        named = {t.subject for t in said if t.predicate == RDFS_LABEL and t.subject in facet_named}
        for subject in named:
            assert isinstance(subject, ox.NamedNode)
            facet_named.discard(subject)  # once, however many batches name it
            facet_graph = source_graph(SCOPE, subject)
            if facet_graph in batch.named_graphs:  # the write restates the facet's graph itself
                continue
            facet = store.graph(facet_graph)
            if any(t.predicate == RDFS_LABEL for t in facet):
                kept += [t for t in facet if t.predicate != RDFS_LABEL]
    if not kept:
        return []
    return [Batch(source="a name given elsewhere", triples=kept, scope=SCOPE)]
