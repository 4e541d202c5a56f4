"""The one door to the graph store: only this module opens, reads or writes Oxigraph in process.

`GraphStore` is the interface the rest of kg programs against; `OxigraphStore` is the embedded
implementation (on disk or in memory); `kg.remote.RemoteStore` is the other one, a SPARQL 1.1
server, where every method maps to a SPARQL query, a SPARQL update or a Graph Store Protocol call.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import pyoxigraph as ox

from kg.errors import QueryError, StoreLockedError
from kg.graphs import ASSET_GRAPH_PREFIX, LOADS_GRAPH
from kg.sparqltext import explain_syntax_error

Term = ox.NamedNode | ox.BlankNode | ox.Literal
BULK_THRESHOLD = 100_000  # quads: above, writes use the bulk loader (see OxigraphStore.commit)
QueryResult = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


@dataclass(frozen=True)
class GraphWrite:
    """One atomic change: graphs replaced with new content, graphs dropped, quads appended."""

    replace: Mapping[ox.NamedNode, Iterable[ox.Triple]]
    drop: Iterable[ox.NamedNode] = ()
    append: Iterable[ox.Quad] = ()


class GraphStore(Protocol):
    # Whether other processes may write to it too (a server): kg then takes turns at writing
    # and follows the change log (kg.write.lease, kg.write.log).
    shared: bool

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graph: list[ox.NamedNode] | None = None,
        named_graphs: list[ox.NamedNode] | None = None,
        base_iri: str | None = None,
        as_written: bool = False,
    ) -> QueryResult: ...

    def triples(
        self, subject: Term | None, predicate: ox.NamedNode | None, obj: Term | None
    ) -> Iterator[ox.Triple]: ...

    def quads(
        self, subject: Term | None, predicate: ox.NamedNode | None, obj: Term | None
    ) -> Iterator[ox.Quad]: ...

    def graph(self, name: ox.NamedNode) -> list[ox.Triple]: ...

    def graphs(self) -> list[ox.NamedNode]: ...

    # Batched reads: what the write path reads of many graphs or subjects at once (one request
    # per few hundred on a server, instead of one each).
    def graphs_content(
        self, names: Sequence[ox.NamedNode]
    ) -> dict[ox.NamedNode, list[ox.Triple]]: ...

    def quads_of(
        self, subjects: Sequence[ox.NamedNode | ox.BlankNode]
    ) -> dict[ox.NamedNode | ox.BlankNode, list[ox.Quad]]: ...

    def commit(self, write: GraphWrite) -> None: ...

    def dump(self, output: IO[bytes], rdf_format: ox.RdfFormat) -> None: ...

    def size(self) -> int: ...

    def graph_sizes(self) -> dict[str, int]: ...

    def close(self) -> None: ...


def _term_text(term: Term | ox.Triple) -> str:
    # pyoxigraph prints terms in N-Triples syntax, which SPARQL accepts verbatim.
    return str(term)


def insert_data(quads: Iterable[ox.Quad]) -> str:
    """A SPARQL `INSERT DATA` for `quads`, grouped by graph."""
    by_graph: dict[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, list[str]] = {}
    for q in quads:
        by_graph.setdefault(q.graph_name, []).append(str(q.triple) + " .")
    parts = []
    for graph, lines in by_graph.items():
        body = "\n".join(lines)
        if isinstance(graph, ox.DefaultGraph):
            parts.append(body)
        else:
            parts.append(f"GRAPH {_term_text(graph)} {{\n{body}\n}}")
    return "INSERT DATA {\n" + "\n".join(parts) + "\n}" if parts else ""


class OxigraphStore:
    """The embedded store: a RocksDB directory, or memory when `path` is None.

    An on-disk store can hand out *views*: read-only checkpoints of its current state (hard
    links to its immutable files, a few milliseconds to make) that other processes open, so
    that work which may have to be killed (an analyst's query, a validation) never runs in the
    process that holds the store. A view is made when first asked for after a write.
    """

    shared = False  # RocksDB lets one process open the folder

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._generation = 0  # bumped by every write: a view older than this is stale
        self._view: tuple[int, Path] | None = None
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreLockedError(
                    f"the store at {path} is in use by another process (a running `kg serve`?); "
                    "stop it, or send the change to the server over HTTP"
                ) from exc
            raise
        self._write_lock = threading.Lock()
        if path is not None and not read_only:
            _remove_leftovers(path)

    # -- reads

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graph: list[ox.NamedNode] | None = None,
        named_graphs: list[ox.NamedNode] | None = None,
        base_iri: str | None = None,
        as_written: bool = False,
    ) -> QueryResult:
        """Run a SPARQL query; the default graph is the union of all graphs unless one is given,
        or unless `as_written` (the query's own FROM / FROM NAMED choose its dataset)."""
        subs: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable(k): v for k, v in (substitutions or {}).items()
        }
        graphs: list[ox.NamedNode | ox.BlankNode] | None = (
            list(named_graphs) if named_graphs is not None else None
        )
        try:
            if as_written and default_graph is None and named_graphs is None:
                return self._store.query(sparql, substitutions=subs, base_iri=base_iri)
            if default_graph is not None:
                return self._store.query(
                    sparql,
                    default_graph=list(default_graph),
                    named_graphs=graphs,
                    substitutions=subs,
                    base_iri=base_iri,
                )
            return self._store.query(
                sparql,
                use_default_graph_as_union=True,
                named_graphs=graphs,
                substitutions=subs,
                base_iri=base_iri,
            )
        except SyntaxError as exc:
            reason = explain_syntax_error(sparql, str(exc))
            raise QueryError(f"SPARQL syntax error at {reason}") from exc
        except (OSError, ValueError, RuntimeError) as exc:
            # RuntimeError: a substitution of a variable the query does not select
            raise QueryError(f"query failed: {exc}") from exc

    def triples(
        self, subject: Term | None, predicate: ox.NamedNode | None, obj: Term | None
    ) -> Iterator[ox.Triple]:
        """Triples matching the pattern in any graph, each once."""
        seen: set[ox.Triple] = set()
        for quad in self._store.quads_for_pattern(subject, predicate, obj, None):  # type: ignore[arg-type]
            triple = quad.triple
            if triple not in seen:
                seen.add(triple)
                yield triple

    def quads(
        self, subject: Term | None, predicate: ox.NamedNode | None, obj: Term | None
    ) -> Iterator[ox.Quad]:
        """Quads matching the pattern, with the named graph each one is in."""
        return self._store.quads_for_pattern(subject, predicate, obj, None)  # type: ignore[arg-type]

    def graph(self, name: ox.NamedNode) -> list[ox.Triple]:
        return [q.triple for q in self._store.quads_for_pattern(None, None, None, name)]

    def graphs(self) -> list[ox.NamedNode]:
        return [g for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)]

    def graphs_content(self, names: Sequence[ox.NamedNode]) -> dict[ox.NamedNode, list[ox.Triple]]:
        """Each graph's triples (the graphs that hold none left out)."""
        found = {name: self.graph(name) for name in names}
        return {name: triples for name, triples in found.items() if triples}

    def quads_of(
        self, subjects: Sequence[ox.NamedNode | ox.BlankNode]
    ) -> dict[ox.NamedNode | ox.BlankNode, list[ox.Quad]]:
        """Every quad of each subject (the subjects with none left out)."""
        found = {s: list(self._store.quads_for_pattern(s, None, None, None)) for s in subjects}
        return {subject: quads for subject, quads in found.items() if quads}

    # -- writes

    def commit(self, write: GraphWrite) -> None:
        """Apply one change so that every part lands or none does.

        Small changes are one transaction (`extend`, or one SPARQL update that drops the
        replaced graphs and inserts their content). Large ones use Oxigraph's bulk loader, which
        is not transactional: if it fails, kg puts back what was there (it drops the graphs it
        was writing and restores the replaced graphs' previous content) before re-raising.
        """
        quads = [
            ox.Quad(t.subject, t.predicate, t.object, g)
            for g, ts in write.replace.items()
            for t in ts
        ]
        quads.extend(write.append)
        targets = {*write.drop, *write.replace.keys()}
        with self._write_lock:
            self._generation += 1
            existing = [g for g in targets if self._store.contains_named_graph(g)]
            if len(quads) < BULK_THRESHOLD:
                self._commit_small(existing, quads)
            else:
                self._commit_bulk(existing, targets, quads, list(write.append))

    def _commit_small(self, existing: list[ox.NamedNode], quads: list[ox.Quad]) -> None:
        if not existing:
            self._store.extend(quads)
            return
        operations = [f"DROP SILENT GRAPH {_term_text(g)}" for g in existing]
        insert = insert_data(quads)
        if insert:
            operations.append(insert)
        try:
            self._store.update(" ;\n".join(operations))
        except SyntaxError as exc:  # a term pyoxigraph printed but cannot read back
            raise QueryError(f"could not write the change: {exc}") from exc

    def _commit_bulk(
        self,
        existing: list[ox.NamedNode],
        targets: set[ox.NamedNode],
        quads: list[ox.Quad],
        appended: list[ox.Quad],
    ) -> None:
        previous = [q for g in existing for q in self._store.quads_for_pattern(None, None, None, g)]
        new_appended = [q for q in appended if q not in self._store]
        try:
            for graph in existing:
                self._store.remove_graph(graph)
            self._store.bulk_extend(quads)
        except BaseException:
            for graph in targets:
                if self._store.contains_named_graph(graph):
                    self._store.remove_graph(graph)
            for quad in new_appended:
                self._store.remove(quad)
            self._store.extend(previous)
            raise

    # -- the bulk path (kg.write.bulk): new graphs from a file, by Oxigraph's bulk loader

    def has_data(self) -> bool:
        """Whether any asset graph is in the store."""
        found = self._store.query(
            f'ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{ASSET_GRAPH_PREFIX}")) }}'
        )
        return bool(found)

    def existing_graphs(self, names: list[str]) -> set[str]:
        """Those of the named graphs the store holds."""
        contains = self._store.contains_named_graph
        return {name for name in names if contains(ox.NamedNode(name))}

    def bulk_load_file(self, path: Path, graphs: list[str]) -> None:
        """Load an N-Quads file of new `graphs` (and appended records) by the bulk loader, then
        make it durable. The loader is not transactional: when it fails, the graphs it was
        writing and the records it appended are removed again before the error is raised."""
        with self._write_lock:
            self._generation += 1
            try:
                self._store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
                self._store.flush()
            except BaseException:
                for name in graphs:
                    graph = ox.NamedNode(name)
                    if self._store.contains_named_graph(graph):
                        self._store.remove_graph(graph)
                self._remove_records(path)
                raise

    def _remove_records(self, path: Path) -> None:
        """Remove the quads of kg's own graphs the failed file held (its load record)."""
        loads = f"<{LOADS_GRAPH.value}> .\n"
        with path.open(encoding="utf-8") as handle:
            records = [line for line in handle if line.endswith(loads)]
        for quad in ox.parse("".join(records).encode(), format=ox.RdfFormat.N_QUADS):
            self._store.remove(quad)

    def update(self, sparql: str, base_iri: str | None = None) -> None:
        """Run a SPARQL update as is. kg runs analysts' updates on a scratch copy (see
        kg.write.sparql_update); the graph of record changes through `commit` only."""
        with self._write_lock:
            self._generation += 1
            try:
                self._store.update(sparql, base_iri=base_iri)
            except SyntaxError as exc:
                reason = explain_syntax_error(sparql, str(exc))
                raise QueryError(f"SPARQL update syntax error at {reason}") from exc
            except (OSError, ValueError, RuntimeError) as exc:
                raise QueryError(f"update failed: {exc}") from exc

    def add(self, quads: Iterable[ox.Quad]) -> None:
        """Append quads in one transaction (used to fill scratch stores)."""
        with self._write_lock:
            self._generation += 1
            self._store.extend(quads)

    # -- whole-store operations

    def dump(self, output: IO[bytes], rdf_format: ox.RdfFormat) -> None:
        if rdf_format.supports_datasets:
            self._store.dump(output, rdf_format)
            return
        # A graph format gets the union of all graphs, as queries see it.
        result = self._store.query("CONSTRUCT WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
        assert isinstance(result, ox.QueryTriples)
        result.serialize(output, rdf_format)

    def size(self) -> int:
        return len(self._store)

    def graph_sizes(self) -> dict[str, int]:
        result = self._store.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        )
        assert isinstance(result, ox.QuerySolutions)
        return {row["g"].value: int(row["n"].value) for row in result}

    # -- views for other processes

    def views_folder(self) -> Path | None:
        return None if self.path is None else self.path.with_name(self.path.name + ".views")

    def view(self) -> Path | None:
        """A read-only checkpoint holding every write committed so far (None in memory)."""
        folder = self.views_folder()
        if folder is None or self.read_only:
            return None
        with self._write_lock:
            if self._view is not None and self._view[0] == self._generation:
                return self._view[1]
            folder.mkdir(exist_ok=True)
            target = folder / f"{self._generation:010d}-{uuid.uuid4().hex[:8]}"
            self._store.backup(str(target))
            self._view = (self._generation, target)
            return target

    def prune_views(self, in_use: set[Path]) -> None:
        """Remove the views no process reads any more (never the current one)."""
        folder = self.views_folder()
        if folder is None or not folder.is_dir():
            return
        with self._write_lock:
            current = self._view[1] if self._view is not None else None
            for view in folder.iterdir():
                if view != current and view not in in_use:
                    shutil.rmtree(view, ignore_errors=True)

    def close(self) -> None:
        if self.path is not None and not self.read_only:
            self._store.flush()
        del self._store
        folder = self.views_folder()
        if folder is not None and not self.read_only:
            shutil.rmtree(folder, ignore_errors=True)


def to_ntriples(
    source: Path, rdf_format: ox.RdfFormat, base_iri: str | None, target: Path, scratch: Path
) -> None:
    """A file of another RDF syntax as N-Triples, parsed and written by Oxigraph (loaded in a
    scratch store on disk under `scratch`, then dumped). Raises SyntaxError as the parser does."""
    staging = ox.Store(str(scratch))
    try:
        staging.bulk_load(path=source, format=rdf_format, base_iri=base_iri)
        staging.dump(output=target, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    finally:
        del staging
        shutil.rmtree(scratch, ignore_errors=True)


def open_store(path: Path | None) -> OxigraphStore:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
    return OxigraphStore(path)


def open_view(path: Path) -> OxigraphStore:
    """A view made by `OxigraphStore.view`, opened read-only (in a worker process)."""
    return OxigraphStore(path, read_only=True)


def _remove_leftovers(path: Path) -> None:
    """What a process killed in the middle of a write left beside the live files: the bulk
    loader's unfinished files (never part of the database until ingested) and old views.
    Called once the store's lock is held, so no other process is using them."""
    for leftover in path.glob("bulk-*.sst"):
        leftover.unlink(missing_ok=True)
    views = path.with_name(path.name + ".views")
    if views.is_dir():
        shutil.rmtree(views, ignore_errors=True)


def altered_copy(
    store: GraphStore,
    folder: Path | None,
    *,
    without_graphs: Callable[[str], bool],
    without_subjects: dict[ox.NamedNode, set[ox.NamedNode]],
    added: Iterable[ox.Quad],
) -> OxigraphStore:
    """A store holding what `store` holds but the graphs `without_graphs` names and the
    statements of `without_subjects` (subject -> in those graphs), plus `added`: read-only
    once made. From an embedded store on disk, made in `folder` as a checkpoint (hard links)
    changed in place, so it costs what changes, not the store's size; from any other store, a
    copy in memory (a server's store read whole)."""
    if isinstance(store, OxigraphStore) and store.path is not None and folder is not None:
        with store._write_lock:
            store._store.backup(str(folder))
        copy = ox.Store(str(folder))
        doomed = [g for g in copy.named_graphs() if isinstance(g, ox.NamedNode)]
        for graph in doomed:
            if without_graphs(graph.value):
                copy.remove_graph(graph)
        for subject, graphs in without_subjects.items():
            for graph in graphs:
                for quad in list(copy.quads_for_pattern(subject, None, None, graph)):
                    copy.remove(quad)
        copy.extend(added)
        copy.flush()
        del copy
        return OxigraphStore(folder, read_only=True)
    made = OxigraphStore(None)
    kept = (
        q
        for q in store.quads(None, None, None)
        if not (isinstance(q.graph_name, ox.NamedNode) and without_graphs(q.graph_name.value))
        and not (
            q.subject in without_subjects and q.graph_name in without_subjects[q.subject]  # type: ignore[index]
        )
    )
    made.add(kept)
    made.add(added)
    made.read_only = True
    return made
