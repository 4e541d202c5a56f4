"""The one write pipeline: parse -> normalize (check) -> derive -> commit, atomically.

Every way data comes in (files, HTTP, importers) ends here, so no path skips the checks or the
derived triples. Each IRI subject's description (its triples, with the blank nodes hanging off
it) is its own named graph: re-loading an asset replaces what was known about it, so stale edges
vanish. Named graphs carried by TriG or N-Quads input are kept as given and replaced as a whole.

A load can report its progress to a `Progress` callback, stage by stage (see `STAGES`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

import pyoxigraph as ox

from kg.auth.principal import Principal
from kg.errors import InputError, ReadOnlyGraphError
from kg.governance.gate import Gate
from kg.graphs import (
    ASSET_GRAPH_PREFIX,
    DERIVED_GRAPH_PREFIX,
    LOG_GRAPH,
    asset_graph,
    derived_graph,
    derived_source,
    is_data_graph,
    is_inferred_graph,
    source_graph,
    system_graph,
)
from kg.history import record as versioning
from kg.ingest import Batch
from kg.limits import Limits, limit_error
from kg.ontology import Ontology, derives_from, valid_lexical
from kg.store import GraphStore, GraphWrite
from kg.vocab import MLG, RDF_TYPE, SAME_AS, compact, value
from kg.write import log, records
from kg.write.records import LoadReport, Reference

if TYPE_CHECKING:
    from kg.inference.engine import Inference

# -- progress: where a load is, for a display to follow
#
# A load goes through these stages in this order, and tells a `Progress` callback
# (stage, done, total) as it goes. `done` counts the stage's own units and never decreases
# within a stage; `total` is how many there are (None while not known yet), and the last call of
# a stage that completes has done == total. A refused load stops at the stage that refused it:
# nothing is reported after, and nothing is written. The callback runs in the loading thread,
# at most every `TICK` units of a long stage; one that raises aborts the load (before "commit":
# with nothing written).
#
#   parse       documents parsed (KnowledgeGraph.load; a load of batches starts at check)
#   check       triple checks: every triple against the ontology and the limits, then, when the
#               ontology gives property ranges, every triple once more for its edge's range
#   derive      graphs grouped and derived (total known once the batches are grouped)
#   gate        steps of the governance gate (Gate.steps; only when a gate runs): the focus
#               nodes, then for the graph after the write and as it is, the neighbourhood, the
#               scratch store and each compiled rule, then the production dependencies
#   commit      triples written (the sources' and the derived), in one atomic write: 0 before,
#               all after
#   references  the sources' triples looked at for references to assets not described
#   index       the followers told of the write, one step each (the lineage index, then the
#               search index: kg.followers)

Stage = Literal["parse", "check", "derive", "gate", "commit", "references", "index"]
STAGES: tuple[Stage, ...] = ("parse", "check", "derive", "gate", "commit", "references", "index")
TICK = 5000  # units of a long stage between two reports


class Progress(Protocol):
    """Told where a load is: (stage, done, total), total None while not known."""

    def __call__(self, stage: Stage, done: int, total: int | None, /) -> None: ...


_T = TypeVar("_T")


def _ticked(items: Iterable[_T], tick: Callable[[int], None] | None) -> Iterable[_T]:
    """The items; with `tick`, told the count handled so far after every TICK items and after
    the last. Without, the items themselves: no cost."""
    return items if tick is None else _ticking(items, tick)


def _offset(tick: Callable[[int], None] | None, base: int) -> Callable[[int], None] | None:
    """`tick` told counts from `base` on (the items of the batches before)."""
    if tick is None or base == 0:
        return tick
    told = tick
    return lambda done: told(base + done)


def _ticking(items: Iterable[_T], tick: Callable[[int], None]) -> Iterator[_T]:
    # TICK items at a time: the per-item work stays in C (`yield from` a list)
    rest = iter(items)
    done = 0
    while chunk := list(islice(rest, TICK)):
        yield from chunk
        done += len(chunk)
        tick(done)


# -- normalize: refuse what the ontology does not allow, naming where it came from
#
# Literals and datatypes: where the ontology fixes a datatype property's datatype (an XSD
# rdfs:range), a literal of another datatype, or one whose lexical form is not valid for its
# datatype, is refused ("mlg:observedAt expects xsd:dateTime ..."). Elsewhere an ill-typed
# literal of a common XSD datatype ("abc"^^xsd:integer) is kept as given, as RDF allows, and
# reported: the check returns a warning for it, which the load report carries. Literals longer
# than KG_MAX_LITERAL characters and IRIs longer than KG_MAX_IRI are refused everywhere.

_WARNINGS_SHOWN = 100  # ill-typed literals reported one by one; the rest are counted


def check(
    batch: Batch,
    ontology: Ontology,
    limits: Limits | None = None,
    *,
    tick: Callable[[int], None] | None = None,
) -> list[str]:
    """Refuse what the ontology does not allow and literals or IRIs past `limits` (else the
    batch's), naming where each came from. Returns the warnings (also added to
    `batch.warnings`): ill-typed literals on properties whose datatype the ontology leaves open.
    `tick` is told how many triples are checked, every TICK.
    """
    bounds = limits or batch.limits
    for name in [*batch.named_graphs, *batch.drop]:
        if len(name.value) > bounds.max_iri:
            raise limit_error(_long_iri(name.value, bounds), "KG_MAX_IRI", batch.source, None)
    warnings: list[str] = []
    ill_typed = 0
    for triple in _ticked(batch.all_triples(), tick):
        refused = refusal(triple, ontology, bounds)
        if refused is not None:
            raise _refused(refused, batch.source, batch.line_of(triple))
        warning = literal_warning(triple, ontology)
        if warning:
            ill_typed += 1
            if ill_typed <= _WARNINGS_SHOWN:
                line = batch.line_of(triple)
                warnings.append(f"{batch.source}{f':{line}' if line else ''}: {warning}")
    if ill_typed > _WARNINGS_SHOWN:
        warnings.append(
            f"{batch.source}: {ill_typed - _WARNINGS_SHOWN} more ill-typed literals kept as given"
        )
    batch.warnings.extend(warnings)
    return warnings


def refusal(triple: ox.Triple, ontology: Ontology, limits: Limits) -> tuple[str, str | None] | None:
    """Why one triple is refused: (message, the setting of the limit it is past, or None when
    the ontology refuses it); None when it passes."""
    too_big = _too_big(triple, limits)
    if too_big:
        return too_big
    problem = _problem(triple, ontology)
    return (problem, None) if problem else None


def _refused(refused: tuple[str, str | None], source: str, line: int | None) -> InputError:
    message, setting = refused
    if setting is not None:
        return limit_error(message, setting, source, line)
    return InputError(message, source=source, line=line)


def literal_warning(triple: ox.Triple, ontology: Ontology) -> str | None:
    """The warning for an ill-typed literal the load keeps (see `check`), or None."""
    return _ill_typed(triple, ontology)


def _shown(term: object, width: int = 60) -> str:
    """A term as a message shows it, cut short."""
    text = str(term)
    return text if len(text) <= width else f"{text[: width - 3]}..."


def _long_iri(iri: str, limits: Limits) -> str:
    return f"an IRI of {len(iri)} characters ({_shown(iri)}), longer than {limits.max_iri}"


def _too_big(triple: ox.Triple, limits: Limits) -> tuple[str, str] | None:
    """(message, setting) for the first literal or IRI of the triple past the limits, looking
    into triple terms too."""
    terms: list[object] = [triple.object, triple.predicate, triple.subject]
    while terms:
        term = terms.pop()
        if isinstance(term, ox.NamedNode):
            if len(term.value) > limits.max_iri:
                return _long_iri(term.value, limits), "KG_MAX_IRI"
        elif isinstance(term, ox.Literal):
            if len(term.value) > limits.max_literal:
                return (
                    f"a literal of {len(term.value)} characters on "
                    f"{_shown(compact(triple.predicate.value))}, longer than "
                    f"{limits.max_literal}",
                    "KG_MAX_LITERAL",
                )
            if len(term.datatype.value) > limits.max_iri:
                return _long_iri(term.datatype.value, limits), "KG_MAX_IRI"
        elif isinstance(term, ox.Triple):
            terms += [term.object, term.predicate, term.subject]
    return None


def _literal_problem(predicate: str, literal: ox.Literal, ontology: Ontology) -> str | None:
    """Why a literal does not fit the XSD datatype the ontology fixes for the property."""
    datatype = literal.datatype.value
    shown = f'"{_shown(literal.value)}"'
    for expected in sorted(ontology.datatype_ranges.get(predicate, ())):
        if not derives_from(datatype, expected):
            return (
                f"{compact(predicate)} expects {compact(expected)}, not {shown} "
                f"({compact(datatype)})"
            )
        if not valid_lexical(datatype, literal.value):
            return (
                f"{compact(predicate)} expects {compact(expected)}: {shown} is not a valid "
                f"{compact(datatype)}"
            )
    return None


def _ill_typed(triple: ox.Triple, ontology: Ontology) -> str | None:
    """A warning for a literal whose lexical form its XSD datatype does not allow, on a property
    whose datatype the ontology does not fix (those are refused by `_problem`)."""
    o = triple.object
    if not isinstance(o, ox.Literal) or triple.predicate.value in ontology.datatype_ranges:
        return None
    if valid_lexical(o.datatype.value, o.value):
        return None
    shown = f'"{_shown(o.value)}"'
    return (
        f"ill-typed literal {shown} on {compact(triple.predicate.value)}: not a valid "
        f"{compact(o.datatype.value)} (kept as given)"
    )


def _problem(triple: ox.Triple, ontology: Ontology) -> str | None:
    p = triple.predicate.value
    o = triple.object
    if p.startswith(MLG) and not ontology.is_term(p):
        return f"unknown property {compact(p)} (not in the mlg ontology)"
    if triple.predicate == RDF_TYPE and isinstance(o, ox.NamedNode):
        if o.value.startswith(MLG) and o.value not in ontology.classes:
            return f"unknown asset type {compact(o.value)} (not a class of the mlg ontology)"
        return None
    if p in ontology.object_properties and isinstance(o, ox.Literal):
        return (
            f"{compact(p)} must point at an asset, not the literal {_shown(o)} "
            f"(subject {_shown(triple.subject)})"
        )
    if p in ontology.datatype_properties and not isinstance(o, ox.Literal):
        return f"{compact(p)} takes a literal value, not {_shown(o)}"
    if isinstance(o, ox.Literal) and p in ontology.datatype_ranges:
        return _literal_problem(p, o, ontology)
    if isinstance(o, ox.NamedNode) and o.value.startswith(MLG) and not ontology.is_term(o.value):
        return f"unknown term {compact(o.value)} (not in the mlg ontology)"
    return None


# -- ranges: an edge's target must be of the class the ontology gives the property
#
# For every mlg object property with an mlg class as rdfs:range (mlg:deploys -> mlg:ModelVersion),
# a target typed (in the write, else in the store) with mlg classes none of which is that class
# or below it is refused. A target with no mlg type is an unresolved reference, allowed: kg
# keeps edges to assets not loaded yet. The store is asked once per distinct target.


def check_ranges(
    batches: Sequence[Batch],
    ontology: Ontology,
    store: GraphStore | None = None,
    *,
    tick: Callable[[int], None] | None = None,
) -> None:
    """Refuse an edge whose target the write or the store types outside the property's range,
    naming the subject, the property, the target, its type and the line. `tick` is told how
    many triples (of all batches) are looked at, every TICK."""
    if not ontology.ranges:
        return
    stated: dict[object, set[str]] = {}  # what the write itself types
    for batch in batches:
        for t in batch.all_triples():
            if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode):
                stated.setdefault(t.subject, set()).add(t.object.value)
    values = {v: c for c, vs in ontology.individuals.items() for v in vs}
    known: dict[object, list[str]] = {}
    base = 0
    for batch in batches:
        triples = batch.all_triples()
        for t in _ticked(triples, _offset(tick, base)):
            expected = ontology.ranges.get(t.predicate.value)
            target = t.object
            if expected is None or not isinstance(target, ox.NamedNode | ox.BlankNode):
                continue
            if target not in known:
                if target in stated:
                    types = stated[target]
                elif isinstance(target, ox.NamedNode) and target.value in values:
                    types = {values[target.value]}
                elif store is not None and isinstance(target, ox.NamedNode):
                    types = {value(x.object) for x in store.triples(target, RDF_TYPE, None)}
                else:
                    types = set()
                known[target] = sorted(
                    c for c in types if c.startswith(MLG) and c in ontology.classes
                )
            types_of = known[target]
            if not types_of:
                continue  # not described (yet): an unresolved reference
            if all(any(ontology.within(c, r) for c in types_of) for r in expected):
                continue
            actual = ontology.specific_type(types_of) or types_of[0]
            raise InputError(
                f"{_shown(value(t.subject))} {compact(t.predicate.value)} {_shown(value(target))}: "
                f"{compact(t.predicate.value)} expects "
                f"{' and '.join(compact(r) for r in sorted(expected))}, but "
                f"{_shown(value(target))} is {compact(actual)}",
                source=batch.source,
                line=batch.line_of(t),
            )
        base += len(triples)


# -- group: one graph per described subject


def orphans(triples: Iterable[ox.Triple]) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """Split triples into those about IRI subjects (with the blank nodes hanging off them) and
    blank-node descriptions attached to no IRI subject."""
    listed = list(triples)
    by_subject: dict[object, list[ox.Triple]] = {}
    for t in listed:
        by_subject.setdefault(t.subject, []).append(t)
    attached: set[object] = set()
    stack: list[object] = [s for s in by_subject if isinstance(s, ox.NamedNode)]
    while stack:
        node = stack.pop()
        if node in attached:
            continue
        attached.add(node)
        stack.extend(
            t.object for t in by_subject.get(node, []) if isinstance(t.object, ox.BlankNode)
        )
    kept = [t for t in listed if t.subject in attached]
    loose = [t for t in listed if t.subject not in attached]
    return kept, loose


def group(batch: Batch) -> dict[ox.NamedNode, list[ox.Triple]]:
    """Split the default-graph triples into one graph per IRI subject (blank nodes follow)."""
    by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
    for t in batch.triples:
        by_subject.setdefault(t.subject, []).append(t)  # type: ignore[arg-type]
    graphs: dict[ox.NamedNode, list[ox.Triple]] = {}
    placed: set[ox.BlankNode] = set()
    for subject, triples in by_subject.items():
        if not isinstance(subject, ox.NamedNode):
            continue
        content = list(triples)
        stack = [t.object for t in triples if isinstance(t.object, ox.BlankNode)]
        while stack:
            node = stack.pop()
            if node in placed or not isinstance(node, ox.BlankNode):
                continue
            placed.add(node)
            for t in by_subject.get(node, ()):
                content.append(t)
                if isinstance(t.object, ox.BlankNode):
                    stack.append(t.object)
        name = source_graph(batch.scope, subject) if batch.scope else asset_graph(subject)
        graphs[name] = content
    for subject in by_subject:
        if isinstance(subject, ox.BlankNode) and subject not in placed:
            first = by_subject[subject][0]
            raise InputError(
                f"blank node {subject} is not attached to any asset; give it an IRI",
                source=batch.source,
                line=batch.line_of(first),
            )
    for name, triples in batch.named_graphs.items():
        graphs.setdefault(name, []).extend(triples)
    return graphs


# -- derive: what Oxigraph will not infer by itself


def derive(triples: Iterable[ox.Triple], ontology: Ontology) -> list[ox.Triple]:
    """The ontology's mlg super-properties and super-classes, materialized.

    Every lineage edge also holds as mlg:dependsOn (so `mlg:dependsOn+` works from any client)
    and every typed asset is also typed with its mlg super-classes (so `?x a mlg:Asset` finds
    all of them). Alignments to PROV, DCAT and the others stay in the ontology for clients that
    reason, and the exports state them; materializing them too would double the graph.
    """
    classes, properties = ontology.materialized
    derived: dict[ox.Triple, None] = {}
    for t in triples:
        if t.predicate == RDF_TYPE:
            for cls in classes.get(t.object, ()):
                derived.setdefault(ox.Triple(t.subject, RDF_TYPE, cls))
        elif t.predicate == SAME_AS and isinstance(t.object, ox.NamedNode):
            # owl:sameAs is symmetric: state it both ways so any client can follow it.
            derived.setdefault(ox.Triple(t.object, SAME_AS, t.subject))
        else:
            for prop in properties.get(t.predicate, ()):
                derived.setdefault(ox.Triple(t.subject, prop, t.object))
    return list(derived)


# -- commit


@dataclass(frozen=True)
class Applied:
    """A committed write, as the structures kept in step with the store need it: the write,
    what its graphs held before (derived graphs left out) and its report."""

    write: GraphWrite
    old: dict[ox.NamedNode, list[ox.Triple]]
    report: LoadReport


class Follower(Protocol):
    """A structure kept in step with every write (the lineage index, the search index): told
    of each write this process commits, and of the writes other processes committed (read
    from the change log, kg.write.log) when it catches up."""

    def applied(self, store: GraphStore, change: Applied) -> None: ...

    def caught_up(self, store: GraphStore, subjects: set[str] | None, stamp: str) -> str:
        """The assets other writes changed (None: unknown, rebuild), up to the write `stamp`
        names (kg.write.log.stamp). Says what it did ("rebuilt", "repaired (n assets)")."""
        ...


def load(
    store: GraphStore,
    ontology: Ontology,
    batches: Sequence[Batch],
    gate: Gate | None = None,
    followers: Sequence[Follower] = (),
    *,
    progress: Progress | None = None,
    inference: Inference | None = None,
    writer: Principal | None = None,
    history: bool = False,
) -> LoadReport:
    """Check, group and derive every batch, pass the governance gate, then commit them all in
    one atomic write. Nothing is written unless every batch passes (and, when the gate
    enforces, unless the write adds no Violation). `progress` is told the stages from "check"
    to "references" as they go, then "index": one step per follower, each told of the write.

    With `inference`, what its rules conclude from the write follows at once, in a load of its
    own (`report.inferred`, ungated: the write it follows from passed the gate), still within
    the caller's turn at the store.

    `writer` is named on the load record; a writer scoped to a team may only change that team's
    assets (kg.auth.scope: ForbiddenError otherwise). With `history`, graphs the write leaves
    as they are are not written, and what it replaces is kept as versions (kg.history), in the
    same commit.
    """
    write, report = _prepare(ontology, batches, store, progress)
    report.subjects = touched_subjects(store, write)
    if writer is not None and writer.team is not None:
        from kg.auth import scope

        scope.check(store, writer, write, report.subjects)
    if gate is not None:
        report.gate = gate.mode.value
        steps = None if progress is None else _gate_steps(progress)
        checked = gate.check(store, write, progress=steps)  # raises GateError when it refuses
        report.violations = checked.results if checked is not None else []
    written = report.triples + report.derived  # the graphs' content, as the write replaces it
    old = {}
    if followers or inference is not None or history:  # what the write replaces
        old = store.graphs_content(
            [
                graph
                for graph in dict.fromkeys([*write.replace.keys(), *write.drop])
                if not graph.value.startswith(DERIVED_GRAPH_PREFIX)
            ]
        )
    committed = _changes_only(write, old) if history else write
    # The rules' anchors the write's premises reach as the store is, before it changes.
    rules = [] if inference is None else inference.affected(ontology, old, write.replace)
    reached = {} if inference is None else inference.anchors(store, report.subjects, rules)
    if progress is not None:
        progress("commit", 0, written)
    # The write's place in the change log, in the same commit (the caller holds the store),
    # stamped with the time of the commit (so that times follow positions), who made it and,
    # with history, the versions of what it replaces.
    load_iri = ox.NamedNode(report.load)
    report.position = log.head(store) + 1
    new_head, record = log.entries(load_iri, report.position)
    kept = [new_head]
    extra = [record, records.ended(load_iri)]
    if writer is not None:
        extra += versioning.writer(load_iri, writer)
    if history:
        kept.append(versioning.since_mark(store, report.position))
        replaced = {g: old[g] for g in [*committed.replace, *committed.drop] if g in old}
        extra += versioning.versions(load_iri, report.position, replaced)
    store.commit(
        GraphWrite(
            replace={**committed.replace, LOG_GRAPH: kept},
            drop=committed.drop,
            append=[*committed.append, *extra],
        )
    )
    if progress is not None:
        progress("commit", written, written)
    graphs = [ox.NamedNode(g) for g in report.graphs]
    for graph in graphs:
        if graph.value.startswith(ASSET_GRAPH_PREFIX):
            derived = write.replace.get(derived_graph(graph), [])
            report.descriptions[graph.value.removeprefix(ASSET_GRAPH_PREFIX)] = [
                *write.replace[graph],
                *derived,
            ]
    stated = (t for g in graphs for t in write.replace[g])  # report.triples of them
    if progress is None:
        report.unresolved = unresolved(store, ontology, stated)
    else:
        progress("references", 0, report.triples)
        tick = _stage(progress, "references", report.triples)
        report.unresolved = unresolved(store, ontology, stated, tick=tick)
        progress("references", report.triples, report.triples)
    if followers:
        if committed is not write:
            old = {g: ts for g, ts in old.items() if g in committed.replace or g in committed.drop}
        change = Applied(committed, old, report)
        for done, follower in enumerate(followers):
            if progress is not None:
                progress("index", done, len(followers))
            follower.applied(store, change)
        if progress is not None:
            progress("index", len(followers), len(followers))
    if inference is not None and rules:
        after = inference.anchors(store, report.subjects, rules)
        concluded = inference.conclude(store, reached, after)
        if concluded.changed:
            report.inferred = load(
                store, ontology, [concluded.batch], None, followers, writer=writer, history=history
            )
            report.inferred_rules = concluded.changed
    return report


def _changes_only(write: GraphWrite, old: dict[ox.NamedNode, list[ox.Triple]]) -> GraphWrite:
    """The write without the graphs it would leave as they are (and without naming them in its
    load record): the change log then lists only what changed. Derived graphs are written
    again all the same: they follow the ontology, which may have changed since."""
    same = versioning.unchanged(old, write.replace, write.drop)
    if not same:
        return write
    return GraphWrite(
        replace={g: ts for g, ts in write.replace.items() if g not in same},
        drop=[g for g in write.drop if g not in same and derived_source(g) not in same],
        append=[q for q in write.append if not (q.predicate == log.WROTE and q.object in same)],
    )


def _stage(progress: Progress, stage: Stage, total: int | None) -> Callable[[int], None]:
    """A tick for one stage of known total: told the count done."""
    return lambda done: progress(stage, done, total)


def _gate_steps(progress: Progress) -> Callable[[int, int], None]:
    return lambda done, total: progress("gate", done, total)


def touched_subjects(store: GraphStore, write: GraphWrite) -> set[str]:
    """The IRIs whose statements a write changes (read before it is committed)."""
    subjects: set[str] = set()
    for graph in {*write.replace.keys(), *write.drop}:
        if graph.value.startswith(ASSET_GRAPH_PREFIX):
            subjects.add(graph.value.removeprefix(ASSET_GRAPH_PREFIX))
        elif not graph.value.startswith(DERIVED_GRAPH_PREFIX):
            for t in [*write.replace.get(graph, []), *store.graph(graph)]:
                if isinstance(t.subject, ox.NamedNode):
                    subjects.add(t.subject.value)
    return subjects


def without_own_graphs(batch: Batch) -> list[str]:
    """Take kg's own graphs (load records, derived triples, reports, shapes, ontology) out of a
    batch, as a restore from `kg dump` needs: kg makes them itself. Returns a warning per graph
    left out."""
    skipped = [g for g in batch.named_graphs if not is_data_graph(g)]
    for name in skipped:
        del batch.named_graphs[name]
    warnings = [
        f"{batch.source}: left out {name.value}, kg's own graph (kg makes it itself)"
        for name in skipped[:20]
    ]
    if len(skipped) > 20:
        warnings.append(f"{batch.source}: and {len(skipped) - 20} more of kg's own graphs")
    batch.warnings.extend(warnings)
    return warnings


def without_inferred_graphs(batch: Batch) -> list[str]:
    """Take what inference rules concluded out of an input document (an export or a dump
    carries it): kg concludes it again from the premises. Returns a warning when any was left
    out."""
    skipped = [g for g in batch.named_graphs if is_inferred_graph(g)]
    for name in skipped:
        del batch.named_graphs[name]
    if not skipped:
        return []
    warning = (
        f"{batch.source}: left out {len(skipped)} graph(s) of inferred edges "
        "(urn:kg:graph:inferred:...): kg concludes them again from the premises"
    )
    batch.warnings.append(warning)
    return [warning]


def prepare(ontology: Ontology, batches: Sequence[Batch]) -> GraphWrite:
    """The write a load would make, without making it."""
    return _prepare(ontology, batches)[0]


def _prepare(
    ontology: Ontology,
    batches: Sequence[Batch],
    store: GraphStore | None = None,
    progress: Progress | None = None,
) -> tuple[GraphWrite, LoadReport]:
    triples = sum(len(b.triples) + sum(map(len, b.named_graphs.values())) for b in batches)
    passes = 2 if ontology.ranges else 1
    if progress is not None:
        progress("check", 0, triples * passes)
    for batch in batches:
        # kg's own graphs (ontology, shapes, load records, reports, derived) take no protocol
        # write: kg writes them itself, through the store, never through this pipeline.
        for name in [*batch.named_graphs, *batch.drop]:
            role = system_graph(name)
            if role is not None:
                raise ReadOnlyGraphError(
                    f"{name.value} is kg's own graph ({role}) and read-only: write data graphs only"
                )
            if is_inferred_graph(name) and not batch.inferred:
                raise ReadOnlyGraphError(
                    f"{name.value} holds what an inference rule concluded and kg keeps it in "
                    "step with the rule's premises: change the premises instead"
                )
    checks = None if progress is None else _stage(progress, "check", triples * passes)
    base = 0
    for batch in batches:
        check(batch, ontology, tick=_offset(checks, base))
        base += len(batch.triples) + sum(map(len, batch.named_graphs.values()))
    check_ranges(batches, ontology, store, tick=_offset(checks, triples))
    if progress is not None:
        progress("check", triples * passes, triples * passes)
        progress("derive", 0, None)
    graphs: dict[ox.NamedNode, list[ox.Triple]] = {}
    for batch in batches:
        for name, content in group(batch).items():
            known = graphs.setdefault(name, [])
            present = set(known)
            known.extend(t for t in content if t not in present)
    replace: dict[ox.NamedNode, list[ox.Triple]] = dict(graphs)
    report = LoadReport(load=f"urn:kg:load:{uuid.uuid4()}", sources=[b.source for b in batches])
    report.warnings = [w for b in batches for w in b.warnings]
    derives = None if progress is None else _stage(progress, "derive", len(graphs))
    if derives is not None:
        derives(0)
    for name, content in _ticked(graphs.items(), derives):
        derived = derive(content, ontology)
        replace[derived_graph(name)] = derived
        report.derived += len(derived)
        report.triples += len(content)
    report.assets = sum(1 for g in graphs if g.value.startswith(ASSET_GRAPH_PREFIX))
    report.graphs = [g.value for g in graphs]
    drop = [g for batch in batches for g in batch.drop if g not in graphs]
    drop += [derived_graph(g) for g in drop]
    record = records.load_record(ox.NamedNode(report.load), report.sources, [*graphs, *drop])
    if derives is not None:
        derives(len(graphs))
    return GraphWrite(replace=replace, drop=drop, append=record), report


def unresolved(
    store: GraphStore,
    ontology: Ontology,
    triples: Iterable[ox.Triple],
    *,
    tick: Callable[[int], None] | None = None,
) -> list[Reference]:
    """Edges of the mlg vocabulary whose target has no type in the graph (not loaded yet).
    `tick` is told how many triples are looked at, every TICK."""
    result: list[Reference] = []
    listed = list(triples)
    # What the write itself types is resolved; only the rest is looked up in the store.
    checked: dict[object, bool] = {t.subject: True for t in listed if t.predicate == RDF_TYPE}
    values = {v for vs in ontology.individuals.values() for v in vs}
    for t in _ticked(listed, tick):
        if t.predicate.value not in ontology.object_properties or not t.predicate.value.startswith(
            MLG
        ):
            continue
        target = t.object
        if not isinstance(target, ox.NamedNode) or target.value in values:
            continue
        if target not in checked:
            checked[target] = next(store.triples(target, RDF_TYPE, None), None) is not None
        if not checked[target]:
            result.append(Reference(value(t.subject), t.predicate.value, target.value))
    return result
