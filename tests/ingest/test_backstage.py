from __future__ import annotations

import pytest

from kg.errors import InputError
from kg.graph import Document, KnowledgeGraph
from kg.ingest import backstage
from kg.write import importers
from kg.write.importers import Importer
from tests.conftest import BASE, GOLDEN, assert_golden, data_nquads, iri, shared

CATALOG = GOLDEN / "backstage-catalog.yaml"


def ingest(graph: KnowledgeGraph, *documents: tuple[str, bytes]) -> importers.IngestReport:
    return importers.ingest(
        graph,
        Importer.BACKSTAGE,
        [Document(name, data) for name, data in documents],
        strict=True,
    )


def test_golden(graph: KnowledgeGraph) -> None:
    report = ingest(graph, (CATALOG.name, CATALOG.read_bytes()))
    assert report.counts()["items"] == 10
    assert sorted(r.item.split(": ", 1)[1] for r in report.skipped) == [
        "component:default/churn-notebooks",
        "template:default/new-model-service",
    ]
    assert_golden("backstage-catalog.nq", data_nquads(graph))


def test_teams_people_services_and_ownership(graph: KnowledgeGraph) -> None:
    ingest(graph, (CATALOG.name, CATALOG.read_bytes()))
    service = graph.asset("backstage/component/default/churn-api")
    assert service.type == "https://w3id.org/mlg#Service"
    assert service.stage == "https://w3id.org/mlg#Production"
    assert [r.node for r in service.owners] == [iri("team/ml-serving")]
    api = graph.asset("backstage/api/default/churn-scores")
    assert [r.node for r in api.owners] == [iri("person/omar")]
    omar = graph.asset("person/omar")
    assert omar.label == "Omar Haddad"
    assert iri("team/ml-serving") in {r.node for r in omar.outgoing}
    up = {n.id for n in graph.lineage("backstage/component/default/churn-api").nodes}
    # consumesApis and dependsOn are dependencies; providesApis is not.
    assert iri("backstage/api/default/feature-lookup") in up
    assert iri("backstage/component/ops/feature-server") in up
    assert iri("backstage/resource/default/churn-model-bucket") in up
    assert iri("backstage/api/default/churn-scores") not in up


def test_groups_imported_after_users_keep_the_users_descriptions(graph: KnowledgeGraph) -> None:
    users, groups = [], []
    for part in CATALOG.read_text().split("---\n"):
        (users if "kind: User" in part else groups).append(part)
    ingest(graph, ("users.yaml", "---\n".join(users).encode()))
    ingest(graph, ("groups.yaml", "---\n".join(groups).encode()))
    assert graph.asset("person/omar").label == "Omar Haddad"


@pytest.mark.parametrize(
    ("ref", "default_kind", "expected"),
    [
        ("team-a", "group", "team/team-a"),
        ("group:team-a", None, "team/team-a"),
        ("user:default/jdoe", "group", "person/jdoe"),
        ("user:ops/jdoe", None, "person/ops/jdoe"),
        ("petstore", "api", "backstage/api/default/petstore"),
        ("other/petstore", "api", "backstage/api/other/petstore"),
        ("Component:Ops/Feature-Server", None, "backstage/component/ops/Feature-Server"),
    ],
)
def test_entity_refs_resolve_with_backstage_defaults(
    ref: str, default_kind: str | None, expected: str
) -> None:
    mapper = backstage._Mapper(BASE, "catalog.yaml")
    assert mapper.ref(ref, default_kind, "default", 1).value == BASE + expected


def test_the_example_catalog() -> None:
    folder = shared("data", "backstage", "examples")
    from tests.conftest import settings

    graph = KnowledgeGraph.open(settings())
    files = sorted(folder.glob("acme/*.yaml")) + sorted(folder.glob("*/*.yaml"))
    files = [p for p in dict.fromkeys(files) if p.parent.name != "acme" or p.suffix == ".yaml"]
    report = importers.ingest(
        graph, Importer.BACKSTAGE, [Document(str(p), p.read_bytes()) for p in files], strict=False
    )
    assert report.refused == []
    by_type = report.by_type()
    assert by_type["mlg:Team"]["created"] >= 8
    assert by_type["mlg:Person"]["created"] >= 10
    assert by_type["mlg:Service"]["created"] >= 10
    petstore = graph.asset("backstage/component/default/petstore")
    assert [r.node for r in petstore.owners] == [iri("team/team-c")]
    assert report.load is not None and not [
        r for r in report.load.unresolved if r.predicate.endswith("#owner")
    ]
    graph.close()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("kind: Component\nmetadata:\n  name: [unclosed\n", 4, "not YAML"),
        ("apiVersion: backstage.io/v1alpha1\nkind: Component\n", 1, "metadata.name"),
        ("kind: Component\nmetadata: {name: a}\nspec: {type: service, owner: 42}\n", 1,
         "non-empty string"),
        ("---\nkind: Component\nmetadata: {name: a}\nspec: {type: service, dependsOn: [b]}\n",
         2, "needs a kind"),
        ("- a list\n", 1, "must be a mapping"),
    ],
)  # fmt: skip
def test_bad_input_names_the_line_and_writes_nothing(
    graph: KnowledgeGraph, text: str, line: int, message: str
) -> None:
    before = data_nquads(graph)
    with pytest.raises(InputError, match=message) as caught:
        ingest(graph, ("bad.yaml", text.encode()))
    assert caught.value.line == line
    assert data_nquads(graph) == before
