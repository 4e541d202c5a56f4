"""kg's named graphs: every `urn:kg:graph:*` name, how kg mints and reads them, and which of
them are data (the one `is_data_graph`).

A data graph holds what sources said: one per asset (`urn:kg:graph:asset:<IRI>`), one per
importer and asset (`urn:kg:graph:source:<importer>:<IRI>`), the loose blank-node descriptions
(`urn:kg:graph:default`), the edges rules infer (`urn:kg:graph:inferred:<rule>:<IRI>`, one per
rule and asset, written by kg alone: kg.inference), and any graph a client names. kg's own
graphs hold what kg keeps for itself (the ontology, the shapes, the load records and the log,
reports, derived triples, writers' claims); only kg writes them, through the store, never
through the write pipeline.
"""

from __future__ import annotations

from pyoxigraph import BlankNode, DefaultGraph, NamedNode

ASSET_GRAPH_PREFIX = "urn:kg:graph:asset:"
DERIVED_GRAPH_PREFIX = "urn:kg:graph:derived:"
SOURCE_GRAPH_PREFIX = "urn:kg:graph:source:"
INFERRED_GRAPH_PREFIX = "urn:kg:graph:inferred:"
REPORT_GRAPH_PREFIX = "urn:kg:graph:reports/"
WRITER_GRAPH_PREFIX = "urn:kg:graph:writer:"  # the writers' claims on the store

ONTOLOGY_GRAPH = NamedNode("urn:kg:graph:ontology")
SHAPES_GRAPH = NamedNode("urn:kg:graph:shapes")
LOADS_GRAPH = NamedNode("urn:kg:graph:loads")
LOG_GRAPH = NamedNode("urn:kg:graph:log")  # the change log's head: the latest write's position
HISTORY_GRAPH = NamedNode("urn:kg:graph:history")  # history's own record: its prunes
# What each write replaced, one graph per write (`<prefix><position>`, kg.history.record).
HISTORY_GRAPH_PREFIX = "urn:kg:graph:history:"
REPORT_GRAPH = NamedNode(REPORT_GRAPH_PREFIX + "latest")  # the last whole-graph report saved
# Data: blank-node descriptions attached to no IRI subject (no edges, nothing to index).
DEFAULT_DATA_GRAPH = NamedNode("urn:kg:graph:default")
# The write gate's scratch store: what the rules about a write's focus nodes can see.
STAGING_GRAPH = NamedNode("urn:kg:graph:staging")
# A graph no one writes: the default graph of a dataset the caller wants empty.
NONE_GRAPH = NamedNode("urn:kg:graph:none")

# The source of what an asset graph holds: kg itself, from native documents and RDF written to it.
NATIVE_SOURCE = "kg"

# kg's own graphs: what each one holds, for the messages that refuse a write to one.
SYSTEM_GRAPHS: dict[NamedNode, str] = {
    ONTOLOGY_GRAPH: "the mlg ontology",
    SHAPES_GRAPH: "the SHACL shapes",
    LOADS_GRAPH: "load records",
    LOG_GRAPH: "the change log's position",
    HISTORY_GRAPH: "the history of every graph",
}
SYSTEM_GRAPH_PREFIXES: dict[str, str] = {
    REPORT_GRAPH_PREFIX: "validation reports",
    DERIVED_GRAPH_PREFIX: "triples kg derives",
    WRITER_GRAPH_PREFIX: "the writers' claims on the store",
    HISTORY_GRAPH_PREFIX: "the history of every graph",
}


def system_graph(name: NamedNode) -> str | None:
    """What a kg system graph holds ("load records"...), or None for any other graph."""
    if name in SYSTEM_GRAPHS:
        return SYSTEM_GRAPHS[name]
    for prefix, role in SYSTEM_GRAPH_PREFIXES.items():
        if name.value.startswith(prefix):
            return role
    return None


def is_data_graph(name: NamedNode | BlankNode | DefaultGraph) -> bool:
    """A named graph of data: every graph that is not one of kg's own (`SYSTEM_GRAPHS`, and
    those named with a `SYSTEM_GRAPH_PREFIXES` prefix). Only data graphs take protocol writes.

    >>> is_data_graph(NamedNode("urn:kg:graph:asset:https://kg.example/id/a"))
    True
    >>> is_data_graph(NamedNode("urn:kg:graph:loads"))
    False
    """
    return isinstance(name, NamedNode) and system_graph(name) is None


def data_graph_filter(variable: str) -> str:
    """`is_data_graph` as a SPARQL expression over a graph variable, for a query that reads
    the data graphs only (`GRAPH ?g { … } FILTER(…)`).

    >>> data_graph_filter("?g").startswith('isIRI(?g) && ?g NOT IN (<urn:kg:graph:ontology>')
    True
    """
    fixed = ", ".join(str(g) for g in SYSTEM_GRAPHS)
    prefixed = "".join(
        f' && !STRSTARTS(STR({variable}), "{prefix}")' for prefix in SYSTEM_GRAPH_PREFIXES
    )
    return f"isIRI({variable}) && {variable} NOT IN ({fixed}){prefixed}"


def is_derived_graph(name: NamedNode | BlankNode | DefaultGraph) -> bool:
    """A graph of triples kg derived from a source graph (not what a source said)."""
    return isinstance(name, NamedNode) and name.value.startswith(DERIVED_GRAPH_PREFIX)


def is_inferred_graph(name: NamedNode | BlankNode | DefaultGraph) -> bool:
    """A graph of what an inference rule concluded about one asset: data to every reader, but
    written by kg alone (kept in step with the rule's premises), never by a client."""
    return isinstance(name, NamedNode) and name.value.startswith(INFERRED_GRAPH_PREFIX)


def inferred_graph(rule: str, subject: NamedNode) -> NamedNode:
    """The named graph of what one rule concluded about one asset.

    >>> inferred_graph("experiment-tests", NamedNode("https://kg.example/id/ab")).value
    'urn:kg:graph:inferred:experiment-tests:https://kg.example/id/ab'
    """
    return NamedNode(f"{INFERRED_GRAPH_PREFIX}{rule}:{subject.value}")


def asset_graph(subject: NamedNode) -> NamedNode:
    """The named graph holding what the sources said about one asset."""
    return NamedNode(ASSET_GRAPH_PREFIX + subject.value)


def derived_graph(source_graph: NamedNode) -> NamedNode:
    """The named graph of triples kg derived from one source graph; replaced with it."""
    return NamedNode(DERIVED_GRAPH_PREFIX + source_graph.value)


def history_graph(position: int) -> NamedNode:
    """The graph of the versions the write at `position` replaced."""
    return NamedNode(f"{HISTORY_GRAPH_PREFIX}{position}")


def derived_source(graph: NamedNode) -> NamedNode | None:
    """The source graph a derived graph was derived from; None for any other graph."""
    if not graph.value.startswith(DERIVED_GRAPH_PREFIX):
        return None
    return NamedNode(graph.value.removeprefix(DERIVED_GRAPH_PREFIX))


def source_graph(scope: str, subject: NamedNode) -> NamedNode:
    """The named graph holding what one importer (scope) said about one asset."""
    return NamedNode(f"{SOURCE_GRAPH_PREFIX}{scope}:{subject.value}")


def described_subject(graph: str) -> str | None:
    """The asset an asset graph, a source graph or an inferred graph describes; None for other
    graphs."""
    if graph.startswith(ASSET_GRAPH_PREFIX):
        return graph.removeprefix(ASSET_GRAPH_PREFIX)
    for prefix in (SOURCE_GRAPH_PREFIX, INFERRED_GRAPH_PREFIX):
        if graph.startswith(prefix):
            return graph.removeprefix(prefix).partition(":")[2] or None
    return None


def graph_source(graph: str) -> str:
    """Which source system said what a data graph holds, as search facets and asset views name
    it: `kg` for an asset graph (native documents, the asset API, SPARQL Update, the default
    graph of the Graph Store Protocol), the importer for a source graph, `inferred:<rule>` for
    what a rule inferred, else the graph itself (a named graph a client wrote).

    >>> graph_source("urn:kg:graph:asset:https://kg.example/id/a")
    'kg'
    >>> graph_source("urn:kg:graph:source:openlineage:https://kg.example/id/a")
    'openlineage'
    >>> graph_source("urn:kg:graph:inferred:experiment-tests:https://kg.example/id/ab")
    'inferred:experiment-tests'
    >>> graph_source("urn:batch:nightly")
    'urn:batch:nightly'
    """
    if graph.startswith(ASSET_GRAPH_PREFIX):
        return NATIVE_SOURCE
    if graph.startswith(SOURCE_GRAPH_PREFIX):
        return graph.removeprefix(SOURCE_GRAPH_PREFIX).partition(":")[0]
    if graph.startswith(INFERRED_GRAPH_PREFIX):
        return "inferred:" + graph.removeprefix(INFERRED_GRAPH_PREFIX).partition(":")[0]
    return graph
