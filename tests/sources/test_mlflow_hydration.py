"""MLflow hydrated into kg as a user would run it: a real `mlflow server` on SQLite, runs and
registered versions logged by the real client, hydrated through `kg sync mlflow` and through
thin events; then changes made in MLflow (an alias moved, a stage changed, a version deleted)
reach kg by events sent twice, out of order, or by the next sync; and a `kill -9` of `kg serve`
with events pending loses none of them."""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.graph import KnowledgeGraph
from kg.lineage import Direction
from kg.sources.service import Hydration
from kg.vocab import mlg
from tests.conftest import BASE, settings
from tests.sources.mlflow_server import QUIET, Server, log_demo, start
from tests.test_serve import free_port, start_server


@pytest.fixture(scope="module")
def mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, Any]]]:
    server = start(tmp_path_factory.mktemp("mlflow-hydration"))
    try:
        yield server, log_demo(server.uri)
    finally:
        server.stop()


def change(uri: str, code: str) -> None:
    """Change MLflow with its own client, in a process of its own (the client warns)."""
    script = (
        "import sys, warnings\nwarnings.simplefilter('ignore')\nimport mlflow\n"
        "from mlflow import MlflowClient\nmlflow.set_tracking_uri(sys.argv[1])\n"
        "client = MlflowClient()\n" + code
    )
    done = subprocess.run([sys.executable, "-c", script, uri], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **QUIET}, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def node(local: str) -> ox.NamedNode:
    return ox.NamedNode(BASE + local)


def objects(graph: KnowledgeGraph, subject: ox.NamedNode, predicate: ox.NamedNode) -> set[str]:
    return {t.object.value for t in graph.store.triples(subject, predicate, None)}


@pytest.fixture
def hydrated(mlflow: tuple[Server, dict[str, Any]]) -> Iterator[tuple[KnowledgeGraph, Hydration]]:
    server, _ = mlflow
    graph = KnowledgeGraph.open(settings(mlflow_uri=server.uri, gate="enforce", source_rate=0))
    service = Hydration.open(graph, graph.settings)
    service.sync("mlflow")
    service.drain()
    yield graph, service
    service.close()
    graph.close()


def test_sync_gives_lineage_metrics_aliases_and_owners(
    mlflow: tuple[Server, dict[str, Any]], hydrated: tuple[KnowledgeGraph, Hydration]
) -> None:
    _, made = mlflow
    graph, service = hydrated
    status = service.status()[0]
    assert (status["pending"], status["failed"]) == (0, 0), status
    version = node("model/churn-model/2")
    run = node(f"run/{made['runs'][1]}")
    assert objects(graph, version, mlg("versionOf")) == {BASE + "model/churn-model"}
    assert objects(graph, version, mlg("generatedBy")) == {run.value}
    assert "champion" in objects(graph, version, mlg("alias"))
    # owners: the registered model's `owner` tag; a version without one, the user of its run
    assert objects(graph, node("model/churn-model"), mlg("owner")) == {BASE + "person/ana"}
    assert objects(graph, version, mlg("owner")) == {BASE + f"person/{getpass.getuser()}"}
    # lineage: version -> run -> the training dataset, as OpenLineage would name it
    upstream = {n.id for n in graph.lineage(version.value, Direction.UPSTREAM).nodes}
    train = BASE + "dataset/s3/ml-data/churn/train.csv"
    assert {run.value, train} <= upstream
    assert objects(graph, version, mlg("trainedOn")) == {train}  # inferred from the run
    # metrics: an evaluation of the version the run produced
    rows = graph.query(
        "PREFIX mlg: <https://w3id.org/mlg#> PREFIX dqv: <http://www.w3.org/ns/dqv#> "
        "SELECT ?name ?value ?on WHERE { ?e mlg:evaluates <" + version.value + "> ; "
        "mlg:metric [ dqv:isMeasurementOf ?name ; dqv:value ?value ] . "
        "OPTIONAL { ?e mlg:evaluatedOn ?on } }"
    )
    found = {(r["name"].value.rsplit("/", 1)[-1], r["on"].value if r["on"] else None) for r in rows}  # type: ignore[union-attr]
    assert ("auc", BASE + "dataset/s3/ml-data/churn/test.csv") in found
    # the run's params and its person
    assert objects(graph, run, mlg("owner"))
    assert graph.exists(BASE + "model/churn-model")


def test_an_alias_moved_and_a_stage_changed_reach_kg_by_events(
    mlflow: tuple[Server, dict[str, Any]], hydrated: tuple[KnowledgeGraph, Hydration]
) -> None:
    server, _ = mlflow
    graph, service = hydrated
    change(server.uri, "client.set_registered_model_alias('churn-model', 'champion', '1')\n"
                       "client.transition_model_version_stage('churn-model', '1', 'Production')")  # fmt: skip
    one, two = node("model/churn-model/1"), node("model/churn-model/2")
    events = [
        {"source": "mlflow", "entity": "model_version", "id": f"churn-model/{n}"} for n in (2, 1)
    ]
    from kg.sources.service import parse_events

    service.accept(parse_events(events + events[::-1], service.sources))  # twice, both orders
    service.drain()
    assert "champion" in objects(graph, one, mlg("alias"))
    assert "champion" not in objects(graph, two, mlg("alias"))
    assert objects(graph, one, mlg("stage")) == {mlg("Production").value}
    change(server.uri, "client.set_registered_model_alias('churn-model', 'champion', '2')")
    # no event this time: the next sync finds it
    service.sync("mlflow")
    service.drain()
    assert "champion" in objects(graph, two, mlg("alias"))
    assert "champion" not in objects(graph, one, mlg("alias"))


def test_a_version_deleted_in_mlflow_goes_from_kg(
    mlflow: tuple[Server, dict[str, Any]], hydrated: tuple[KnowledgeGraph, Hydration]
) -> None:
    server, made = mlflow
    graph, service = hydrated
    change(server.uri, "v = client.create_model_version('churn-model', 'runs:/"
                       + made["runs"][0] + "/model', run_id='" + made["runs"][0] + "')\nprint(v.version)")  # fmt: skip
    service.sync("mlflow")
    service.drain()
    assert graph.exists(BASE + "model/churn-model/3")
    change(server.uri, "client.delete_model_version('churn-model', '3')")
    from kg.sources.base import EntityRef

    late = EntityRef("mlflow", "model_version", "churn-model/3")
    service.accept([late, late])  # the deletion's event, and a stale one for the version
    service.drain()
    assert not graph.exists(BASE + "model/churn-model/3")
    assert service.status()[0]["failed"] == 0


def _post(url: str, body: object) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
        return int(answer.status)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback)
        return json.loads(answer.read())


@pytest.mark.embedded_only("runs kg serve processes on an embedded store folder")
def test_a_kill_9_with_events_pending_loses_none(
    tmp_path: Path, mlflow: tuple[Server, dict[str, Any]]
) -> None:
    server, made = mlflow
    store = tmp_path / "store"
    down = f"http://127.0.0.1:{free_port()}"  # MLflow unreachable: the events wait
    process, base = start_server("--store", str(store), env={"KG_MLFLOW_URI": down})
    events = [{"source": "mlflow", "entity": "model_version", "id": "churn-model/2"},
              {"source": "mlflow", "entity": "run", "id": made["runs"][0]}]  # fmt: skip
    try:
        assert _post(base + "/api/v1/events", events) == 202
        [status] = _get(base + "/api/v1/sources")
        assert status["pending"] == 2
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    process, base = start_server("--store", str(store), env={"KG_MLFLOW_URI": server.uri})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            [status] = _get(base + "/api/v1/sources")
            if status["pending"] == 0 and status["hydrated"] >= 2:
                break
            time.sleep(0.2)
        assert status["pending"] == 0 and status["failed"] == 0, status
        answer = _get(base + "/api/v1/assets/" + "model/churn-model/2")
        assert answer["id"] == BASE + "model/churn-model/2"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_kg_sync_and_kg_sources_on_a_store(
    tmp_path: Path, mlflow: tuple[Server, dict[str, Any]]
) -> None:
    from typer.testing import CliRunner

    from kg.cli import app

    server, _ = mlflow
    runner = CliRunner()
    env = {"KG_MLFLOW_URI": server.uri, "KG_GATE": "warn"}
    store = str(tmp_path / "store")
    result = runner.invoke(app, ["sync", "mlflow", "--store", store, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["listed"] >= 9 and report["hydrated"] >= report["listed"]
    assert (report["pending"], report["failed"]) == (0, 0)
    result = runner.invoke(app, ["sources", "--store", store], env=env)
    assert result.exit_code == 0 and "mlflow" in result.output, result.output
    result = runner.invoke(app, ["query", "experiments-running-model", "-p", "model=model/churn-model",
                                 "--store", store, "--format", "json"], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["sync", "nope", "--store", store], env=env)
    assert result.exit_code == 1 and "no source 'nope'" in result.output
