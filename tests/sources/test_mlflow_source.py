"""The MLflow source against a real MLflow server filled by the real client (log_demo), and
its failures: a server that is not there or does not answer, refusals, wrong paths; webhook
signatures checked against the installed mlflow's own signing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kg.errors import InputError
from kg.sources import mlflow as mlflow_source
from kg.sources.base import EntityRef, SourceRefusedError, SourceUnavailableError
from kg.sources.mlflow import MlflowSource, WebhookSignatureError, signature, webhook_events
from tests.sources.mlflow_server import QUIET, Server, log_demo
from tests.sources.mlflow_server import mlflow_server as mlflow_server  # the fixture
from tests.test_serve import free_port

BASE = "https://kg.example/id/"


@pytest.fixture(scope="module")
def demo(mlflow_server: Server) -> dict[str, Any]:
    return log_demo(mlflow_server.uri)


@pytest.fixture
def source(mlflow_server: Server, demo: dict[str, Any]) -> MlflowSource:
    return MlflowSource(mlflow_server.uri, BASE)


def rest(server: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{server.uri}/api/2.0/mlflow/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
        result: dict[str, Any] = json.loads(answer.read())
        return result


def test_entities_lists_what_the_client_made_in_hydration_order(
    source: MlflowSource, demo: dict[str, Any]
) -> None:
    refs = list(source.entities())
    ours = [r for r in refs if r.kind != "experiment" or r.id == demo["experiment_id"]]
    assert [r.kind for r in ours] == [
        "experiment",
        "run",
        "run",
        "logged_model",
        "logged_model",
        "registered_model",
        "model_version",
        "model_version",
    ]
    ids = {(r.kind, r.id) for r in refs}
    assert {("run", run) for run in demo["runs"]} <= ids
    assert {("logged_model", m) for m in demo["logged_models"]} <= ids
    assert ("registered_model", "churn-model") in ids
    assert {("model_version", f"churn-model/{v}") for v in demo["versions"]} <= ids


def test_entities_follows_page_tokens(
    source: MlflowSource, demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = sorted(source.entities())
    monkeypatch.setattr(mlflow_source, "_PAGE", 1)
    monkeypatch.setattr(mlflow_source, "_LOGGED_MODELS_PAGE", 1)
    assert sorted(source.entities()) == everything


def test_fetch_each_kind(source: MlflowSource, demo: dict[str, Any]) -> None:
    run_id = demo["runs"][1]
    run = source.fetch(EntityRef("mlflow", "run", run_id))
    assert run is not None
    assert run["run"]["info"]["run_id"] == run_id
    assert {d["dataset"]["name"] for d in run["run"]["inputs"]["dataset_inputs"]} == {
        "churn-train",
        "churn-test",
    }
    assert [(v["name"], v["version"]) for v in run["model_versions"]] == [("churn-model", "2")]

    version = source.fetch(EntityRef("mlflow", "model_version", "churn-model/2"))
    assert version is not None
    assert version["model_version"]["aliases"] == ["champion"]
    assert version["run_user_id"] == run["run"]["info"]["user_id"]

    model = source.fetch(EntityRef("mlflow", "registered_model", "churn-model"))
    assert model is not None
    assert model["registered_model"]["description"] == "Predicts which customers leave."
    assert sorted(v["version"] for v in model["model_versions"]) == ["1", "2"]

    experiment = source.fetch(EntityRef("mlflow", "experiment", demo["experiment_id"]))
    assert experiment is not None
    assert experiment["experiment"]["name"] == "churn"

    logged = source.fetch(EntityRef("mlflow", "logged_model", demo["logged_models"][0]))
    assert logged is not None
    assert logged["model"]["info"]["source_run_id"] == demo["runs"][0]


def test_every_fetched_entity_maps(source: MlflowSource) -> None:
    for ref in source.entities():
        state = source.fetch(ref)
        assert state is not None
        mapped = source.map(ref, state)
        assert mapped.owned


@pytest.mark.parametrize(
    ("kind", "entity_id"),
    [
        ("experiment", "999"),
        ("run", "0123456789abcdef0123456789abcdef"),
        ("logged_model", "m-00000000000000000000000000000000"),
        ("registered_model", "no-such-model"),
        ("model_version", "churn-model/99"),
        ("model_version", "no-such-model/1"),
    ],
)
def test_fetch_of_a_missing_entity_is_none(source: MlflowSource, kind: str, entity_id: str) -> None:
    assert source.fetch(EntityRef("mlflow", kind, entity_id)) is None


def test_a_deleted_run_is_gone(source: MlflowSource, mlflow_server: Server) -> None:
    created = rest(mlflow_server, "runs/create", {"experiment_id": "0", "run_name": "scratch"})
    run_id = created["run"]["info"]["run_id"]
    assert source.fetch(EntityRef("mlflow", "run", run_id)) is not None
    rest(mlflow_server, "runs/delete", {"run_id": run_id})
    assert source.fetch(EntityRef("mlflow", "run", run_id)) is None
    assert EntityRef("mlflow", "run", run_id) not in set(source.entities())


def test_a_deleted_experiment_is_gone(source: MlflowSource, mlflow_server: Server) -> None:
    created = rest(mlflow_server, "experiments/create", {"name": "scratch-experiment"})
    experiment_id = created["experiment_id"]
    rest(mlflow_server, "experiments/delete", {"experiment_id": experiment_id})
    assert source.fetch(EntityRef("mlflow", "experiment", experiment_id)) is None
    assert EntityRef("mlflow", "experiment", experiment_id) not in set(source.entities())


def test_a_wrong_path_is_refused(mlflow_server: Server, demo: dict[str, Any]) -> None:
    wrong = MlflowSource(mlflow_server.uri + "/not-mlflow", BASE)
    with pytest.raises(
        SourceRefusedError, match=r"/api/2\.0/mlflow/experiments/search answered 404"
    ):
        list(wrong.entities())
    with pytest.raises(SourceRefusedError, match="404"):
        wrong.fetch(EntityRef("mlflow", "registered_model", "churn-model"))


def test_an_entity_id_that_is_not_one_is_an_input_error(source: MlflowSource) -> None:
    with pytest.raises(InputError):
        source.fetch(EntityRef("mlflow", "model_version", "no-version"))
    with pytest.raises(InputError):
        source.fetch(EntityRef("mlflow", "prompt", "p"))


def test_no_server_is_unavailable() -> None:
    gone = MlflowSource(f"http://127.0.0.1:{free_port()}", BASE, timeout=5)
    with pytest.raises(SourceUnavailableError, match="experiments/search"):
        list(gone.entities())
    with pytest.raises(SourceUnavailableError, match="runs/get"):
        gone.fetch(EntityRef("mlflow", "run", "abc"))


def test_a_server_that_does_not_answer_is_unavailable() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        slow = MlflowSource(f"http://127.0.0.1:{port}", BASE, timeout=0.5)
        with pytest.raises(SourceUnavailableError, match="registered-models/get"):
            slow.fetch(EntityRef("mlflow", "registered_model", "churn-model"))


class _Stub(BaseHTTPRequestHandler):
    """Answers every request with the status the test set, and keeps what it was sent."""

    status = 200
    body = b"{}"
    seen: list[dict[str, str]]

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers.items()))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def do_POST(self) -> None:
        self.do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[tuple[str, type[_Stub]]]:
    handler = type("Handler", (_Stub,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, SourceRefusedError),
        (403, SourceRefusedError),
        (400, SourceRefusedError),
        (429, SourceUnavailableError),
        (500, SourceUnavailableError),
        (503, SourceUnavailableError),
    ],
)
def test_answers_that_are_errors(
    stub: tuple[str, type[_Stub]], status: int, error: type[Exception]
) -> None:
    uri, handler = stub
    handler.status = status
    handler.body = json.dumps({"error_code": "SOMETHING", "message": "no"}).encode()
    with pytest.raises(error, match=rf"model-versions/get answered {status}"):
        MlflowSource(uri, BASE).fetch(EntityRef("mlflow", "model_version", "m/1"))


def test_the_token_is_sent_as_a_bearer_token(stub: tuple[str, type[_Stub]]) -> None:
    uri, handler = stub
    handler.body = json.dumps({"registered_model": {"name": "m"}}).encode()
    source = MlflowSource(uri, BASE, token="s3cret")  # noqa: S106 (a test token)
    source.fetch(EntityRef("mlflow", "registered_model", "m"))
    assert {h.get("Authorization") for h in handler.seen} == {"Bearer s3cret"}


def test_an_answer_that_is_not_json_is_refused(stub: tuple[str, type[_Stub]]) -> None:
    uri, handler = stub
    handler.body = b"<html>a login page</html>"
    with pytest.raises(SourceRefusedError, match="not JSON"):
        MlflowSource(uri, BASE).fetch(EntityRef("mlflow", "registered_model", "m"))


# ---------------------------------------------------------------- webhooks

SECRET = "shared-secret"  # noqa: S105 (a test secret)
PAYLOAD = {
    "entity": "model_version",
    "action": "created",
    "timestamp": "2026-12-01T10:00:00+00:00",
    "data": {"name": "churn-model", "version": "2", "source": "models:/m-1", "run_id": "r"},
}


def mlflow_signature(secret: str, delivery: str, timestamp: str, body: bytes) -> str:
    """The signature the installed mlflow's webhook delivery computes (in a process of its
    own: importing mlflow warns)."""
    pytest.importorskip("mlflow")
    script = (
        "import sys, warnings; warnings.simplefilter('ignore');"
        "from mlflow.webhooks.delivery import _generate_hmac_signature as sign;"
        "print(sign(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, secret, delivery, timestamp, body.decode()],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**os.environ, **QUIET},
    )
    return done.stdout.strip()


def delivery(now: int, signed_with: str = SECRET, age: int = 0) -> tuple[dict[str, str], bytes]:
    body = json.dumps(PAYLOAD).encode()
    timestamp = str(now - age)
    headers = {
        "X-MLflow-Delivery-Id": "5f0c7c0e-2b1a-4c55-9d55-0a4b1b1f3e11",
        "X-MLflow-Timestamp": timestamp,
        "X-MLflow-Signature": signature(
            signed_with, "5f0c7c0e-2b1a-4c55-9d55-0a4b1b1f3e11", timestamp, body
        ),
    }
    return headers, body


NOW = 1_800_000_000


def test_the_signature_is_the_one_mlflow_computes() -> None:
    headers, body = delivery(NOW)
    expected = mlflow_signature(
        SECRET, headers["X-MLflow-Delivery-Id"], headers["X-MLflow-Timestamp"], body
    )
    assert headers["X-MLflow-Signature"] == expected
    MlflowSource("http://unused", BASE).verify_webhook(SECRET, headers, body, now=NOW)


def test_header_names_are_case_insensitive() -> None:
    headers, body = delivery(NOW)
    lowered = {k.lower(): v for k, v in headers.items()}
    mlflow_source.verify_webhook(SECRET, lowered, body, now=NOW)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("wrong secret", "does not match"),
        ("changed body", "does not match"),
        ("old", "old"),
        ("from the future", "old"),
        ("no signature", "X-MLflow-Signature"),
        ("no timestamp", "X-MLflow-Timestamp"),
        ("no delivery id", "X-MLflow-Delivery-Id"),
        ("timestamp not a number", "Unix seconds"),
    ],
)
def test_bad_deliveries_are_refused(change: str, message: str) -> None:
    headers, body = delivery(NOW, signed_with="other" if change == "wrong secret" else SECRET)
    if change == "changed body":
        body = body.replace(b'"2"', b'"3"')
    elif change == "old":
        headers, body = delivery(NOW, age=301)
    elif change == "from the future":
        headers, body = delivery(NOW, age=-301)
    elif change.startswith("no "):
        name = {"signature": "X-MLflow-Signature", "timestamp": "X-MLflow-Timestamp"}.get(
            change[3:], "X-MLflow-Delivery-Id"
        )
        del headers[name]
    elif change == "timestamp not a number":
        headers["X-MLflow-Timestamp"] = "yesterday"
    with pytest.raises(WebhookSignatureError, match=message) as caught:
        mlflow_source.verify_webhook(SECRET, headers, body, now=NOW)
    assert caught.value.status == 401


def test_a_delivery_just_within_the_tolerance_is_accepted() -> None:
    headers, body = delivery(NOW, age=299)
    mlflow_source.verify_webhook(SECRET, headers, body, now=NOW)


def test_one_of_several_signatures_may_match() -> None:
    headers, body = delivery(NOW)
    headers["X-MLflow-Signature"] = "v1,bm90LXRoaXMtb25l " + headers["X-MLflow-Signature"]
    mlflow_source.verify_webhook(SECRET, headers, body, now=NOW)


def mv(entity_id: str) -> EntityRef:
    return EntityRef("mlflow", "model_version", entity_id)


@pytest.mark.parametrize(
    ("entity", "action", "data", "refs"),
    [
        (
            "registered_model",
            "created",
            {"name": "churn-model", "tags": {}},
            [EntityRef("mlflow", "registered_model", "churn-model")],
        ),
        (
            "model_version",
            "created",
            {"name": "churn-model", "version": "2"},
            [mv("churn-model/2")],
        ),
        (
            "model_version_tag",
            "set",
            {"name": "churn-model", "version": "2", "key": "k", "value": "v"},
            [mv("churn-model/2")],
        ),
        (
            "model_version_tag",
            "deleted",
            {"name": "churn-model", "version": "1", "key": "k"},
            [mv("churn-model/1")],
        ),
        (
            "model_version_alias",
            "created",
            {"name": "churn-model", "alias": "champion", "version": "2"},
            [mv("churn-model/2")],
        ),
        (
            "model_version_alias",
            "deleted",
            {"name": "churn-model", "alias": "champion"},
            [EntityRef("mlflow", "registered_model", "churn-model")],
        ),
        ("prompt", "created", {"name": "greeting"}, []),
        ("prompt_version", "created", {"name": "greeting", "version": "1"}, []),
        ("prompt_alias", "created", {"name": "greeting", "alias": "a", "version": "1"}, []),
        ("budget_policy", "exceeded", {}, []),
        ("registered_model", "renamed", {"name": "x"}, []),
    ],
)
def test_webhook_events(
    entity: str, action: str, data: dict[str, Any], refs: list[EntityRef]
) -> None:
    payload = {
        "entity": entity,
        "action": action,
        "timestamp": "2026-12-01T10:00:00Z",
        "data": data,
    }
    assert webhook_events(payload) == refs


@pytest.mark.parametrize(
    "data",
    [None, {}, {"name": ""}, {"name": "churn-model"}, {"name": "churn-model", "version": None}],
)
def test_a_webhook_without_the_names_it_needs_is_an_input_error(data: Any) -> None:
    with pytest.raises(InputError):
        webhook_events({"entity": "model_version", "action": "created", "data": data})
