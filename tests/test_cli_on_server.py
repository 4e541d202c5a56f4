"""The CLI with a SPARQL server as its store (KG_STORE=http://...): it opens the server
directly, beside any `kg serve` on it, and answers as on the embedded store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from kg import cli, resources
from kg.cli import app
from kg.graph import KnowledgeGraph
from tests.conftest import iri, settings
from tests.oxigraph_server import Server, oxigraph_server

runner = CliRunner()
DEMO = str(resources.data_dir("examples") / "demo.yaml")
NEW = "assets:\n- {id: dataset/cli-made, type: Dataset, derivedFrom: dataset/title-metadata}\n"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "out", Console(width=250))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as running:
        yield running


def _run(args: list[str], folder: Path, env: dict[str, str]) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--store", str(folder)], env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "args",
    [
        ["lineage", "service/homepage"],
        ["impact", "dataset/playback-events-raw"],
        ["search", "ranking"],
        ["validate"],
        ["query", "unowned-assets"],
    ],
)
def test_the_same_answers_as_on_the_embedded_store(
    server: Server, tmp_path: Path, args: list[str]
) -> None:
    server.clear()
    remote = {"KG_STORE": server.url, "KG_GATE": "enforce"}
    assert _run(["load", DEMO], tmp_path / "remote", remote)[0] == 0
    assert _run(["load", DEMO], tmp_path / "local", {"KG_GATE": "enforce"})[0] == 0
    on_server = _run(args, tmp_path / "remote", remote)
    embedded = _run(args, tmp_path / "local", {})
    assert on_server == embedded


def test_a_command_writes_beside_a_running_graph_which_follows(
    server: Server, tmp_path: Path
) -> None:
    server.clear()
    running = KnowledgeGraph.open(settings(store=server.url, follow_interval=0))
    try:
        env = {"KG_STORE": server.url, "KG_GATE": "off"}
        (tmp_path / "new.yaml").write_text(NEW)
        code, output = _run(["load", str(tmp_path / "new.yaml")], tmp_path / "cli", env)
        assert code == 0, output
        assert running.in_step() == 1  # the command's write, read from the change log
        assert running.exists(iri("dataset/cli-made"))
        assert [h.id for h in running.search("cli made").hits] == [iri("dataset/cli-made")]
        # the command's own indexes caught up from the log when it ran again
        code, output = _run(["lineage", "dataset/cli-made"], tmp_path / "cli", env)
        assert code == 0 and "title-metadata" in output
    finally:
        running.close()


def test_a_server_that_does_not_answer_is_an_exit_2(tmp_path: Path) -> None:
    code, output = _run(
        ["lineage", "service/homepage"], tmp_path, {"KG_STORE": "http://127.0.0.1:9"}
    )
    assert code == 2
    assert "does not answer" in output
