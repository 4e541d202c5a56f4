"""The knowledge graph as the CLI and the HTTP layer see it: a store, its ontology, its settings.

Every operation here is synchronous and thin: it wires the pure modules (ingest, pipeline,
lineage, catalog) to the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kg import catalog, pipeline, resources
from kg import lineage as walks
from kg.config import Settings
from kg.ids import to_id, to_iri
from kg.ingest import Batch, parse_document
from kg.lineage import Direction, Impact, Lineage, Paths
from kg.ontology import Ontology, default_ontology
from kg.store import GraphStore, GraphWrite, QueryResult, open_store
from kg.vocab import ONTOLOGY_GRAPH, SHAPES_GRAPH, SPARQL_PREFIXES


@dataclass(frozen=True)
class Document:
    """One input to load: its name (a file name or a request), its bytes, its media type."""

    name: str
    data: bytes
    media_type: str | None = None


class KnowledgeGraph:
    def __init__(self, store: GraphStore, settings: Settings, ontology: Ontology) -> None:
        self.store = store
        self.settings = settings
        self.ontology = ontology

    @classmethod
    def open(cls, settings: Settings) -> KnowledgeGraph:
        graph = cls(open_store(settings.store_path()), settings, default_ontology())
        graph.install_vocabulary()
        return graph

    def close(self) -> None:
        self.store.close()

    def install_vocabulary(self) -> None:
        """Keep the ontology and shapes graphs equal to the shipped files."""
        shapes: list[ox.Triple] = []
        for path in resources.files("shapes", "*.ttl"):
            shapes.extend(q.triple for q in ox.parse(path=path))
        wanted = {ONTOLOGY_GRAPH: list(self.ontology.triples), SHAPES_GRAPH: shapes}
        stale = {g: ts for g, ts in wanted.items() if set(self.store.graph(g)) != set(ts)}
        if stale:
            self.store.commit(GraphWrite(replace=stale))

    # -- identity

    def iri(self, identifier: str) -> str:
        return to_iri(identifier, self.settings.base_iri).value

    def short(self, iri: str) -> str:
        return to_id(iri, self.settings.base_iri)

    # -- writes

    def parse(self, documents: Iterable[Document]) -> list[Batch]:
        return [
            parse_document(
                d.data, source=d.name, base_iri=self.settings.base_iri, media_type=d.media_type
            )
            for d in documents
        ]

    def load(self, documents: Sequence[Document]) -> pipeline.LoadReport:
        """Parse, check, derive and commit all documents at once, or nothing."""
        return pipeline.load(self.store, self.ontology, self.parse(documents))

    # -- reads

    def query(self, sparql: str, **kwargs: object) -> QueryResult:
        return self.store.query(sparql, **kwargs)  # type: ignore[arg-type]

    def named_query(self, name: str, params: dict[str, str]) -> QueryResult:
        query = catalog.named_query(name)
        bindings = query.bind(params, self.settings.base_iri)
        return self.store.query(query.text, substitutions=bindings)

    def lineage(
        self,
        node: str,
        direction: Direction = Direction.UPSTREAM,
        depth: int | None = None,
        types: Iterable[str] | None = None,
    ) -> Lineage:
        type_iris = [self.iri(t if ":" in t else f"mlg:{t}") for t in types] if types else None
        return walks.lineage(self.store, self.ontology, self.iri(node), direction, depth, type_iris)

    def impact(self, node: str) -> Impact:
        return walks.impact(self.store, self.ontology, self.iri(node))

    def paths(self, origin: str, target: str) -> Paths:
        return walks.paths(self.store, self.ontology, self.iri(origin), self.iri(target))

    def stats(self) -> dict[str, object]:
        result = self.store.query(
            SPARQL_PREFIXES
            + "SELECT ?type (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a mlg:Asset ; a ?type . "
            "FILTER(STRSTARTS(STR(?type), STR(mlg:)) && ?type != mlg:Asset) } GROUP BY ?type"
        )
        assert isinstance(result, ox.QuerySolutions)
        by_type = {self.short(row["type"].value): int(row["n"].value) for row in result}
        sizes = self.store.graph_sizes()
        return {
            "triples": self.store.size(),
            "graphs": len(sizes),
            "asset_graphs": sum(1 for g in sizes if g.startswith("urn:kg:graph:asset:")),
            "assets_by_type": dict(sorted(by_type.items())),
        }
