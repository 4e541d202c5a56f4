"""Rules' conclusions kept in step with every write: added when their premises are, removed
with them, each in its rule's graph with the rule and the time as provenance, followed by
lineage, impact, search and the named queries."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.errors import ReadOnlyGraphError
from kg.graph import KnowledgeGraph
from kg.graphs import inferred_graph
from kg.ingest import Batch
from kg.lineage import Direction
from kg.vocab import mlg
from tests.conftest import iri, load_text, settings

CHAIN = """
assets:
  - {id: churn, type: Model}
  - {id: churn/3, type: ModelVersion, versionOf: churn, generatedBy: run-42}
  - {id: run-42, type: Run, testCells: [cell-b], used: [clicks]}
  - {id: clicks, type: Dataset}
  - {id: homepage-ab, type: Experiment, name: Homepage ranking}
  - {id: cell-b, type: TestCell, cellOf: homepage-ab}
"""


def versions_tested(graph: KnowledgeGraph, experiment: str) -> set[str]:
    return {
        t.object.value
        for t in graph.store.triples(ox.NamedNode(iri(experiment)), mlg("tests"), None)
    }


def test_an_experiment_reached_only_through_run_cell_experiment_is_found(
    graph: KnowledgeGraph,
) -> None:
    load_text(graph, CHAIN)
    rows = list(graph.named_query("experiments-running-model", {"model": iri("churn")}))
    assert [(r["experiment"].value, r["version"].value) for r in rows] == [
        (iri("homepage-ab"), iri("churn/3"))
    ]
    # in its rule's graph, written by a load that names the rule
    name = inferred_graph("experiment-tests", ox.NamedNode(iri("homepage-ab")))
    assert graph.store.graph(name) == [
        ox.Triple(ox.NamedNode(iri("homepage-ab")), mlg("tests"), ox.NamedNode(iri("churn/3")))
    ]
    sources = [s for q in graph.store.quads(None, mlg("wrote"), name) for s in
               graph.store.triples(q.subject, mlg("source"), None)]  # fmt: skip
    assert any("rule experiment-tests" in s.object.value for s in sources)


def test_removing_the_runs_cell_removes_the_inferred_edge(graph: KnowledgeGraph) -> None:
    load_text(graph, CHAIN)
    assert versions_tested(graph, "homepage-ab") == {iri("churn/3")}
    report = load_text(graph, "- {id: run-42, type: Run, used: [clicks]}")
    assert versions_tested(graph, "homepage-ab") == set()
    assert report.inferred is not None  # type: ignore[attr-defined]
    assert report.inferred_rules == {"experiment-tests": 1}  # type: ignore[attr-defined]
    assert not graph.store.graph(
        inferred_graph("experiment-tests", ox.NamedNode(iri("homepage-ab")))
    )
    # and the lineage index lost it too
    impact = graph.impact(iri("churn/3"))
    assert iri("homepage-ab") not in {n.id for n in impact.affected}


def test_removing_any_premise_removes_the_conclusion(graph: KnowledgeGraph) -> None:
    load_text(graph, CHAIN)
    graph.delete_asset(iri("cell-b"))
    assert versions_tested(graph, "homepage-ab") == set()
    load_text(graph, "- {id: cell-b, type: TestCell, cellOf: homepage-ab}")
    assert versions_tested(graph, "homepage-ab") == {iri("churn/3")}


def test_inferred_edges_are_followed_by_lineage_and_marked_with_their_rule(
    graph: KnowledgeGraph,
) -> None:
    load_text(graph, CHAIN)
    upstream = graph.lineage(iri("homepage-ab"), Direction.UPSTREAM)
    found = {n.id for n in upstream.nodes}
    assert {iri("churn/3"), iri("run-42"), iri("clicks")} <= found
    version = next(n for n in upstream.nodes if n.id == iri("churn/3"))
    trained = [e for e in version.out_edges if e.type.endswith("trainedOn")]
    assert [e.inferred for e in trained] == ["version-trained-on"]
    stated = [e for e in version.out_edges if e.type.endswith("versionOf")]
    assert [e.inferred for e in stated] == [None]
    tests = [e for n in upstream.nodes for e in n.in_edges if e.type.endswith("#tests")]
    assert {e.inferred for e in tests} == {"experiment-tests"}


def test_a_version_uses_the_features_of_its_feature_sets(graph: KnowledgeGraph) -> None:
    load_text(
        graph,
        """
assets:
  - {id: fs, type: FeatureSet}
  - {id: fs/age, type: Feature, inFeatureSet: fs}
  - {id: fs/tenure, type: Feature, inFeatureSet: fs}
  - {id: m/1, type: ModelVersion, usesFeatureSet: fs}
""",
    )
    used = {
        t.object.value
        for t in graph.store.triples(ox.NamedNode(iri("m/1")), mlg("usesFeature"), None)
    }
    assert used == {iri("fs/age"), iri("fs/tenure")}
    load_text(graph, "- {id: fs/tenure, type: Feature}")  # left the set
    used = {
        t.object.value
        for t in graph.store.triples(ox.NamedNode(iri("m/1")), mlg("usesFeature"), None)
    }
    assert used == {iri("fs/age")}


def test_no_client_writes_an_inferred_graph(graph: KnowledgeGraph) -> None:
    load_text(graph, CHAIN)
    name = inferred_graph("experiment-tests", ox.NamedNode(iri("homepage-ab")))
    with pytest.raises(ReadOnlyGraphError, match="inference rule"):
        graph.load_batches([Batch(source="x", named_graphs={name: []}, drop=[])])
    with pytest.raises(ReadOnlyGraphError, match="inference rule"):
        graph.load_batches([Batch(source="x", drop=[name])])
    with pytest.raises(ReadOnlyGraphError, match="inference rule"):
        graph.sparql_update(f"DELETE WHERE {{ GRAPH <{name.value}> {{ ?s ?p ?o }} }}")
    assert versions_tested(graph, "homepage-ab") == {iri("churn/3")}
    # an update over every graph leaves them to kg, which follows the premises
    graph.sparql_update("DROP ALL")
    assert versions_tested(graph, "homepage-ab") == set()


def test_over_http_an_inferred_graph_is_read_only_and_the_rules_are_listed(
    graph: KnowledgeGraph,
) -> None:
    load_text(graph, CHAIN)
    name = inferred_graph("experiment-tests", ox.NamedNode(iri("homepage-ab"))).value
    with TestClient(create_app(graph=graph)) as client:
        reply = client.put("/store", params={"graph": name},
                           content=b"<urn:a> <urn:b> <urn:c> .", headers={"content-type": "application/n-triples"})  # fmt: skip
        assert reply.status_code == 403, reply.text
        assert "inference rule" in reply.json()["detail"]
        rules = {r["name"]: r for r in client.get("/api/v1/inference/rules").json()}
        assert rules["experiment-tests"]["assets"] == 1
        assert rules["version-trained-on"]["triples"] == 1
        assert client.post("/api/v1/inference").json() == {"changed": {}, "load": None}
        answer = client.get("/api/v1/impact", params={"nodeId": iri("churn/3")}).json()
        assert iri("homepage-ab") in {e["id"] for e in answer["experiments"]}


def test_a_users_rule_from_kg_rules(tmp_path: Path) -> None:
    (tmp_path / "owned.rq").write_text(
        "# name: team-of-cell\n# description: A cell is owned by its experiment's owner.\n"
        "PREFIX mlg: <https://w3id.org/mlg#>\n"
        "CONSTRUCT { ?cell mlg:owner ?team } WHERE { ?cell mlg:cellOf ?e . ?e mlg:owner ?team }"
    )
    graph = KnowledgeGraph.open(settings(rules=str(tmp_path)))
    try:
        load_text(
            graph,
            "- {id: ab, type: Experiment, owner: team-x}\n- {id: ab/a, type: TestCell, cellOf: ab}",
        )
        owners = {
            t.object.value
            for t in graph.store.triples(ox.NamedNode(iri("ab/a")), mlg("owner"), None)
        }
        assert owners == {iri("team-x")}
        view = graph.asset(iri("ab/a"))
        assert [o.node for o in view.owners] == [iri("team-x")]
        assert "inferred:team-of-cell" in {s.source for s in view.sources}
    finally:
        graph.close()


@pytest.fixture
def scrambled() -> Iterator[KnowledgeGraph]:
    graph = KnowledgeGraph.open(settings())
    yield graph
    graph.close()


def test_incremental_upkeep_equals_recomputing_everything(scrambled: KnowledgeGraph) -> None:
    """Random writes of the premises, one asset at a time: after each, `kg infer --all` finds
    nothing to change."""
    rng = random.Random(7)  # noqa: S311 (a reproducible walk, not a secret)
    experiments = [f"ab{i}" for i in range(3)]
    cells = [f"cell{i}" for i in range(6)]
    runs = [f"run{i}" for i in range(6)]
    versions = [f"m/{i}" for i in range(6)]
    datasets = [f"d{i}" for i in range(4)]
    seen: set[int] = set()  # how many conclusions there were, step by step
    for step in range(80):
        kind = rng.choice(["exp", "cell", "run", "version", "delete"])
        if kind == "exp":
            text = f"- {{id: {rng.choice(experiments)}, type: Experiment}}"
        elif kind == "cell":
            text = (
                f"- {{id: {rng.choice(cells)}, type: TestCell, cellOf: {rng.choice(experiments)}}}"
            )
        elif kind == "run":
            chosen = rng.sample(cells, rng.randint(0, 2))
            used = rng.sample(datasets, rng.randint(0, 2))
            text = f"- {{id: {rng.choice(runs)}, type: Run, testCells: {chosen}, used: {used}}}"
            text += "".join(f"\n- {{id: {d}, type: Dataset}}" for d in used)
        elif kind == "version":
            text = f"- {{id: {rng.choice(versions)}, type: ModelVersion, generatedBy: {rng.choice(runs)}}}"
        else:
            target = rng.choice([*experiments, *cells, *runs, *versions])
            if not scrambled.exists(iri(target)):
                continue
            text = f"delete {target}"
            scrambled.delete_asset(iri(target))
        if not text.startswith("delete"):
            load_text(scrambled, text, f"step-{step}.yaml")
        assert scrambled.infer() is None, f"out of step after step {step}: {text}"
        seen.add(sum(len(versions_tested(scrambled, e)) for e in experiments))
    assert len(seen) > 2  # conclusions came and went along the walk


def test_kg_rules_and_kg_infer(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from kg.cli import app

    runner = CliRunner()
    data = tmp_path / "ab.yaml"
    data.write_text(CHAIN)
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["load", str(data), "--store", store, "--gate", "off"]).exit_code == 0
    result = runner.invoke(app, ["rules", "--store", store, "--format", "json"])
    assert result.exit_code == 0, result.output
    counts = {r["name"]: (r["assets"], r["triples"]) for r in json.loads(result.output)}
    assert counts["experiment-tests"] == (1, 1) and counts["version-trained-on"] == (1, 1)
    result = runner.invoke(app, ["infer", "--all", "--store", store])
    assert result.exit_code == 0 and "in step" in result.output, result.output
    assert runner.invoke(app, ["infer", "--store", store]).exit_code == 2
    result = runner.invoke(app, ["query", "experiments-running-model", "-p", "model=churn",
                                 "--store", store, "--format", "json"])  # fmt: skip
    assert iri("homepage-ab") in result.output


def test_the_ab_tests_example_passes_the_gate_and_finds_both_cells_versions() -> None:
    from kg import resources
    from kg.graph import Document

    graph = KnowledgeGraph.open(settings(gate="enforce"))
    try:
        path = resources.data_dir("examples") / "ab-tests.yaml"
        graph.load([Document(path.name, path.read_bytes())])
        rows = graph.named_query("experiments-running-model", {"model": iri("model/churn")})
        assert sorted(r["version"].value for r in rows) == [
            iri("model/churn/1"),
            iri("model/churn/2"),
        ]  # type: ignore[index]
    finally:
        graph.close()
