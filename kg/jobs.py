"""The work a read may ask for that can run long: SPARQL queries (analysts' and named ones),
validation, exports, graph sizes. Each job is a plain function of a store and picklable
arguments, returning picklable results, so that kg.evaluation can run it in a worker process
over a view of the store (and kill it at its deadline) or, for an in-memory store, in a thread.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from kg import protocol
from kg.errors import QueryError
from kg.sparqltext import declares_dataset
from kg.store import GraphStore, Term

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class Answer:
    """A serialized query answer: its bytes, media type, and whether the row cap cut it."""

    body: bytes
    media: str
    form: str  # SELECT, ASK or CONSTRUCT (CONSTRUCT and DESCRIBE)
    truncated: bool = False


def sparql(
    store: GraphStore,
    text: str,
    *,
    accept: str | None,
    formats: Sequence[str],
    max_rows: int,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    substitutions: Mapping[str, Term] | None = None,
    base_iri: str | None = None,
    federated: bool = False,
) -> Answer:
    """Evaluate a query as written (its projection, its FROM) and serialize at most `max_rows`
    solutions or triples: the cap counts what is read, whatever the text looks like.
    `federated` queries call remote services: their failures never echo what the remote said."""
    try:
        return _sparql(
            store,
            text,
            accept,
            formats,
            max_rows,
            default_graphs,
            named_graphs,
            substitutions,
            base_iri,
        )
    except (QueryError, OSError) as exc:
        if federated and not str(exc).startswith("SPARQL syntax error"):
            raise QueryError(
                "the query failed while calling a remote service; what it answered is not shown"
            ) from None
        raise


def _sparql(
    store: GraphStore,
    text: str,
    accept: str | None,
    fmt: Sequence[str],
    max_rows: int,
    default_graphs: Sequence[str],
    named_graphs: Sequence[str],
    substitutions: Mapping[str, Term] | None,
    base_iri: str | None,
) -> Answer:
    try:
        named = [ox.NamedNode(g) for g in named_graphs]
        defaults = [ox.NamedNode(g) for g in default_graphs]
    except ValueError as exc:
        raise QueryError(f"a graph IRI of the request is not valid: {exc}") from exc
    if defaults:  # the protocol's dataset: these default graphs, only these named graphs
        dataset: dict[str, object] = {"default_graph": defaults, "named_graphs": named}
    elif named:
        dataset = {"default_graph": [], "named_graphs": named}
    elif declares_dataset(text):  # the query's FROM / FROM NAMED
        dataset = {"as_written": True}
    else:  # kg's default: the union of all graphs
        dataset = {}
    result = store.query(
        text,
        substitutions=substitutions,
        base_iri=base_iri,
        **dataset,  # type: ignore[arg-type]
    )
    if isinstance(result, ox.QueryBoolean):
        media = protocol.results_media(accept, fmt)
        body = result.serialize(format=protocol.RESULT_TYPES[media]) or b""
        return Answer(body, media, "ASK")
    if isinstance(result, ox.QueryTriples):
        media = protocol.graph_media(accept, fmt)
        triples = list(islice(result, max_rows + 1))
        body = ox.serialize(triples[:max_rows], format=protocol.GRAPH_TYPES[media]) or b""
        return Answer(body, media, "CONSTRUCT", len(triples) > max_rows)
    media = protocol.results_media(accept, fmt)
    variables = [v.value for v in result.variables]
    rows = list(islice(result, max_rows + 1))
    truncated = len(rows) > max_rows
    body = _solutions(variables, rows[:max_rows], protocol.RESULT_TYPES[media], truncated)
    return Answer(body, media, "SELECT", truncated)


TRUNCATED = "urn:kg:truncated"  # the JSON results' head link saying the row cap cut the answer


def _solutions(
    variables: list[str],
    rows: list[ox.QuerySolution],
    results_format: ox.QueryResultsFormat,
    truncated: bool = False,
) -> bytes:
    """Solutions as SPARQL 1.1 JSON results (a cut answer says so with a `head.link`, which the
    format allows), converted by Oxigraph's own serializers when another format is asked for."""
    head: dict[str, object] = {"vars": variables}
    if truncated:
        head["link"] = [TRUNCATED]
    # A solution iterates its values in the order of `variables` (reading them by name cost
    # twice as much), and a term repeated across rows (a type, an owner) is converted once.
    seen: dict[object, dict[str, object]] = {}
    bindings = []
    for row in rows:
        binding = {}
        for name, term in zip(variables, row, strict=True):
            if term is not None:
                found = seen.get(term)
                if found is None:
                    found = seen[term] = _term(term)
                binding[name] = found
        bindings.append(binding)
    document = {"head": head, "results": {"bindings": bindings}}
    data = json.dumps(document, ensure_ascii=False).encode()
    if results_format == ox.QueryResultsFormat.JSON:
        return data
    parsed = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
    return parsed.serialize(format=results_format) or b""


def _term(term: object) -> dict[str, object]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        found: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            found["xml:lang"] = term.language
        elif term.datatype.value not in (XSD_STRING, RDF_LANG_STRING):
            found["datatype"] = term.datatype.value
        return found
    assert isinstance(term, ox.Triple)
    return {
        "type": "triple",
        "value": {
            "subject": _term(term.subject),
            "predicate": _term(term.predicate),
            "object": _term(term.object),
        },
    }


def graph_sizes(store: GraphStore) -> dict[str, int]:
    return store.graph_sizes()


def stats(store: GraphStore, base_iri: str) -> dict[str, object]:
    """Graph size, named graphs by kind, assets by type and in all.

    Each asset (an IRI typed with an mlg class in a data graph) counts once, under its most
    specific stated type (`Ontology.specific_type`, as the asset list's type facet): the
    super-classes kg derives are not counted again. One SPARQL pass groups the assets by their
    set of stated types; only those few sets, not the assets, are looked at here.
    """
    from kg.graphs import ASSET_GRAPH_PREFIX, SOURCE_GRAPH_PREFIX, data_graph_filter
    from kg.ids import to_id
    from kg.ontology import default_ontology
    from kg.vocab import MLG

    result = store.query(
        "SELECT ?types (COUNT(*) AS ?n) WHERE { "
        "SELECT ?a (GROUP_CONCAT(DISTINCT STR(?t); SEPARATOR=' ') AS ?types) WHERE { "
        "GRAPH ?g { ?a a ?t } "
        f'FILTER(isIRI(?a) && STRSTARTS(STR(?t), "{MLG}") && {data_graph_filter("?g")}) '
        "} GROUP BY ?a } GROUP BY ?types"
    )
    assert isinstance(result, ox.QuerySolutions)
    ontology = default_ontology()
    by_type: Counter[str] = Counter()
    for row in result:
        kind = ontology.specific_type(row["types"].value.split(" "))
        if kind is not None:
            by_type[to_id(kind, base_iri)] += int(row["n"].value)
    sizes = store.graph_sizes()
    sources = Counter(
        g.removeprefix(SOURCE_GRAPH_PREFIX).split(":", 1)[0]
        for g in sizes
        if g.startswith(SOURCE_GRAPH_PREFIX)
    )
    return {
        "triples": store.size(),
        "graphs": len(sizes),
        "asset_graphs": sum(1 for g in sizes if g.startswith(ASSET_GRAPH_PREFIX)),
        "source_graphs": dict(sorted(sources.items())),
        "assets": sum(by_type.values()),
        "assets_by_type": dict(sorted(by_type.items())),
    }


@cache
def _shapes(paths: tuple[str, ...]) -> object:
    from kg.governance.shapes import load_shapes

    return load_shapes([Path(p) for p in paths])


def validation(
    store: GraphStore, shape_paths: Sequence[str], focus: Sequence[str] | None, engine: str
) -> object:
    """A validation report (kg.governance.model.Report) of the graph or of the focus nodes."""
    from kg.governance.shapes import Shapes
    from kg.governance.validation import Engine, validate

    shapes = _shapes(tuple(shape_paths))
    assert isinstance(shapes, Shapes)
    return validate(store, shapes, focus, Engine(engine))


def export(store: GraphStore, fmt: str, nodes: Sequence[str] | None, base_iri: str) -> bytes:
    """The data graphs (or the descriptions of `nodes`) in one of the export formats."""
    from kg import exports
    from kg.assets import described_quads
    from kg.graphs import is_data_graph
    from kg.ontology import default_ontology

    if nodes is not None:
        quads = described_quads(store, set(nodes))
    else:
        quads = [q for q in store.quads(None, None, None) if is_data_graph(q.graph_name)]
    return exports.render(quads, exports.ExportFormat(fmt), default_ontology(), base_iri)


def dump(store: GraphStore, accept: str | None) -> Answer:
    """The whole store, every graph (kg's own included), as `kg dump` writes it: N-Quads or
    TriG, or the union of the graphs in a graph format."""
    import io

    media = protocol.graph_media(accept, None) if accept else "application/n-quads"
    output = io.BytesIO()
    store.dump(output, protocol.GRAPH_TYPES[media])
    return Answer(output.getvalue(), media, "CONSTRUCT")


def graph_triples(store: GraphStore, graph: str | None, accept: str | None) -> Answer | None:
    """A graph of the Graph Store Protocol, serialized (None when a named graph is absent)."""
    from kg.write import graph_store

    triples = graph_store.read(store, ox.NamedNode(graph) if graph else None)
    if triples is None:
        return None
    media = protocol.graph_media(accept, None)
    body = ox.serialize(triples, format=protocol.GRAPH_TYPES[media]) or b""
    return Answer(body, media, "CONSTRUCT")


def preview(
    store: GraphStore,
    data: bytes,
    name: str,
    media_type: str | None,
    shape_paths: Sequence[str],
    base_iri: str,
    limits: object,
) -> object:
    """The report a document would get from the write gate, as if loaded (nothing stored):
    parsed and checked here too, so a hostile document's cost is under the budget."""
    from kg.governance.gate import Gate, GateMode
    from kg.governance.model import Report
    from kg.governance.shapes import Shapes
    from kg.ingest import parse_document
    from kg.limits import Limits
    from kg.ontology import default_ontology
    from kg.write import pipeline

    assert isinstance(limits, Limits)
    batch = parse_document(
        data, source=name, base_iri=base_iri, media_type=media_type, limits=limits
    )
    write = pipeline.prepare(default_ontology(), [batch])
    shapes = _shapes(tuple(shape_paths))
    assert isinstance(shapes, Shapes)
    gate = Gate(shapes, GateMode.ENFORCE)  # the lineage index lives in the server process
    focus, results = gate.candidate(store, write)
    return Report(results=results, shapes=shapes.count, focus_nodes=len(focus))
