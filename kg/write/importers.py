"""Importers wired to the graph: read, check, map, merge with what the same source said before,
then load through the one write pipeline (in the source's own graphs, with provenance).

OpenLineage events are observations of what ran: the governance gate reports on them and never
refuses them (refusing would lose lineage and break the producer); its findings come back in the
report and in validation. DataHub and Backstage imports pass the gate as configured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from enum import StrEnum
from typing import Any, Protocol

import pyoxigraph as ox

from kg import identity
from kg.config import Settings
from kg.errors import InputError
from kg.governance.gate import GateMode
from kg.graphs import source_graph
from kg.ingest import Batch, Document
from kg.ingest import openlineage as ol
from kg.ingest.olschema import EventSchema
from kg.ingest.report import Description, IngestReport, Read, Refusal
from kg.limits import Limits
from kg.ontology import Ontology
from kg.store import GraphStore
from kg.vocab import OWNER, RDF_TYPE, RDFS_LABEL, SAME_AS, mlg
from kg.write.records import LoadReport


class Loader(Protocol):
    """What an importer needs of the graph it writes to (kg.graph.KnowledgeGraph is one): the
    store to read what a source said before, identity, settings, the write's turn and the load."""

    store: GraphStore
    ontology: Ontology
    settings: Settings

    @property
    def writing(self) -> AbstractContextManager[None]: ...

    def iri(self, identifier: str) -> str: ...

    def short(self, iri: str) -> str: ...

    def exists(self, iri: str) -> bool: ...

    def load_batches(
        self, batches: Sequence[Batch], gate: GateMode | None = None
    ) -> LoadReport: ...


Progress = Callable[[int, int], None]


class Importer(StrEnum):
    OPENLINEAGE = "openlineage"
    DATAHUB = "datahub"
    BACKSTAGE = "backstage"


def _combine(into: Description, more: Description, merge: Callable[..., list[ox.Triple]]) -> None:
    for subject, triples in more.items():
        into[subject] = merge(into.get(subject, []), triples)


def _known_types(graph: Loader, triples: Iterable[ox.Triple]) -> str:
    types = [
        t.object.value
        for t in triples
        if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode)
    ]
    found = graph.ontology.specific_type(types)
    return graph.short(found) if found else "other"


def _write(
    graph: Loader,
    importer: Importer,
    description: Description,
    report: IngestReport,
    gate: GateMode | None,
    sources: Sequence[str],
) -> IngestReport:
    changed: Description = {}
    for subject, triples in description.items():
        kind = _known_types(graph, triples)
        if as_stored(triples) == as_stored(
            graph.store.graph(source_graph(importer.value, subject))
        ):
            report.unchanged[subject.value] = kind
            continue
        changed[subject] = triples
        existed = graph.exists(subject.value)
        (report.updated if existed else report.created)[subject.value] = kind
    if not changed:  # said again as it is: nothing to write, no load record
        return report
    batch = Batch(
        source=f"{importer.value}: {', '.join(sources)}",
        triples=[t for ts in changed.values() for t in ts],
        scope=importer.value,
        limits=Limits.from_settings(graph.settings),
    )
    report.load = graph.load_batches([batch], gate)
    return report


def as_stored(triples: Iterable[ox.Triple]) -> set[ox.Triple]:
    """Statements as the store keeps them (literals in canonical form, blank nodes
    canonicalized), to tell whether a subject's graph would change."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    dataset = ox.Dataset(store)
    if any(isinstance(term, ox.BlankNode) for q in dataset for term in (q.subject, q.object)):
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return {q.triple for q in dataset}


def previous(graph: Loader, importer: Importer, subjects: Iterable[ox.NamedNode]) -> Description:
    """What this source said before about each subject (its graph of that source)."""
    return {s: graph.store.graph(source_graph(importer.value, s)) for s in subjects}


def _old_field_lineage(graph: Loader, datasets: set[ox.NamedNode]) -> set[ox.NamedNode]:
    """The fields of these datasets that DataHub gave field-level lineage before."""
    from kg.ingest.datahub import FIELD_DERIVED_FROM, fields_of

    if not datasets:
        return set()
    found = set()
    for quad in graph.store.quads(None, FIELD_DERIVED_FROM, None):
        subject = quad.subject
        if (
            isinstance(subject, ox.NamedNode)
            and quad.graph_name == source_graph(Importer.DATAHUB.value, subject)
            and any(fields_of(d, subject) for d in datasets)
        ):
            found.add(subject)
    return found


def _default_owners(graph: Loader, triples: list[ox.Triple]) -> set[ox.NamedNode]:
    """The namespace default owners (KG_NAMESPACE_OWNERS) of what these statements identify."""
    names = [
        t.object.value
        for t in triples
        if t.predicate == ol.IDENTIFIER and isinstance(t.object, ox.Literal)
    ]
    return {
        identity.owner(graph.settings.base_iri, owner)
        for namespace, owner in graph.settings.namespace_owners.items()
        if any(name.startswith(namespace + "/") for name in names)
    }


def _producers_owners(graph: Loader, triples: list[ox.Triple]) -> set[ox.NamedNode]:
    """The owners of the runs (their jobs' owners) that generated a dataset, as stored."""
    found: set[ox.NamedNode] = set()
    for t in triples:
        if t.predicate == ol.GENERATED_BY and isinstance(t.object, ox.NamedNode):
            stored = graph.store.graph(source_graph(Importer.OPENLINEAGE.value, t.object))
            found |= {u.object for u in stored if u.predicate == OWNER}  # type: ignore[misc]
    return found


def _stated_elsewhere(
    graph: Loader, importer: Importer, subject: ox.NamedNode, predicate: ox.NamedNode
) -> bool:
    """Whether a graph other than this source's graph of the subject says `predicate` of it."""
    own = source_graph(importer.value, subject)
    return any(q.graph_name != own for q in graph.store.quads(subject, predicate, None))


def _no_second_names(graph: Loader, description: Description) -> None:
    """An owner an ownership facet names keeps the name kg has for it: the facet's name is
    stated only for a team or person no other source has named."""
    agents = {mlg("Team"), mlg("Person")}
    for subject, triples in description.items():
        if any(t.predicate == RDF_TYPE and t.object in agents for t in triples) and (
            _stated_elsewhere(graph, Importer.OPENLINEAGE, subject, RDFS_LABEL)
        ):
            description[subject] = [t for t in triples if t.predicate != RDFS_LABEL]


def openlineage(
    graph: Loader,
    documents: Sequence[Document],
    *,
    strict: bool,
    progress: Progress | None = None,
) -> IngestReport:
    """Check every event, then store what the valid ones say, merged with earlier events.

    `strict` (HTTP): one invalid event refuses the whole request, naming the event and field.
    Otherwise (files): a file with an invalid event is refused whole and the others load."""
    schema = EventSchema(graph.settings.openlineage_spec)
    report = IngestReport(importer=Importer.OPENLINEAGE.value)
    accepted: list[tuple[str, dict[str, Any]]] = []
    for document in documents:
        events = ol.read_events(
            document.data, document.name, limits=Limits.from_settings(graph.settings)
        )
        report.items += len(events)
        problems = []
        for n, event in enumerate(events):
            where = document.name if len(events) == 1 else f"{document.name}#{n}"
            problems += [Refusal(where, p) for p in schema.problems(event)]
        if problems:
            if strict:
                raise InputError(
                    f"invalid OpenLineage event ({schema.name}): "
                    + "; ".join(f"{r.item}: {r.reason}" for r in problems[:10]),
                    source=document.name,
                )
            report.refused += problems
            report.rejected += len(events)
            continue
        accepted += [(f"{document.name}#{n}", e) for n, e in enumerate(events)]
    settings = ol.Settings(graph.settings.base_iri, graph.settings.namespace_owners)
    observed: Description = {}
    accepted.sort(key=lambda item: ol.event_order(item[1]))
    for done, (_, event) in enumerate(accepted, start=1):
        _combine(observed, ol.observe(event, settings), ol.merge)
        if progress and (done % 500 == 0 or done == len(accepted)):
            progress(done, len(accepted))
    if not observed:
        return report
    with graph.writing:
        before = previous(graph, Importer.OPENLINEAGE, observed)
        description = {}
        for subject, triples in observed.items():
            old = ol.ranked(
                before[subject],
                _default_owners(graph, [*before[subject], *triples]),
                _producers_owners(graph, before[subject]),
            )
            description[subject] = ol.resolve(
                subject,
                ol.merge(old, triples),
                owned_elsewhere=_stated_elsewhere(graph, Importer.OPENLINEAGE, subject, OWNER),
            )
        _no_second_names(graph, description)
        names = [d.name for d in documents]
        return _write(graph, Importer.OPENLINEAGE, description, report, GateMode.WARN, names)


def catalog(
    graph: Loader,
    importer: Importer,
    documents: Sequence[Document],
    *,
    strict: bool,
    gate: GateMode | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """DataHub or Backstage files: each file is read whole or refused whole.

    DataHub aspects update what DataHub said before aspect by aspect (a file that carries only
    `status` keeps the schema an earlier file gave); a Backstage entity is described whole by
    its catalog-info document, so it replaces what Backstage said before."""
    from kg.ingest import backstage, datahub

    report = IngestReport(importer=importer.value)
    found: Description = {}
    defined: set[ox.NamedNode] = set()
    restated: set[ox.NamedNode] = set()
    for done, document in enumerate(documents, start=1):
        reader = datahub.read if importer is Importer.DATAHUB else backstage.read
        try:
            read: Read = reader(
                document.data,
                document.name,
                graph.settings.base_iri,
                limits=Limits.from_settings(graph.settings),
            )
        except InputError as exc:
            if strict:
                raise
            report.refused.append(Refusal(document.name, str(exc)))
            report.items += 1
            report.rejected += 1
            continue
        report.items += read.items
        report.skipped += read.skipped
        defined |= read.defined
        for dataset in read.lineage_restated:
            datahub.clear_field_lineage(found, dataset, dataset_too=True)
        restated |= read.lineage_restated
        _combine(found, read.description, datahub.merge)
        if progress:
            progress(done, len(documents))
    if not found:
        return report
    with graph.writing:
        if importer is Importer.DATAHUB:
            for subject in _old_field_lineage(graph, restated):
                found.setdefault(subject, [])
            before = previous(graph, importer, found)
            for dataset in restated:
                datahub.clear_field_lineage(before, dataset, dataset_too=True)
            found = {s: datahub.merge(before[s], ts) for s, ts in found.items()}
        else:  # what only refers to an entity adds to what Backstage said of it before
            before = previous(graph, importer, [s for s in found if s not in defined])
            for subject, old in before.items():
                present = set(found[subject])
                found[subject] = found[subject] + [t for t in old if t not in present]
        return _write(graph, importer, found, report, gate, [d.name for d in documents])


def ingest(
    graph: Loader,
    importer: Importer,
    documents: Sequence[Document],
    *,
    strict: bool,
    gate: GateMode | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Run one importer over documents (the CLI's and the HTTP layer's single entry)."""
    if importer is Importer.OPENLINEAGE:
        return openlineage(graph, documents, strict=strict, progress=progress)
    return catalog(graph, importer, documents, strict=strict, gate=gate, progress=progress)


DECLARED = "declared"


def declare_same(
    graph: Loader, asset: str, others: Sequence[str], *, remove: bool = False
) -> LoadReport:
    """Declare (or withdraw) that `asset` and each of `others` are the same asset, for what the
    identity rules cannot see. Kept in the asset's graph of declarations (source `declared`);
    lineage and impact follow owl:sameAs both ways."""
    subject = ox.NamedNode(graph.iri(asset))
    targets = [ox.NamedNode(graph.iri(o)) for o in others]
    if not targets:
        raise InputError("name at least one asset it is the same as")
    if subject in targets:
        raise InputError(f"{subject.value} is trivially the same as itself")
    name = source_graph(DECLARED, subject)
    with graph.writing:
        statements = dict.fromkeys(graph.store.graph(name))
        for target in targets:
            triple = ox.Triple(subject, SAME_AS, target)
            if remove:
                statements.pop(triple, None)
            else:
                statements.setdefault(triple)
        batch = Batch(source=f"declared equivalence of {subject.value}", scope=DECLARED)
        batch.triples = list(statements)
        if not statements:
            batch.drop = [name]
        return graph.load_batches([batch])
