"""The MLflow mapping: golden files over states recorded from a real MLflow 3 server, and the
edge cases as tables.

Re-record the states with `python -m tests.sources.test_mlflow_map` (starts a server, runs
log_demo, fetches every entity), then `KG_UPDATE_GOLDEN=1 pytest tests/sources` rewrites the
mappings; read both diffs before committing them.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.errors import InputError
from kg.sources.base import EntityRef
from kg.sources.mlflow_map import dataset_identity, map_entity
from kg.vocab import value
from tests.conftest import GOLDEN, assert_golden

BASE = "https://kg.example/id/"
FOLDER = GOLDEN / "mlflow"
RECORDED = sorted(FOLDER.glob("*.json"))
MLG = "https://w3id.org/mlg#"


def recorded(name: str) -> tuple[EntityRef, dict[str, Any]]:
    document = json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))
    return EntityRef(**document["ref"]), document["state"]


def canonical(triples: list[ox.Triple]) -> str:
    """Sorted N-Triples with blank nodes named by RDFC-1.0 (the same graph, the same text)."""
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return "".join(sorted({f"{ox.Triple(q.subject, q.predicate, q.object)} .\n" for q in dataset}))


def values(triples: list[ox.Triple], subject: str, predicate: str) -> set[str]:
    return {
        value(t.object)
        for t in triples
        if value(t.subject) == subject and t.predicate.value == predicate
    }


def test_every_kind_has_a_recorded_state() -> None:
    kinds = {recorded(path.stem)[0].kind for path in RECORDED}
    assert kinds == {"experiment", "run", "logged_model", "registered_model", "model_version"}


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
def test_golden(path: Path) -> None:
    ref, state = recorded(path.stem)
    mapped = map_entity(ref, state, BASE)
    assert_golden(f"mlflow/{path.stem}.nt", canonical(mapped.triples))
    for subject in mapped.owned:
        assert values(mapped.triples, subject.value, MLG + "sourceEntity") == {ref.key}


def test_run_owns_its_evaluation_and_names_what_it_depends_on() -> None:
    ref, state = recorded("run-train-2")
    mapped = map_entity(ref, state, BASE)
    run = f"{BASE}run/{ref.id}"
    assert [s.value for s in mapped.owned] == [run, run + "/evaluation"]
    assert {(r.kind, r.id) for r in mapped.references} == {
        ("experiment", "1"),
        ("model_version", "churn-model/2"),
    }
    assert values(mapped.triples, run, MLG + "used") == {
        f"{BASE}dataset/s3/ml-data/churn/train.csv"
    }
    evaluation = run + "/evaluation"
    assert values(mapped.triples, evaluation, MLG + "evaluatedOn") == {
        f"{BASE}dataset/s3/ml-data/churn/test.csv"
    }
    assert values(mapped.triples, evaluation, MLG + "evaluates") == {f"{BASE}model/churn-model/2"}


def test_model_version_refreshes_its_run_and_joins_datahub_and_the_logged_model() -> None:
    ref, state = recorded("model_version-churn-model-2")
    mapped = map_entity(ref, state, BASE)
    run_id = state["model_version"]["run_id"]
    assert mapped.refresh == {EntityRef("mlflow", "run", run_id)}
    same = values(
        mapped.triples, f"{BASE}model/churn-model/2", "http://www.w3.org/2002/07/owl#sameAs"
    )
    model_id = state["model_version"]["source"].removeprefix("models:/")
    assert same == {
        "urn:li:mlModel:(urn:li:dataPlatform:mlflow,churn-model_2,PROD)",
        f"{BASE}model/mlflow-logged/{model_id}",
    }
    assert values(mapped.triples, f"{BASE}model/churn-model/2", MLG + "alias") == {"champion"}


# ---------------------------------------------------------------- edge cases of model versions


def version(**fields: Any) -> dict[str, Any]:
    found = {"name": "churn-model", "version": "3", "current_stage": "None", "status": "READY"}
    found.update(fields)
    return {"model_version": {k: v for k, v in found.items() if v is not None}}


VERSION = EntityRef("mlflow", "model_version", "churn-model/3")
V3 = f"{BASE}model/churn-model/3"


@pytest.mark.parametrize(
    ("fields", "stage", "status"),
    [
        ({}, {MLG + "Development"}, {MLG + "Active"}),
        ({"current_stage": None}, {MLG + "Development"}, {MLG + "Active"}),
        ({"current_stage": "Production"}, {MLG + "Production"}, {MLG + "Active"}),
        (
            {"current_stage": "Staging", "status": "PENDING_REGISTRATION"},
            {MLG + "Staging"},
            {MLG + "Experimental"},
        ),
        ({"status": "FAILED_REGISTRATION"}, {MLG + "Development"}, {MLG + "Retired"}),
        ({"current_stage": "Archived"}, set(), {MLG + "Retired"}),
        ({"current_stage": "Archived", "status": "PENDING_REGISTRATION"}, set(), {MLG + "Retired"}),
    ],
)
def test_stage_and_status(fields: dict[str, Any], stage: set[str], status: set[str]) -> None:
    triples = map_entity(VERSION, version(**fields), BASE).triples
    assert values(triples, V3, MLG + "stage") == stage
    assert values(triples, V3, MLG + "status") == status


def test_a_version_without_a_run_is_generated_by_nothing_and_refreshes_nothing() -> None:
    mapped = map_entity(VERSION, version(), BASE)
    assert values(mapped.triples, V3, MLG + "generatedBy") == set()
    assert mapped.refresh == set()
    assert {r.kind for r in mapped.references} == {"registered_model"}


@pytest.mark.parametrize(
    ("fields", "run_user", "owner"),
    [
        ({"tags": [{"key": "owner", "value": "ana"}], "user_id": "bo"}, "cy", "ana"),
        ({"user_id": "bo"}, "cy", "bo"),
        ({}, "cy", "cy"),
        ({}, None, None),
        ({"user_id": "dee@example.com"}, None, "dee"),
    ],
)
def test_owner_precedence(fields: dict[str, Any], run_user: str | None, owner: str | None) -> None:
    state = {**version(**fields), "run_user_id": run_user}
    triples = map_entity(VERSION, state, BASE).triples
    assert values(triples, V3, MLG + "owner") == ({f"{BASE}person/{owner}"} if owner else set())


def test_system_tags_are_not_properties_and_deleted_tags_are_gone() -> None:
    tags = [{"key": "mlflow.source.name", "value": "x"}, {"key": "team", "value": "growth"}]
    with_tags = map_entity(VERSION, version(tags=tags), BASE).triples
    names = {value(t.object) for t in with_tags if t.predicate.value == "https://schema.org/name"}
    assert names == {"team"}
    without = map_entity(VERSION, version(tags=[]), BASE).triples
    assert not [t for t in without if t.predicate.value == "https://schema.org/additionalProperty"]


@pytest.mark.parametrize(
    ("state", "field"),
    [
        ({}, "state.model_version"),
        ({"model_version": []}, "state.model_version"),
        (version(name=None), "model_version.name"),
        (version(version=None), "model_version.version"),
        (version(version=["3"]), "model_version.version"),
        (version(current_stage="Canary"), "model_version.current_stage"),
        (version(status="LOST"), "model_version.status"),
        (version(creation_timestamp="yesterday"), "model_version.creation_timestamp"),
        (version(tags={"owner": "ana"}), "model_version.tags"),
        (version(tags=[{"value": "x"}]), "model_version.tags[0].key"),
        (version(aliases=[7]), "model_version.aliases[0]"),
        ({**version(), "run_user_id": 5}, "run_user_id"),
    ],
)
def test_a_bad_field_is_an_input_error_naming_it(state: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        map_entity(VERSION, state, BASE)
    assert repr(field) in caught.value.message


def test_a_name_no_urn_can_hold_has_no_datahub_same_as() -> None:
    ref = EntityRef("mlflow", "model_version", "churn model/3")
    triples = map_entity(ref, version(name="churn model"), BASE).triples
    subject = f"{BASE}model/churn%20model/3"
    assert values(triples, subject, "http://www.w3.org/2000/01/rdf-schema#label") == {
        "churn model v3"
    }
    assert values(triples, subject, "http://www.w3.org/2002/07/owl#sameAs") == set()


def test_an_unknown_kind_is_an_input_error() -> None:
    with pytest.raises(InputError, match="prompt"):
        map_entity(EntityRef("mlflow", "prompt", "p"), {}, BASE)


# ---------------------------------------------------------------- runs


def run(**info: Any) -> dict[str, Any]:
    base = {"run_id": "r1", "experiment_id": "7", "status": "FINISHED", "run_name": "fit"}
    base.update(info)
    return {"run": {"info": base, "data": {}}, "model_versions": []}


RUN = EntityRef("mlflow", "run", "r1")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("RUNNING", "Running"),
        ("FINISHED", "Completed"),
        ("FAILED", "Failed"),
        ("KILLED", "Aborted"),
        ("SCHEDULED", "Started"),
        ("NEW", "OtherState"),
    ],
)
def test_run_states(status: str, state: str) -> None:
    triples = map_entity(RUN, run(status=status), BASE).triples
    assert values(triples, f"{BASE}run/r1", MLG + "runState") == {MLG + state}


def test_a_run_without_metrics_has_no_evaluation_and_a_parent_run_is_referenced() -> None:
    state = run()
    state["run"]["data"] = {"tags": [{"key": "mlflow.parentRunId", "value": "r0"}]}
    mapped = map_entity(RUN, state, BASE)
    assert [s.value for s in mapped.owned] == [f"{BASE}run/r1"]
    assert values(mapped.triples, f"{BASE}run/r1", MLG + "parentRun") == {f"{BASE}run/r0"}
    assert EntityRef("mlflow", "run", "r0") in mapped.references


def test_the_latest_value_of_a_metric_is_the_measurement() -> None:
    state = run()
    state["run"]["data"] = {
        "metrics": [
            {"key": "loss", "value": 0.9, "step": 0, "timestamp": 1},
            {"key": "loss", "value": 0.2, "step": 2, "timestamp": 3},
            {"key": "loss", "value": 0.5, "step": 1, "timestamp": 2},
        ]
    }
    triples = map_entity(RUN, state, BASE).triples
    assert {value(t.object) for t in triples if t.predicate.value.endswith("dqv#value")} == {"0.2"}


def test_a_dataset_context_decides_training_or_evaluation() -> None:
    state = run()
    state["run"]["data"] = {"metrics": [{"key": "auc", "value": 0.8}]}
    state["run"]["inputs"] = {
        "dataset_inputs": [
            {
                "tags": [{"key": "mlflow.data.context", "value": context}],
                "dataset": {"name": name, "digest": "d", "source_type": "code"},
            }
            for name, context in (
                ("a", "training"),
                ("b", "validation"),
                ("c", "test"),
                ("d", "eval"),
            )
        ]
        + [{"dataset": {"name": "e", "source_type": "code"}}]
    }
    triples = map_entity(RUN, state, BASE).triples
    assert values(triples, f"{BASE}run/r1", MLG + "used") == {
        f"{BASE}dataset/mlflow/{n}" for n in "ae"
    }
    on = values(triples, f"{BASE}run/r1/evaluation", MLG + "evaluatedOn")
    assert on == {f"{BASE}dataset/mlflow/{n}" for n in "bcd"}


@pytest.mark.parametrize(
    ("dataset", "platform", "name"),
    [
        (
            {"name": "t", "source_type": "s3", "source": '{"uri": "s3://ml-data/churn/train.csv"}'},
            "s3",
            "ml-data/churn/train.csv",
        ),
        (  # a Hugging Face page names the dataset its card names: one IRI whichever says it
            {
                "name": "t",
                "source_type": "http",
                "source": '{"url": "https://huggingface.co/datasets/ylecun/mnist"}',
            },
            "huggingface",
            "ylecun/mnist",
        ),
        (
            {"name": "t", "source_type": "gcs", "source": '{"uri": "gs://b/k/x.parquet"}'},
            "gcs",
            "b/k/x.parquet",
        ),
        (
            {"name": "t", "source_type": "local", "source": '{"uri": "file:///data/x.csv"}'},
            "file",
            "data/x.csv",
        ),
        (
            {"name": "t", "source_type": "local", "source": '{"uri": "/data/x.csv"}'},
            "file",
            "data/x.csv",
        ),
        (
            {
                "name": "t",
                "source_type": "http",
                "source": '{"url": "https://example.org/d/x.csv"}',
            },
            "https",
            "example.org/d/x.csv",
        ),
        (
            {
                "name": "t",
                "source_type": "huggingface",
                "source": '{"path": "org/reviews", "split": "train"}',
            },
            "huggingface",
            "org/reviews",
        ),
        ({"name": "t", "source_type": "code", "source": "{}"}, "mlflow", "t"),
        (
            {"name": "t", "source_type": "delta", "source": '{"delta_table_name": "c.s.t"}'},
            "mlflow",
            "t",
        ),
        ({"name": "t", "source_type": "s3", "source": "not json"}, "mlflow", "t"),
        ({"name": "t", "source": '{"uri": "relative/path.csv"}'}, "mlflow", "t"),
    ],
)
def test_dataset_source_parsing(dataset: dict[str, Any], platform: str, name: str) -> None:
    assert dataset_identity(dataset)[:2] == (platform, name)


def test_a_dataset_with_neither_location_nor_name_is_an_input_error() -> None:
    state = run()
    state["run"]["inputs"] = {"dataset_inputs": [{"dataset": {"source_type": "code"}}]}
    with pytest.raises(InputError, match=r"run\.inputs\.dataset_inputs\[0\]\.dataset\.name"):
        map_entity(RUN, state, BASE)


def test_mapping_does_not_change_the_state() -> None:
    ref, state = recorded("run-train-2")
    before = copy.deepcopy(state)
    map_entity(ref, state, BASE)
    assert state == before


# ---------------------------------------------------------------- recording


def _record(uri: str) -> None:
    from kg.sources.mlflow import MlflowSource

    source = MlflowSource(uri, BASE)
    FOLDER.mkdir(parents=True, exist_ok=True)
    run_names: dict[str, str] = {}  # runs are listed before the logged models they made
    for ref in source.entities():
        state = source.fetch(ref)
        if state is None:
            continue
        if ref.kind == "run":
            label = run_names[ref.id] = state["run"]["info"]["run_name"]
        elif ref.kind == "experiment":
            label = state["experiment"]["name"]
        elif ref.kind == "logged_model":
            info = state["model"]["info"]
            label = f"{info['name']}-of-{run_names[info['source_run_id']]}"
        else:
            label = ref.id.replace("/", "-")
        document = {"ref": {"source": ref.source, "kind": ref.kind, "id": ref.id}, "state": state}
        path = FOLDER / f"{ref.kind}-{label}.json"
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(path)


if __name__ == "__main__":
    from tests.sources.mlflow_server import log_demo, start

    server = start(Path(tempfile.mkdtemp(prefix="mlflow-record-")))
    try:
        log_demo(server.uri)
        _record(server.uri)
    finally:
        server.stop()
    sys.exit(0)
