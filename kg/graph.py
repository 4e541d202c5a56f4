"""The knowledge graph as the CLI and the HTTP layer see it: a store, its ontology, its settings.

Every operation here is synchronous and thin: it wires the pure modules (ingest, pipeline,
lineage, catalog) to the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import logging
import shutil
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, overload

import pyoxigraph as ox

from kg import assets, catalog, exports, jobs, resources, sparqltext
from kg import lineage as walks
from kg.auth.context import acting
from kg.config import Settings
from kg.errors import InputError, KGError, NotFoundError, QueryError
from kg.followers import LineageFollower, SearchFollower
from kg.governance import render
from kg.governance.gate import Gate, GateMode
from kg.governance.model import Report, Severity
from kg.governance.shapes import Shapes, load_shapes
from kg.governance.shapes import rules as governance_rules
from kg.governance.validation import Engine, focus_info, validate
from kg.graphs import (
    ONTOLOGY_GRAPH,
    REPORT_GRAPH,
    SHAPES_GRAPH,
    described_subject,
    is_inferred_graph,
)
from kg.history import changes as history_changes
from kg.history import prune as history_prune
from kg.history import record as versioning
from kg.history import state as history_state
from kg.history import timeline as history_timeline
from kg.history.lineage import AsOfWalkers, LineageHistory
from kg.history.timeline import Moment, Timeline
from kg.ids import to_id, to_iri
from kg.inference.engine import Inference
from kg.inference.rules import load_rules, rule_files
from kg.ingest import Batch, parse_document
from kg.ingest import Document as Document  # where callers have always found it
from kg.ingest import openlineage as ol
from kg.lineage import Direction, Impact, Lineage, LineageIndex, Paths
from kg.lineage import pages as answer_pages
from kg.lineage import whole as whole_answers
from kg.ontology import Ontology, default_ontology
from kg.remote import RemoteStore
from kg.search import SearchIndex, SearchResult
from kg.store import GraphStore, GraphWrite, OxigraphStore, QueryResult, open_store
from kg.vocab import MEMBER_OF, OWNER, mlg
from kg.write import graph_store, log, pipeline, records, sparql_update
from kg.write.lease import Lease, WriteTurns

_log = logging.getLogger("kg")


def _index_path(settings: Settings) -> Path | None:
    store = settings.store_path()
    return None if store is None else store.with_name(store.name + ".search.sqlite")


_FREEZE_ABOVE = 50_000  # index nodes


_STATES_KEPT = 2  # moments whose whole graph is kept for the next reads


def _states_folder(settings: Settings) -> Path | None:
    store = settings.store_path()
    return None if store is None else store.with_name(store.name + ".asof")


def _snapshot_path(settings: Settings) -> Path | None:
    store = settings.store_path()
    return None if store is None else store.with_name(store.name + ".lineage.pickle")


def _open_store(settings: Settings) -> GraphStore:
    """The embedded store at the settings' folder, or the SPARQL 1.1 server they name (whose
    search index and lineage snapshot still live beside that folder, which is made for them)."""
    remote = settings.sparql_endpoints()
    if remote is None:
        return open_store(settings.store_path())
    folder = settings.store_path()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    return RemoteStore(
        *remote,
        auth=settings.sparql_auth(),
        timeout=settings.sparql_timeout,
        union=settings.sparql_union,
        system_graphs=settings.sparql_hidden_graphs(),
    )


class KnowledgeGraph:
    def __init__(self, store: GraphStore, settings: Settings, ontology: Ontology) -> None:
        self.store = store
        self.settings = settings
        self.ontology = ontology
        self._shapes: Shapes | None = None
        self.search_index = SearchIndex(
            _index_path(settings), ontology, settings.search_exact_facets
        )
        self.lineage_index = LineageIndex(ontology)
        self.walker = walks.IndexedWalker(store, ontology, self.lineage_index)
        self.answers = answer_pages.Answers()  # the ordered walks of the last large answers
        # Rules whose conclusions every write keeps in step (kg.inference).
        self.inference = Inference(load_rules(rule_files(settings.rule_paths())))
        # Told of every write, in this order (kg.write.pipeline.Follower).
        # The change log as a timeline, and the lineage changes of every write (kg.history).
        self.timeline = Timeline()
        self.lineage_history = LineageHistory(self.lineage_index, ontology)
        self._as_of_walkers = AsOfWalkers(store, ontology)
        # The whole graph as of a few positions, made when asked for (kg.history.state).
        self._states: dict[int, OxigraphStore] = {}
        self._states_lock = threading.Lock()
        self.followers: list[pipeline.Follower] = [
            LineageFollower(self.lineage_index, self.lineage_history),
            SearchFollower(self.search_index),
        ]
        # The change log position the indexes reflect, and its stamp (kg.write.log).
        self.position = 0
        self.stamp = "0"
        # Whose turn it is to write: writes that read what is stored before they write (an
        # importer merging with what a source said before, a Graph Store POST) hold it from
        # the read to the commit, so no other write lands in between, from this process or,
        # on a shared store, from another one (kg.write.lease).
        self.lease = (
            Lease(store, lease=settings.write_lease, wait=settings.write_wait)
            if store.shared
            else None
        )
        self.writing = WriteTurns(self.lease, self.in_step)
        self._stopping = threading.Event()
        self._following: threading.Thread | None = None
        # How start-up brought each index in step with the store (restored, repaired, rebuilt).
        self.recovery: dict[str, str] = {}

    @classmethod
    def open(cls, settings: Settings) -> KnowledgeGraph:
        graph = cls(_open_store(settings), settings, default_ontology())
        graph.install_vocabulary()  # first: the indexes hold the ontology's terms too
        graph.catch_up()
        # A large index lives as long as the process: keep the cyclic collector from rescanning
        # its millions of objects on every full collection (seconds each at a million assets).
        if graph.lineage_index.size() > _FREEZE_ABOVE:
            gc.collect()
            gc.freeze()
        if graph.store.shared and settings.follow_interval > 0:
            graph.follow(settings.follow_interval)
        return graph

    def catch_up(self) -> None:
        """Bring the search and lineage indexes in step with the store at start-up: restored
        from what was written down, repaired from the change log since (after a crash, or
        what other processes wrote meanwhile), rebuilt only when neither can be trusted."""
        head, stamp = log.head_stamp(self.store)
        lineage, search = self.followers
        self.recovery = {"search": "in step", "lineage": "restored"}
        indexed = log.stamp_position(self.store, self.search_index.stamp())
        if indexed != head:
            changed = log.changed_since(self.store, indexed)
            self.recovery["search"] = search.caught_up(self.store, changed, stamp)
        snapshot = _snapshot_path(self.settings)
        restored = None if snapshot is None else self.lineage_index.restore_stale(snapshot)
        indexed = None if restored is None else log.stamp_position(self.store, restored[0])
        if indexed is None:
            self.lineage_index.rebuild(self.store)
            self.recovery["lineage"] = "rebuilt"
        elif indexed != head:
            changed = log.changed_since(self.store, indexed)
            self.recovery["lineage"] = lineage.caught_up(self.store, changed, stamp)
        if self.recovery["lineage"] != "rebuilt":  # a snapshot keeps edges, not their rules
            self.lineage_index.mark_inferred(self.store, self.inference.properties())
        self.position, self.stamp = head, stamp

    def in_step(self) -> int:
        """Apply what other processes wrote since this one's position to its indexes (nothing
        to do on a store only this process writes). Returns the position reached."""
        with self.writing.local:
            latest = log.head(self.store)
            if latest == self.position:  # (always, on a store only this process writes)
                return self.position
            changes = log.since(self.store, self.position, latest)
            if not changes:
                return self.position
            graphs: set[str] = set()
            for change in changes:
                graphs |= change.graphs
            subjects = log.subjects_of(graphs)
            last = changes[-1]
            stamp = log.stamp(last.position, last.load)
            for follower in self.followers:
                follower.caught_up(self.store, subjects, stamp)
            self.lineage_index.mark_inferred(self.store, self.inference.properties())
            self.position, self.stamp = last.position, stamp
            return self.position

    def rebuild_search(self) -> int:
        """Index every asset afresh (`kg reindex`); the number indexed."""
        with self.writing.local:
            return self.search_index.rebuild(self.store, self.stamp)

    def follow(self, interval: float) -> None:
        """Follow the change log from a thread: what other processes write to the shared store
        reaches this one's lineage and search indexes within about `interval` seconds."""

        # The thread holds the graph weakly and ends with it, or with its store, when a caller
        # drops or closes either without `close`.
        graph, stopping, store = weakref.ref(self), self._stopping, self.store

        def step() -> bool:
            following = graph()
            if following is None or getattr(store, "closed", False):
                return False
            try:
                following.in_step()
            except KGError as exc:  # the server away for a while: try again next time
                _log.warning("could not follow the change log: %s", exc.message)
            return True

        def run() -> None:
            while not stopping.wait(interval) and step():
                pass

        self._following = threading.Thread(target=run, name="kg-follow", daemon=True)
        self._following.start()

    def close(self) -> None:
        self._stopping.set()
        if self._following is not None:
            self._following.join()
        snapshot = _snapshot_path(self.settings)
        if snapshot is not None and self.lineage_index.changed:
            self.lineage_index.save(snapshot, self.stamp)
        self.search_index.close()
        self._drop_states()
        self.store.close()

    def install_vocabulary(self) -> None:
        """Keep the ontology and shapes graphs equal to the shipped files."""
        shapes: list[ox.Triple] = []
        for path in resources.files("shapes", "*.ttl"):
            shapes.extend(q.triple for q in ox.parse(path=path))
        for extra in self.settings.shape_paths():
            for path in sorted(extra.glob("*.ttl")) if extra.is_dir() else [extra]:
                shapes.extend(q.triple for q in ox.parse(path=path))
        wanted = {ONTOLOGY_GRAPH: list(self.ontology.triples), SHAPES_GRAPH: shapes}
        stale = {g: ts for g, ts in wanted.items() if set(self.store.graph(g)) != set(ts)}
        if stale:  # (before the indexes are in step: the turn is the store's alone)
            with self.lease.held() if self.lease is not None else contextlib.nullcontext():
                self.store.commit(GraphWrite(replace=stale))

    # -- identity

    def iri(self, identifier: str) -> str:
        return to_iri(identifier, self.settings.base_iri).value

    def short(self, iri: str) -> str:
        return to_id(iri, self.settings.base_iri)

    # -- writes

    def parse(
        self, documents: Iterable[Document], progress: pipeline.Progress | None = None
    ) -> list[Batch]:
        """One batch per document; `progress` is told ("parse", documents parsed, all of them)."""
        from kg.limits import Limits

        limits = Limits.from_settings(self.settings)  # KG_MAX_DEPTH, _LITERAL, _IRI, _YAML_NODES
        listed = list(documents)
        batches = []
        if progress is not None:
            progress("parse", 0, len(listed))
        for d in listed:
            batches.append(
                parse_document(
                    d.data,
                    source=d.name,
                    base_iri=self.settings.base_iri,
                    media_type=d.media_type,
                    limits=limits,
                )
            )
            if progress is not None:
                progress("parse", len(batches), len(listed))
        return batches

    def load(
        self,
        documents: Sequence[Document],
        gate: GateMode | None = None,
        *,
        restore: bool = False,
        progress: pipeline.Progress | None = None,
    ) -> records.LoadReport:
        """Parse, check, derive, pass the gate and commit all documents at once, or nothing.
        `restore` (a local `kg load` of a dump) leaves out kg's own graphs instead of refusing
        them, with a warning each. `progress` is told where the load is, stage by stage
        (kg.write.pipeline.STAGES: parse, check, derive, gate, commit, references, index)."""
        batches = self.parse(documents, progress)
        for batch in batches:
            pipeline.without_inferred_graphs(batch)
        if restore:
            for batch in batches:
                pipeline.without_own_graphs(batch)
        return self.load_batches(batches, gate, progress=progress)

    def load_batches(
        self,
        batches: Sequence[Batch],
        gate: GateMode | None = None,
        *,
        progress: pipeline.Progress | None = None,
    ) -> records.LoadReport:
        """Load parsed batches (see `load`); `progress` is told the stages from "check" on."""
        mode = gate or self.settings.gate
        checker = None if mode is GateMode.OFF else Gate(self.shapes(), mode, self.lineage_index)
        with self.writing:  # in step with the store: the gate sees every write before this one
            batches = [*batches, *ol.names_yielded(self.store, batches)]
            report = pipeline.load(
                self.store,
                self.ontology,
                batches,
                checker,
                self.followers,
                progress=progress,
                inference=self.inference,
                writer=acting(),
                history=self.settings.history,
            )
            self.position = report.last.position
            self.stamp = log.stamp(report.last.position, report.last.load)
        return report

    def bulk_load(
        self,
        path: Path,
        rdf_format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES,
        *,
        progress: Callable[[pipeline.Stage], None] | None = None,
    ) -> records.LoadReport:
        """Load a large trusted file of new assets through the bulk path (kg.write.bulk):
        checked, grouped and derived as `load` would, loaded by Oxigraph's bulk loader, with no
        gate. What the inference rules conclude from it follows (`report.inferred`)."""
        if not isinstance(self.store, OxigraphStore) or self.store.path is None:
            raise InputError(
                "the bulk path loads into an embedded store on disk: load into this store with "
                "`kg load`"
            )
        from kg.limits import Limits
        from kg.write import bulk

        followers: list[bulk.BulkFollower] = [
            f for f in self.followers if isinstance(f, LineageFollower | SearchFollower)
        ]
        with self.writing:
            report = bulk.load(
                self.store,
                self.ontology,
                path,
                rdf_format=rdf_format,
                base_iri=self.settings.base_iri,
                limits=Limits.from_settings(self.settings),
                followers=followers,
                writer=acting(),
                history=self.settings.history,
                scratch=self.store.path.parent,
                progress=progress,
            )
            self.position = report.position
            self.stamp = log.stamp(report.position, report.load)
        concluded = self.infer()
        if concluded is not None:
            report.inferred = concluded
            report.inferred_rules = concluded.inferred_rules
        return report

    def infer(self) -> records.LoadReport | None:
        """Recompute every rule's conclusions whole (`kg infer --all`) and write what changed;
        None when all were in step."""
        with self.writing:
            concluded = self.inference.conclude(
                self.store, {rule.name: None for rule in self.inference.rules}, source="kg infer"
            )
            if not concluded.changed:
                return None
            report = pipeline.load(
                self.store,
                self.ontology,
                [concluded.batch],
                None,
                self.followers,
                writer=acting(),
                history=self.settings.history,
            )
            report.inferred_rules = concluded.changed
            self.position = report.position
            self.stamp = log.stamp(report.position, report.load)
        return report

    def inference_rules(self) -> list[dict[str, object]]:
        """The inference rules with what they concluded (`kg rules`)."""
        counts = self.inference.counts(self.store)
        return [
            {
                "name": rule.name,
                "description": rule.description,
                "file": str(rule.path),
                "assets": counts[rule.name][0],
                "triples": counts[rule.name][1],
            }
            for rule in self.inference.rules
        ]

    def before_you_build(
        self,
        name: str,
        description: str = "",
        sources: Sequence[str] = (),
        kind: str | None = None,
        limit: int = 10,
    ) -> list[dict[str, object]]:
        """Existing assets most likely to be the draft one: similar words, same sources.

        The score adds the text match (normalised to the best candidate) and the share of the
        draft's sources the candidate is also built from (Jaccard)."""
        type_iri = self.iri(kind if ":" in kind else f"mlg:{kind}") if kind else None
        text = self.search_index.related(f"{name} {description}", type_iri)
        wanted = {self.iri(s) for s in sources}
        best = max((score for _, score in text), default=1.0) or 1.0
        candidates = {iri: score / best for iri, score in text}
        walker = walks.Walker(self.store, self.ontology)
        if wanted:
            for source in wanted:
                for edge in walker.in_edges(source):
                    candidates.setdefault(edge.origin, 0.0)
        ranked: list[dict[str, object]] = []
        for iri, text_score in candidates.items():
            upstream = {e.destination for e in walker.out_edges(iri)}
            overlap = len(upstream & wanted) / len(upstream | wanted) if wanted else 0.0
            node = walker.describe(iri, 0)
            if type_iri and node.type != type_iri:
                continue
            ranked.append({
                "id": iri,
                "type": node.type,
                "label": node.label,
                "owners": node.owners,
                "score": round(text_score + overlap, 4),
                "textScore": round(text_score, 4),
                "sharedSources": sorted(upstream & wanted),
            })  # fmt: skip
        ranked.sort(key=lambda c: (-float(str(c["score"])), str(c["id"])))
        return ranked[:limit]

    def search(
        self,
        text: str,
        filters: dict[str, list[str]] | None = None,
        limit: int = 20,
        offset: int = 0,
        *,
        exact_facets: bool = False,
    ) -> SearchResult:
        """Ranked matches with facet counts (estimated past kg.search.FACETS_EXACT_UP_TO
        matches, unless `exact_facets`). Facet values are checked first: a type, status or
        stage is one the ontology knows, by local name in any case (`dataset` is mlg:Dataset),
        prefixed name or IRI; an owner is in the graph. Anything else is refused (InputError),
        naming the value and the known ones."""
        expanded: dict[str, list[str]] = {}
        for facet, values in (filters or {}).items():
            if facet in ("type", "status", "stage"):
                expanded[facet] = [self.ontology.resolve(facet, v) for v in values]
            elif facet == "owner":
                expanded[facet] = [self.iri(v) for v in values]
                for v, iri in zip(values, expanded[facet], strict=True):
                    if not self.exists(iri):
                        raise InputError(f"unknown owner {v!r}: no such team or person")
            else:
                expanded[facet] = list(values)
        return self.search_index.search(text, expanded, limit, offset, exact_facets=exact_facets)

    # -- exports

    def export(
        self,
        fmt: exports.ExportFormat,
        team: str | None = None,
        asset: str | None = None,
        direction: Direction = Direction.UPSTREAM,
        as_of: dt.datetime | None = None,
    ) -> bytes:
        """The whole graph, a team's assets (owned by the team or its members) or an asset's
        lineage, in a standard form, now or as of a moment. Only what sources said is exported:
        kg's derived triples follow again on loading."""
        nodes = self.export_nodes(team, asset, direction, as_of)
        return jobs.export(
            self.state(as_of),
            fmt.value,
            None if nodes is None else sorted(nodes),
            self.settings.base_iri,
        )

    def export_nodes(
        self,
        team: str | None,
        asset: str | None,
        direction: Direction = Direction.UPSTREAM,
        as_of: dt.datetime | None = None,
    ) -> set[str] | None:
        """The assets a subset export describes (None: the whole graph)."""
        if team is None and asset is None:
            return None
        nodes: set[str] = set()
        if team is not None:
            nodes |= self._team_nodes(self.iri(team), self.state(as_of))
        if asset is not None:
            nodes |= {n.id for n in self.lineage(asset, direction, as_of=as_of).nodes}
        return nodes

    def _team_nodes(self, team: str, store: GraphStore) -> set[str]:
        node = ox.NamedNode(team)
        if next(store.triples(node, None, None), None) is None:
            raise NotFoundError(f"no team {team} in the graph")
        agents = {node} | {
            t.subject for t in store.triples(None, MEMBER_OF, node)
            if isinstance(t.subject, ox.NamedNode)
        }  # fmt: skip
        owned = {t.subject for a in agents for t in store.triples(None, OWNER, a)}
        return {n.value for n in agents | owned if isinstance(n, ox.NamedNode)}

    # -- assets one by one

    def exists(self, iri: str) -> bool:
        return assets.exists(self.store, iri)

    def asset(self, identifier: str, as_of: dt.datetime | None = None) -> assets.AssetView:
        """An asset's page, now or as it was at `as_of`."""
        return assets.view(self.state(as_of), self.ontology, self.iri(identifier))

    def asset_rdf(self, identifier: str, as_of: dt.datetime | None = None) -> list[ox.Triple]:
        iri = self.iri(identifier)
        store = self.state(as_of)
        if not assets.exists(store, iri):
            raise NotFoundError(f"no asset {iri} in the graph")
        return assets.description(store, iri)

    def put_asset(
        self, identifier: str, document: Document, gate: GateMode | None = None
    ) -> tuple[bool, records.LoadReport]:
        """Create or replace one asset from a document that describes it (and nothing else).
        True when it is new."""
        iri = self.iri(identifier)
        batch = self.parse([document])[0]
        others = {str(t.subject) for t in batch.triples if isinstance(t.subject, ox.NamedNode)} - {
            f"<{iri}>"
        }
        if others or batch.named_graphs:
            raise InputError(
                f"the document must describe {iri} only; it also describes "
                + ", ".join(sorted(others) or ["named graphs"]),
                source=document.name,
            )
        with self.writing:  # "created" is true of the store the write commits to
            created = not assets.exists(self.store, iri)
            return created, self.load_batches([batch], gate)

    def delete_asset(self, identifier: str, gate: GateMode | None = None) -> records.LoadReport:
        """Remove an asset's description; edges pointing at it stay, and show as unresolved."""
        iri = self.iri(identifier)
        with self.writing:  # of two deletes of one asset, the second finds nothing
            graphs = [  # what rules concluded about it follows from the premises left
                g
                for g in self.store.graphs()
                if described_subject(g.value) == iri and not is_inferred_graph(g)
            ]
            if not graphs:
                raise NotFoundError(f"no asset {iri} in the graph")
            return self.load_batches([Batch(source=f"delete {iri}", drop=graphs)], gate)

    # -- SPARQL and the Graph Store Protocol

    def sparql(
        self,
        query: str,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        base_iri: str | None = None,
    ) -> QueryResult:
        """A SPARQL query over the union of graphs, or over the dataset the protocol names."""
        try:
            named = [ox.NamedNode(g) for g in named_graphs] or None
            defaults = [ox.NamedNode(g) for g in default_graphs]
        except ValueError as exc:
            raise QueryError(f"a graph IRI of the request is not valid: {exc}") from exc
        if defaults:
            return self.store.query(
                query, default_graph=defaults, named_graphs=named or [], base_iri=base_iri
            )
        if named:
            return self.store.query(query, default_graph=[], named_graphs=named, base_iri=base_iri)
        return self.store.query(query, base_iri=base_iri)

    def sparql_update(
        self,
        update: str,
        using: Sequence[str] = (),
        using_named: Sequence[str] = (),
        base_iri: str | None = None,
        gate: GateMode | None = None,
        planner: Callable[..., sparql_update.Plan] = sparql_update.plan_update,
    ) -> records.LoadReport | None:
        """A SPARQL update, planned against the store (kg.write.sparql_update) and committed
        through the pipeline. The plan reads the store and the commit writes it under `writing`,
        so no other write lands in between. None when the update changes nothing. `planner`
        runs sparql_update.plan_update (the HTTP layer: in an evaluation worker, under a
        budget, so an update's WHERE cannot hold the write lock past it)."""
        sparqltext.check_size_and_depth(
            update,
            max_bytes=self.settings.max_body,
            max_depth=self.settings.max_depth,
            kind="update",
        )
        # LOAD makes the server fetch a document: refused unless KG_FEDERATION_ALLOW allows it
        sparqltext.check_outbound(
            update, self.settings.federation_prefixes(), trusted=True, base_iri=base_iri
        )
        dataset = sparql_update.protocol_dataset(using, using_named)  # 400 before any work
        with self.writing:
            plan = planner(
                self.store,
                update,
                using=[g.value for g in dataset.using],
                using_named=[g.value for g in dataset.using_named],
                base_iri=base_iri,
            )
            return None if plan.batch is None else self.load_batches([plan.batch], gate)

    def graph_read(self, graph: str | None) -> list[ox.Triple] | None:
        """A graph's triples (the default graph: the union of the data graphs; kg's own graphs
        can be read too), or None when a named graph does not exist. Reads take no lock."""
        return graph_store.read(self.store, ox.NamedNode(graph) if graph else None)

    def graph_write(
        self,
        graph: str | None,
        documents: Sequence[Document] | None,
        *,
        merge: bool = False,
        gate: GateMode | None = None,
    ) -> records.LoadReport | None:
        """PUT (replace), POST (merge) or DELETE (documents None) one graph of the store; the
        documents of one request (multipart) are one write, all or nothing. None when a DELETE
        names a graph that does not exist. What is stored is read, and the write committed,
        under `writing`: a concurrent write cannot slip in between."""
        name = ox.NamedNode(graph) if graph else None
        source = f"graph store {graph or 'default graph'}"
        parsed = None if documents is None else self.parse(documents)
        with self.writing:
            if parsed is None:
                batch = graph_store.delete(self.store, name, source)
                return None if batch is None else self.load_batches([batch], gate)
            operation = graph_store.merge if merge else graph_store.replace
            triples = [t for p in parsed for t in p.all_triples()]
            return self.load_batches([operation(self.store, name, triples, source)], gate)

    # -- governance

    def shapes(self, extra: Sequence[Path] = ()) -> Shapes:
        if extra:
            return load_shapes([*self.settings.shape_paths(), *extra])
        if self._shapes is None:
            self._shapes = load_shapes(self.settings.shape_paths())
        return self._shapes

    def scope(
        self,
        asset: str | None = None,
        team: str | None = None,
        lineage: str | None = None,
        as_of: dt.datetime | None = None,
    ) -> list[str] | None:
        """Focus nodes of a validation subset: one asset, a team's assets, an asset's lineage
        (now, or as they were at `as_of`)."""
        if not (asset or team or lineage):
            return None
        store = self.state(as_of)
        focus: set[str] = set()
        if asset:
            walks.Walker(store, self.ontology).require(self.iri(asset))
            focus.add(f"<{self.iri(asset)}>")
        if lineage:
            focus |= {
                f"<{n.id}>" for n in self.lineage(lineage, Direction.UPSTREAM, as_of=as_of).nodes
            }
        if team:
            team_node = ox.NamedNode(self.iri(team))
            if not assets.exists(store, team_node.value):
                import difflib

                from kg.vocab import RDF_TYPE

                teams = [
                    self.short(t.subject.value)
                    for t in store.triples(None, RDF_TYPE, mlg("Team"))
                    if isinstance(t.subject, ox.NamedNode)
                ]
                hint = difflib.get_close_matches(team, teams, n=3)
                more = f" (did you mean {' or '.join(hint)}?)" if hint else ""
                raise NotFoundError(f"no team {team} in the graph{more}")
            owners = [team_node]
            owners += [
                t.subject
                for t in store.triples(None, MEMBER_OF, team_node)
                if isinstance(t.subject, ox.NamedNode)
            ]
            for owner in owners:
                focus |= {str(t.subject) for t in store.triples(None, OWNER, owner)}
        return sorted(focus)

    def validate(
        self,
        focus: Sequence[str] | None = None,
        engine: Engine = Engine.COMPILED,
        extra_shapes: Sequence[Path] = (),
        as_of: dt.datetime | None = None,
    ) -> Report:
        """Validate the graph (or the focus nodes), now or as it was at `as_of` (with today's
        shapes). Nothing is written: see `save_report`."""
        state = self.state(as_of)
        # the present store's lineage index answers path rules over the whole graph
        index = self.lineage_index if state is self.store else None
        return validate(state, self.shapes(extra_shapes), focus, engine, index=index)

    def save_report(self, report: Report) -> None:
        """Keep a full run as the latest report, queryable in its own named graph (an explicit
        write: `kg validate --save`, `POST /api/v1/validation`)."""
        if report.focus_nodes is not None:
            raise InputError("only a validation of the whole graph is kept as the latest report")
        with self.writing:
            self.store.commit(GraphWrite(replace={REPORT_GRAPH: render.to_rdf(report)}))

    def kept_report(self) -> Report | None:
        """The report `save_report` kept last, or None when none is kept. Its results name
        their rules as the run did: the compiled engine gives a property shape's results the
        node shape holding it (HTML, JUnit and SARIF group by it), pyshacl does not."""
        report = render.from_rdf(self.store.graph(REPORT_GRAPH))
        if report is not None and report.engine == Engine.COMPILED.value:
            parents = self.shapes().parents
            report.results = [
                replace(r, node_shape=parents.get(r.shape, r.shape)) for r in report.results
            ]
        return report

    def rules(self, counts: bool = False) -> dict[str, object]:
        """Every rule the shapes define; with `counts`, each one's findings in the kept report
        (null while none is kept) and when that report was made."""
        catalogue = [rule.as_dict() for rule in governance_rules(self.shapes())]
        if not counts:
            return {"rules": catalogue}
        kept = self.kept_report()
        tally = kept.by_rule() if kept is not None else None
        none = {s.value: 0 for s in Severity} | {"assets": 0}
        for entry in catalogue:
            entry["counts"] = None if tally is None else tally.get(str(entry["id"]), none)
        return {"rules": catalogue, "generatedAt": kept.generated_at if kept else None}

    def preview(self, documents: Sequence[Document]) -> Report:
        """Validate candidate documents as if loaded, without storing them."""
        batches = self.parse(documents)
        write = pipeline.prepare(self.ontology, batches)
        gate = Gate(self.shapes(), GateMode.ENFORCE, self.lineage_index)
        focus, results = gate.candidate(self.store, write)
        return Report(results=results, shapes=gate.shapes.count, focus_nodes=len(focus))

    def render(
        self, report: Report, fmt: render.Format, fail_on: Severity = Severity.VIOLATION
    ) -> str:
        shapes = self.shapes()
        return render.render(
            report,
            fmt,
            info=focus_info(self.store, (r.focus for r in report.results)),
            short=self.short,
            names=shapes.names,
            origins=shapes.origins,
            fail_on=fail_on,
        )

    # -- reads

    def query(self, sparql: str, **kwargs: object) -> QueryResult:
        return self.store.query(sparql, **kwargs)  # type: ignore[arg-type]

    def named_query(self, name: str, params: dict[str, str]) -> QueryResult:
        query = catalog.named_query(name)
        bindings = query.bind(params, self.settings.base_iri)
        return self.store.query(query.text, substitutions=bindings)

    @overload
    def lineage(
        self,
        node: str,
        direction: Direction = ...,
        depth: int | None = ...,
        types: Iterable[str] | None = ...,
        as_of: dt.datetime | None = ...,
        *,
        limit: None = None,
        cursor: None = None,
    ) -> Lineage: ...

    @overload
    def lineage(
        self,
        node: str,
        direction: Direction = ...,
        depth: int | None = ...,
        types: Iterable[str] | None = ...,
        as_of: dt.datetime | None = ...,
        *,
        limit: int | None = ...,
        cursor: str | None = ...,
    ) -> Lineage | answer_pages.LineagePage: ...

    def lineage(
        self,
        node: str,
        direction: Direction = Direction.UPSTREAM,
        depth: int | None = None,
        types: Iterable[str] | None = None,
        as_of: dt.datetime | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Lineage | answer_pages.LineagePage:
        """Lineage now, or as it was at `as_of` (edges, names, owners and statuses of then).
        With `limit` or `cursor`, one page of it (kg.lineage.pages), its summary first."""
        type_iris = [self.ontology.resolve("type", t) for t in types] if types else None
        with self.lineage_index.lock:
            walker = self._walker(as_of)
            if limit is None and cursor is None:
                return walks.lineage(
                    self.store, self.ontology, self.iri(node), direction, depth, type_iris, walker
                )
            question, state = self._question("lineage", node, direction, depth, type_iris, as_of)
            return answer_pages.lineage_page(walker, self.answers, question, state, limit, cursor)

    def lineage_json(
        self,
        node: str,
        direction: Direction = Direction.UPSTREAM,
        depth: int | None = None,
        types: Iterable[str] | None = None,
        as_of: dt.datetime | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> bytes:
        """`lineage` as the JSON API answers it (kg.views' shape, or a page's), written
        straight from the index."""
        type_iris = [self.ontology.resolve("type", t) for t in types] if types else None
        with self.lineage_index.lock:
            walker = self._walker(as_of)
            question, state = self._question("lineage", node, direction, depth, type_iris, as_of)
            if limit is None and cursor is None:
                data = whole_answers.lineage_whole(walker, self.answers, question, state)
            else:
                data = answer_pages.lineage_page(
                    walker, self.answers, question, state, limit, cursor
                ).view()
            return whole_answers.dumps(data)

    @overload
    def impact(
        self,
        node: str,
        as_of: dt.datetime | None = ...,
        *,
        limit: None = None,
        cursor: None = None,
    ) -> Impact: ...

    @overload
    def impact(
        self,
        node: str,
        as_of: dt.datetime | None = ...,
        *,
        limit: int | None = ...,
        cursor: str | None = ...,
    ) -> Impact | answer_pages.ImpactPage: ...

    def impact(
        self,
        node: str,
        as_of: dt.datetime | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Impact | answer_pages.ImpactPage:
        """What a change to `node` affects; with `limit` or `cursor`, one page of the affected
        assets, the summary (counts by type, services, owners) first."""
        with self.lineage_index.lock:
            walker = self._walker(as_of)
            if limit is None and cursor is None:
                return walks.impact(self.store, self.ontology, self.iri(node), walker)
            question, state = self._question(
                "impact", node, Direction.DOWNSTREAM, None, None, as_of
            )
            return answer_pages.impact_page(walker, self.answers, question, state, limit, cursor)

    def impact_json(
        self,
        node: str,
        as_of: dt.datetime | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> bytes:
        """`impact` as the JSON API answers it, written straight from the index."""
        with self.lineage_index.lock:
            walker = self._walker(as_of)
            question, state = self._question(
                "impact", node, Direction.DOWNSTREAM, None, None, as_of
            )
            if limit is None and cursor is None:
                data = whole_answers.impact_whole(walker, self.store, self.answers, question, state)
            else:
                data = answer_pages.impact_page(
                    walker, self.answers, question, state, limit, cursor
                ).view()
            return whole_answers.dumps(data)

    def _question(
        self,
        kind: str,
        node: str,
        direction: Direction,
        depth: int | None,
        types: Iterable[str] | None,
        as_of: dt.datetime | None,
    ) -> tuple[answer_pages.Question, str]:
        """A paged answer's question, and the state of the graph it is read from: the change
        log's stamp now, or the position of an as-of answer (which no later write changes)."""
        question = answer_pages.Question(
            kind,
            self.iri(node),
            direction,
            depth,
            tuple(sorted(set(types))) if types is not None else None,
            as_of.isoformat() if as_of is not None else None,
        )
        state = self.stamp if as_of is None else f"as of {self.moment(as_of).position}"
        return question, state

    def paths(self, origin: str, target: str, as_of: dt.datetime | None = None) -> Paths:
        with self.lineage_index.lock:
            walker = self._walker(as_of)
            return walks.paths(
                self.store, self.ontology, self.iri(origin), self.iri(target), walker=walker
            )

    # -- history

    def moment(self, at: dt.datetime) -> Moment:
        """The position `at` names in the change log (410 when history does not reach it)."""
        return history_timeline.resolve(self.store, self.timeline, at)

    def state(self, as_of: dt.datetime | None) -> GraphStore:
        """The store, or the whole graph as it was at `as_of` (a read-only store of its own,
        kept for the next reads of that moment)."""
        if as_of is None:
            return self.store
        moment = self.moment(as_of)
        if moment.position >= self.timeline.read_up_to:
            return self.store
        return self.state_at(moment.position)

    def state_at(self, position: int) -> OxigraphStore:
        with self._states_lock:
            found = self._states.get(position)
            if found is not None:
                return found
            folder = _states_folder(self.settings)
            target = None
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / f"{position:010d}-{uuid.uuid4().hex[:8]}"
            made = history_state.as_of(self.store, self.timeline, self.ontology, position, target)
            while len(self._states) >= _STATES_KEPT:
                oldest = next(iter(self._states))
                self._states.pop(oldest).close()
            self._states[position] = made
            return made

    def _drop_states(self) -> None:
        with self._states_lock:
            for made in self._states.values():
                made.close()
            self._states.clear()
            folder = _states_folder(self.settings)
            if folder is not None and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)

    def changes(
        self,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        *,
        node: str | None = None,
        direction: Direction = Direction.BOTH,
        cursor: str | None = None,
        limit: int = 1000,
        kinds: Sequence[str] = (),
    ) -> history_changes.Page:
        """Every change between two moments (all of history, by default), oldest first, paged;
        `node` keeps those about the assets in its lineage (`direction`), as it is now and as it
        was at `since`."""
        self.timeline.refresh(self.store)
        start = self.moment(since).position if since is not None else 0
        if since is None:
            first = versioning.since(self.store)
            if first is None:
                history_timeline.check_kept(self.store, self.timeline, 0)
            start = max(0, (first or 1) - 1)
        end = self.timeline.read_up_to if until is None else self.moment(until).position
        unknown = sorted(set(kinds) - set(history_changes.ALL_KINDS))
        if unknown:
            raise InputError(
                f"unknown kind {unknown[0]!r}; use one of {', '.join(history_changes.ALL_KINDS)}"
            )
        if not 1 <= limit <= history_changes.MAX_LIMIT:
            raise InputError(f"limit must be 1 to {history_changes.MAX_LIMIT}")
        subjects = None
        if node is not None:
            subjects = {n.id for n in self.lineage(node, direction).nodes}
            if since is not None:
                with contextlib.suppress(NotFoundError):
                    subjects |= {n.id for n in self.lineage(node, direction, as_of=since).nodes}
        return history_changes.between(
            self.store,
            self.ontology,
            self.timeline,
            start,
            end,
            cursor=history_changes.parse_cursor(cursor),
            limit=limit,
            subjects=subjects,
            kinds=set(kinds) or None,
        )

    def asset_history(self, identifier: str, limit: int = 100) -> dict[str, Any]:
        """An asset's versions, newest first: each write that changed what is said of it, with
        when, who, which source and what changed."""
        iri = self.iri(identifier)
        self.timeline.refresh(self.store)
        written = history_changes.history_of(self.store, self.ontology, self.timeline, iri, limit)
        if not written and not self.exists(iri):
            raise NotFoundError(f"no asset {iri} in the graph, now or before")
        return {
            "id": iri,
            "historySince": versioning.since(self.store),
            "versions": [
                {
                    "position": w.position,
                    "at": w.at.isoformat() if w.at else None,
                    "by": w.writer,
                    "sources": list(w.sources),
                    "load": w.load,
                    "changes": [c.as_dict() for c in changes],
                }
                for w, changes in written
            ],
        }

    def prune_history(self, before: dt.datetime) -> dict[str, object]:
        """Remove the versions of the writes before `before` (answers as of a moment before it
        are then refused): the one way history is destroyed, recorded with who and when."""
        with self.writing:
            self.timeline.refresh(self.store)
            position = self.timeline.position_at(before)
            result = history_prune.prune(self.store, self.timeline, position, acting())
        with self._states_lock:
            for made in self._states.values():
                made.close()
            self._states.clear()
        self.lineage_history.position = None
        return result

    def _walker(self, as_of: dt.datetime | None) -> walks.IndexedWalker:
        """The walker over the index now, or as of a moment (the caller holds the index)."""
        if as_of is None:
            return self.walker
        moment = self.moment(as_of)
        if moment.position >= self.timeline.read_up_to:
            return self.walker
        self.lineage_history.reach(self.store, self.timeline, moment.position)
        return self._as_of_walkers.walker(self.lineage_history, moment.position)

    def stats(self) -> dict[str, object]:
        return jobs.stats(self.store, self.settings.base_iri)
