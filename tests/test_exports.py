from __future__ import annotations

import json

import pytest
import rdflib

from kg.demo import load_demo
from kg.exports import ExportFormat, context
from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction
from kg.write import importers
from kg.write.importers import Importer
from tests.conftest import GOLDEN, iri, settings

_PARSE_AS = {
    ExportFormat.TURTLE: "turtle",
    ExportFormat.DCAT: "turtle",
    ExportFormat.PROV: "turtle",
    ExportFormat.TRIG: "trig",
    ExportFormat.JSONLD: "json-ld",
}
_FILE_NAMES = {
    ExportFormat.TURTLE: "export.ttl",
    ExportFormat.DCAT: "export.ttl",
    ExportFormat.PROV: "export.ttl",
    ExportFormat.TRIG: "export.trig",
    ExportFormat.JSONLD: "export.jsonld",
}


@pytest.fixture(scope="module")
def source() -> KnowledgeGraph:
    """The demo organisation, plus what OpenLineage and DataHub said."""
    graph = KnowledgeGraph.open(settings())
    load_demo(graph)
    events = GOLDEN / "openlineage-events.jsonl"
    importers.openlineage(graph, [Document(events.name, events.read_bytes())], strict=True)
    datahub = GOLDEN / "datahub-metadata.json"
    importers.ingest(graph, Importer.DATAHUB, [Document(datahub.name, datahub.read_bytes())],
                     strict=True)  # fmt: skip
    return graph


def answers(graph: KnowledgeGraph, root: str) -> dict[str, object]:
    result = {}
    for direction in (Direction.UPSTREAM, Direction.DOWNSTREAM):
        nodes = graph.lineage(root, direction).nodes
        result[direction.value] = sorted(
            (
                n.id,
                n.distance,
                n.type,
                tuple(sorted((e.origin, e.destination, e.type) for e in n.out_edges)),
            )
            for n in nodes
        )
    return result


ROOTS = [
    "dataset/postgres/analytics.public.clicks_clean",
    "model/home-ranking/v3",
    "dataset/viewing-history-daily",
]


def reload(data: bytes, fmt: ExportFormat) -> KnowledgeGraph:
    fresh = KnowledgeGraph.open(settings())
    fresh.load([Document(_FILE_NAMES[fmt], data)])
    return fresh


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_whole_graph_round_trip(source: KnowledgeGraph, fmt: ExportFormat) -> None:
    data = source.export(fmt)
    rdflib.Dataset().parse(data=data, format=_PARSE_AS[fmt])  # another parser reads it
    fresh = reload(data, fmt)
    for root in ROOTS:
        if source.exists(source.iri(root)):
            assert answers(fresh, root) == answers(source, root), (fmt, root)
    fresh.close()


@pytest.mark.parametrize("fmt", [ExportFormat.DCAT, ExportFormat.JSONLD])
def test_lineage_subset_round_trip(source: KnowledgeGraph, fmt: ExportFormat) -> None:
    root = "dataset/s3/feature-store/user_features/daily"
    data = source.export(fmt, asset=root)
    fresh = reload(data, fmt)
    assert answers(fresh, root)["upstream"] == answers(source, root)["upstream"]
    fresh.close()


def test_team_subset_holds_its_assets_and_no_others(source: KnowledgeGraph) -> None:
    data = source.export(ExportFormat.TURTLE, team="team/feature-eng")
    graph = rdflib.Graph().parse(data=data, format="turtle")
    subjects = {str(s) for s in graph.subjects()}
    assert iri("job/airflow-prod/features.build_user_features") in subjects
    assert iri("dataset/s3/feature-store/user_features/daily") in subjects
    assert iri("dataset/s3/feature-store/user_features/daily/field/clicks_7d") in subjects
    assert iri("dataset/postgres/analytics.public.clicks_clean") not in subjects


def test_dcat_is_a_catalog_with_datasets_services_and_distributions(source: KnowledgeGraph) -> None:
    graph = rdflib.Graph().parse(data=source.export(ExportFormat.DCAT), format="turtle")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    catalog = rdflib.URIRef(iri("catalog"))
    assert (catalog, rdflib.RDF.type, dcat.Catalog) in graph
    datasets = set(graph.objects(catalog, dcat.dataset))
    clicks = rdflib.URIRef(iri("dataset/postgres/analytics.public.clicks_clean"))
    assert clicks in datasets
    assert (clicks, rdflib.RDF.type, dcat.Dataset) in graph
    services = set(graph.objects(catalog, dcat.service))
    assert (
        rdflib.URIRef(
            "urn:li:mlModelDeployment:(urn:li:dataPlatform:sagemaker,churn-endpoint,PROD)"
        )
        in services
    )
    distribution = next(graph.objects(clicks, dcat.distribution))
    assert str(next(graph.objects(distribution, dcat.accessURL))).startswith("postgres://")


def test_prov_states_derivations_generation_and_attribution(source: KnowledgeGraph) -> None:
    graph = rdflib.Graph().parse(data=source.export(ExportFormat.PROV), format="turtle")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    output = rdflib.URIRef(iri("dataset/s3/feature-store/user_features/daily"))
    run = rdflib.URIRef(iri("run/0190a0c4-1f2e-7a3b-9c4d-5e6f7a8b9c0d"))
    assert (output, prov.wasGeneratedBy, run) in graph
    assert (run, rdflib.RDF.type, prov.Activity) in graph
    assert (
        run,
        prov.used,
        rdflib.URIRef(iri("dataset/postgres/analytics.public.clicks_clean")),
    ) in graph
    assert (output, prov.wasAttributedTo, rdflib.URIRef(iri("team/feature-eng"))) in graph
    assert any(graph.triples((None, prov.wasDerivedFrom, None)))


def test_jsonld_uses_the_published_context(source: KnowledgeGraph) -> None:
    document = json.loads(source.export(ExportFormat.JSONLD, asset="model/home-ranking/v3"))
    assert document["@context"] == context(source.ontology)["@context"]
    text = json.dumps(document)
    assert '"trainedOn"' in text or '"usesFeature"' in text


def test_trig_keeps_which_source_said_what(source: KnowledgeGraph) -> None:
    data = source.export(ExportFormat.TRIG)
    dataset = rdflib.Dataset().parse(data=data, format="trig")
    names = {str(g.identifier) for g in dataset.graphs()}
    assert any(n.startswith("urn:kg:graph:source:openlineage:") for n in names)
    assert any(n.startswith("urn:kg:graph:source:datahub:") for n in names)


def test_unknown_team_is_not_found(source: KnowledgeGraph) -> None:
    from kg.errors import NotFoundError

    with pytest.raises(NotFoundError):
        source.export(ExportFormat.TURTLE, team="team/nobody")
