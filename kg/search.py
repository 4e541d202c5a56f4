"""Full-text search and discovery over names, descriptions, tags and ids, with facets.

Oxigraph has no text index, so kg keeps one in SQLite FTS5 (standard library, embedded) beside
the store. The pipeline refreshes it for the subjects of every write before the write's request
returns, so a write is searchable as soon as it is acknowledged. Each refresh records the load
it follows; at start-up an index that does not match the store's latest load (a crash between
the two commits, a store changed by another tool) is rebuilt from the store.

Searches with words are ranked, counted and faceted by Tantivy (kg.search_tantivy), which
follows SQLite: each SQLite write bumps a version that Tantivy's commits record, and a Tantivy
index that does not record SQLite's version at start-up is rebuilt from SQLite's tables. SQLite
keeps the texts (for the hits and their snippets), the listing without words, by name, and the
facet values of the hits.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.graphs import ASSET_GRAPH_PREFIX, graph_source, is_data_graph
from kg.ontology import Ontology
from kg.search_tantivy import ANALYZER, Entry, TextIndex, tokens
from kg.store import GraphStore
from kg.vocab import (
    DCAT_KEYWORD,
    DCTERMS_DESCRIPTION,
    MLG,
    OWNER,
    RDF_TYPE,
    RDFS_LABEL,
    STAGE,
    STATUS,
    mlg,
    value,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(
    iri UNINDEXED, name, tags, ident, description, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS facet_values (
    id INTEGER PRIMARY KEY, facet TEXT NOT NULL, value TEXT NOT NULL, UNIQUE (facet, value)
);
CREATE TABLE IF NOT EXISTS doc_facets (
    doc INTEGER NOT NULL, fv INTEGER NOT NULL, PRIMARY KEY (doc, fv)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_facets_fv ON doc_facets (fv, doc);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Facet values are integers joined to documents by integer ids: counting facets over tens of
# thousands of matches then stays a few milliseconds. A file of another layout is rebuilt.
_LAYOUT = "3"
FACETS = ("type", "owner", "status", "stage", "tag", "source")
_RANK = "bm25(0.0, 10.0, 5.0, 4.0, 1.0)"
# Facets are counted over every match up to this many matches (KG_SEARCH_EXACT_FACETS). Past
# it they are estimated from about this many and scaled to the total: with words, from the
# matches in a few of Tantivy's buckets (kg.search_tantivy; at 1M, 3 ms where counting 300k
# matches takes 20); without, from windows of documents spread over the whole index (FTS5
# seeks each window in its doclists; counting a million matches' facets takes seconds). A
# facet list shows proportions. Exact counts on request.
FACETS_EXACT_UP_TO = 5_000
_FACET_WINDOWS = 4
# The describing predicates as IRIs, for statements given as text (kg.write.bulk).
_TYPE, _LABEL, _DESCRIPTION, _KEYWORD, _OWNER, _STATUS, _STAGE = (
    p.value for p in (RDF_TYPE, RDFS_LABEL, DCTERMS_DESCRIPTION, DCAT_KEYWORD, OWNER, STATUS, STAGE)
)
_WORDS = re.compile(r"\w+", re.UNICODE)
# FTS5 marks the matched words of a snippet with these private-use characters, which kg strips
# from what it indexes: splitting on them then never cuts a user's text.
_OPEN, _CLOSE = "\ue000", "\ue001"
_UNMARKED = str.maketrans("", "", _OPEN + _CLOSE)
_SNIPPET_TOKENS = 24
_BULK_CHUNK = 50_000  # documents written at a time by add_described


@dataclass(frozen=True)
class Segment:
    """A piece of a snippet: matched words, or the text around them."""

    text: str
    match: bool


@dataclass
class Hit:
    id: str
    type: str | None
    label: str | None
    score: float
    owner: list[str] = field(default_factory=list)
    status: str | None = None
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    snippet: list[Segment] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    # the name of every owner the hits and the owner facet give (None: none indexed)
    owner_names: dict[str, str | None] = field(default_factory=dict)
    # False: the facet counts are estimated from a sample of the matches (FACETS_EXACT_UP_TO)
    facets_exact: bool = True


@dataclass
class _Doc:
    iri: str
    name: str
    description: str
    tags: list[str]
    ident: str
    facets: list[tuple[str, str]]


def segments(marked: str) -> list[Segment]:
    """FTS5 `snippet()` / `highlight()` output, split on kg's markers.

    >>> [(s.text, s.match) for s in segments("the \ue000home\ue001 page")]
    [('the ', False), ('home', True), (' page', False)]
    """
    found: list[Segment] = []
    for n, piece in enumerate(marked.split(_OPEN)):
        inside, closed, after = piece.partition(_CLOSE)
        if not closed:  # no match opened here (the text before the first one)
            inside, after = "", inside
        if n and inside:
            found.append(Segment(inside, True))
        if after:
            found.append(Segment(after, False))
    return found


def _snippet(description: str, in_description: str, in_name: str, name: str) -> list[Segment]:
    """Where the words matched: the description around them, else the name, else the start of
    the description (they matched a tag or an id)."""
    for marked in (in_description, in_name):
        if _OPEN in marked:
            return segments(marked)
    if description:
        return segments(in_description)
    return [Segment(name, False)] if name else []


def _matcher(words: list[str]) -> Callable[[str], bool]:
    """Whether an indexed token matches one of the words (the last one as a prefix)."""
    exact = {t for word in words[:-1] for t in tokens(word)}
    last = tokens(words[-1]) if words else []
    exact.update(last[:-1])
    prefix = last[-1] if last else None
    return lambda token: token in exact or (prefix is not None and token.startswith(prefix))


def _marked(text: str, match: Callable[[str], bool], window: int | None = None) -> str:
    """`text` with its matching tokens between kg's markers, as FTS5's `highlight()` (all of
    it) or `snippet()` (the `window` tokens holding the most distinct matches, centred on them,
    with an ellipsis where the text goes on) give it."""
    found = [
        (t.char_offset_from, t.char_offset_to, t.text, match(t.text))
        for t in ANALYZER.pre_tokenize(text).tokens
    ]
    start, end = 0, len(found)
    if window is not None and len(found) > window:
        hits = [n for n, token in enumerate(found) if token[3]]
        best: tuple[int, int] = (-1, -1)
        for first in hits:
            inside = [n for n in hits if first <= n < first + window]
            score = (len({found[n][2] for n in inside}), len(inside))
            if score > best:
                best = score
                used = inside[-1] - first + 1
                start = max(0, min(first - (window - used) // 2, len(found) - window))
        end = start + window
    begin = found[start][0] if start else 0
    finish = found[end - 1][1] if end < len(found) else len(text)
    pieces, at = ["…" if start else ""], begin
    for low, high, _, hit in found[start:end]:
        if hit:
            pieces += [text[at:low], _OPEN, text[low:high], _CLOSE]
            at = high
    pieces += [text[at:finish], "…" if end < len(found) else ""]
    return "".join(pieces)


def _match_expression(text: str) -> str:
    """User text as an FTS5 query: every word must match, the last one as a prefix."""
    words = _WORDS.findall(text)
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " AND ".join(quoted)


class SearchIndex:
    def __init__(
        self, path: Path | None, ontology: Ontology, exact_facets_up_to: int = FACETS_EXACT_UP_TO
    ) -> None:
        self.ontology = ontology
        self.exact_facets_up_to = exact_facets_up_to
        self._lock = threading.Lock()
        self._path = path
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        # Searches on disk read through a connection per thread, in parallel with each other and
        # with writes (write-ahead log); the in-memory index has one connection, shared.
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        # Owners' names, as the owner facet shows them (a thousand at 1M: 6 ms a search read),
        # with the count of writes they were read at: any write empties it.
        self._owner_names: dict[str, str | None] = {}
        self._writes = 0
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        if self._layout() != _LAYOUT:
            tables = [
                r[0]
                for r in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'docs_%'"
                )
            ]
            with self._db:
                for table in tables:
                    self._db.execute(f'DROP TABLE IF EXISTS "{table}"')
        self._db.executescript(_SCHEMA)
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('layout', ?)", (_LAYOUT,))
            # Rank by BM25 with the column weights (name most, then tags, ids, descriptions).
            self._db.execute("INSERT INTO docs (docs, rank) VALUES ('rank', ?)", (_RANK,))
            # This file's identity: a Tantivy index made from another file is not in step.
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', ?)", (uuid.uuid4().hex,))
        text = None if path is None else path.with_name(path.name.removesuffix(".sqlite"))
        self._text = TextIndex(None if text is None else text.with_name(text.name + ".tantivy"))
        if self._text.state() != self._state():
            self._reindex_text()

    def _layout(self) -> str | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'layout'").fetchone()
        except sqlite3.OperationalError:
            return None
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            self._text.close()
            for reader in self._readers:
                reader.close()
            self._readers.clear()
        self._db.close()

    def _state(self) -> str:
        """What identifies SQLite's contents: the file's epoch and its count of writes."""
        rows = dict(
            self._db.execute("SELECT key, value FROM meta WHERE key IN ('epoch', 'version')")
        )
        return f"{rows['epoch']} {rows.get('version', '0')}"

    def _bump(self) -> str:
        """Count a write, in its transaction; the new state."""
        self._db.execute(
            "INSERT INTO meta VALUES ('version', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )
        return self._state()

    def _reindex_text(self) -> None:
        """Tantivy's index afresh from SQLite's tables, in id order (a merge of the documents
        and their facet values, both read by their keys)."""
        with self._lock:
            names = dict(
                (
                    (i, (f, v))
                    for i, f, v in self._db.execute("SELECT id, facet, value FROM facet_values")
                )
            )
            self._text.clear(self._state())
            facets = self._db.execute("SELECT doc, fv FROM doc_facets ORDER BY doc")
            pending = next(facets, None)
            entries = []
            for rowid, name, tags, ident, description in self._db.execute(
                "SELECT rowid, name, tags, ident, description FROM docs ORDER BY rowid"
            ):
                mine = []
                while pending is not None and pending[0] <= rowid:
                    if pending[0] == rowid:
                        mine.append(names[pending[1]])
                    pending = next(facets, None)
                entries.append(Entry(rowid, name, tags, ident, description, mine))
                if len(entries) >= _BULK_CHUNK:
                    self._text.write((), entries, self._state())
                    entries = []
            self._text.write((), entries, self._state())

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        if self._path is None:
            with self._lock:
                yield self._db
            return
        reader = getattr(self._local, "db", None)
        if reader is None:
            uri = f"{self._path.resolve().as_uri()}?mode=ro"
            reader = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.db = reader
            with self._lock:
                self._readers.append(reader)
        yield reader

    # -- keeping in step with the store

    def _describe(self, iri: str, quads: Iterable[ox.Quad]) -> _Doc | None:
        """The asset as the store now has it, read in one pass over its statements: every
        source's (an asset may be described by several, in graphs of their own)."""
        types: list[str] = []
        names, descriptions, tags, owners = [], [], [], []
        status = stage = None
        graphs: dict[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, bool] = {}  # data graph?
        for q in quads:
            graph = q.graph_name
            data = graphs.get(graph)
            if data is None:
                data = graphs[graph] = is_data_graph(graph)
            p, o = q.predicate, q.object
            if p == RDF_TYPE:
                # The types stated in data graphs, as kg.jobs.stats counts them (derived
                # super-classes and kg's own graphs left out), so the type facet agrees with it.
                if data:
                    types.append(value(o))
            elif p == RDFS_LABEL:
                names.append(value(o))
            elif p == DCTERMS_DESCRIPTION:
                descriptions.append(value(o))
            elif p == DCAT_KEYWORD:
                tags.append(value(o))
            elif p == OWNER:
                owners.append(value(o))
            elif p == STATUS:
                status = value(o)
            elif p == STAGE:
                stage = value(o)
        sources = {
            graph_source(g.value)
            for g, data in graphs.items()
            if data and isinstance(g, ox.NamedNode)
        }
        return self._document(
            iri, types, names, descriptions, tags, owners, status, stage, sorted(sources)
        )

    def _described(self, iri: str, flat: list[str]) -> _Doc | None:
        """An asset a bulk load wrote, from its statements in its asset graph as a flat list
        of (predicate IRI, value) pairs (kg.write.bulk.Added; derived types left out)."""
        types: list[str] = []
        names, descriptions, tags, owners = [], [], [], []
        status = stage = None
        for p, o in zip(flat[::2], flat[1::2], strict=True):
            if p == _TYPE:
                types.append(o)
            elif p == _LABEL:
                names.append(o)
            elif p == _DESCRIPTION:
                descriptions.append(o)
            elif p == _KEYWORD:
                tags.append(o)
            elif p == _OWNER:
                owners.append(o)
            elif p == _STATUS:
                status = o
            elif p == _STAGE:
                stage = o
        source = graph_source(ASSET_GRAPH_PREFIX + iri)
        return self._document(
            iri, types, names, descriptions, tags, owners, status, stage, [source]
        )

    def _document(
        self,
        iri: str,
        types: list[str],
        names: list[str],
        descriptions: list[str],
        tags: list[str],
        owners: list[str],
        status: str | None,
        stage: str | None,
        sources: list[str],
    ) -> _Doc | None:
        kind = self.ontology.specific_type(types)
        if kind is None or not kind.startswith(MLG):
            return None  # only typed assets, teams and people are searchable
        local = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        # what several sources said alike, once
        names, descriptions, tags, owners = (
            list(dict.fromkeys(v)) for v in (names, descriptions, tags, owners)
        )
        facets = [("type", kind)] + [("owner", o) for o in owners] + [("tag", t) for t in tags]
        facets += [("source", s) for s in sources]
        if status:
            facets.append(("status", status))
        if stage:
            facets.append(("stage", stage))
        ident = " ".join({iri, local, local.replace("-", " ").replace("_", " ")})
        name = " ".join(names).translate(_UNMARKED)
        return _Doc(iri, name, " ".join(descriptions).translate(_UNMARKED), tags, ident, facets)

    def refresh(self, store: GraphStore, subjects: Iterable[str], stamp: str | None) -> None:
        """Re-index the given subjects as the store now has them, in one SQLite transaction.
        Each is read from the store, not from what the write held: other sources may describe
        it too (a few microseconds a subject)."""
        wanted = set(subjects)
        statements = store.quads_of([ox.NamedNode(iri) for iri in wanted])
        docs = {iri: self._describe(iri, statements.get(ox.NamedNode(iri), ())) for iri in wanted}
        self._write(docs, stamp)

    def add_described(self, described: Iterable[tuple[str, list[str]]], stamp: str | None) -> None:
        """Index the assets a bulk load wrote from their statements (kg.write.bulk), without
        reading them back from the store: _BULK_CHUNK at a time (a million documents at once
        held 2 GiB), the stamp written with the last (an index stopped before it is behind the
        store, and repaired as any other)."""
        items = iter(described)
        while chunk := list(islice(items, _BULK_CHUNK)):
            docs = {iri: self._described(iri, flat) for iri, flat in chunk}
            last = len(chunk) < _BULK_CHUNK
            self._write(docs, stamp if last else None)
            if last:
                return
        self._write({}, stamp)  # a multiple of the chunk: the stamp alone

    def _write(self, docs: Mapping[str, _Doc | None], stamp: str | None) -> None:
        """Replace the documents of the given IRIs (None: no longer searchable), in SQLite's
        transaction, then in Tantivy's index (committed by the next search, kg.search_tantivy)."""
        with self._lock:
            try:
                old, entries, state = self._write_sqlite(docs, stamp)
                self._writes += 1
                self._owner_names = {}
                self._text.write(old, entries, state)
            except BaseException:
                # SQLite is the record; Tantivy's pending changes could be half made
                self._reindex_text()
                raise

    def _write_sqlite(
        self, docs: Mapping[str, _Doc | None], stamp: str | None
    ) -> tuple[list[int], list[Entry], str]:
        """The ids replaced, the entries written and SQLite's new state."""
        with self._db:
            old, unchanged = [], set()
            for iri, doc in docs.items():
                known = self._db.execute(
                    "SELECT e.id, d.name, d.tags, d.ident, d.description FROM entries e "
                    "JOIN docs d ON d.rowid = e.id WHERE e.iri = ?",
                    (iri,),
                ).fetchone()
                if known is None:
                    continue
                if doc is not None and self._unchanged(known, doc):
                    # left as it is: a replaced document stays in Tantivy's BM25 statistics
                    # until its segment merges, and an index refreshed more often (a store
                    # other processes write) would score the same assets otherwise
                    unchanged.add(iri)
                    continue
                old.append(known[0])
            if unchanged:
                docs = {iri: doc for iri, doc in docs.items() if iri not in unchanged}
            # docs rows share their rowid with `entries`, so deletes are key lookups
            gone = [(iri,) for iri in docs]
            self._db.executemany(
                "DELETE FROM docs WHERE rowid IN (SELECT id FROM entries WHERE iri = ?)", gone
            )
            self._db.executemany(
                "DELETE FROM doc_facets WHERE doc IN (SELECT id FROM entries WHERE iri = ?)", gone
            )
            self._db.executemany("DELETE FROM entries WHERE iri = ?", gone)
            present = [doc for doc in docs.values() if doc is not None]
            first = self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM entries").fetchone()[0]
            self._db.executemany(
                "INSERT INTO entries (id, iri) VALUES (?, ?)",
                [(first + n, doc.iri) for n, doc in enumerate(present)],
            )
            self._db.executemany(
                "INSERT INTO docs (rowid, iri, name, tags, ident, description) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (first + n, doc.iri, doc.name, " ".join(doc.tags), doc.ident, doc.description)
                    for n, doc in enumerate(present)
                ],
            )
            pairs = {(f, v) for doc in present for f, v in doc.facets}
            self._db.executemany(
                "INSERT OR IGNORE INTO facet_values (facet, value) VALUES (?, ?)", pairs
            )
            ids = self._facet_ids(pairs)
            self._db.executemany(
                "INSERT OR IGNORE INTO doc_facets (doc, fv) VALUES (?, ?)",
                [(first + n, ids[pair]) for n, doc in enumerate(present) for pair in doc.facets],
            )
            if stamp is not None:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('load', ?)", (stamp,))
            entries = [
                Entry(
                    first + n, doc.name, " ".join(doc.tags), doc.ident, doc.description, doc.facets
                )
                for n, doc in enumerate(present)
            ]
            return old, entries, self._bump()

    def _unchanged(self, known: tuple[Any, ...], doc: _Doc) -> bool:
        doc_id, name, tags, ident, description = known
        # (an ident's words are in no particular order: they come from a set)
        if (name, tags, sorted(ident.split(" ")), description) != (
            doc.name,
            " ".join(doc.tags),
            sorted(doc.ident.split(" ")),
            doc.description,
        ):
            return False
        facets = self._db.execute(
            "SELECT v.facet, v.value FROM doc_facets d JOIN facet_values v ON v.id = d.fv "
            "WHERE d.doc = ?",
            (doc_id,),
        )
        return set(facets) == set(doc.facets)

    def rebuild(self, store: GraphStore, stamp: str | None) -> int:
        """Index every asset of the store afresh, stamped with the position it reflects."""
        subjects = {
            g.value.removeprefix(ASSET_GRAPH_PREFIX)
            for g in store.graphs()
            if g.value.startswith(ASSET_GRAPH_PREFIX)
        }
        subjects |= {value(t.subject) for t in store.triples(None, RDF_TYPE, mlg("Asset"))}
        with self._lock:
            with self._db:
                self._db.execute("DELETE FROM docs")
                self._db.execute("DELETE FROM entries")
                self._db.execute("DELETE FROM doc_facets")
                self._db.execute("DELETE FROM facet_values")
                state = self._bump()
            self._writes += 1
            self._owner_names = {}
            self._text.clear(state)
        self.refresh(store, subjects, stamp)
        return len(subjects)

    def _facet_ids(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        wanted = set(pairs)
        if not wanted:
            return {}
        if len(wanted) > 500:  # many values: read them all at once
            rows = self._db.execute("SELECT facet, value, id FROM facet_values")
            return {(f, v): i for f, v, i in rows if (f, v) in wanted}
        found = {}
        for f, v in wanted:
            row = self._db.execute(
                "SELECT id FROM facet_values WHERE facet = ? AND value = ?", (f, v)
            ).fetchone()
            found[(f, v)] = row[0]
        return found

    def stamp(self) -> str | None:
        """The write of the change log the index was last brought in step with
        (kg.write.log.stamp)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'load'").fetchone()
        return row[0] if row else None

    def in_step(self, stamp: str) -> bool:
        """Whether the index reflects the change log up to the write `stamp` names."""
        return self.stamp() == stamp

    # -- asking

    def search(
        self,
        text: str,
        filters: dict[str, list[str]] | None = None,
        limit: int = 20,
        offset: int = 0,
        *,
        exact_facets: bool = False,
    ) -> SearchResult:
        """Ranked matches (name weighs most, then tags, ids, descriptions) with facet counts:
        exact up to FACETS_EXACT_UP_TO matches or with `exact_facets`, estimated past it."""
        words = _WORDS.findall(text)
        if words:
            return self._ranked(words, filters or {}, limit, offset, exact_facets)
        where, args = [], []
        for facet, values in (filters or {}).items():
            if values:
                marks = ",".join("?" * len(values))
                where.append(
                    "docs.rowid IN (SELECT d.doc FROM doc_facets d JOIN facet_values v "  # noqa: S608
                    f"ON v.id = d.fv WHERE v.facet = ? AND v.value IN ({marks}))"
                )
                args.extend([facet, *values])
        clause = " WHERE " + " AND ".join(where) if where else ""
        matches = f"SELECT docs.rowid AS doc FROM docs{clause}"  # noqa: S608 (placeholders only)
        with self._reading() as db:
            # A listing without words, by name. The page, the total and the facet counts are
            # each one SQL statement: the matches never travel through Python.
            page = db.execute(
                "SELECT docs.rowid, docs.iri, docs.name, 0.0, docs.description "  # noqa: S608
                f"FROM docs{clause} ORDER BY docs.name, docs.iri LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
            total = db.execute(f"SELECT COUNT(*) FROM ({matches})", args).fetchone()[0]  # noqa: S608
            exact = exact_facets or total <= self.exact_facets_up_to
            counts = self._facet_counts(db, matches, args, None if exact else total)
            if counts is None:  # the windows held no match: count them all
                exact, counts = True, self._facet_counts(db, matches, args, None)
                assert counts is not None
            hits = self._hits(db, page, None)
            return self._result(db, total, hits, counts, exact)

    def _ranked(
        self,
        words: list[str],
        filters: dict[str, list[str]],
        limit: int,
        offset: int,
        exact_facets: bool,
    ) -> SearchResult:
        """A search with words: ranked, counted and faceted by Tantivy; the page's texts,
        facet values and owners' names read from SQLite by id, the snippets made here."""
        ranked = self._text.search(
            words, filters, limit, offset, None if exact_facets else self.exact_facets_up_to
        )
        with self._reading() as db:
            rows: dict[int, tuple[str, str, str]] = {}
            if ranked.page:
                ids = [doc for doc, _ in ranked.page]
                for doc, iri, name, description in db.execute(
                    "SELECT rowid, iri, name, description FROM docs "  # noqa: S608
                    f"WHERE rowid IN ({','.join('?' * len(ids))})",
                    ids,
                ):
                    rows[doc] = (iri, name, description)
            # equal scores by IRI, whichever order the index holds them in
            page = sorted(
                (
                    (doc, *rows[doc][:2], score, rows[doc][2])
                    for doc, score in ranked.page
                    if doc in rows
                ),
                key=lambda row: (-row[3], row[1]),
            )
            hits = self._hits(db, page, _matcher(words))
            return self._result(db, ranked.total, hits, ranked.facets, ranked.exact)

    def _result(
        self,
        db: sqlite3.Connection,
        total: int,
        hits: list[Hit],
        counts: dict[str, dict[str, int]],
        exact: bool,
    ) -> SearchResult:
        owners = sorted({o for h in hits for o in h.owner} | set(counts.get("owner", {})))
        names = self._names(db, owners)
        facets = {
            f: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))) for f, v in counts.items()
        }
        return SearchResult(
            total=total, hits=hits, facets=facets, owner_names=names, facets_exact=exact
        )

    def _facet_counts(
        self, db: sqlite3.Connection, matches: str, args: list[str], total: int | None
    ) -> dict[str, dict[str, int]] | None:
        """Facet counts of the matches: all of them (no `total`), or estimated from the
        matches in _FACET_WINDOWS windows of ids spread evenly over the index, wide enough to
        hold about `exact_facets_up_to` of the `total` between them (None: they hold none)."""
        source, source_args = f"({matches})", args
        sampled = total
        if total is not None:
            # two statements: SQLite reads a lone MIN or MAX off the key, not both at once
            low = db.execute("SELECT MIN(id) FROM entries").fetchone()[0]
            high = db.execute("SELECT MAX(id) FROM entries").fetchone()[0]
            span = high - low + 1
            width = max(1, span * max(self.exact_facets_up_to, 1) // (total * _FACET_WINDOWS))
            starts = [low + span * w // _FACET_WINDOWS for w in range(_FACET_WINDOWS)]
            window = f"SELECT doc FROM ({matches}) WHERE doc BETWEEN ? AND ?"  # noqa: S608
            source = "(" + " UNION ALL ".join([window] * len(starts)) + ")"
            source_args = [a for start in starts for a in (*args, start, start + width - 1)]
            sampled = db.execute(f"SELECT COUNT(*) FROM {source}", source_args).fetchone()[0]  # noqa: S608
            if not sampled:
                return None
        counts: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        for facet, val, n in db.execute(
            "SELECT v.facet, v.value, c.n FROM (SELECT d.fv AS fv, COUNT(*) AS n "  # noqa: S608
            f"FROM {source} m JOIN doc_facets d ON d.doc = m.doc GROUP BY d.fv) c "
            "JOIN facet_values v ON v.id = c.fv",
            source_args,
        ):
            if total is not None and sampled is not None:  # scaled, and at least one
                n = min(total, max(1, round(n * total / sampled)))
            counts.setdefault(facet, {})[val] = n
        return counts

    def _names(self, db: sqlite3.Connection, iris: list[str]) -> dict[str, str | None]:
        """The indexed names of `iris`, through the IRI's unique index (the FTS table has
        none on its IRI column), in statements of a few hundred IRIs each."""
        cached, writes = self._owner_names, self._writes
        found: dict[str, str | None] = {iri: cached.get(iri) for iri in iris}
        missing = [iri for iri in iris if iri not in cached]
        for at in range(0, len(missing), 500):
            chunk = missing[at : at + 500]
            for iri, name in db.execute(
                "SELECT e.iri, d.name FROM entries e JOIN docs d ON d.rowid = e.id "  # noqa: S608
                f"WHERE e.iri IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                found[iri] = name or None
        if writes == self._writes:  # no write since: what was read is current
            cached.update((iri, found[iri]) for iri in missing)
        return found

    def _hits(
        self,
        db: sqlite3.Connection,
        page: list[tuple[Any, ...]],
        match: Callable[[str], bool] | None,
    ) -> list[Hit]:
        """The page's rows (id, IRI, name, score, description) as hits, with their facet
        values read in one statement, and snippets where `match` says the words are."""
        facets: dict[int, dict[str, list[str]]] = {row[0]: {} for row in page}
        if facets:
            marks = ",".join("?" * len(facets))
            for doc, facet, val in db.execute(
                "SELECT d.doc, v.facet, v.value FROM doc_facets d "  # noqa: S608
                f"JOIN facet_values v ON v.id = d.fv WHERE d.doc IN ({marks})",
                list(facets),
            ):
                facets[doc].setdefault(facet, []).append(val)
        hits = []
        for doc, iri, name, score, description in page:
            values = facets[doc]
            snippet = []
            if match is not None:
                in_description = _marked(description, match, _SNIPPET_TOKENS)
                snippet = _snippet(description, in_description, _marked(name, match), name)
            hits.append(
                Hit(
                    id=iri,
                    type=values["type"][0] if values.get("type") else None,
                    label=name or None,
                    score=round(score, 4),
                    owner=sorted(values.get("owner", [])),
                    status=values["status"][0] if values.get("status") else None,
                    tags=sorted(values.get("tag", [])),
                    description=description or None,
                    snippet=snippet,
                    sources=sorted(values.get("source", [])),
                )
            )
        return hits

    def related(self, text: str, kind: str | None, limit: int = 50) -> list[tuple[str, float]]:
        """Assets sharing any word with `text` (OR, not AND), best first: candidates for
        "does this already exist?"."""
        words = [w for w in _WORDS.findall(text) if len(w) > 2]
        found = self._text.related(words, kind, limit) if words else []
        if not found:
            return []
        with self._reading() as db:
            iris = dict(
                db.execute(
                    f"SELECT id, iri FROM entries WHERE id IN ({','.join('?' * len(found))})",  # noqa: S608
                    [doc for doc, _ in found],
                )
            )
        ranked = [(iris[doc], score) for doc, score in found if doc in iris]
        return sorted(ranked, key=lambda pair: (-pair[1], pair[0]))
