"""Lineage, impact and paths on small graphs whose answers are known by hand."""

from __future__ import annotations

import pytest

from kg.errors import NotFoundError
from kg.graph import KnowledgeGraph
from kg.lineage import Direction
from tests.conftest import iri, load_text

MLG = "https://w3id.org/mlg#"

# raw -> clean -> (f1, f2) -> v1 ; v1 trained on clean too (a diamond plus a shortcut)
DIAMOND = """
- {id: raw, type: Dataset, owner: team/data}
- {id: clean, type: Dataset, derivedFrom: raw, owner: team/data}
- {id: f1, type: Feature, derivedFrom: clean, owner: person/p}
- {id: f2, type: Feature, derivedFrom: clean}
- {id: v1, type: ModelVersion, usesFeature: [f1, f2], versionOf: m, owner: team/ml}
- {id: m, type: Model, owner: team/ml}
- {id: svc, type: Service, deploys: v1, stage: Production, owner: team/ml}
- {id: canary, type: Service, deploys: v1, stage: Staging, owner: team/ml}
- {id: ab, type: Experiment, tests: v1, owner: team/xp}
- {id: team/data, type: Team}
- {id: team/ml, type: Team}
- {id: team/xp, type: Team}
- {id: person/p, type: Person, memberOf: team/ml}
- {id: person/q, type: Person, memberOf: team/ml}
"""

# a -> b -> c -> a (a cycle), and c -> d
CYCLE = """
- {id: a, type: Dataset, derivedFrom: b}
- {id: b, type: Dataset, derivedFrom: c}
- {id: c, type: Dataset, derivedFrom: [a, d]}
- {id: d, type: Dataset}
"""


def distances(graph: KnowledgeGraph, root: str, **kwargs: object) -> dict[str, int]:
    result = graph.lineage(root, **kwargs)  # type: ignore[call-overload]
    return {graph.short(n.id): n.distance for n in result.nodes}


@pytest.fixture
def diamond(graph: KnowledgeGraph) -> KnowledgeGraph:
    load_text(graph, DIAMOND)
    return graph


def test_upstream_with_shortest_distances(diamond: KnowledgeGraph) -> None:
    assert distances(diamond, "svc") == {
        "svc": 0, "v1": 1, "f1": 2, "f2": 2, "m": 2, "clean": 3, "raw": 4,
    }  # fmt: skip


def test_downstream(diamond: KnowledgeGraph) -> None:
    assert distances(diamond, "raw", direction=Direction.DOWNSTREAM) == {
        "raw": 0, "clean": 1, "f1": 2, "f2": 2, "v1": 3, "svc": 4, "canary": 4, "ab": 4,
    }  # fmt: skip


def test_both_directions(diamond: KnowledgeGraph) -> None:
    assert distances(diamond, "f1", direction=Direction.BOTH) == {
        "f1": 0, "clean": 1, "v1": 1, "raw": 2, "svc": 2, "canary": 2, "ab": 2,
    }  # fmt: skip


def test_depth_limit(diamond: KnowledgeGraph) -> None:
    assert distances(diamond, "svc", depth=2) == {"svc": 0, "v1": 1, "f1": 2, "f2": 2, "m": 2}


def test_type_filter_keeps_walking_through_other_types(diamond: KnowledgeGraph) -> None:
    assert distances(diamond, "svc", types=["Dataset"]) == {"svc": 0, "clean": 3, "raw": 4}
    # FeatureSet and Dataset: a sub-class counts as its super-class
    assert distances(diamond, "svc", types=["mlg:Asset"]) == distances(diamond, "svc")


def test_nodes_carry_type_label_owner_and_edges(diamond: KnowledgeGraph) -> None:
    nodes = {diamond.short(n.id): n for n in diamond.lineage("svc").nodes}
    v1 = nodes["v1"]
    assert v1.type == MLG + "ModelVersion"
    assert v1.owners == [iri("team/ml")]
    assert {(diamond.short(e.destination), e.type) for e in v1.out_edges} == {
        ("f1", MLG + "usesFeature"), ("f2", MLG + "usesFeature"), ("m", MLG + "versionOf"),
    }  # fmt: skip
    assert [(diamond.short(e.origin), e.type) for e in v1.in_edges] == [("svc", MLG + "deploys")]
    # the materialized mlg:dependsOn never shows as a second edge
    assert all(e.type != MLG + "dependsOn" for n in nodes.values() for e in n.out_edges)


def test_cycles_terminate(graph: KnowledgeGraph) -> None:
    load_text(graph, CYCLE)
    assert distances(graph, "a") == {"a": 0, "b": 1, "c": 2, "d": 3}
    assert distances(graph, "a", direction=Direction.DOWNSTREAM) == {"a": 0, "c": 1, "b": 2}


def test_a_direct_depends_on_edge_is_walked(graph: KnowledgeGraph) -> None:
    load_text(graph, "- {id: x, type: Service, dependsOn: y}\n- {id: y, type: Dataset}\n")
    result = graph.lineage("x")
    assert [e.type for e in result.nodes[0].out_edges] == [MLG + "dependsOn"]


def test_unknown_asset(graph: KnowledgeGraph) -> None:
    with pytest.raises(NotFoundError):
        graph.lineage("nothing-here")


def test_unresolved_nodes_show(graph: KnowledgeGraph) -> None:
    load_text(graph, "- {id: v, type: ModelVersion, trainedOn: ghost}\n")
    ghost = graph.lineage("v").nodes[1]
    assert (ghost.id, ghost.resolved, ghost.type) == (iri("ghost"), False, None)
    assert graph.lineage("ghost", direction=Direction.DOWNSTREAM).nodes[1].id == iri("v")


def test_impact(diamond: KnowledgeGraph) -> None:
    result = diamond.impact("clean")
    short = diamond.short
    assert {short(n.id) for n in result.affected} == {"f1", "f2", "v1", "svc", "canary", "ab"}
    assert {short(t): sorted(short(i) for i in ids) for t, ids in result.by_type.items()} == {
        "mlg:Feature": ["f1", "f2"],
        "mlg:ModelVersion": ["v1"],
        "mlg:Service": ["canary", "svc"],
        "mlg:Experiment": ["ab"],
    }
    assert [short(n.id) for n in result.production_services] == ["svc"]
    assert [short(n.id) for n in result.experiments] == ["ab"]
    owners = {short(o.id): o for o in result.owners}
    assert set(owners) == {"team/ml", "team/xp", "person/p"}
    assert owners["team/ml"].members == [iri("person/p"), iri("person/q")]
    assert sorted(short(a) for a in owners["team/ml"].assets) == ["canary", "svc", "v1"]
    assert [short(i) for i in result.unowned] == ["f2"]


def test_path_through_a_diamond_lists_every_shortest_path(diamond: KnowledgeGraph) -> None:
    result = diamond.paths("svc", "raw")
    assert result.direction is Direction.UPSTREAM
    assert result.length == 4
    routes = [[diamond.short(e.destination) for e in p] for p in result.paths]
    assert routes == [["v1", "f1", "clean", "raw"], ["v1", "f2", "clean", "raw"]]
    assert result.paths[0][0].type == MLG + "deploys"


def test_path_the_other_way_round(diamond: KnowledgeGraph) -> None:
    result = diamond.paths("raw", "svc")
    assert result.direction is Direction.DOWNSTREAM
    assert result.length == 4
    assert result.paths[0][0].origin == iri("svc")


def test_no_path(diamond: KnowledgeGraph) -> None:
    result = diamond.paths("svc", "canary")
    assert (result.direction, result.length, result.paths) == (None, None, [])


def test_path_in_a_cycle(graph: KnowledgeGraph) -> None:
    load_text(graph, CYCLE)
    assert graph.paths("a", "d").length == 3
    assert graph.paths("c", "a").length == 1
