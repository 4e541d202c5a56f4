"""`kg sync cards` over a folder of real cards: the same interface as MLflow, end to end, and a
card removed from the folder goes from kg at the next sync."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from kg.cli import app
from tests.conftest import shared


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
