from __future__ import annotations

import json

import pytest

from kg import identity
from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction, Walker
from kg.write import importers
from kg.write.importers import Importer
from tests.conftest import BASE, GOLDEN, iri, load_text
from tests.lineage.test_index import store_edges


@pytest.mark.parametrize(
    ("namespace", "name", "expected"),
    [
        ("postgres://db.internal:5432", "analytics.public.orders", "postgres/analytics.public.orders"),
        ("postgresql://db:5432", "shop.public.orders", "postgres/shop.public.orders"),
        ("s3://bucket", "path/to/file.parquet", "s3/bucket/path/to/file.parquet"),
        ("gs://bucket", "/data/x", "gcs/bucket/data/x"),
        ("bigquery", "project.dataset.table", "bigquery/project.dataset.table"),
        ("kafka://broker:9092", "clicks", "kafka/clicks"),
        ("file", "/data/x.csv", "file/data/x.csv"),
        ("food_delivery", "public.orders", "food_delivery/public.orders"),
    ],
)  # fmt: skip
def test_openlineage_dataset_names(namespace: str, name: str, expected: str) -> None:
    platform, key = identity.openlineage_dataset(namespace, name)
    assert identity.dataset(BASE, platform, key).value == BASE + "dataset/" + expected


@pytest.mark.parametrize(
    ("urn", "expected"),
    [
        ("urn:li:dataset:(urn:li:dataPlatform:postgres,analytics.public.orders,PROD)",
         "postgres/analytics.public.orders"),
        ("urn:li:dataset:(urn:li:dataPlatform:s3,bucket/path/to/file.parquet,PROD)",
         "s3/bucket/path/to/file.parquet"),
        ("urn:li:dataset:(urn:li:dataPlatform:hive,db.t,DEV)", "hive/db.t@DEV"),
    ],
)  # fmt: skip
def test_datahub_dataset_urns_meet_openlineage_names(urn: str, expected: str) -> None:
    assert identity.datahub_dataset_iri(BASE, urn).value == BASE + "dataset/" + expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [("user:jdoe", "person/jdoe"), ("team:data", "team/data"), ("jdoe", "person/jdoe")],
)
def test_owner_names(name: str, expected: str) -> None:
    assert identity.owner(BASE, name).value == BASE + expected
    if name.startswith("user:"):
        assert identity.datahub_agent(BASE, "urn:li:corpuser:jdoe").value == BASE + expected


NATIVE = """
assets:
  - id: dataset/postgres/analytics.public.clicks_clean
    type: Dataset
    name: Cleaned clicks
    owner: team/data-platform
    classification: Internal
  - id: team/data-platform
    type: Team
    name: Data platform
  - id: churn-report
    type: Service
    name: Churn report
    owner: team/data-platform
    stage: Production
    dependsOn: urn:li:mlModel:(urn:li:dataPlatform:mlflow,churn_3,PROD)
"""


def test_a_dataset_named_by_three_sources_is_one_asset(graph: KnowledgeGraph) -> None:
    events = GOLDEN / "openlineage-events.jsonl"
    datahub = GOLDEN / "datahub-metadata.json"
    importers.openlineage(graph, [Document(events.name, events.read_bytes())], strict=True)
    importers.ingest(
        graph, Importer.DATAHUB, [Document(datahub.name, datahub.read_bytes())], strict=True
    )
    load_text(graph, NATIVE)
    dataset = iri("dataset/postgres/analytics.public.clicks_clean")
    graphs = {
        q.graph_name.value
        for q in graph.store.quads(None, None, None)
        if q.subject.value == dataset and not q.graph_name.value.startswith("urn:kg:graph:derived")
    }
    assert graphs == {
        f"urn:kg:graph:source:openlineage:{dataset}",
        f"urn:kg:graph:source:datahub:{dataset}",
        f"urn:kg:graph:asset:{dataset}",
    }
    # Impact of the raw clicks reaches, through the one dataset node, what each source added:
    # the OpenLineage run and feature output, the DataHub model, the native service.
    down = graph.lineage("dataset/postgres/analytics.public.clicks_clean", Direction.DOWNSTREAM)
    ids = {n.id for n in down.nodes}
    assert iri("dataset/s3/feature-store/user_features/daily") in ids
    assert "urn:li:mlModel:(urn:li:dataPlatform:mlflow,churn_3,PROD)" in ids
    assert iri("churn-report") in ids
    assert sum(1 for n in down.nodes if n.id == dataset) == 1
    # Provenance: which source said what, and when.
    rows = graph.sparql(
        "SELECT ?g ?when WHERE { GRAPH ?g { <" + dataset + "> ?p ?o } "
        "?load <https://w3id.org/mlg#wrote> ?g ; <http://www.w3.org/ns/prov#endedAtTime> ?when }"
    )
    sources = {row[0].value.split(":")[4] for row in rows if "source" in row[0].value}  # type: ignore[union-attr]
    assert sources == {"openlineage", "datahub"}


def test_declared_equivalence_is_followed_both_ways(graph: KnowledgeGraph) -> None:
    load_text(
        graph,
        """
assets:
  - {id: warehouse-orders, type: Dataset}
  - {id: orders-report, type: Dataset, derivedFrom: warehouse-orders}
  - {id: lake-orders, type: Dataset}
  - {id: churn-features, type: FeatureSet, derivedFrom: lake-orders}
""",
    )
    importers.declare_same(graph, "lake-orders", ["warehouse-orders"])
    down = {n.id: n.distance for n in graph.lineage("warehouse-orders", Direction.DOWNSTREAM).nodes}
    assert down[iri("churn-features")] == 2 and down[iri("lake-orders")] == 1
    up = {n.id for n in graph.lineage("churn-features").nodes}
    assert iri("warehouse-orders") in up
    impacted = {n.id for n in graph.impact("warehouse-orders").affected}
    assert iri("churn-features") in impacted and iri("orders-report") in impacted
    assert graph.lineage_index.edges() == store_edges(graph)
    walker = Walker(graph.store, graph.ontology)  # the store walk agrees with the index
    assert iri("churn-features") in walker.distances(iri("warehouse-orders"),
                                                     Direction.DOWNSTREAM, None)[0]  # fmt: skip
    rows = graph.named_query("downstream", {"asset": iri("warehouse-orders")})
    assert iri("churn-features") in {row[1].value for row in rows}  # type: ignore[union-attr]
    importers.declare_same(graph, "lake-orders", ["warehouse-orders"], remove=True)
    down = {n.id for n in graph.lineage("warehouse-orders", Direction.DOWNSTREAM).nodes}
    assert iri("churn-features") not in down
    assert graph.lineage_index.edges() == store_edges(graph)


def test_native_documents_declare_same_as(graph: KnowledgeGraph) -> None:
    load_text(graph, "id: a\ntype: Dataset\nsameAs: [b]\n")
    load_text(graph, "id: c\ntype: Model\nderivedFrom: b\n", name="c.yaml")
    assert iri("c") in {n.id for n in graph.lineage("a", Direction.DOWNSTREAM).nodes}
    assert json.dumps(graph.asset("a").as_dict())
