"""The CLI beside a running `kg serve`: every command gives the same output and exit code
through the server that holds a store as on a copy of that store opened directly."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from kg import cli, client, resources
from kg.cli import app
from tests.test_serve import start_server

runner = CliRunner()
DEMO = str(resources.data_dir("examples") / "demo.yaml")
GOLDEN = Path(__file__).parent / "golden"
TOKEN = "remote-cli-token"  # noqa: S105  # a test token

MY_ASSETS = """\
assets:
  - {id: team/recs, type: Team, name: Recommendations}
  - {id: dataset/clicks, type: Dataset, name: Click events, owner: team/recs, status: Active}
  - id: model/recs/v7
    type: ModelVersion
    name: Recommender v7
    owner: team/recs
    stage: Production
    versionOf: model/recs
    trainedOn: dataset/clicks
  - {id: service/home, type: Service, owner: team/recs, stage: Production, deploys: model/recs/v7}
"""


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "out", Console(width=250))


@dataclass
class Pair:
    served: Path  # held by a running kg serve
    copy: Path  # the same store, opened by the CLI itself
    url: str
    files: Path


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("remote")
    served, copy = root / "served", root / "copy"
    loaded = runner.invoke(app, ["load", DEMO, "--store", str(served)])
    assert loaded.exit_code == 0, loaded.output
    shutil.copytree(served, copy)
    # and the indexes beside it: search scores are BM25 over the index's segments, which count
    # replaced documents until they merge, so an index rebuilt afresh scores a little apart
    for index in root.glob("served.search.*"):
        twin = root / index.name.replace("served", "copy", 1)
        (shutil.copytree if index.is_dir() else shutil.copyfile)(index, twin)
    (root / "my-assets.yaml").write_text(MY_ASSETS)
    (root / "bad.yaml").write_text("assets:\n  - {id: x, type: Datset}\n")
    env = {"KG_API_TOKENS": TOKEN}
    process, url = start_server("--store", str(served), env=env)
    try:
        yield Pair(served, copy, url, root)
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert not (served / client.SERVER_FILE).exists(), "the server left its announcement"


def _invoke(args: list[str], store: Path, env: dict[str, str]) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--store", str(store)], env=env)
    return result.exit_code, result.stdout, result.stderr


_LOAD_ID = re.compile(r"urn:kg:load:[0-9a-f-]+")
_BLANK = re.compile(r"_:[0-9a-zA-Z]+")
_REPORT_TIME = re.compile(r'"generatedAt": "[^"]+"')


def _same(text: str) -> str:
    """What may differ between two equal stores: load ids, blank node labels and when a
    validation ran."""
    text = _REPORT_TIME.sub('"generatedAt": "T"', text)
    return _BLANK.sub("_:b", _LOAD_ID.sub("urn:kg:load:X", text))


# (command, expected exit code): run in order, each against the served store (through the
# server it finds in the store folder) and against the copy, which must answer the same.
COMMANDS: list[tuple[list[str], int]] = [
    (["stats"], 0),
    (["stats", "--format", "json"], 0),
    (["lineage", "service/homepage"], 0),
    (["lineage", "dataset/legacy-ratings", "--downstream", "--depth", "1"], 0),
    (["lineage", "service/homepage", "--both", "--type", "dataset", "--format", "json"], 0),
    (["lineage", "service/homepage", "--type", "Bogus"], 1),
    (["lineage", "nope"], 1),
    (["impact", "dataset/legacy-ratings"], 0),
    (["impact", "dataset/legacy-ratings", "--format", "json"], 0),
    (["impact", "ghost"], 1),
    (["path", "service/homepage", "dataset/legacy-ratings"], 0),
    (["path", "service/homepage", "dataset/legacy-ratings", "--format", "json"], 0),
    (["search", "ratings"], 0),
    (["search", "--type", "dataset", "--format", "json"], 0),
    (["search", "--stage", "Prod"], 1),
    (["search", "--owner", "team/nope"], 1),
    (["query", "unowned-assets", "--format", "csv"], 0),
    (["query", "services-using-dataset", "-p", "dataset=dataset/legacy-ratings"], 0),
    (
        [
            "query",
            "experiments-running-model",
            "-p",
            "model=model/home-ranking",
            "--format",
            "json",
        ],
        0,
    ),
    (
        [
            "query",
            "SELECT ?label ?s WHERE { ?s a <https://w3id.org/mlg#Team> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s",
        ],
        0,
    ),
    (
        [
            "query",
            "SELECT ?s WHERE { ?s a <https://w3id.org/mlg#Team> } ORDER BY ?s",
            "--format",
            "tsv",
        ],
        0,
    ),
    (["query", "ASK { ?s a <https://w3id.org/mlg#Service> }"], 0),
    (["query", "CONSTRUCT WHERE { <https://w3id.org/mlg/id/service/homepage> ?p ?o }"], 0),
    (["query", "SELECT ?s WHERE { ?s ex:p ?o }"], 1),
    (["query", "unowned-asset"], 1),
    (["validate"], 1),
    (["validate", "--format", "json", "--fail-on", "info"], 1),
    (["validate", "--asset", "service/homepage", "--format", "text"], 1),
    (["validate", "--asset", "team/studio-ml", "--format", "junit"], 0),
    (["validate", "--team", "team/nope"], 1),
    (["validate", "--asset", "nope"], 1),
    (["export", "--format", "turtle", "--team", "team/personalization"], 0),
    (["export", "--format", "dcat", "--asset", "service/homepage"], 0),
    (["dump", "--format", "nq"], 0),
    (["dump", "--format", "ttl"], 0),
    # writes, then reads that see them
    (["load", "{files}/my-assets.yaml"], 0),
    (["load", "{files}/my-assets.yaml", "--format", "json"], 0),
    (["load", "{files}/bad.yaml"], 1),
    (["load", "{files}/my-assets.yaml", "--gate", "enforce", "-v"], 0),
    (["lineage", "service/home"], 0),
    (["same-as", "dataset/clicks", "dataset/legacy-ratings"], 0),
    (["same-as", "dataset/clicks", "dataset/ghost"], 1),
    (["impact", "dataset/clicks", "--format", "json"], 0),
    (["ingest", "datahub", str(GOLDEN / "datahub-metadata.json")], 0),
    (["ingest", "openlineage", str(GOLDEN / "openlineage-events.jsonl"), "--format", "json"], 0),
    (["ingest", "backstage", str(GOLDEN / "backstage-catalog.yaml")], 0),
    (["ingest", "datahub", str(GOLDEN / "datahub-metadata.json"), "{files}/bad.yaml"], 1),
    (
        ["load", "{files}/served.nq"],
        0,
    ),  # a dump of the served store, restored: kg's own graphs left out
    (["stats", "--format", "json"], 0),
    (["validate", "--save", "--format", "json"], 1),
    (["search", "clicks", "--format", "json"], 0),
]


@pytest.mark.embedded_only("a `kg serve` in another process holds the embedded folder")
@pytest.mark.parametrize(("args", "code"), COMMANDS, ids=[" ".join(a)[:60] for a, _ in COMMANDS])
def test_the_same_through_the_server(pair: Pair, args: list[str], code: int) -> None:
    args = [a.replace("{files}", str(pair.files)) for a in args]
    if "served.nq" in args[-1] and not (pair.files / "served.nq").exists():
        dumped = runner.invoke(
            app, ["dump", "-o", args[-1], "--store", str(pair.served)], env={"KG_API_TOKENS": TOKEN}
        )
        assert dumped.exit_code == 0, dumped.output
    env = {"KG_API_TOKENS": TOKEN}
    served = _invoke(args, pair.served, env)
    direct = _invoke(args, pair.copy, env)
    assert served[0] == direct[0] == code, (served, direct)
    if args[0] == "dump":  # kept in index order, which follows blank node labels
        assert sorted(_same(served[1]).splitlines()) == sorted(_same(direct[1]).splitlines())
    else:
        assert _same(served[1]) == _same(direct[1])
    if code:  # the same refusal, whichever way it went
        assert served[2].splitlines()[-1:] == direct[2].splitlines()[-1:], (served[2], direct[2])


@pytest.mark.embedded_only("a `kg serve` in another process holds the embedded folder")
def test_url_and_kg_url_reach_the_server(pair: Pair, tmp_path: Path) -> None:
    nowhere = tmp_path / "no-store-here"
    result = runner.invoke(
        app, ["stats", "--format", "json", "--url", pair.url, "--store", str(nowhere)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["assets"] > 90
    result = runner.invoke(app, ["lineage", "service/homepage"], env={"KG_URL": pair.url})
    assert result.exit_code == 0, result.output
    assert "dataset/legacy-ratings" in result.stdout
    assert not nowhere.exists()  # asking a server creates no store


@pytest.mark.embedded_only("a `kg serve` in another process holds the embedded folder")
@pytest.mark.parametrize(
    ("env", "code", "words"),
    [
        ({"KG_API_TOKENS": "", "KG_TOKEN": ""}, 2, "needs a writer's token"),
        ({"KG_API_TOKENS": "", "KG_TOKEN": "wrong"}, 2, "not one kg knows"),
        ({"KG_API_TOKENS": "", "KG_TOKEN": TOKEN}, 0, "loaded 4 assets"),
        ({"KG_API_TOKENS": TOKEN, "KG_TOKEN": ""}, 0, "loaded 4 assets"),  # the server's own
    ],
    ids=["no token", "wrong token", "KG_TOKEN", "KG_API_TOKENS"],
)
def test_writes_to_a_server_send_the_token(
    pair: Pair, env: dict[str, str], code: int, words: str
) -> None:
    args = ["load", str(pair.files / "my-assets.yaml"), "--url", pair.url]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == code, result.output
    assert words in result.output


def test_no_server_is_an_environment_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "no kg server answers at http://127.0.0.1:9" in result.stderr


def test_a_stale_announcement_is_ignored(tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert runner.invoke(app, ["load", DEMO, "--store", str(store)]).exit_code == 0
    (store / client.SERVER_FILE).write_text(
        json.dumps({"url": "http://127.0.0.1:9", "pid": 2**22 + 1})
    )
    result = runner.invoke(app, ["stats", "--store", str(store)])
    assert result.exit_code == 0, result.output  # the store is free: opened directly


@pytest.mark.embedded_only("a `kg serve` in another process holds the embedded folder")
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["validate", "--shapes", "shapes"], "--shapes needs the store"),
        (["validate", "--engine", "pyshacl"], "--engine pyshacl needs the store"),
        (["search", "x", "--rebuild"], "--rebuild needs the store"),
    ],
)
def test_what_only_the_store_can_do_says_so(pair: Pair, args: list[str], words: str) -> None:
    result = runner.invoke(app, [*args, "--store", str(pair.served)])
    assert result.exit_code == 2
    assert words in result.stderr


@pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")
def test_a_server_cut_answer_is_signalled(tmp_path: Path) -> None:
    store = tmp_path / "store"
    process, url = start_server("--demo", "--store", str(store), env={"KG_MAX_ROWS": "3"})
    try:
        query = "SELECT ?s WHERE { ?s a <https://w3id.org/mlg#Asset> }"
        result = runner.invoke(app, ["query", query, "--format", "csv", "--url", url])
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + 3
    assert f"warning: {url} cut the answer at its row cap (KG_MAX_ROWS)" in result.stderr


@pytest.mark.embedded_only("the embedded store's lock on its folder")
def test_a_held_store_whose_server_does_not_answer_is_in_use(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = tmp_path / "store"
    assert runner.invoke(app, ["load", DEMO, "--store", str(store)]).exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from kg.store import open_store; "
         "from pathlib import Path; s = open_store(Path(sys.argv[1])); print('open', flush=True); time.sleep(120)", str(store)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"open"
        announcement = {"url": "http://127.0.0.1:9", "pid": holder.pid}  # alive, but no server
        (store / client.SERVER_FILE).write_text(json.dumps(announcement))
        result = runner.invoke(app, ["stats", "--store", str(store)])
    finally:
        holder.kill()
        holder.wait(timeout=20)
        if holder.stdout is not None:
            holder.stdout.close()
    assert result.exit_code == 2
    assert "in use by another process" in result.stderr
    assert "its server at http://127.0.0.1:9 does not answer" in result.stderr
