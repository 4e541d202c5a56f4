"""A real MLflow tracking server (the venv's `mlflow server` over SQLite) for the MLflow source's
tests, and `log_demo`, which fills one with the real MLflow client the way a team would.

The server takes seconds to start, so the fixture is session-scoped: import `mlflow_server`
into a test module (or a conftest) to use it there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import stop_process
from tests.test_serve import free_port

# Neither the server nor the client may phone home from a test.
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def program() -> Path:
    return Path(sys.executable).parent / "mlflow"


@dataclass
class Server:
    uri: str
    process: subprocess.Popen[bytes]
    folder: Path

    def stop(self) -> None:
        stop_process(self.process, 30)


def start(folder: Path) -> Server:
    """`mlflow server` on a free loopback port over a SQLite file in `folder`, once it answers;
    skips when mlflow is not installed."""
    pytest.importorskip("mlflow")
    if not program().exists():
        pytest.skip("the mlflow executable is not in the venv")
    port = free_port()
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(program()),
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--default-artifact-root",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **QUIET},
    )
    log.close()
    server = Server(f"http://127.0.0.1:{port}", process, folder)
    try:
        _wait_until_up(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_up(server: Server, seconds: float = 120) -> None:
    # A new database is migrated before the server answers: that alone can take many seconds.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = (server.folder / "server.log").read_text(errors="replace")
            pytest.fail(f"mlflow server stopped with {server.process.returncode}:\n{log[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.uri}/health", timeout=2) as answer:  # noqa: S310 (loopback)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    pytest.fail(f"mlflow server did not answer within {seconds} s")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start(tmp_path_factory.mktemp("mlflow"))
    try:
        yield server
    finally:
        server.stop()


# Runs with the real client in a process of its own: the client warns, and the test's
# interpreter turns warnings into errors.
_DEMO = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import mlflow
import pandas as pd
from mlflow import MlflowClient

mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient()
experiment_id = mlflow.set_experiment("churn").experiment_id
client.set_experiment_tag(experiment_id, "mlflow.ownerEmail", "ana@example.com")
client.set_experiment_tag(experiment_id, "team", "growth")
train = pd.DataFrame({"tenure": [1, 5, 12, 30], "churned": [1, 1, 0, 0]})
test = pd.DataFrame({"tenure": [3, 24], "churned": [1, 0]})
made = {"experiment_id": experiment_id, "runs": [], "logged_models": [], "versions": []}
client.create_registered_model("churn-model", tags={"domain": "growth", "owner": "ana"})
for number, depth in enumerate((3, 6), start=1):
    with mlflow.start_run(run_name=f"train-{number}") as run:
        mlflow.log_params({"max_depth": depth, "learning_rate": 0.1})
        for step, loss in enumerate((0.9, 0.6, 0.4 - number / 20)):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.log_metric("auc", 0.80 + number / 20)
        mlflow.set_tag("purpose", "baseline" if number == 1 else "tuned")
        mlflow.log_input(
            mlflow.data.from_pandas(train, source="s3://ml-data/churn/train.csv", name="churn-train"),
            context="training",
        )
        mlflow.log_input(
            mlflow.data.from_pandas(test, source="s3://ml-data/churn/test.csv", name="churn-test"),
            context="eval",
        )
        model = mlflow.create_external_model(
            name="churn-classifier", source_run_id=run.info.run_id, params={"max_depth": str(depth)}
        )
        mlflow.log_metric("auc", 0.80 + number / 20, model_id=model.model_id)
        version = mlflow.register_model(f"models:/{model.model_id}", "churn-model")
    made["runs"].append(run.info.run_id)
    made["logged_models"].append(model.model_id)
    made["versions"].append(version.version)
client.update_registered_model("churn-model", description="Predicts which customers leave.")
client.update_model_version("churn-model", "2", description="Deeper trees.")
client.set_model_version_tag("churn-model", "2", "validated", "yes")
client.set_registered_model_alias("churn-model", "champion", "2")
print(json.dumps(made))
"""


def log_demo(uri: str) -> dict[str, Any]:
    """Experiment "churn" with two runs (params, stepped metrics, a training and an eval
    dataset, tags), each with an external logged model registered as a version of
    "churn-model" (2 has the alias "champion"): returns the ids it made."""
    done = subprocess.run(
        [sys.executable, "-c", _DEMO, uri],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **QUIET},
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"the demo client failed:\n{done.stderr[-3000:]}")
    made: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return made
