"""Ranking, counting and faceting of searches with words, on Tantivy (kg.search).

FTS5 scores every match of a query with bm25 before it can return the best 20: at a million
assets a common word has 100k-300k matches, and ranking alone took 190 ms. Tantivy (embedded,
Rust) ranks, counts and aggregates facet values over the same matches in a few milliseconds.
SQLite stays the index of record (kg.search): this index holds, for each of its documents, the
words to match (under SQLite's `entries.id`) and the facet values as fast fields, and can be
rebuilt from SQLite alone.

Committing Tantivy costs 10-100 ms (a segment written and synced), too dear for each write. A
write is added at once but committed when a search next reads, or by a timer shortly after the
last write, or at close: every write is searchable before its request returns, and writes stay
cheap. After each commit a file in the folder records the SQLite state it reflects
(kg.search.SearchIndex's `_state`; written after the commit, so it never claims more than the
index holds): one that does not match at start-up (killed before a commit) means a rebuild from
SQLite. Not a document of the index: BM25 counts deleted documents until segments merge, and
one replaced on every commit would skew the scores with the number of writes.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from kg.errors import StoreLockedError

# Field weights as FTS5's bm25 had them (name most, then tags, ids, descriptions).
WEIGHTS = {"name": 10.0, "tags": 5.0, "ident": 4.0, "description": 1.0}
FACETS = ("type", "owner", "status", "stage", "tag", "source")
_LAYOUT = "1"  # of the schema: a folder of another layout is made afresh
_STATE = "kg-state"  # the file that records the state committed
# The last word is matched as a prefix. Each token's prefixes up to this length are indexed in
# fields of their own (p_name...), so a prefix is one term scored by BM25 like a word, however
# many words it starts ("m1" starts 100k ids at 1M: as a regex over the terms it took 14 ms).
PREFIX = 12
# Documents fall into buckets by id: a sample of the matches for estimated facet counts is the
# matches in the first few buckets, a posting list Tantivy intersects cheaply.
BUCKETS = 1024
_COMMIT_AFTER = 0.5  # seconds after a write its commit is made, if no search made it first
# The analyzer close to FTS5's `unicode61 remove_diacritics 2`: runs of letters and digits,
# lower-cased, accents folded.
ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())
    .build()
)
_PREFIXES = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(1, PREFIX, True)).build()
_SHOULD, _MUST = tantivy.Occur.Should, tantivy.Occur.Must


@dataclass(frozen=True)
class Entry:
    """One document of SQLite's index, as this index holds it."""

    id: int
    name: str
    tags: str
    ident: str
    description: str
    facets: Sequence[tuple[str, str]]


@dataclass
class Ranked:
    total: int
    page: list[tuple[int, float]]  # SQLite ids and scores, best first
    facets: dict[str, dict[str, int]]
    exact: bool  # False: the counts are estimated from a sample, scaled to the total


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", indexed=True, fast=True)
    builder.add_unsigned_field("bucket", indexed=True)
    for name in WEIGHTS:
        builder.add_text_field(name, tokenizer_name="kg")
        # prefixes need no positions: a multi-word prefix is matched as a phrase in `name`
        builder.add_text_field(f"p_{name}", tokenizer_name="kg_prefix", index_option="freq")
    for facet in FACETS:
        builder.add_text_field(f"f_{facet}", fast=True, tokenizer_name="raw")
    return builder.build()


def tokens(text: str) -> list[str]:
    """The words of `text` as the index holds them."""
    return ANALYZER.analyze(text)


class TextIndex:
    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.RLock()
        self._schema = _schema()
        self._index = self._open()
        # One thread indexes: a write is a few documents, and a rebuild is bound by Python.
        try:
            self._writer = self._index.writer(heap_size=64_000_000, num_threads=1)
        except ValueError as exc:
            if "LockBusy" not in str(exc):
                raise
            raise StoreLockedError(
                f"the search index at {path} is in use by another process (a running "
                "`kg serve` with the same --store?); stop it, or ask that server over HTTP"
            ) from exc
        self._pending = False
        self._timer: threading.Timer | None = None
        state = None if path is None else path / _STATE
        self._state = state.read_text() if state is not None and state.exists() else None

    def _open(self) -> tantivy.Index:
        if self._path is None:
            index = tantivy.Index(self._schema)
        else:
            layout = self._path / "kg-layout"
            if not layout.exists() or layout.read_text() != _LAYOUT:
                shutil.rmtree(self._path, ignore_errors=True)
                self._path.mkdir(parents=True)
                layout.write_text(_LAYOUT)
            index = tantivy.Index(self._schema, path=str(self._path))
        index.register_tokenizer("kg", ANALYZER)
        index.register_tokenizer("kg_prefix", _PREFIXES)
        return index

    def state(self) -> str | None:
        """The SQLite state (SQLiteIndex's) the index reflects, committed or not."""
        return self._state

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self.commit()
            self._writer.wait_merging_threads()  # the writer ends with it

    # -- writing

    def write(self, gone: Iterable[int], entries: Iterable[Entry], state: str) -> None:
        """Replace documents: the ids in `gone` removed, `entries` added. Committed later."""
        with self._lock:
            self._delete(list(gone))
            for entry in entries:
                self._writer.add_document(self._document(entry))
            self._set_state(state)

    def clear(self, state: str) -> None:
        with self._lock:
            self._writer.delete_all_documents()
            self._set_state(state)

    def _set_state(self, state: str) -> None:
        self._state, self._pending = state, True
        if self._timer is None:
            self._timer = threading.Timer(_COMMIT_AFTER, self._timed_commit)
            self._timer.daemon = True
            self._timer.start()

    def _delete(self, ids: list[int]) -> None:
        # by query: delete_documents_by_term makes a signed term of an int, which misses a u64
        if ids:
            chosen = tantivy.Query.term_set_query(self._schema, "id", ids)
            self._writer.delete_documents_by_query(chosen)

    def _timed_commit(self) -> None:
        with self._lock:
            self._timer = None
            self.commit()

    def commit(self) -> None:
        with self._lock:
            if self._pending:
                self._writer.commit()
                self._index.reload()
                self._pending = False
                if self._path is not None:
                    written = self._path / f"{_STATE}.new"
                    written.write_text(self._state or "")
                    written.replace(self._path / _STATE)

    def _document(self, entry: Entry) -> tantivy.Document:
        fields: dict[str, object] = {"id": entry.id, "bucket": entry.id % BUCKETS}
        for name in WEIGHTS:
            text = getattr(entry, name)
            fields[name] = text
            # each token a value of its own, which the prefix tokenizer starts from
            fields[f"p_{name}"] = tokens(text)
        for facet, value in entry.facets:
            values = fields.setdefault(f"f_{facet}", [])
            assert isinstance(values, list)
            values.append(value)
        return tantivy.Document.from_dict(fields, self._schema)

    # -- asking

    def _searcher(self) -> tantivy.Searcher:
        # a write not yet committed is committed by the first search after it
        if self._pending:
            self.commit()
        return self._index.searcher()

    def _words(self, words: Sequence[str]) -> tantivy.Query | None:
        """Every word must match, the last as a prefix: each in any field, scored by BM25
        with the field weights (None: no word has a token)."""
        schema = self._schema
        clauses = []
        for n, word in enumerate(words):
            found = tokens(word)
            if not found:
                continue
            last = n == len(words) - 1
            fields = []
            for name, weight in WEIGHTS.items():
                if len(found) > 1:  # a word the tokenizer splits (snake_case): a phrase
                    phrase = (
                        tantivy.Query.phrase_prefix_query(schema, name, list(found))
                        if last
                        else tantivy.Query.phrase_query(schema, name, list(found))
                    )
                    fields.append((_SHOULD, tantivy.Query.boost_query(phrase, weight)))
                elif last:
                    term = tantivy.Query.term_query(schema, f"p_{name}", found[0][:PREFIX])
                    fields.append((_SHOULD, tantivy.Query.boost_query(term, weight)))
                else:
                    term = tantivy.Query.term_query(schema, name, found[0])
                    fields.append((_SHOULD, tantivy.Query.boost_query(term, weight)))
            clauses.append((_MUST, tantivy.Query.boolean_query(fields)))
            if last and len(found) == 1 and len(found[0]) > PREFIX:
                # longer than the indexed prefixes: those tokens that really start with it
                pattern = "".join(f"\\{c}" if not c.isalnum() else c for c in found[0]) + ".*"
                exact = [
                    (_SHOULD, tantivy.Query.regex_query(schema, name, pattern)) for name in WEIGHTS
                ]
                only = tantivy.Query.const_score_query(tantivy.Query.boolean_query(exact), 0.0)
                clauses.append((_MUST, only))
        return tantivy.Query.boolean_query(clauses) if clauses else None

    def search(
        self,
        words: Sequence[str],
        filters: dict[str, list[str]],
        limit: int,
        offset: int,
        exact_up_to: int | None,
    ) -> Ranked:
        """The page of the best matches, their total and their facet counts: exact up to
        `exact_up_to` matches (None: always), past it estimated from a sample of buckets."""
        query = self._words(words)
        if query is None:
            return Ranked(0, [], {f: {} for f in FACETS}, True)
        clauses = [(_MUST, query)]
        for facet, values in filters.items():
            if values:
                chosen = tantivy.Query.term_set_query(self._schema, f"f_{facet}", list(values))
                clauses.append((_MUST, tantivy.Query.const_score_query(chosen, 0.0)))
        query = tantivy.Query.boolean_query(clauses)
        searcher = self._searcher()
        found = searcher.search(query, max(limit, 1), count=True, offset=offset)
        total = int(getattr(found, "count", 0) or 0)  # (missing from the stubs)
        hits = found.hits[:limit]
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        page = [(int(i), float(score)) for (score, _), i in zip(hits, ids, strict=True) if i]
        facets, exact = None, True
        if exact_up_to is not None and total > exact_up_to:
            facets, exact = self._sampled(searcher, query, total, exact_up_to), False
        if facets is None:  # exact, or the sample held no match
            facets, exact = self._counts(searcher, query), True
        return Ranked(total, page, facets, exact)

    def _aggregate(
        self, searcher: tantivy.Searcher, query: tantivy.Query
    ) -> tuple[dict[str, dict[str, int]], int]:
        aggregations: dict[str, object] = {
            facet: {"terms": {"field": f"f_{facet}", "size": 1_000_000}} for facet in FACETS
        }
        aggregations["matches"] = {"value_count": {"field": "id"}}
        result = searcher.aggregate(query, aggregations)
        counts = {
            facet: {b["key"]: int(b["doc_count"]) for b in result[facet]["buckets"]}
            for facet in FACETS
        }
        return counts, int(result["matches"]["value"] or 0)

    def _counts(
        self, searcher: tantivy.Searcher, query: tantivy.Query
    ) -> dict[str, dict[str, int]]:
        return self._aggregate(searcher, query)[0]

    def _sampled(
        self, searcher: tantivy.Searcher, query: tantivy.Query, total: int, size: int
    ) -> dict[str, dict[str, int]] | None:
        """Facet counts of the matches in enough buckets to hold about `size` of `total`,
        scaled to the total and at least one (None: those buckets held no match)."""
        wanted = min(BUCKETS, -(-BUCKETS * max(size, 1) // total))
        buckets = tantivy.Query.term_set_query(self._schema, "bucket", list(range(wanted)))
        sample = tantivy.Query.boolean_query([(_MUST, query), (_MUST, buckets)])
        counts, sampled = self._aggregate(searcher, sample)
        if not sampled:
            return None
        return {
            facet: {v: min(total, max(1, round(n * total / sampled))) for v, n in values.items()}
            for facet, values in counts.items()
        }

    def related(
        self, words: Sequence[str], kind: str | None, limit: int
    ) -> list[tuple[int, float]]:
        """Documents matching any of `words`, best first, of the type `kind` if given."""
        schema = self._schema
        fields = [
            (_SHOULD, tantivy.Query.boost_query(tantivy.Query.term_query(schema, name, t), w))
            for word in words
            for t in tokens(word)
            for name, w in WEIGHTS.items()
        ]
        if not fields:
            return []
        clauses = [(_MUST, tantivy.Query.boolean_query(fields))]
        if kind:
            chosen = tantivy.Query.term_query(schema, "f_type", kind)
            clauses.append((_MUST, tantivy.Query.const_score_query(chosen, 0.0)))
        searcher = self._searcher()
        hits = searcher.search(tantivy.Query.boolean_query(clauses), max(limit, 1)).hits[:limit]
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [(int(i), float(score)) for (score, _), i in zip(hits, ids, strict=True) if i]
