"""A remote SPARQL 1.1 store behind kg's store interface (`kg.store.GraphStore`).

`RemoteStore` speaks the SPARQL 1.1 Protocol (queries and updates sent by POST) and, where the
server has one, the Graph Store Protocol (a graph read whole), over kept-alive connections of
the standard library's `http.client`, and answers with the same pyoxigraph objects as the
embedded `OxigraphStore`: query results parsed by pyoxigraph, pattern reads as `ox.Triple` /
`ox.Quad`, graph names as `ox.NamedNode`. How each method maps onto the protocols:

* `query`: the text (with `substitutions` written into it, see `bind`) in one POST. kg's default
  dataset, the union of all graphs, is asked for by the server's own means (`union`); a dataset
  the caller names goes as `default-graph-uri` / `named-graph-uri`, with "every named graph"
  spelled out as the list of graphs when the caller gives default graphs only (the protocol
  has no word for it), and "none" as a graph no one writes (no parameter would leave the
  choice to the server). `base_iri` becomes a `BASE` before the text.
* `triples` / `quads` / `graphs` / `size` / `graph_sizes`: SELECT queries, read as they stream in.
* `graph`: the Graph Store Protocol's GET (a SELECT when there is no GSP endpoint).
* `commit`: one SPARQL Update request holding a `DROP SILENT GRAPH` per replaced or dropped
  graph and one `INSERT DATA`. The SPARQL 1.1 Protocol leaves the atomicity of a request of
  several operations to the server, so this is an assumption per server: Oxigraph server runs
  each update request in one transaction (read in its `/update` handler, and tested here);
  Fuseki on TDB2 and RDF4J / GraphDB say they run one request in one transaction (not tested
  here); Virtuoso 7.2 does not: the operations before the one that fails stay done (tested
  here, with `DEFINE sql:log-enable` 0 or 1 too). A change larger than `max_update_bytes` is
  sent in parts, and put back (the replaced graphs restored) if a part fails, as the embedded
  store's bulk path does: readers may see it half-written meanwhile.
* `dump`: every quad (or, for a graph format, the union as one graph), read as it streams in
  and written as it is read.

**Blank nodes across requests.** A SPARQL query cannot name a stored blank node (`_:b` in a
query is a variable), and servers label blank nodes per answer or per store as they like, so a
blank node read in one request could not be looked up in the next. kg looks blank nodes up all
the time (an asset's fields and metrics, the gate's neighbourhoods), so the remote store keeps
them as Skolem IRIs, as RDF 1.1 Concepts (3.5) recommends: `_:x` is written as
`<https://w3id.org/mlg/.well-known/genid/x>` and read back as `_:x`, in every answer kg gets
(pattern reads, query results, dumps) and in every term kg sends (patterns, substitutions).
So a blank node keeps its label from one request to the next, as in the embedded store. What
differs: other clients of the server see those IRIs; `isBLANK` / `isIRI` / `isURI` in query
text are rewritten to treat them as blank nodes, but `STR()` of one gives the IRI where the
embedded store has no value; blank nodes the server itself makes (a CONSTRUCT template's `[]`,
data other tools wrote) come back with the server's labels and cannot be looked up.

**What else differs from the embedded store.** Answers come in the server's order (the
embedded store's own order differs between memory and disk; only the byte order of an export
follows it). A relative IRI in a query without `base_iri` is resolved by Oxigraph server
against its own URL, where the embedded store refuses it. `BOUND(?v)` of a substituted
variable is true (the embedded store says false). kg reads the store pattern by pattern, so
chatty paths (the write gate's neighbourhoods) cost a round trip per read: about 0.4 ms on
loopback over a kept connection.

**Virtuoso** (`union="virtuoso"`, tested with Debian's 7.2.5). Updates go to its authenticated
`/sparql-auth`, which takes Digest credentials only (`kg.httpauth`), as a user with the
SPARQL_UPDATE role. Its default graph is the union of every graph, its own among them
(`system_graphs`): kg's pattern reads, counts and dumps leave those out, queries see them.
Graphs are listed by `GROUP BY ?g` (it answers `GRAPH ?g { }` with nothing, and `DISTINCT ?g`
with some graphs missing), and read by SELECT, because it cuts every answer at the
`ResultSetMaxRows` of its virtuoso.ini and says so (`X-SPARQL-MaxRows`) of query results only:
kg refuses such an answer rather than read it as whole. It takes one `BASE`, so a query's own
is resolved against `base_iri` instead of following it. Its errors are read for their line
and their kind (a time limit is a `BusyError`, a missing right a `StoreUnavailableError`).

**Bounds.** Every network operation (connect, each read) waits at most `timeout` seconds; a
query's evaluation is bounded by the server (`oxigraph serve --timeout-s`). Answers are read in
chunks: those kg holds whole (query results) stop at `max_response_bytes`, the streamed ones
(pattern reads, graphs, dumps) are never held whole.

**Errors.** A query the server cannot parse is a `QueryError` with the server's message
(pointed at the line, as the embedded store does); a query that fails while running, a
`QueryError` too. A server that does not answer, answers too late, refuses kg's credentials
or answers outside the protocol is a `StoreUnavailableError` (503).
"""

from __future__ import annotations

import http.client
import io
import re
import ssl
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Literal, TypeVar, cast

import pyoxigraph as ox

import kg
from kg.errors import BusyError, KGError, QueryError, StoreUnavailableError
from kg.graphs import NONE_GRAPH
from kg.httpauth import Credentials
from kg.sparqltext import explain_syntax_error, mask
from kg.store import GraphWrite, QueryResult, Term, insert_data, open_store

# Blank nodes as the remote store keeps them (RDF 1.1 Concepts 3.5, "well-known" Skolem IRIs).
SKOLEM = "https://w3id.org/mlg/.well-known/genid/"
CHUNK = 64 * 1024  # bytes read from the network at a time
MAX_RESPONSE_BYTES = 256 * 1024 * 1024
MAX_UPDATE_BYTES = 64 * 1024 * 1024  # Oxigraph server takes SPARQL bodies up to 128 MiB
# A graph no one writes: the default graph of a dataset the caller wants empty.
NO_GRAPH = NONE_GRAPH.value

_FORM = "application/x-www-form-urlencoded"
_RESULTS_ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "text/tab-separated-values;q=0.8"
)
_GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
_ERROR_BYTES = 64 * 1024
_CANCELLED = b"The SPARQL operation has been cancelled"

Union = Literal["parameter", "server", "virtuoso"]
# The graphs a fresh Virtuoso 7.2 database holds for itself: its RDF views' metadata, the LDP
# vocabulary, and the service description and DAV graphs named after its [URIQA] DefaultHost
# (Debian's virtuoso.ini: localhost:8890).
VIRTUOSO_GRAPHS = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localhost:8890/sparql",
    "http://localhost:8890/DAV/",
)
T = TypeVar("T")


def endpoints(url: str) -> tuple[str, str, str | None]:
    """The query, update and Graph Store endpoints of a store named by one URL: an Oxigraph
    server's root (`http://host:7878`) gives its /query, /update and /store; any other URL
    is one endpoint for queries and updates, without a Graph Store (Fuseki's `/ds`,
    Virtuoso's `/sparql`)."""
    parts = urllib.parse.urlsplit(url)
    if parts.path in ("", "/"):
        root = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        return f"{root}/query", f"{root}/update", f"{root}/store"
    return url, url, None


class RemoteStore:
    """A SPARQL 1.1 service as kg's store: `query_url` answers queries, `update_url` takes
    updates (None: a read-only store), `gsp_url` is the Graph Store Protocol endpoint (None:
    graphs are read by SELECT).

    `auth` is a (user, password) pair, sent as the server asks (HTTP Basic or Digest, see
    `kg.httpauth`), or a bearer token; credentials in a URL (`http://user:secret@host/`) are
    taken as a pair. `union` says how the server gives the union of all graphs as the default
    graph: `"parameter"` (Oxigraph server: the `union-default-graph` request parameter; without
    it the default graph is the real one), `"server"` (the default graph already is the union:
    GraphDB, Fuseki with `tdb2:unionDefaultGraph`, `oxigraph serve --union-default-graph`), or
    `"virtuoso"` (the union too, and Virtuoso's ways, see the module's notes; `system_graphs`,
    by default `VIRTUOSO_GRAPHS`, are the graphs it keeps for itself, which kg's pattern
    reads, counts and dumps leave out, while queries see them in the union as every client of
    Virtuoso does). With a union of the server's, the real default graph cannot be read on its
    own, and `quads` and `size` count the named graphs only.
    """

    shared = True  # every kg process (and `kg` command) pointed at the server

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        gsp_url: str | None = None,
        *,
        auth: tuple[str, str] | str | None = None,
        timeout: float = 60.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_update_bytes: int = MAX_UPDATE_BYTES,
        union: Union = "parameter",
        system_graphs: Iterable[str] | None = None,
    ) -> None:
        urls = [query_url, update_url, gsp_url]
        for url in urls:
            if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise StoreUnavailableError(f"{_shown(url)} is not an http(s) URL of a store")
        if auth is None:
            parts = urllib.parse.urlsplit(query_url)
            if parts.username is not None:
                auth = (
                    urllib.parse.unquote(parts.username),
                    urllib.parse.unquote(parts.password or ""),
                )
        self.query_url = _without_credentials(query_url)
        self.update_url = None if update_url is None else _without_credentials(update_url)
        self.gsp_url = None if gsp_url is None else _without_credentials(gsp_url)
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        self.max_update_bytes = max_update_bytes
        self.union = union
        # Whether the server runs an update request as one transaction (Virtuoso 7.2 keeps the
        # operations before one that fails): when not, a commit is put back if it fails.
        self.atomic_updates = union != "virtuoso"
        hidden = list(VIRTUOSO_GRAPHS if system_graphs is None else system_graphs)
        if union != "virtuoso" and system_graphs:
            raise StoreUnavailableError("only a Virtuoso store (union 'virtuoso') hides graphs")
        self.system_graphs = [ox.NamedNode(g) for g in hidden] if union == "virtuoso" else []
        # kg's own reads leave Virtuoso's graphs out. Not by its `DEFINE input:*-graph-exclude`
        # pragmas: with one, Virtuoso 7.2 finds nothing in `GRAPH <iri> { }`.
        names = ", ".join(str(g) for g in self.system_graphs)
        self._kept = f" FILTER(?g NOT IN ({names}))" if names else ""
        self._credentials = Credentials(auth) if auth else None
        # Straight to the server, as kg.client does: no proxy from the environment.
        self._connections = _Connections(timeout)
        # A store dropped without close() closes its kept connections as it goes.
        weakref.finalize(self, self._connections.close)
        self._write_lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_url(cls, url: str, **options: object) -> RemoteStore:
        """The store at one URL (see `endpoints`)."""
        query, update, gsp = endpoints(url)
        return cls(query, update, gsp, **options)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r})"

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
        text = bind(sparql, substitutions or {})
        prologue = ""
        if base_iri is not None:
            try:
                base = ox.NamedNode(base_iri)
            except ValueError as exc:
                raise QueryError(f"query failed: {exc}") from exc
            # Virtuoso takes one BASE: the query's own, resolved against kg's, stands for both.
            merged = _merged_base(text, base_iri) if self.union == "virtuoso" else None
            if merged is not None:
                text = merged
            else:
                prologue += f"BASE {base} "
        form = query_form(text)
        dataset = self._dataset(default_graph, named_graphs, as_written)
        params = [("query", prologue + text), *dataset]
        accept = _RESULTS_ACCEPT if form in ("SELECT", "ASK") else _GRAPH_ACCEPT
        with self._answer(self.query_url, params, accept, "query", text, len(prologue)) as answer:
            body = answer.read_all(self.max_response_bytes)
            media = answer.media
        if form in ("SELECT", "ASK"):
            return _query_results(body, media, self.query_url)
        return _query_triples(body, media, self.query_url)

    def triples(
        self, subject: Term | None, predicate: ox.NamedNode | None, obj: Term | None
    ) -> Iterator[ox.Triple]:
        """Triples matching the pattern in any graph, each once."""
        pattern = _Pattern(subject, predicate, obj)
        where = f"GRAPH ?g {{ {pattern} }}{self._kept}" if self._kept else str(pattern)
        if pattern.variables:
            text = f"SELECT DISTINCT {pattern.projection()} WHERE {{ {where} }}"
        else:
            text = f"SELECT (1 AS ?found) WHERE {{ {where} }} LIMIT 1"
        for row in self._rows(text, union=True):
            yield pattern.triple(row)

    def quads(
        self, subject: Term | None, predicate: ox.NamedNode | None, obj: Term | None
    ) -> Iterator[ox.Quad]:
        """Quads matching the pattern, with the named graph each one is in."""
        pattern = _Pattern(subject, predicate, obj)
        if self.union != "parameter":  # the real default graph cannot be told apart
            where = f"GRAPH ?g {{ {pattern} }}{self._kept}"
        else:
            where = f"{{ GRAPH ?g {{ {pattern} }} }} UNION {{ {pattern} }}"
        text = f"SELECT {pattern.projection('?g')} WHERE {{ {where} }}"
        for row in self._rows(text, union=False):
            yield pattern.quad(row)

    def graph(self, name: ox.NamedNode) -> list[ox.Triple]:
        if self.gsp_url is not None:
            url = f"{self.gsp_url}?{urllib.parse.urlencode({'graph': _to_store(name).value})}"
            answer = self._open(
                "GET", url, accept=_GRAPH_ACCEPT, kind="graph read", missing_ok=True
            )
            if answer is None:  # 404: no such graph, which is an empty one
                return []
            with answer:
                return list(_parsed_triples(answer))
        # A SELECT, not a CONSTRUCT: a server that cuts answers short (Virtuoso's
        # ResultSetMaxRows) says so of query results only.
        pattern = _Pattern(None, None, None)
        text = f"SELECT ?s ?p ?o WHERE {{ GRAPH {_to_store(name)} {{ ?s ?p ?o }} }}"
        return [pattern.triple(row) for row in self._rows(text, union=False)]

    def graphs(self) -> list[ox.NamedNode]:
        found = []
        # Virtuoso answers `GRAPH ?g { }` with no graph at all, and `SELECT DISTINCT ?g` with
        # some graphs left out (openlink/virtuoso-opensource#80): graphs are grouped triples.
        text = (
            f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }}{self._kept} }} GROUP BY ?g"
            if self.union == "virtuoso"
            else "SELECT ?g WHERE { GRAPH ?g { } }"
        )
        for row in self._rows(text, union=False):
            name = _from_store(row[0])
            if isinstance(name, ox.NamedNode):
                found.append(name)
        return found

    def graphs_content(self, names: Sequence[ox.NamedNode]) -> dict[ox.NamedNode, list[ox.Triple]]:
        """Each graph's triples, `_BATCH` graphs a query (the graphs that hold none left out)."""
        found: dict[ox.NamedNode, list[ox.Triple]] = {}
        for chunk in _chunks(list(dict.fromkeys(names))):
            values = " ".join(str(_to_store(g)) for g in chunk)
            where = f"VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }}"
            text = f"SELECT ?g ?s ?p ?o WHERE {{ {where} }}"
            for row in self._rows(text, union=False):
                graph = _from_store(row["g"])
                assert isinstance(graph, ox.NamedNode)
                found.setdefault(graph, []).append(
                    ox.Triple(_from_store(row["s"]), row["p"], _from_store(row["o"]))  # type: ignore[arg-type]
                )
        return found

    def quads_of(
        self, subjects: Sequence[ox.NamedNode | ox.BlankNode]
    ) -> dict[ox.NamedNode | ox.BlankNode, list[ox.Quad]]:
        """Every quad of each subject, `_BATCH` subjects a query (those with none left out)."""
        found: dict[ox.NamedNode | ox.BlankNode, list[ox.Quad]] = {}
        for chunk in _chunks(list(dict.fromkeys(subjects))):
            values = " ".join(str(_to_store(s)) for s in chunk)
            if self.union != "parameter":  # the real default graph cannot be told apart
                where = f"GRAPH ?g {{ ?s ?p ?o }}{self._kept}"
            else:
                where = "{ GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o }"
            text = f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} {where} }}"
            for row in self._rows(text, union=False):
                subject = _from_store(row["s"])
                assert isinstance(subject, ox.NamedNode | ox.BlankNode)
                graph = row["g"]
                name = ox.DefaultGraph() if graph is None else _from_store(graph)
                found.setdefault(subject, []).append(
                    ox.Quad(subject, row["p"], _from_store(row["o"]), name)  # type: ignore[arg-type]
                )
        return found

    # -- writes

    def commit(self, write: GraphWrite) -> None:
        """Apply one change so that every part lands or none does: one update request
        (`DROP SILENT GRAPH` per target, then `INSERT DATA`), which the server runs as one
        transaction; past `max_update_bytes`, in parts, put back if one fails."""
        # Everything is read from the caller's iterables before anything is sent.
        replaced = [
            ox.Quad(t.subject, t.predicate, t.object, g)
            for g, ts in write.replace.items()
            for t in ts
        ]
        appended = list(write.append)
        targets = list(dict.fromkeys([*write.drop, *write.replace.keys()]))
        drops = [f"DROP SILENT GRAPH {_to_store(g)}" for g in targets]
        inserts = insert_data(_to_store_quad(q) for q in [*replaced, *appended])
        text = " ;\n".join([*drops, *([inserts] if inserts else [])])
        if not text:
            return
        with self._write_lock:
            body = text.encode("utf-8")
            try:
                if len(body) <= self.max_update_bytes and self.atomic_updates:
                    self._update(body, text)
                else:  # (a server that runs a request's operations one by one: put back too)
                    self._commit_in_parts(targets, replaced, appended)
            except QueryError as exc:  # a term pyoxigraph printed but the server cannot read
                raise QueryError(f"could not write the change: {exc.message}") from exc

    def _commit_in_parts(
        self, targets: list[ox.NamedNode], replaced: list[ox.Quad], appended: list[ox.Quad]
    ) -> None:
        previous = [
            ox.Quad(t.subject, t.predicate, t.object, g)
            for g, ts in self.graphs_content(targets).items()
            for t in ts
        ]
        drops = [f"DROP SILENT GRAPH {_to_store(g)}" for g in targets]
        parts = self._parts(replaced) or [""]
        # The appended quads go last, in the last request: a failure before it leaves none of
        # them to take back (taking one back could remove a quad that was there before).
        tail = insert_data(_to_store_quad(q) for q in appended)
        requests = [
            " ;\n".join(p for p in [*(drops if i == 0 else []), part] if p)
            for i, part in enumerate(parts)
        ]
        if tail:
            requests[-1] = " ;\n".join(p for p in (requests[-1], tail) if p)
        done = 0
        try:
            for request in requests:
                self._update(request.encode("utf-8"), request)
                done += 1
        except KGError as failure:
            # the first request is all or nothing by itself, where the server runs a request as
            # one transaction
            if (done == 0 and self.atomic_updates) or not drops:
                raise
            try:
                self._update((" ;\n".join(drops)).encode("utf-8"), "")
                for part in self._parts(previous):
                    self._update(part.encode("utf-8"), part)
            except KGError as again:
                raise StoreUnavailableError(
                    f"a write sent in parts failed ({failure.message}), and putting back the "
                    f"{len(targets)} graphs it replaces failed too ({again.message}): they may "
                    "hold part of it"
                ) from failure
            raise

    def _parts(self, quads: list[ox.Quad]) -> list[str]:
        """`INSERT DATA` requests of at most about `max_update_bytes` each."""
        parts: list[str] = []
        batch: list[ox.Quad] = []
        size = 0
        for quad in quads:
            stored = _to_store_quad(quad)
            length = len(str(stored).encode("utf-8")) + 16
            if batch and size + length > self.max_update_bytes:
                parts.append(insert_data(batch))
                batch, size = [], 0
            batch.append(stored)
            size += length
        if batch:
            parts.append(insert_data(batch))
        return parts

    def _update(self, body: bytes, text: str) -> None:
        if self.update_url is None:
            raise StoreUnavailableError(f"the store at {self.query_url} takes no updates")
        answer = self._open(
            "POST",
            self.update_url,
            data=body,
            content_type="application/sparql-update",
            kind="update",
            sent=text,
        )
        if answer is not None:
            with answer:
                answer.read_all(_ERROR_BYTES, keep=False)

    # -- whole-store operations

    def dump(self, output: IO[bytes], rdf_format: ox.RdfFormat) -> None:
        if rdf_format.supports_datasets:
            ox.serialize(self.quads(None, None, None), output, rdf_format)
            return
        # A graph format gets the union of all graphs, as queries see it (read by a SELECT,
        # as `graph` reads one).
        ox.serialize(self.triples(None, None, None), output, rdf_format)

    def size(self) -> int:
        if self.union != "parameter":
            where = f"GRAPH ?g {{ ?s ?p ?o }}{self._kept}"
        else:
            where = "{ GRAPH ?g { ?s ?p ?o } } UNION { ?s ?p ?o }"
        rows = list(self._rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}", union=False))
        return int(_value(rows[0][0])) if rows else 0

    def graph_sizes(self) -> dict[str, int]:
        where = f"GRAPH ?g {{ ?s ?p ?o }}{self._kept}"
        text = f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ {where} }} GROUP BY ?g"
        return {_value(row[0]): int(_value(row[1])) for row in self._rows(text, union=False)}

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._connections.close()

    # -- the protocol

    def _union_params(self) -> list[tuple[str, str]]:
        return [("union-default-graph", "")] if self.union == "parameter" else []

    def _dataset(
        self,
        default_graph: list[ox.NamedNode] | None,
        named_graphs: list[ox.NamedNode] | None,
        as_written: bool,
    ) -> list[tuple[str, str]]:
        """The protocol's dataset parameters for what `query` was asked."""
        if default_graph is None and named_graphs is None:
            return [] if as_written else self._union_params()
        # Named graphs and default graphs go together in the protocol: "every named graph" or
        # "the union as the default graph" beside a chosen other half is spelled out.
        named = list(named_graphs) if named_graphs is not None else self.graphs()
        defaults = list(default_graph) if default_graph is not None else self.graphs()
        # No parameter at all would be the server's own choice (Virtuoso: every graph).
        defaults = defaults or [ox.NamedNode(NO_GRAPH)]
        named = named or [ox.NamedNode(NO_GRAPH)]
        return [("default-graph-uri", g.value) for g in defaults] + [
            ("named-graph-uri", g.value) for g in named
        ]

    def _rows(self, text: str, *, union: bool) -> Iterator[ox.QuerySolution]:
        """A SELECT of kg's own, its rows parsed as they arrive."""
        params = [("query", text), *(self._union_params() if union else [])]
        with self._answer(self.query_url, params, _RESULTS_ACCEPT, "read", text) as answer:
            results = _guarded(
                lambda: ox.parse_query_results(cast(IO[bytes], answer), answer.results_format()),
                self.query_url,
                answer,
            )
            if not isinstance(results, ox.QuerySolutions):
                raise StoreUnavailableError(
                    f"the store at {self.query_url} answered a SELECT with a boolean"
                )
            yield from _guarded_iter(results, self.query_url, answer)

    def _answer(
        self,
        url: str,
        params: list[tuple[str, str]],
        accept: str,
        kind: str,
        sent: str | None = None,
        shift: int = 0,
    ) -> _Body:
        data = urllib.parse.urlencode(params).encode("ascii")
        answer = self._open(
            "POST",
            url,
            data=data,
            content_type=_FORM,
            accept=accept,
            kind=kind,
            sent=sent,
            shift=shift,
        )
        assert answer is not None
        return answer

    def _open(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        kind: str,
        sent: str | None = None,
        shift: int = 0,
        missing_ok: bool = False,
    ) -> _Body | None:
        """The server's answer (None for a 404 when `missing_ok`); refusals as kg's errors."""
        if self._closed:
            raise StoreUnavailableError(f"the store at {self.query_url} was closed")
        headers = {"User-Agent": f"kg/{kg.__version__}"}
        if accept:
            headers["Accept"] = accept
        if content_type:
            headers["Content-Type"] = content_type
        parts = urllib.parse.urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):  # again once, with the credentials a 401 asks for
            authorization = self._credentials and self._credentials.header(method, target)
            if authorization:
                headers["Authorization"] = authorization
            try:
                answer = self._connections.exchange(method, url, data, headers)
            except TimeoutError:
                raise StoreUnavailableError(
                    f"the store at {url} did not answer within {self.timeout:g} s"
                ) from None
            except (http.client.HTTPException, OSError) as exc:
                raise StoreUnavailableError(f"the store at {url} does not answer ({exc})") from None
            status = answer.response.status
            if (
                status != 401
                or attempt == 2
                or self._credentials is None
                or not self._credentials.challenged(answer.response.getheader("WWW-Authenticate"))
            ):
                break
            with answer:
                answer.read_all(_ERROR_BYTES, keep=False)
        if status < 300:
            _check_whole(answer, kind)
            return answer
        with answer:
            if status == 404 and missing_ok:
                return None
            message = answer.read_all(_ERROR_BYTES, keep=True, past="cut").decode(
                "utf-8", errors="replace"
            )
        raise _refusal(kind, url, status, message.strip(), sent, shift)


class _Connections:
    """Kept-alive HTTP connections to the store, reused once an answer is read to its end (a
    request on a fresh connection costs about five times one on a kept one, on loopback)."""

    KEEP = 8  # idle connections kept per server

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def exchange(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> _Body:
        parts = urllib.parse.urlsplit(url)
        https = parts.scheme == "https"
        key = (parts.scheme, parts.hostname or "", parts.port or (443 if https else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        with self._lock:
            idle = self._idle.get(key, [])
            reused = idle.pop() if idle else None
        if reused is not None:
            try:
                return self._send(key, reused, method, target, body, headers, url)
            except (http.client.RemoteDisconnected, ConnectionError):
                # The server closed a kept connection before reading the request; every request
                # kg sends can be sent again (a commit replaces graphs, appends a set of quads).
                reused.close()
            except BaseException:  # any other failure: the connection closed, not left open
                reused.close()
                raise
        connection: http.client.HTTPConnection
        if https:
            connection = http.client.HTTPSConnection(
                key[1], key[2], timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(key[1], key[2], timeout=self.timeout)
        try:
            return self._send(key, connection, method, target, body, headers, url)
        except BaseException:
            connection.close()
            raise

    def _send(
        self,
        key: tuple[str, str, int],
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        body: bytes | None,
        headers: dict[str, str],
        url: str,
    ) -> _Body:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return _Body(response, url, lambda: self._release(key, connection, response))

    def _release(
        self,
        key: tuple[str, str, int],
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
    ) -> None:
        if not response.isclosed() or response.will_close:  # not read to its end: not reusable
            connection.close()
            return
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.KEEP:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


# -- answers


class _Body(io.RawIOBase):
    """An HTTP answer read in chunks, each read under the socket's timeout."""

    def __init__(
        self,
        response: http.client.HTTPResponse,
        url: str,
        release: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.response = response
        self.url = url
        self._release = release
        self.media = response.headers.get_content_type()
        self.read_bytes = 0
        self.tail = b""  # the last bytes read, for what a server writes into a broken answer

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        chunk = self._chunk(min(len(buffer), CHUNK))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.read_all(None)
        return self._chunk(min(size, CHUNK))

    def _chunk(self, size: int) -> bytes:
        try:
            chunk = self.response.read(size)
        except TimeoutError:
            raise StoreUnavailableError(
                f"the store at {self.url} stopped answering in the middle of an answer"
            ) from None
        except (http.client.HTTPException, OSError) as exc:
            raise StoreUnavailableError(
                f"the store's answer from {self.url} broke off ({exc!r})"
            ) from None
        self.read_bytes += len(chunk)
        if chunk:
            self.tail = (self.tail + chunk)[-256:]
        return chunk

    def read_all(
        self, limit: int | None, *, keep: bool = True, past: Literal["refuse", "cut"] = "refuse"
    ) -> bytes:
        """The whole answer (or nothing, not `keep`), refused past `limit` bytes (or cut)."""
        parts = []
        while chunk := self._chunk(CHUNK):
            if keep:
                parts.append(chunk)
            if limit is not None and self.read_bytes > limit:
                if past == "cut" or not keep:
                    return b"".join(parts)[:limit]
                raise QueryError(
                    f"the store's answer is larger than {limit} bytes (the remote store's "
                    "max_response_bytes): ask for less (LIMIT, fewer variables)"
                )
        return b"".join(parts)

    def results_format(self) -> ox.QueryResultsFormat:
        found = ox.QueryResultsFormat.from_media_type(self.media)
        if found is None or found == ox.QueryResultsFormat.CSV:
            raise StoreUnavailableError(
                f"the store at {self.url} answered {self.media}, not SPARQL query results"
            )
        return found

    def rdf_format(self) -> ox.RdfFormat:
        found = ox.RdfFormat.from_media_type(self.media)
        if found is None:
            raise StoreUnavailableError(f"the store at {self.url} answered {self.media}, not RDF")
        return found

    def close(self) -> None:
        if not self.closed:
            if self._release is not None:
                self._release()
            self.response.close()
        super().close()

    def __enter__(self) -> _Body:
        return self


def _unreadable(url: str, exc: Exception, tail: bytes) -> KGError:
    if _CANCELLED in tail:  # Oxigraph server: a query past --timeout-s, its answer begun
        return BusyError(f"the store at {url} stopped the query at its time limit")
    return StoreUnavailableError(f"the answer of the store at {url} cannot be read: {exc}")


def _guarded(make: Callable[[], T], url: str, body: _Body | None = None) -> T:
    try:
        return make()
    except KGError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(url, exc, body.tail if body else b"") from exc


def _guarded_iter(items: Iterable[T], url: str, body: _Body) -> Iterator[T]:
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except KGError:
            raise
        except (OSError, SyntaxError, ValueError) as exc:
            raise _unreadable(url, exc, body.tail) from exc
        yield item


def _parsed_triples(body: _Body) -> Iterator[ox.Triple]:
    parser = _guarded(lambda: ox.parse(cast(IO[bytes], body), body.rdf_format()), body.url, body)
    for quad in _guarded_iter(parser, body.url, body):
        yield ox.Triple(_from_store(quad.subject), quad.predicate, _from_store(quad.object))  # type: ignore[arg-type]


def _query_results(body: bytes, media: str, url: str) -> ox.QuerySolutions | ox.QueryBoolean:
    found = ox.QueryResultsFormat.from_media_type(media)
    if found is None or found == ox.QueryResultsFormat.CSV:
        raise StoreUnavailableError(f"the store at {url} answered {media}, not query results")
    if _CANCELLED in body[-256:]:  # rows are parsed as they are read: look before
        raise _unreadable(url, ValueError("cancelled"), body[-256:])
    if SKOLEM.encode() in body or SKOLEM.replace("/", "\\/").encode() in body:
        body = _unskolemized(body.decode("utf-8"), found).encode("utf-8")
    try:
        return ox.parse_query_results(body, found)
    except (OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(url, exc, body[-256:]) from exc


def _query_triples(body: bytes, media: str, url: str) -> ox.QueryTriples:
    """A CONSTRUCT's answer as pyoxigraph's own triples iterator (which only a store makes:
    the triples go through a scratch store in memory)."""
    found = ox.RdfFormat.from_media_type(media)
    if found is None:
        raise StoreUnavailableError(f"the store at {url} answered {media}, not RDF")
    try:
        parsed = list(ox.parse(body, found))
    except (OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(url, exc, body[-256:]) from exc
    scratch = open_store(None)
    scratch.add(
        ox.Quad(_from_store(q.subject), q.predicate, _from_store(q.object))  # type: ignore[arg-type]
        for q in parsed
    )
    result = scratch.query("CONSTRUCT WHERE { ?s ?p ?o }", as_written=True)
    assert isinstance(result, ox.QueryTriples)  # it holds the scratch store while iterated
    return result


# Skolem IRIs back to blank nodes, in query results as the server wrote them.
_LABEL = r"\w(?:[\w.\-]*[\w\-])?"
_SLASHED = re.escape(SKOLEM).replace("/", r"\\?/")
_JSON_URI = re.compile(
    r'"type"\s*:\s*"uri"\s*,\s*"value"\s*:\s*"' + _SLASHED + rf'({_LABEL})"'
    r'|"value"\s*:\s*"' + _SLASHED + rf'({_LABEL})"\s*,\s*"type"\s*:\s*"uri"'
)
_XML_URI = re.compile(r"<uri>" + re.escape(SKOLEM) + rf"({_LABEL})</uri>")
_TSV_URI = re.compile(r"(?<![^\t\n])<" + re.escape(SKOLEM) + rf"({_LABEL})>(?=[\t\r\n]|$)")


def _unskolemized(text: str, fmt: ox.QueryResultsFormat) -> str:
    # In each format a term is a whole token (a JSON object's members, an XML element, a TSV
    # field), and a literal that merely contains the IRI's text is escaped differently: only
    # IRI terms are rewritten.
    if fmt == ox.QueryResultsFormat.JSON:
        return _JSON_URI.sub(lambda m: f'"type":"bnode","value":"{m.group(1) or m.group(2)}"', text)
    if fmt == ox.QueryResultsFormat.XML:
        return _XML_URI.sub(lambda m: f"<bnode>{m.group(1)}</bnode>", text)
    return _TSV_URI.sub(lambda m: f"_:{m.group(1)}", text)


def _check_whole(answer: _Body, kind: str) -> None:
    """Refuse an answer Virtuoso says it cut short: at its [SPARQL] ResultSetMaxRows (it says
    so of query results only, and only by a header) or at a time limit ("anytime" queries)."""
    headers = answer.response.headers
    rows = headers.get("X-SPARQL-MaxRows")
    if rows is not None:
        answer.close()
        message = (
            f"the store at {answer.url} cut its answer at {rows} rows (Virtuoso's "
            "ResultSetMaxRows in the [SPARQL] section of virtuoso.ini)"
        )
        if kind == "query":
            raise QueryError(f"{message}: ask for less (LIMIT), or raise it")
        raise StoreUnavailableError(f"{message}: raise it above the number of quads stored")
    if headers.get("X-SQL-State") == "S1TAT":
        answer.close()
        raise BusyError(f"the store at {answer.url} stopped the query at its time limit")


_POSITION = re.compile(r"(?:.*?)error at (\d+):(\d+): ", re.DOTALL)
# Virtuoso's errors: "Virtuoso <SQLSTATE> Error <code>: <message>", then the text it was sent.
_VIRTUOSO = re.compile(
    r"Virtuoso (\w+) Error ([\w:]+?):\s(.*?)(?:\n+SPARQL query:\n.*)?", re.DOTALL
)
_VIRTUOSO_LINE = re.compile(r"SPARQL compiler, line (\d+): (.*)", re.DOTALL)


def _refusal(
    kind: str, url: str, status: int, message: str, sent: str | None, shift: int
) -> KGError:
    """A refusal of the server as kg's error."""
    virtuoso = _VIRTUOSO.fullmatch(message)
    if virtuoso is not None:
        return _virtuoso_refusal(kind, url, virtuoso)
    shown = message[:2000] or f"HTTP {status}"
    if status == 400 and kind in ("query", "update", "read"):
        found = _POSITION.match(message)
        if found is not None and sent is not None:
            line, column = int(found.group(1)), int(found.group(2))
            if line == 1 and column > shift:  # the BASE kg wrote before the text
                column -= shift
            error = f"error at {line}:{column}: {message[found.end() :]}"
            what = "SPARQL update syntax error" if kind == "update" else "SPARQL syntax error"
            return QueryError(f"{what} at {explain_syntax_error(sent, error)}")
        return QueryError(f"the store refused the {kind}: {shown}")
    if status in (401, 403):
        return StoreUnavailableError(
            f"the store at {url} refused kg's credentials (HTTP {status}): check "
            "KG_SPARQL_USER / KG_SPARQL_PASSWORD or KG_SPARQL_TOKEN"
        )
    if status == 413:
        return QueryError(f"the store refused the {kind} as too large (HTTP 413): {shown}")
    if status == 500 and kind in ("query", "update"):
        return QueryError(f"{kind} failed: {shown}")
    return StoreUnavailableError(f"the store at {url} answered HTTP {status} to a {kind}: {shown}")


def _virtuoso_refusal(kind: str, url: str, found: re.Match[str]) -> KGError:
    """Virtuoso's error as kg's, without the query text it repeats (kg's pragmas in it)."""
    state, code, text = found.group(1), found.group(2), found.group(3).strip()[:2000]
    compiler = _VIRTUOSO_LINE.match(text)
    if compiler is not None and state == "37000":  # it names the line, not the column
        what = "SPARQL update syntax error" if kind == "update" else "SPARQL syntax error"
        return QueryError(f"{what} at line {compiler.group(1)}: {compiler.group(2)}")
    if code == "SR171" or state.startswith("S1T"):  # MaxQueryExecutionTime
        return BusyError(f"the store at {url} stopped the {kind} at its time limit")
    if code.startswith("SR186"):  # SECURITY: no permission
        return StoreUnavailableError(
            f"the store at {url} does not let kg's user run the {kind} ({code}: {text}): an "
            "update needs a user with Virtuoso's SPARQL_UPDATE role (KG_SPARQL_USER)"
        )
    if kind in ("query", "update", "read"):
        return QueryError(f"{kind} failed: Virtuoso {code}: {text}")
    return StoreUnavailableError(f"the store at {url} refused a {kind}: Virtuoso {code}: {text}")


# -- terms: blank nodes as Skolem IRIs on the server


def _to_store(term: Term) -> ox.NamedNode | ox.Literal:
    if isinstance(term, ox.BlankNode):
        return ox.NamedNode(SKOLEM + term.value)
    return term


def _from_store(term: object) -> Term:
    if isinstance(term, ox.NamedNode) and term.value.startswith(SKOLEM):
        try:
            return ox.BlankNode(term.value[len(SKOLEM) :])
        except ValueError:  # not one kg wrote: an IRI like any other
            return term
    assert isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal)
    return term


def _to_store_quad(quad: ox.Quad) -> ox.Quad:
    graph = quad.graph_name
    return ox.Quad(
        _to_store(quad.subject),  # type: ignore[arg-type]
        quad.predicate,
        _to_store(quad.object),  # type: ignore[arg-type]
        ox.NamedNode(SKOLEM + graph.value) if isinstance(graph, ox.BlankNode) else graph,
    )


def _value(term: object) -> str:
    assert isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal)
    return term.value


_BATCH = 200  # terms in one VALUES block of a batched read


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


@dataclass
class _Pattern:
    """A triple pattern as SPARQL text, and its rows back as triples or quads."""

    subject: Term | None
    predicate: ox.NamedNode | None
    object: Term | None
    variables: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.variables = [
            name
            for name, term in (("s", self.subject), ("p", self.predicate), ("o", self.object))
            if term is None
        ]

    def __str__(self) -> str:
        return " ".join(
            f"?{name}" if term is None else str(_to_store(term))
            for name, term in (("s", self.subject), ("p", self.predicate), ("o", self.object))
        )

    def projection(self, *more: str) -> str:
        return " ".join([*(f"?{v}" for v in self.variables), *more])

    def _terms(self, row: ox.QuerySolution) -> tuple[Term, ox.NamedNode, Term]:
        values = iter(row)
        s = self.subject if self.subject is not None else _from_store(next(values))
        p = self.predicate if self.predicate is not None else next(values)
        o = self.object if self.object is not None else _from_store(next(values))
        assert isinstance(p, ox.NamedNode)
        return s, p, o

    def triple(self, row: ox.QuerySolution) -> ox.Triple:
        s, p, o = self._terms(row)
        return ox.Triple(s, p, o)  # type: ignore[arg-type]

    def quad(self, row: ox.QuerySolution) -> ox.Quad:
        s, p, o = self._terms(row)
        graph = row[len(self.variables)]
        name = ox.DefaultGraph() if graph is None else _from_store(graph)
        return ox.Quad(s, p, o, name)  # type: ignore[arg-type]


def _shown(url: str) -> str:
    return repr(_without_credentials(url))


def _without_credentials(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# -- query text: substitutions written in, blank-node tests aware of Skolem IRIs

_VARNAME = r"[\w\u00B7\u0300-\u036F\u203F-\u2040]+"
_KW = r"(?<![\w:?$\-.])(?:{})(?![\w:\-])"
_LEXEME = re.compile(
    rf"(?P<var>[?$]{_VARNAME})"
    r"|(?P<punct>[{}()*])"
    r"|(?P<kw>"
    + _KW.format("SELECT|WHERE|FROM|AS|VALUES|GROUP|ORDER|HAVING|LIMIT|OFFSET|BOUND")
    + ")",
    re.IGNORECASE,
)
_BOUND_CALL = re.compile(rf"BOUND\s*\(\s*(?P<v>[?$]{_VARNAME})\s*\)", re.IGNORECASE)
_FORM_KEYWORD = re.compile(_KW.format("SELECT|ASK|CONSTRUCT|DESCRIBE"), re.IGNORECASE)
_KIND_TEST = re.compile(_KW.format("isBLANK|isIRI|isURI") + r"\s*\(", re.IGNORECASE)


_BASE = re.compile(_KW.format("BASE"), re.IGNORECASE)
_IRIREF = re.compile(r'\s*<([^<>"{}|^`\\\x00-\x20]*)>')


def _merged_base(text: str, base_iri: str) -> str | None:
    """The query with the IRI of its first BASE resolved against `base_iri`, or None when its
    prologue has no BASE."""
    masked = mask(text)
    form = _FORM_KEYWORD.search(masked)
    found = _BASE.search(masked, 0, form.start() if form else len(masked))
    iri = None if found is None else _IRIREF.match(text, found.end())
    if iri is None:
        return None
    resolved = urllib.parse.urljoin(base_iri, iri.group(1))
    return f"{text[: iri.start(1) - 1]}<{resolved}>{text[iri.end() :]}"


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the query's first form keyword."""
    found = _FORM_KEYWORD.search(mask(text))
    return found.group(0).upper() if found else "SELECT"


@dataclass
class _Scope:
    """A SELECT (the query's own or a sub-query) while its text is read."""

    brace: int  # the group depth it stands at; it ends when a `}` goes below
    paren: int
    top: bool
    projecting: bool = True
    projected: set[str] = field(default_factory=set)
    star: bool = False
    clause: str | None = None  # "group" / "order" while in GROUP BY / ORDER BY
    where: int | None = None  # where its WHERE group's `{` ends


@dataclass
class _Use:
    start: int
    end: int
    name: str
    written: str
    context: str  # term, projection, modifier, bound, alias, values
    chain: list[_Scope]


def bind(text: str, substitutions: Mapping[str, Term]) -> str:
    """The query with each substituted variable given its value in the text, as Oxigraph's
    pre-binding evaluates it: the value stands for the variable wherever the query's own
    scope (and every sub-query that selects the variable) sees it; a selected variable stays
    in the results (`SELECT (<value> AS ?v)`); `BOUND(?v)` is true. A variable the query does
    not select, or binds itself (`AS ?v`, `VALUES ?v`), is refused. Terms are written in
    N-Triples syntax (blank nodes as their Skolem IRIs). Then `isBLANK` / `isIRI` / `isURI` are
    made to see Skolem IRIs as blank nodes."""
    if not substitutions:
        return _blank_aware(text)
    values: dict[str, str] = {}
    for raw, term in substitutions.items():
        name = raw.lstrip("?$")
        if not isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
            raise QueryError(f"?{name} can only be given an IRI, a blank node or a literal")
        values[name] = str(_to_store(term))
    uses, top = _uses(text, set(values))
    visible = [
        use
        for use in uses  # not a sub-query's own variable of the same name:
        if all(scope.top or scope.star or use.name in scope.projected for scope in use.chain)
    ]
    # A sub-query selecting the variable keeps it a variable of the query around it, which
    # then selects it as it is (writing `(<value> AS ?v)` there would bind it twice).
    provided = {(id(outer), use.name) for use in visible for outer in use.chain[:-1]}
    stars: dict[int, tuple[_Scope, set[str]]] = {}
    edits: list[tuple[int, int, str]] = []
    for use in visible:
        value = values[use.name]
        if use.context in ("alias", "values"):
            bound_by = "AS" if use.context == "alias" else "VALUES"
            raise QueryError(
                f"?{use.name} cannot be given a value: the query binds it itself ({bound_by})"
            )
        for scope in use.chain:
            if scope.star:
                stars.setdefault(id(scope), (scope, set()))[1].add(use.name)
        if use.context == "projection":
            if (id(use.chain[-1]), use.name) in provided:
                continue
            replacement = f"({value} AS {use.written})"
        else:
            replacement = {"modifier": f"({value})", "bound": "true"}.get(use.context, value)
        edits.append((use.start, use.end, replacement))
    seen = {use.name for use in visible}
    for name in values:
        selected = top is None or top.star or name in top.projected
        if not selected or name not in seen:
            raise QueryError(f"the query does not select ?{name}, so it cannot be given a value")
    for scope, names in stars.values():  # SELECT *: the variable stays in its results
        if scope.where is not None:
            binds = "".join(f" BIND({values[n]} AS ?{n})" for n in sorted(names))
            edits.append((scope.where, scope.where, binds))
    result = text
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        result = result[:start] + replacement + result[end:]
    return _blank_aware(result)


def _uses(text: str, names: set[str]) -> tuple[list[_Use], _Scope | None]:
    """Every place a substituted variable is written, with what it is there."""
    masked = mask(text)
    scopes: list[_Scope] = []
    top: _Scope | None = None
    braces = parens = 0
    after_as = in_values = False
    bound: dict[int, tuple[int, int]] = {}  # a variable's position in BOUND(?v) -> the call
    uses: list[_Use] = []
    for m in _LEXEME.finditer(masked):
        kind, lexeme = m.lastgroup, m.group(0)
        scope = scopes[-1] if scopes else None
        if kind == "kw":
            word = lexeme.upper()
            if word == "SELECT":
                scopes.append(_Scope(braces, parens, top=not scopes and braces == 0))
                top = top or (scopes[-1] if scopes[-1].top else None)
            elif word == "AS":
                after_as = True
            elif word == "VALUES":
                in_values = True
            elif word == "BOUND":
                call = _BOUND_CALL.match(masked, m.start())
                if call is not None:
                    bound[call.start("v")] = (call.start(), call.end())
            elif scope is not None and braces == scope.brace and parens == scope.paren:
                if word in ("WHERE", "FROM"):
                    scope.projecting = False
                elif word in ("GROUP", "ORDER"):
                    scope.clause = word.lower()
                else:  # HAVING, LIMIT, OFFSET
                    scope.clause = None
            continue
        if kind == "punct":
            if lexeme == "{":
                in_values = False
                if scope is not None and scope.projecting and parens == scope.paren:
                    scope.projecting = False
                braces += 1
                if scope is not None and scope.where is None and braces == scope.brace + 1:
                    scope.where = m.end()
            elif lexeme == "}":
                braces -= 1
                while scopes and braces < scopes[-1].brace:
                    scopes.pop()
            elif lexeme == "(":
                parens += 1
            elif lexeme == ")":
                parens -= 1
            elif scope is not None and scope.projecting and parens == scope.paren:
                scope.star = True
            continue
        name = lexeme[1:]
        alias, after_as = after_as, False
        base = scope is not None and parens == scope.paren
        if scope is not None and scope.projecting and (base or alias):
            scope.projected.add(name)
        if name not in names:
            continue
        if in_values:
            context = "values"
        elif alias:
            context = "alias"
        elif m.start() in bound:
            context = "bound"
        elif scope is not None and scope.projecting and base:
            context = "projection"
        elif scope is not None and scope.clause is not None and base and braces == scope.brace:
            context = "modifier"
        else:
            context = "term"
        start, end = bound.get(m.start(), (m.start(), m.end()))
        uses.append(_Use(start, end, name, lexeme, context, list(scopes)))
    return uses, top


def _blank_aware(text: str) -> str:
    """`isBLANK(x)` true of Skolem IRIs too, `isIRI(x)` / `isURI(x)` false of them."""
    masked = mask(text)
    if _KIND_TEST.search(masked) is None:
        return text
    out: list[str] = []
    at = 0
    for m in _KIND_TEST.finditer(masked):
        if m.start() < at:
            continue  # inside an argument already rewritten
        close = _closing(masked, m.end() - 1)
        if close is None:
            break  # unbalanced: the server will say where
        argument = _blank_aware(text[m.end() : close])
        test = m.group(0)[: m.group(0).index("(")].strip()
        prefix = f'STRSTARTS(STR({argument}), "{SKOLEM}")'
        if test.upper() == "ISBLANK":
            new = f"({test}({argument}) || (isIRI({argument}) && {prefix}))"
        else:
            new = f"({test}({argument}) && !{prefix})"
        out.append(text[at : m.start()])
        out.append(new)
        at = close + 1
    out.append(text[at:])
    return "".join(out)


def _closing(masked: str, opening: int) -> int | None:
    depth = 0
    for index in range(opening, len(masked)):
        char = masked[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return None
