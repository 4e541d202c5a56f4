from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from rich.console import Console
from typer.testing import CliRunner

from kg import cli, resources
from kg.cli import app
from kg.config import Settings
from kg.graph import KnowledgeGraph
from kg.ids import is_data_graph

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    # tables wrap at the runner's 80 columns; a wide console keeps rows on one line
    monkeypatch.setattr(cli, "out", Console(width=250))


DEMO = str(resources.data_dir("examples") / "demo.yaml")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    result = runner.invoke(app, ["load", DEMO, "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert "loaded 91 assets" in result.output
    return path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_load_reports_unresolved_references(tmp_path: Path) -> None:
    doc = tmp_path / "a.yaml"
    doc.write_text("- {id: v1, type: ModelVersion, trainedOn: later}\n")
    code, output = run("load", str(doc), "--store", str(tmp_path / "s"), "--format", "json")
    assert code == 0
    report = json.loads(output)
    assert report["assets"] == 1
    assert report["unresolved"][0]["target"].endswith("/later")


def test_load_refuses_bad_files_and_writes_nothing(store: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("- {id: brand-new, type: Dataset}\n")
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix mlg: <https://w3id.org/mlg#> .\n<https://x/a> a mlg:Datset .\n")
    code, output = run("load", str(good), str(bad), "--store", str(store))
    assert code == 1
    assert "bad.ttl:2: unknown asset type mlg:Datset" in output.replace("\n", "")
    code, output = run("lineage", "brand-new", "--store", str(store))
    assert code == 1
    assert "no asset" in output


def test_lineage_json_and_table(store: Path) -> None:
    code, output = run("lineage", "service/homepage", "--store", str(store), "--format", "json")
    assert code == 0
    data = json.loads(output)
    ids = {n["id"].rsplit("/id/", 1)[1]: n["distance"] for n in data["graph"]}
    assert ids["model/home-ranking/v3"] == 1
    assert ids["dataset/legacy-ratings"] == 3
    code, output = run(
        "lineage", "dataset/legacy-ratings", "--downstream", "--depth", "1", "--store", str(store)
    )
    assert code == 0
    assert "dataset/ranking-training-set" in output
    assert "service/homepage" not in output


def test_impact(store: Path) -> None:
    code, output = run(
        "impact", "dataset/legacy-ratings", "--store", str(store), "--format", "json"
    )
    assert code == 0
    data = json.loads(output)
    assert [s["id"].rsplit("/id/", 1)[1] for s in data["productionServices"]] == [
        "service/homepage"
    ]
    code, output = run("impact", "dataset/legacy-ratings", "--store", str(store))
    assert "Production services: service/homepage" in output


def test_path(store: Path) -> None:
    code, output = run("path", "service/homepage", "dataset/legacy-ratings", "--store", str(store))
    assert code == 0
    assert "depends on dataset/legacy-ratings in 3 hop(s)" in output
    assert "-[mlg:trainedOn]->" in output


def test_query_named_file_and_text(store: Path, tmp_path: Path) -> None:
    code, output = run("query", "unowned-assets", "--store", str(store), "--format", "csv")
    assert code == 0
    assert "search-queries-raw" in output
    code, output = run(
        "query", "services-using-dataset", "-p", "dataset=dataset/legacy-ratings",
        "--store", str(store), "--format", "json",
    )  # fmt: skip
    assert code == 0
    services = {b["service"]["value"] for b in json.loads(output)["results"]["bindings"]}
    assert len(services) == 2
    query_file = tmp_path / "count.rq"
    query_file.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/mlg#Team> }")
    code, output = run("query", str(query_file), "--store", str(store), "--format", "tsv")
    assert code == 0
    assert "7" in output
    code, output = run("query", "ASK { ?s ?p ?o }", "--store", str(store))
    assert (code, output.strip()) == (0, "true")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["query", "SELECT nonsense WHERE {", "--format", "json"], 1, "SPARQL syntax error"),
        (["query", "no-such-query"], 1, "no named query"),
        (["query", "upstream"], 1, "needs the parameter 'asset'"),
        (["query", "upstream", "-p", "asset"], 2, "is not k=v"),
        (["lineage", "ghost"], 1, "no asset"),
        (["path", "ghost", "service/homepage"], 1, "no asset"),
        (["dump", "--format", "xml"], 2, "unknown format"),
    ],
)
def test_errors_and_exit_codes(store: Path, args: list[str], code: int, message: str) -> None:
    result_code, output = run(*args, "--store", str(store))
    assert result_code == code
    assert message in output


def test_a_store_in_use_is_reported(store: Path) -> None:
    holder = KnowledgeGraph.open(Settings(store=store))  # type: ignore[call-arg]
    try:
        code, output = run("stats", "--store", str(store))
    finally:
        holder.close()
    assert code == 2
    assert "in use by another process" in output


def test_dump_and_stats(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.nq"
    assert run("dump", "-o", str(out), "--store", str(store))[0] == 0
    assert "<urn:kg:graph:asset:" in out.read_text()
    code, output = run("dump", "--format", "ttl", "--store", str(store))
    assert code == 0
    assert "mlg#trainedOn" in output
    code, output = run("stats", "--store", str(store), "--format", "json")
    assert json.loads(output)["assets_by_type"]["mlg:ModelVersion"] == 11


def test_a_dump_loads_back_into_a_new_store(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.nq"
    assert run("dump", "-o", str(out), "--store", str(store))[0] == 0
    copy = tmp_path / "copy"
    code, output = run("load", str(out), "--store", str(copy), "--gate", "off")
    assert code == 0, output
    assert "kg's own graph (kg makes it itself)" in output

    def data(path: Path) -> set[str]:
        graph = KnowledgeGraph.open(Settings(store=path))  # type: ignore[call-arg]
        try:
            quads = graph.store.quads(None, None, None)
            dataset = ox.Dataset(q for q in quads if is_data_graph(q.graph_name))
            dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
            return {str(q) for q in dataset}
        finally:
            graph.close()

    assert data(copy) == data(store)


def test_queries_catalogue() -> None:
    code, output = run("queries", "--format", "json")
    assert code == 0
    assert "upstream" in {q["name"] for q in json.loads(output)}


GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def test_ingest_export_and_same_as(tmp_path: Path) -> None:
    path = str(tmp_path / "store")
    code, output = run("ingest", "openlineage", str(GOLDEN_DIR / "openlineage-events.jsonl"),
                       "--store", path)  # fmt: skip
    assert code == 0, output
    assert "openlineage: 3 read, 3 accepted" in output
    assert "mlg:Run: 1 created" in output
    code, output = run("ingest", "datahub", str(GOLDEN_DIR / "datahub-metadata.json"),
                       "--store", path, "--format", "json")  # fmt: skip
    assert code == 0, output
    report = json.loads(output)
    assert report["counts"]["updated"] >= 1  # clicks_clean was already known from OpenLineage
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"eventTime": "2026-01-01T00:00:00Z", "producer": "x", "schemaURL": "x", "run": {}, "job": {"namespace": "a", "name": "b"}}'
    )
    code, output = run("ingest", "openlineage", str(bad), "--store", path)
    assert code == 1
    assert "run.runId: required, missing" in output
    code, output = run("same-as", "lake/clicks", "dataset/postgres/analytics.public.clicks_clean",
                       "--store", path)  # fmt: skip
    assert code == 0, output
    out_file = tmp_path / "catalog.ttl"
    code, output = run("export", "--format", "dcat", "--store", path, "-o", str(out_file))
    assert code == 0, output
    assert "dcat:Catalog" in out_file.read_text()
    code, output = run("export", "--format", "prov", "--team", "team/nobody", "--store", path)
    assert code == 1


def test_ingest_backstage_follows_locations(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "team.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: recs}\nspec: {type: team}\n"
    )
    (catalog / "all.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: all}\n"
        "spec: {targets: [./team.yaml, ./missing.yaml]}\n"
    )
    code, output = run("ingest", "backstage", str(catalog / "all.yaml"),
                       "--store", str(tmp_path / "store"))  # fmt: skip
    assert code == 1 and "missing.yaml does not exist" in output
    (catalog / "all.yaml").write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: all}\n"
        "spec: {targets: [./team.yaml]}\n"
    )
    code, output = run("ingest", "backstage", str(catalog / "all.yaml"),
                       "--store", str(tmp_path / "store"))  # fmt: skip
    assert code == 0, output
    assert "mlg:Team: 1 created" in output
