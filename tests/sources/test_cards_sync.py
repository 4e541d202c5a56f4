"""`kg sync cards` over a folder of real cards: the same interface as MLflow, end to end, and a
card removed from the folder goes from kg at the next sync."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.cli import app
from tests.conftest import shared
from tests.test_serve import start_server


def test_kg_sync_cards_hydrates_and_removes(tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    shutil.copytree(shared("data", "croissant", "datasets"), folder)
    shutil.copy(
        shared("data", "ml-metadata", "huggingface", "sample_simple_model_index.md"), folder
    )
    runner = CliRunner()
    env = {"KG_CARDS_DIR": str(folder), "KG_GATE": "warn"}
    store = str(tmp_path / "store")
    result = runner.invoke(app, ["sync", "cards", "--store", store, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["listed"] == 8 and report["failed"] == 0
    titanic = "dataset/croissant/Titanic"
    found = runner.invoke(app, ["search", "titanic", "--store", store, "--format", "json"], env=env)
    assert "Titanic" in found.output or titanic in found.output
    (folder / "1.0_titanic.json").unlink()
    result = runner.invoke(app, ["sync", "cards", "--store", store, "--format", "json"], env=env)
    assert json.loads(result.output)["removed"] == 1
    found = runner.invoke(app, ["search", "titanic", "--store", store, "--format", "json"], env=env)
    assert json.loads(found.output)["total"] == 0


@pytest.mark.embedded_only("runs kg serve on an embedded store folder")
def test_kg_sync_against_a_server_queues_and_its_worker_hydrates(tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    shutil.copytree(shared("data", "croissant", "datasets"), folder)
    process, base = start_server(
        "--store", str(tmp_path / "store"), env={"KG_CARDS_DIR": str(folder)}
    )
    try:
        runner = CliRunner()
        result = runner.invoke(app, ["sync", "cards", "--url", base, "--format", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["listed"] == 7
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = json.loads(
                runner.invoke(app, ["sources", "--url", base, "--format", "json"]).output
            )
            if status[0]["hydrated"] >= 7 and status[0]["pending"] == 0:
                break
            time.sleep(0.2)
        assert status[0]["hydrated"] >= 7 and status[0]["failed"] == 0, status
    finally:
        process.terminate()
        process.wait(timeout=30)
