"""SPARQL Update through the write pipeline.

An update is planned against the store as queries see it: the default graph of its WHERE is
the union of all graphs, and every named graph can be matched (`USING`, `USING NAMED`, `WITH`
or the protocol's `using-graph-uri` / `using-named-graph-uri` narrow that, as the standard
says). What it changes is then turned into a write the pipeline checks, derives from and gates
like any other:

* changes made through the default graph become new descriptions of the subjects they touch,
  each in its asset graph (blank-node descriptions attached to no IRI go to
  `urn:kg:graph:default`). Deleting a triple from the default graph removes it from the
  subjects' descriptions; inserting one that the default graph already shows changes nothing.
  The WHERE sees kg's derived triples (`?a a mlg:Asset`) as a query does; deleting a triple
  only kg's own graphs hold changes nothing (it is derived again from the data);
* a named graph changed directly is replaced (or dropped) as it is afterwards;
* kg's own graphs (ontology, shapes, load records, reports, derived triples) can be read but
  not changed: an update that would add to or remove from one is refused (403, by the
  pipeline). `CLEAR ALL`, `DROP ALL`, `CLEAR NAMED` and `DROP NAMED` mean the data graphs.

Two plans compute the change, with the same answer (tests/write/test_sparql_update.py holds
them equal):

* the fast plan (`Plan.kind == "fast"`) reads only what the update touches. Each operation
  is checked by Oxigraph on an empty scratch store; `INSERT DATA` / `DELETE DATA` quads are
  read back from one; a `WHERE` is evaluated as a SELECT on the live store (with the update's
  dataset as the query's dataset: nothing of the request is pasted into text), and the
  templates are instantiated by Oxigraph itself, per solution, on a scratch store holding only
  the solutions. The write then reads the touched subjects' descriptions and the touched
  named graphs, nothing else (bench/updates.py: a one-triple INSERT DATA in about 3 ms at
  100,000 assets, where the copy plan takes 40 s and 4 GB).
* the copy plan (`"copy"`) runs the update on a scratch in-memory copy of the store and diffs.
  It costs a copy of the data and system graphs (seconds and gigabytes at a million quads),
  and is taken only where the fast plan cannot answer: graph management (`CLEAR`, `DROP`,
  `CREATE`, `ADD`, `MOVE`, `COPY`), `LOAD`, `SERVICE`, an operation that reads (has a `WHERE`)
  after an earlier operation of the same request changed something, and text the fast plan's
  reading of operations does not recognise. The protocol's dataset reaches the copy as USING
  clauses, each IRI checked (`protocol_dataset`) and written by pyoxigraph.

The caller (KnowledgeGraph.sparql_update) holds the write lock from planning to commit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg import graphs
from kg.errors import InputError
from kg.graphs import ASSET_GRAPH_PREFIX, DEFAULT_DATA_GRAPH
from kg.ingest import Batch
from kg.sparqltext import mask
from kg.store import GraphStore, OxigraphStore, open_store
from kg.vocab import RDF_TYPE
from kg.write.pipeline import orphans


def is_data_graph(name: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> bool:
    """A graph an update may change: data, and not what a rule inferred (kg keeps those in
    step with their premises; an update sees them in the union, as it sees kg's own graphs)."""
    return graphs.is_data_graph(name) and not graphs.is_inferred_graph(name)


GraphKey = ox.NamedNode | None  # None: kg's default graph (the union of the data graphs)
Key = tuple[GraphKey, ox.Triple]


# -- the protocol's dataset: bound as the WHERE's dataset, never pasted into the text


@dataclass(frozen=True)
class Dataset:
    using: tuple[ox.NamedNode, ...] = ()
    using_named: tuple[ox.NamedNode, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.using or self.using_named)


def protocol_dataset(using: Sequence[str], using_named: Sequence[str]) -> Dataset:
    """The using-graph-uri / using-named-graph-uri values as IRIs; 400 naming the parameter
    for any value that is not an absolute IRI."""

    def iris(values: Sequence[str], parameter: str) -> tuple[ox.NamedNode, ...]:
        result = []
        for value in values:
            try:
                result.append(ox.NamedNode(value))  # refuses spaces, <>"{}|^`\ and relative IRIs
            except ValueError as exc:
                raise InputError(f"{parameter} {value!r} is not an absolute IRI: {exc}") from exc
        return tuple(result)

    return Dataset(iris(using, "using-graph-uri"), iris(using_named, "using-named-graph-uri"))


# -- reading an update as operations (strings, IRIs and comments masked: see kg.sparqltext)


@dataclass
class Operation:
    """One operation of an update request, as far as the fast plan needs to know it."""

    kind: str  # insert-data, delete-data, delete-where, modify, or other
    prologue: str  # the PREFIX and BASE declarations in effect (they carry over)
    start: int  # the operation's span in the request text (its own prologue excluded)
    end: int
    data: str = ""  # the { } of INSERT DATA / DELETE DATA
    with_graph: str | None = None  # the IRI as written after WITH
    delete: str | None = None  # the { } templates
    insert: str | None = None
    using: list[str] = field(default_factory=list)  # IRIs as written
    using_named: list[str] = field(default_factory=list)
    where: str | None = None  # the { } after WHERE
    where_at: int | None = None  # where the WHERE keyword starts
    keyword: str = ""  # the first keyword (CLEAR, LOAD...)
    words: list[str] = field(default_factory=list)  # its top-level words, upper-cased

    @property
    def all_graphs(self) -> bool:
        """CLEAR or DROP of ALL or NAMED (which, in kg, mean the data graphs)."""
        return self.keyword in ("CLEAR", "DROP") and bool({"ALL", "NAMED"} & {*self.words[1:3]})

    @property
    def reads(self) -> bool:
        return self.kind in ("delete-where", "modify")

    @property
    def names_dataset(self) -> bool:
        return self.with_graph is not None or bool(self.using or self.using_named)


_WORD = re.compile(r"[^\s{};]+")


@dataclass(frozen=True)
class _Token:
    kind: str  # word, iri, group, sep, junk
    start: int
    end: int


def _tokens(text: str, masked: str) -> list[_Token]:
    """Top-level tokens: words, IRIs, { } groups (whole) and `;`. Masked text says where
    strings, IRIs and comments are, so braces inside them count for nothing."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        char, seen = text[i], masked[i]
        if seen != char:  # the start of something the mask blanked
            if char == "<":
                end = text.find(">", i)
                end = n if end < 0 else end + 1
                tokens.append(_Token("iri", i, end))
                i = end
            elif char == "#":
                while i < n and text[i] not in "\r\n":
                    i += 1
            else:  # a string outside any group: not an update the fast plan reads
                tokens.append(_Token("junk", i, i + 1))
                i += 1
        elif char.isspace():
            i += 1
        elif char == "{":
            depth, j = 0, i
            while j < n:
                if masked[j] == "{":
                    depth += 1
                elif masked[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            tokens.append(_Token("group" if j < n else "junk", i, min(j + 1, n)))
            i = j + 1
        elif char == ";":
            tokens.append(_Token("sep", i, i + 1))
            i += 1
        elif char == "}":
            tokens.append(_Token("junk", i, i + 1))
            i += 1
        else:
            word = _WORD.match(masked, i)
            assert word is not None
            tokens.append(_Token("word", i, word.end()))
            i = word.end()
    return tokens


def operations(update: str) -> list[Operation]:
    """The operations of an update request, each with the prologue in effect."""
    tokens = _tokens(update, mask(update))
    declarations: list[str] = []
    result: list[Operation] = []
    position = 0

    def text(index: int) -> str:
        return update[tokens[index].start : tokens[index].end] if index < len(tokens) else ""

    def kind(index: int) -> str:
        return tokens[index].kind if index < len(tokens) else ""

    while position < len(tokens):
        # PREFIX p: <iri> and BASE <iri>, kept in order: Oxigraph resolves them as written
        keyword = text(position).upper() if kind(position) == "word" else ""
        prefix = kind(position + 1) == "word" and text(position + 1).endswith(":")
        if keyword == "PREFIX" and prefix and kind(position + 2) == "iri":
            declarations.append(f"PREFIX {text(position + 1)} {text(position + 2)}")
            position += 3
            continue
        if keyword == "BASE" and kind(position + 1) == "iri":
            declarations.append(f"BASE {text(position + 1)}")
            position += 2
            continue
        end = position
        while end < len(tokens) and tokens[end].kind != "sep":
            end += 1
        if end > position:
            part = tokens[position:end]
            op = Operation(
                "other", "\n".join(declarations), part[0].start, part[-1].end, keyword=keyword
            )
            _classify(op, [(t.kind, update[t.start : t.end], t.start) for t in part])
            result.append(op)
        position = end + 1
    return result


def _classify(op: Operation, part: list[tuple[str, str, int]]) -> None:
    """Fill in what the operation is, from its top-level tokens (kind, text, start)."""
    kinds = [k for k, _, _ in part]
    words = [t.upper() if k == "word" else "" for k, t, _ in part]
    texts = [t for _, t, _ in part]
    op.words = [w for w in words if w]
    if len(part) == 3 and kinds[2] == "group":
        if words[:2] == ["INSERT", "DATA"]:
            op.kind, op.data = "insert-data", texts[2]
        elif words[:2] == ["DELETE", "DATA"]:
            op.kind, op.data = "delete-data", texts[2]
        elif words[:2] == ["DELETE", "WHERE"]:
            op.kind, op.where, op.where_at = "delete-where", texts[2], part[1][2]
        if op.kind != "other":
            return

    def target(index: int) -> str | None:  # an IRI, or a prefixed name
        if index >= len(part) or words[index] in _KEYWORDS:
            return None
        if kinds[index] == "iri" or (kinds[index] == "word" and ":" in texts[index]):
            return texts[index]
        return None

    i = 0
    if words[:1] == ["WITH"]:
        op.with_graph = target(1)
        if op.with_graph is None:
            return
        i = 2
    if i + 1 < len(part) and words[i] == "DELETE" and kinds[i + 1] == "group":
        op.delete = texts[i + 1]
        i += 2
    if i + 1 < len(part) and words[i] == "INSERT" and kinds[i + 1] == "group":
        op.insert = texts[i + 1]
        i += 2
    if op.delete is None and op.insert is None:
        return
    while i < len(part) and words[i] == "USING":
        named = i + 1 < len(part) and words[i + 1] == "NAMED"
        iri = target(i + 2 if named else i + 1)
        if iri is None:
            return
        (op.using_named if named else op.using).append(iri)
        i += 3 if named else 2
    if i + 2 == len(part) and words[i] == "WHERE" and kinds[i + 1] == "group":
        op.kind, op.where, op.where_at = "modify", texts[i + 1], part[i][2]


_KEYWORDS = {"WITH", "DELETE", "INSERT", "USING", "NAMED", "WHERE", "DATA"}
_SERVICE = re.compile(r"(?<![\w:?$\-.])SERVICE(?![\w:\-])", re.IGNORECASE)


# -- the plan


@dataclass
class Plan:
    """What an update changes, as a batch (None: nothing), and which plan computed it."""

    kind: str  # "fast" or "copy"
    batch: Batch | None
    reason: str = ""  # why the copy plan was needed

    @property
    def fast(self) -> bool:
        return self.kind == "fast"


def plan_update(
    store: GraphStore,
    update: str,
    *,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
    base_iri: str | None = None,
    source: str = "SPARQL update",
    fast: bool = True,
) -> Plan:
    """Plan `update` against `store` (the fast plan when it can answer, else the copy plan;
    `fast=False` forces the copy plan)."""
    dataset = protocol_dataset(using, using_named)
    ops = operations(update)
    if dataset and _names_dataset(update, ops):
        raise InputError(
            "the update names its dataset (USING/WITH) and the request does too "
            "(using-graph-uri/using-named-graph-uri): send one or the other"
        )
    reason = _copy_reason(update, ops) if fast else "asked for"
    if reason is None:
        _check_syntax(update, base_iri)
        planned = _Planner(store, dataset, base_iri).run(ops)
        if planned is not None:
            return Plan("fast", _assemble(store, planned, source))
        reason = "an operation reads what an earlier operation of the request changed"
    return Plan("copy", copy_plan(store, update, ops, dataset, base_iri, source), reason)


def _names_dataset(update: str, ops: list[Operation]) -> bool:
    if any(op.names_dataset for op in ops):
        return True
    masked = mask(update)  # operations not read as such: any top-level USING or WITH
    depth = 0
    for match in re.finditer(r"(?<![\w:?$\-.])(USING|WITH)(?![\w:\-])|[{}]", masked, re.I):
        if match.group(0) == "{":
            depth += 1
        elif match.group(0) == "}":
            depth -= 1
        elif depth == 0:
            return True
    return False


def _copy_reason(update: str, ops: list[Operation]) -> str | None:
    for op in ops:
        if op.kind == "other":
            return f"{op.keyword or 'an operation'} needs the copy plan"
    if _SERVICE.search(mask(update)):
        return "SERVICE needs the copy plan"
    return None


def _check_syntax(update: str, base_iri: str | None) -> None:
    """Oxigraph's own syntax errors (with their position), from a run on an empty store."""
    scratch = open_store(None)
    try:
        scratch.update(update, base_iri=base_iri)
    finally:
        scratch.close()


# -- the fast plan: the change an update makes, computed against the live store


@dataclass
class _Change:
    """The net change of an update: per (graph, triple), present afterwards or not."""

    state: dict[Key, bool]
    initial: dict[Key, bool]
    graphs_of: dict[ox.Triple, set[ox.NamedNode]]  # the named graphs holding it, before


_ROW_CLASS = ox.NamedNode("urn:kg:Row")


def _graphs_holding(store: GraphStore, triple: ox.Triple) -> set[ox.NamedNode]:
    """The named graphs of the store holding `triple`."""
    s, o = triple.subject, triple.object
    quads: Iterable[ox.Quad]
    if isinstance(s, ox.Triple) or isinstance(o, ox.Triple):  # a triple term: match it whole
        quads = (q for q in store.quads(None, triple.predicate, None) if q.triple == triple)
    else:
        quads = store.quads(s, triple.predicate, o)
    return {q.graph_name for q in quads if isinstance(q.graph_name, ox.NamedNode)}


class _Planner:
    def __init__(self, store: GraphStore, dataset: Dataset, base_iri: str | None) -> None:
        self.store = store
        self.dataset = dataset
        self.base_iri = base_iri
        self.change = _Change({}, {}, {})
        self.resolved: dict[tuple[str, str], ox.NamedNode] = {}

    def graphs(self, triple: ox.Triple) -> set[ox.NamedNode]:
        known = self.change.graphs_of.get(triple)
        if known is None:
            known = _graphs_holding(self.store, triple)
            self.change.graphs_of[triple] = known
        return known

    def present(self, key: Key) -> bool:
        """In the live store: in the graph, or (kg's default graph) in any graph."""
        graph, triple = key
        found = self.graphs(triple)
        return bool(found) if graph is None else graph in found

    def set(self, key: Key, value: bool) -> None:
        if key not in self.change.initial:
            self.change.initial[key] = self.present(key)
        self.change.state[key] = value

    def changed(self) -> bool:
        return any(v != self.change.initial[k] for k, v in self.change.state.items())

    def run(self, ops: list[Operation]) -> _Change | None:
        """The net change, or None when an operation reads after an earlier one changed."""
        for op in ops:
            if op.kind in ("insert-data", "delete-data"):
                quads = self.data(op)
                for quad in quads:
                    self.set(self.key(quad, None), op.kind == "insert-data")
                continue
            if self.changed():
                return None
            deletes, inserts = self.instantiate(op)
            default = self.iri(op, op.with_graph) if op.with_graph is not None else None
            for quad in deletes:  # deletes first, then inserts, as the standard says
                self.set(self.key(quad, default), False)
            for quad in inserts:
                self.set(self.key(quad, default), True)
        return self.change

    @staticmethod
    def key(quad: ox.Quad, default: GraphKey) -> Key:
        graph = quad.graph_name
        return (graph if isinstance(graph, ox.NamedNode) else default, quad.triple)

    def scratch_run(self, prologue: str, text: str, rows: Sequence[ox.Quad] = ()) -> list[ox.Quad]:
        """Run an update made of the request's own parts on an empty scratch store."""
        scratch = open_store(None)
        try:
            if rows:
                scratch.add(rows)
            scratch.update(f"{prologue}\n{text}", base_iri=self.base_iri)
            return list(scratch.quads(None, None, None))
        finally:
            scratch.close()

    def data(self, op: Operation) -> list[ox.Quad]:
        """The quads of INSERT DATA / DELETE DATA, as Oxigraph reads them."""
        return self.scratch_run(op.prologue, f"INSERT DATA {op.data}")

    def iri(self, op: Operation, written: str) -> ox.NamedNode:
        """An IRI as the update writes it (prefixed, relative), resolved by Oxigraph."""
        key = (op.prologue, written)
        if key not in self.resolved:
            found = self.scratch_run(
                op.prologue, f"INSERT {{ <urn:kg:iri> <urn:kg:iri> {written} }} WHERE {{}}"
            )
            term = found[0].object if found else None
            if not isinstance(term, ox.NamedNode):
                raise InputError(f"{written} is not an IRI")
            self.resolved[key] = term
        return self.resolved[key]

    def solutions(self, op: Operation) -> ox.QuerySolutions:
        """The WHERE's solutions on the live store, over the operation's dataset."""
        assert op.where is not None
        query = f"{op.prologue}\nSELECT * WHERE {op.where}"
        using = [self.iri(op, g) for g in op.using] or list(self.dataset.using)
        named = [self.iri(op, g) for g in op.using_named] or list(self.dataset.using_named)
        if using or named:  # USING without USING NAMED: no named graphs, and the other way
            result = self.store.query(
                query, default_graph=using, named_graphs=named, base_iri=self.base_iri
            )
        elif op.with_graph is not None:
            default = [self.iri(op, op.with_graph)]
            result = self.store.query(query, default_graph=default, base_iri=self.base_iri)
        else:  # the union of all graphs, and every named graph
            result = self.store.query(query, base_iri=self.base_iri)
        assert isinstance(result, ox.QuerySolutions)
        return result

    def instantiate(self, op: Operation) -> tuple[list[ox.Quad], list[ox.Quad]]:
        """The quads the operation's templates give for the WHERE's solutions on the store:
        Oxigraph instantiates them (unbound variables, literal subjects, fresh blank nodes per
        solution, as the standard says) on a scratch store holding only the solutions."""
        result = self.solutions(op)
        variables = list(result.variables)
        rows_graph = ox.NamedNode(f"urn:kg:rows:{uuid.uuid4()}")
        names = [ox.NamedNode(f"urn:kg:var:{i}") for i in range(len(variables))]
        rows: list[ox.Quad] = []
        for number, solution in enumerate(result):
            row = ox.NamedNode(f"urn:kg:row:{number}")
            rows.append(ox.Quad(row, RDF_TYPE, _ROW_CLASS, rows_graph))
            for name, variable in zip(names, variables, strict=True):
                value = solution[variable]
                if value is not None:
                    rows.append(ox.Quad(row, name, value, rows_graph))
        if not rows:
            return [], []
        marker = f"?kgrow_{uuid.uuid4().hex}"
        optional = " ".join(
            f"OPTIONAL {{ {marker} {name} {variable} }}"
            for name, variable in zip(names, variables, strict=True)
        )
        where = f"{{ GRAPH {rows_graph} {{ {marker} a {_ROW_CLASS} {optional} }} }}"
        delete = op.where if op.kind == "delete-where" else op.delete
        found: list[list[ox.Quad]] = []
        for template in (delete, op.insert):
            if template is None:
                found.append([])
                continue
            quads = self.scratch_run(op.prologue, f"INSERT {template} WHERE {where}", rows)
            found.append([q for q in quads if q.graph_name != rows_graph])
        return found[0], found[1]


# -- from the change to a batch, reading only what it touches


def _assemble(store: GraphStore, change: _Change, source: str) -> Batch | None:
    added: set[ox.Triple] = set()  # kg's default graph: the union of the data graphs
    removed: set[ox.Triple] = set()
    named_added: dict[ox.NamedNode, set[ox.Triple]] = {}
    named_removed: dict[ox.NamedNode, set[ox.Triple]] = {}
    for (graph, triple), now in change.state.items():
        before = change.initial[(graph, triple)]
        graphs = change.graphs_of[triple]
        if graph is None:
            data_before = any(is_data_graph(g) for g in graphs)
            data_now = now and (data_before or not graphs)  # shown only by kg's graphs: no-op
            if data_now and not data_before:
                added.add(triple)
            elif data_before and not data_now:
                removed.add(triple)
        elif now != before:
            (named_added if now else named_removed).setdefault(graph, set()).add(triple)
    batch = Batch(source=source)
    touched = named_added.keys() | named_removed.keys()
    for graph in touched:
        content = set(store.graph(graph)) - named_removed.get(graph, set())
        content |= named_added.get(graph, set())
        if content:  # (a system graph among them: the pipeline refuses the batch)
            batch.named_graphs[graph] = sorted(content, key=str)
        else:
            batch.drop.append(graph)
    changed = added | removed
    if not changed:
        return batch if batch.named_graphs or batch.drop else None
    view = _View(store, added, removed, named_added, named_removed, change.graphs_of)
    subjects: set[ox.NamedNode] = set()
    for t in changed:
        if isinstance(t.subject, ox.NamedNode):
            subjects.add(t.subject)
        elif isinstance(t.subject, ox.BlankNode):
            subjects |= view.owners(t.subject)
    directly = {
        ox.NamedNode(g.value.removeprefix(ASSET_GRAPH_PREFIX))
        for g in touched
        if g.value.startswith(ASSET_GRAPH_PREFIX)
    }
    for subject in sorted(subjects - directly, key=str):
        description = {t for t in view.describe(subject) if not view.elsewhere(t)}
        if description:
            batch.triples.extend(sorted(description, key=str))
        else:
            batch.drop.append(ox.NamedNode(ASSET_GRAPH_PREFIX + subject.value))
    if DEFAULT_DATA_GRAPH not in touched:
        old = set(store.graph(DEFAULT_DATA_GRAPH))
        loose = view.loose(old, changed)
        if loose != old:
            if loose:
                batch.named_graphs[DEFAULT_DATA_GRAPH] = sorted(loose, key=str)
            else:
                batch.drop.append(DEFAULT_DATA_GRAPH)
    return batch


class _View:
    """The data after the change, read around the touched subjects from the live store."""

    def __init__(
        self,
        store: GraphStore,
        added: set[ox.Triple],
        removed: set[ox.Triple],
        named_added: dict[ox.NamedNode, set[ox.Triple]],
        named_removed: dict[ox.NamedNode, set[ox.Triple]],
        graphs_of: dict[ox.Triple, set[ox.NamedNode]],
    ) -> None:
        self.store = store
        self.added, self.removed = added, removed
        self.named_added, self.named_removed = named_added, named_removed
        self.graphs_of = graphs_of
        self.added_by_subject: dict[object, list[ox.Triple]] = {}
        self.added_by_object: dict[object, list[ox.Triple]] = {}
        for t in added:
            self.added_by_subject.setdefault(t.subject, []).append(t)
            self.added_by_object.setdefault(t.object, []).append(t)

    def _data(self, quads: Iterable[ox.Quad]) -> set[ox.Triple]:
        found: set[ox.Triple] = set()
        for q in quads:
            if is_data_graph(q.graph_name):
                found.add(q.triple)
        return found

    def _graphs(self, triple: ox.Triple) -> set[ox.NamedNode]:
        known = self.graphs_of.get(triple)
        if known is None:
            known = _graphs_holding(self.store, triple)
            self.graphs_of[triple] = known
        return known

    def out(self, node: object, *, before: bool = False) -> set[ox.Triple]:
        """Triples of the default graph with `node` as subject: after the change (or before
        and after, `before`)."""
        found = self._data(self.store.quads(node, None, None))  # type: ignore[arg-type]
        if not before:
            found -= self.removed
        return found | set(self.added_by_subject.get(node, ()))

    def into(self, node: object, *, before: bool = False) -> set[ox.Triple]:
        found = self._data(self.store.quads(None, None, node))  # type: ignore[arg-type]
        if not before:
            found -= self.removed
        return found | set(self.added_by_object.get(node, ()))

    def elsewhere(self, triple: ox.Triple) -> bool:
        """In a data graph that is neither an asset graph nor kg's default data graph, after
        the change (such graphs keep their triples; descriptions leave them out)."""
        for graph in {*self._graphs(triple), *self.named_added}:
            if graph == DEFAULT_DATA_GRAPH or graph.value.startswith(ASSET_GRAPH_PREFIX):
                continue
            if not is_data_graph(graph):
                continue
            if triple in self.named_added.get(graph, ()):
                return True
            if graph in self._graphs(triple) and triple not in self.named_removed.get(graph, ()):
                return True
        return False

    def owners(self, node: ox.BlankNode) -> set[ox.NamedNode]:
        """The IRI subjects a blank node hangs off, before or after the change."""
        found: set[ox.NamedNode] = set()
        stack: list[object] = [node]
        seen: set[object] = set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for t in self.into(current, before=True):
                if isinstance(t.subject, ox.NamedNode):
                    found.add(t.subject)
                else:
                    stack.append(t.subject)
        return found

    def describe(self, subject: ox.NamedNode) -> set[ox.Triple]:
        result: set[ox.Triple] = set()
        stack: list[object] = [subject]
        seen: set[object] = set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for t in self.out(node):
                result.add(t)
                if isinstance(t.object, ox.BlankNode):
                    stack.append(t.object)
        return result

    def attached(self, node: ox.BlankNode) -> bool:
        """Reachable from an IRI subject after the change (through triples that are not kept
        elsewhere), as `kg.write.pipeline.orphans` decides."""
        stack: list[object] = [node]
        seen: set[object] = set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for t in self.into(current):
                if self.elsewhere(t):
                    continue
                if isinstance(t.subject, ox.NamedNode):
                    return True
                stack.append(t.subject)
        return False

    def loose(self, old: set[ox.Triple], changed: set[ox.Triple]) -> set[ox.Triple]:
        """kg's default data graph after the change: blank-node descriptions attached to no
        IRI. Only blank nodes the change reaches can come or go."""
        stack: list[object] = []
        for t in (
            changed
            | {t for ts in self.named_added.values() for t in ts}
            | {t for ts in self.named_removed.values() for t in ts}
        ):
            stack.extend(n for n in (t.subject, t.object) if isinstance(n, ox.BlankNode))
        reached: set[ox.BlankNode] = set()
        while stack:
            node = stack.pop()
            if not isinstance(node, ox.BlankNode) or node in reached:
                continue
            reached.add(node)
            stack.extend(t.object for t in self.out(node, before=True))
        result = {t for t in old if t.subject not in reached}
        for node in reached:
            if not self.attached(node):
                result |= {t for t in self.out(node) if not self.elsewhere(t)}
        return result


# -- the copy plan: the update on a scratch copy of the store, then the difference


def with_dataset(update: str, ops: list[Operation], dataset: Dataset) -> str:
    """The update with the protocol's dataset as USING clauses, for the copy plan (Oxigraph
    runs updates on its own store only). The IRIs were checked by `protocol_dataset` and are
    written by pyoxigraph, so they cannot end the clause."""
    if not dataset:
        return update
    clauses = " ".join(
        [f"USING {g}" for g in dataset.using] + [f"USING NAMED {g}" for g in dataset.using_named]
    )
    edits: list[tuple[int, int, str]] = []
    for op in ops:
        if op.kind == "modify" and op.where_at is not None:
            edits.append((op.where_at, op.where_at, clauses + " "))
        elif op.kind == "delete-where" and op.where is not None:
            edits.append((op.start, op.end, f"DELETE {op.where} {clauses} WHERE {op.where}"))
        elif op.kind == "other":
            masked = mask(update[op.start : op.end])
            for match in re.finditer(r"(?<![\w:?$\-.])WHERE(?![\w:\-])|[{}]", masked, re.I):
                depth = masked[: match.start()].count("{") - masked[: match.start()].count("}")
                if match.group(0).upper() == "WHERE" and depth == 0:
                    at = op.start + match.start()
                    edits.append((at, at, clauses + " "))
    for start, end, replacement in sorted(edits, reverse=True):
        update = update[:start] + replacement + update[end:]
    return update


def copy_plan(
    store: GraphStore,
    update: str,
    ops: list[Operation],
    dataset: Dataset,
    base_iri: str | None,
    source: str,
) -> Batch | None:
    """Run the update on a scratch copy (every graph, and the union of them all as its default
    graph) and return the change as a batch (None if nothing changed). With a CLEAR or DROP of
    ALL or NAMED, which mean the data graphs, kg's own graphs are left out of the copy (their
    triples stay in its default graph)."""
    data: list[ox.Quad] = []
    system: list[ox.Quad] = []
    for q in store.quads(None, None, None):
        if is_data_graph(q.graph_name):
            data.append(q)
        elif isinstance(q.graph_name, ox.NamedNode):
            system.append(q)
    union = {q.triple for q in data}
    shown = union | {q.triple for q in system}
    if any(op.all_graphs for op in ops):
        system = []
    scratch: OxigraphStore = open_store(None)
    try:
        scratch.add([*data, *system, *(ox.Quad(t.subject, t.predicate, t.object) for t in shown)])
        scratch.update(with_dataset(update, ops, dataset), base_iri=base_iri)
        after = list(scratch.quads(None, None, None))
    finally:
        scratch.close()
    return _diff(data, system, union, shown, after, source)


def _diff(
    before: list[ox.Quad],
    system: list[ox.Quad],
    union: set[ox.Triple],
    shown: set[ox.Triple],
    after: list[ox.Quad],
    source: str,
) -> Batch | None:
    old_named: dict[ox.NamedNode, set[ox.Triple]] = {}
    for q in before:
        assert isinstance(q.graph_name, ox.NamedNode)
        old_named.setdefault(q.graph_name, set()).add(q.triple)
    old_system: dict[ox.NamedNode, set[ox.Triple]] = {}
    for q in system:
        assert isinstance(q.graph_name, ox.NamedNode)
        old_system.setdefault(q.graph_name, set()).add(q.triple)
    new_named: dict[ox.NamedNode, set[ox.Triple]] = {}
    new_system: dict[ox.NamedNode, set[ox.Triple]] = {}
    new_default: set[ox.Triple] = set()
    for q in after:
        if isinstance(q.graph_name, ox.DefaultGraph):
            new_default.add(q.triple)
        elif isinstance(q.graph_name, ox.NamedNode):
            into = new_named if is_data_graph(q.graph_name) else new_system
            into.setdefault(q.graph_name, set()).add(q.triple)
    # What only kg's own graphs show stays shown, and is no data of any subject.
    new_default -= shown - union
    batch = Batch(source=source)
    # Named graphs changed directly are replaced (or dropped) as they are now.
    touched_graphs = {
        g for g in old_named.keys() | new_named.keys() if old_named.get(g) != new_named.get(g)
    }
    for graph in touched_graphs:
        content = new_named.get(graph, set())
        if content:
            batch.named_graphs[graph] = sorted(content, key=str)
        else:
            batch.drop.append(graph)
    # kg's own graphs changed: the pipeline refuses the batch.
    for graph in old_system.keys() | new_system.keys():
        if old_system.get(graph) != new_system.get(graph):
            if new_system.get(graph):
                batch.named_graphs[graph] = sorted(new_system[graph], key=str)
            else:
                batch.drop.append(graph)
    # Changes through the default graph become new descriptions of their subjects.
    changed = union ^ new_default
    if not changed:
        return batch if batch.named_graphs or batch.drop else None
    by_object: dict[object, list[ox.Triple]] = {}
    for t in new_default | union:
        by_object.setdefault(t.object, []).append(t)
    subjects: set[ox.NamedNode] = set()
    for t in changed:
        if isinstance(t.subject, ox.NamedNode):
            subjects.add(t.subject)
        elif isinstance(t.subject, ox.BlankNode):
            subjects |= _owner_of(t.subject, by_object)
    directly = {
        ox.NamedNode(g.value.removeprefix(ASSET_GRAPH_PREFIX))
        for g in touched_graphs
        if g.value.startswith(ASSET_GRAPH_PREFIX)
    }
    # Triples kept in other data graphs (not asset graphs, not the default data graph) stay
    # there: descriptions leave them out.
    elsewhere = {
        t
        for g, ts in new_named.items()
        if not g.value.startswith(ASSET_GRAPH_PREFIX) and g != DEFAULT_DATA_GRAPH
        for t in ts
    }
    for subject in sorted(subjects - directly, key=str):
        description = _describe(subject, new_default) - elsewhere
        if description:
            batch.triples.extend(sorted(description, key=str))
        else:
            batch.drop.append(ox.NamedNode(ASSET_GRAPH_PREFIX + subject.value))
    # Blank-node descriptions attached to no IRI live in the default data graph.
    loose = orphans(new_default - elsewhere)[1]
    if DEFAULT_DATA_GRAPH not in touched_graphs and set(loose) != old_named.get(
        DEFAULT_DATA_GRAPH, set()
    ):
        if loose:
            batch.named_graphs[DEFAULT_DATA_GRAPH] = sorted(loose, key=str)
        else:
            batch.drop.append(DEFAULT_DATA_GRAPH)
    return batch


def _owner_of(node: ox.BlankNode, by_object: dict[object, list[ox.Triple]]) -> set[ox.NamedNode]:
    """The IRI subjects a blank node hangs off."""
    found: set[ox.NamedNode] = set()
    stack: list[object] = [node]
    seen: set[object] = set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for t in by_object.get(current, []):
            if isinstance(t.subject, ox.NamedNode):
                found.add(t.subject)
            else:
                stack.append(t.subject)
    return found


def _describe(subject: ox.NamedNode, triples: Iterable[ox.Triple]) -> set[ox.Triple]:
    by_subject: dict[object, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    result: set[ox.Triple] = set()
    stack: list[object] = [subject]
    seen: set[object] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for t in by_subject.get(node, []):
            result.add(t)
            if isinstance(t.object, ox.BlankNode):
                stack.append(t.object)
    return result
