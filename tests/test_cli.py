from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from kg import cli, resources
from kg.api.app import create_app
from kg.cli import app
from kg.config import Settings
from kg.graph import KnowledgeGraph
from kg.graphs import is_data_graph

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


@pytest.mark.embedded_only("the embedded store's lock on its folder")
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


def test_queries_catalogue(graph: KnowledgeGraph) -> None:
    code, output = run("queries", "--format", "json")
    assert code == 0
    assert "upstream" in {q["name"] for q in json.loads(output)}
    with TestClient(create_app(graph=graph)) as client:  # one shape: the API's
        assert json.loads(output) == client.get("/api/v1/queries").json()


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
    assert (code, "no asset lake/clicks in the graph" in output) == (1, True)  # not there yet
    lake = tmp_path / "lake.yaml"
    lake.write_text("- {id: lake/clicks, type: Dataset}\n")
    assert run("load", str(lake), "--store", path)[0] == 0
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


# -- unknown means an error: one exit-code table for every command (see kg.cli's docstring)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["search", "--type", "dataset"], 0, "dataset/legacy-ratings"),  # any case
        (["search", "--type", "mlg:Dataset", "--stage", "production"], 0, "match(es)"),
        (["search", "--type", "Bogus"], 1, "unknown type 'Bogus'"),
        (["search", "--type", "Datset"], 1, "did you mean Dataset"),
        (["search", "--stage", "Prod"], 1, "unknown stage 'Prod' (did you mean Production?)"),
        (["search", "--status", "Gone"], 1, "known: Active, Deprecated, Experimental, Retired"),
        (["search", "--owner", "team/nope"], 1, "unknown owner 'team/nope'"),
        (["search", "--source", "kg", "legacy"], 0, "dataset/legacy-ratings"),
        (["search", "--source", "datahub"], 0, "0 match(es)"),  # a source, like a tag, is free
        (["search", "ratings", "--exact-facets", "--format", "json"], 0, '"facetsExact": true'),
        (["lineage", "service/homepage", "--type", "dataset"], 0, "dataset/legacy-ratings"),
        (["lineage", "service/homepage", "--type", "Bogus"], 1, "unknown type 'Bogus'"),
        (["validate", "--team", "team/nope"], 1, "no team team/nope in the graph"),
        (["validate", "--team", "team/personalisation"], 1, "did you mean team/personalization"),
        (["validate", "--asset", "nope"], 1, "no asset"),
        (["validate", "--lineage", "nope"], 1, "no asset"),
        (["same-as", "dataset/legacy-ratings", "ghost"], 1, "no asset ghost in the graph"),
        (["same-as", "ghost", "dataset/legacy-ratings"], 1, "no asset ghost in the graph"),
        (["query", "missing.rq"], 1, "no file missing.rq"),
        (["query", "upstrem"], 1, "did you mean upstream?"),
        (["export", "--team", "team/nope"], 1, "no team"),
    ],
)
def test_unknown_names_are_refused(store: Path, args: list[str], code: int, message: str) -> None:
    result_code, output = run(*args, "--store", str(store))
    assert (result_code, message in output.replace("\n", " ")) == (code, True), output


def test_same_as_with_an_unknown_id_writes_nothing(store: Path) -> None:
    before = run("stats", "--store", str(store), "--format", "json")[1]
    assert run("same-as", "dataset/legacy-ratings", "ghost", "--store", str(store))[0] == 1
    assert run("stats", "--store", str(store), "--format", "json")[1] == before


READERS = [
    ["stats"], ["dump"], ["search"], ["lineage", "service/homepage"],
    ["impact", "service/homepage"], ["path", "service/homepage", "dataset/legacy-ratings"],
    ["query", "unowned-assets"], ["validate"], ["export"],
    ["same-as", "dataset/legacy-ratings", "dataset/abuse-reports"],
    ["sources"], ["rules"], ["infer", "--all"], ["changes"], ["history", "show", "team/studio-ml"],
    ["audit"],
]  # fmt: skip


@pytest.mark.parametrize("args", READERS, ids=lambda a: a[0])
def test_a_mistyped_store_is_not_created(tmp_path: Path, args: list[str]) -> None:
    typo = tmp_path / "stroe"
    code, output = run(*args, "--store", str(typo))
    assert code == 2
    assert f"no store at {typo}" in output.replace("\n", "")
    assert not typo.exists()
    (typo).mkdir()  # an empty folder is no store either
    assert run(*args, "--store", str(typo))[0] == 2


def test_only_load_and_ingest_create_a_store(tmp_path: Path) -> None:
    assert run("load", DEMO, "--store", str(tmp_path / "a"))[0] == 0
    events = str(GOLDEN_DIR / "openlineage-events.jsonl")
    assert run("ingest", "openlineage", events, "--store", str(tmp_path / "b"))[0] == 0
    assert run("stats", "--store", str(tmp_path / "b"))[0] == 0


EVENTS = str(GOLDEN_DIR / "openlineage-events.jsonl")
WITH_FORMAT = [
    ["load", DEMO], ["ingest", "openlineage", EVENTS], ["query", "upstream"], ["queries"],
    ["lineage", "service/homepage"], ["impact", "service/homepage"],
    ["path", "service/homepage", "dataset/legacy-ratings"], ["validate"], ["search"],
    ["export"], ["dump"], ["stats"],
]  # fmt: skip


@pytest.mark.parametrize("args", WITH_FORMAT, ids=lambda a: a[0])
def test_an_unknown_format_is_a_usage_error(store: Path, args: list[str]) -> None:
    store_args = [] if args == ["queries"] else ["--store", str(store)]
    code, output = run(*args, *store_args, "--format", "yaml")
    assert code == 2
    assert "yaml" in output
    assert "json" in output or "nq" in output or "turtle" in output  # the known ones


def _served(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)


# One success and one failure per command, with the code of the exit-code table.
EXIT_CODES = [
    ("serve", ["serve", "--memory"], 0),
    ("serve", ["serve", "--port", "nope"], 2),
    ("load", ["load", DEMO, "--gate", "off", "--store", "{store}"], 0),
    ("load", ["load", "{bad}", "--store", "{store}"], 1),
    ("ingest", ["ingest", "openlineage", "{events}", "--store", "{store}"], 0),
    ("ingest", ["ingest", "openlineage", "{bad}", "--store", "{store}"], 1),
    ("ingest", ["ingest", "atlas", "{events}", "--store", "{store}"], 2),
    ("same-as", ["same-as", "dataset/legacy-ratings", "dataset/abuse-reports", "--store", "{store}"], 0),
    ("same-as", ["same-as", "dataset/legacy-ratings", "ghost", "--store", "{store}"], 1),
    ("query", ["query", "unowned-assets", "--store", "{store}"], 0),
    ("query", ["query", "missing.rq", "--store", "{store}"], 1),
    ("queries", ["queries"], 0),
    ("queries", ["queries", "--format", "csv"], 2),
    ("lineage", ["lineage", "service/homepage", "--store", "{store}"], 0),
    ("lineage", ["lineage", "ghost", "--store", "{store}"], 1),
    ("impact", ["impact", "dataset/legacy-ratings", "--store", "{store}"], 0),
    ("impact", ["impact", "ghost", "--store", "{store}"], 1),
    ("path", ["path", "service/homepage", "dataset/legacy-ratings", "--store", "{store}"], 0),
    ("path", ["path", "service/homepage", "ghost", "--store", "{store}"], 1),
    ("validate", ["validate", "--fail-on", "info", "--store", "{store}"], 1),
    ("validate", ["validate", "--asset", "dataset/legacy-ratings", "--fail-on", "violation",
                  "--store", "{store}"], 0),
    ("validate", ["validate", "--team", "team/nope", "--store", "{store}"], 1),
    ("search", ["search", "ratings", "--store", "{store}"], 0),
    ("search", ["search", "--type", "Bogus", "--store", "{store}"], 1),
    ("export", ["export", "--format", "prov", "--store", "{store}"], 0),
    ("export", ["export", "--asset", "ghost", "--store", "{store}"], 1),
    ("dump", ["dump", "--store", "{store}"], 0),
    ("dump", ["dump", "--store", "{missing}"], 2),
    ("stats", ["stats", "--store", "{store}"], 0),
    ("stats", ["stats", "--store", "{missing}"], 2),
    ("sync", ["sync", "cards", "--store", "{store}"], 0),
    ("sync", ["sync", "mlflow", "--store", "{store}"], 1),
    ("sources", ["sources", "--store", "{store}"], 0),
    ("sources", ["sources", "--store", "{missing}"], 2),
    ("rules", ["rules", "--store", "{store}"], 0),
    ("rules", ["rules", "--store", "{missing}"], 2),
    ("infer", ["infer", "--all", "--store", "{store}"], 0),
    ("infer", ["infer", "--store", "{store}"], 2),
    ("changes", ["changes", "--store", "{store}"], 0),
    ("changes", ["changes", "--since", "yesterday", "--store", "{store}"], 1),
    ("audit", ["audit", "--store", "{store}"], 0),
    ("audit", ["audit", "--since", "yesterday", "--store", "{store}"], 2),
]  # fmt: skip


def test_every_command_has_its_exit_codes() -> None:
    tested = {name for name, _, _ in EXIT_CODES}
    commands = {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[union-attr]
    assert tested == commands
    for name in commands:
        assert {code for n, _, code in EXIT_CODES if n == name} & {0}, name
        assert {code for n, _, code in EXIT_CODES if n == name} - {0}, name


@pytest.mark.parametrize(
    ("name", "args", "code"), EXIT_CODES, ids=[f"{n}-{c}" for n, _, c in EXIT_CODES]
)
def test_exit_codes(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    name: str, args: list[str], code: int,
) -> None:  # fmt: skip
    _served(monkeypatch)
    (tmp_path / "cards").mkdir()
    monkeypatch.setenv("KG_CARDS_DIR", str(tmp_path / "cards"))  # a source with nothing in it
    bad = tmp_path / "bad.json"
    bad.write_text('{"eventTime": "2026-01-01T00:00:00Z", "run": {}}')
    places = {
        "store": str(store), "missing": str(tmp_path / "missing"), "bad": str(bad),
        "events": str(GOLDEN_DIR / "openlineage-events.jsonl"),
    }  # fmt: skip
    result_code, output = run(*(a.format(**places) for a in args))
    assert result_code == code, output


# -- the cases of the "unknown means an error" issue, each checked as a user meets it


def _takes_a_store(command: object) -> bool:
    import inspect

    return "store" in inspect.signature(command.callback).parameters  # type: ignore[attr-defined]


def test_every_command_reading_a_store_is_in_the_mistyped_store_table() -> None:
    readers = {
        c.name or c.callback.__name__  # type: ignore[union-attr]
        for c in app.registered_commands
        if _takes_a_store(c)
    } - {"serve", "load", "ingest", "sync"}  # the commands that create a store
    groups = {g.name for g in app.registered_groups}  # their commands: in READERS by hand
    assert readers == {args[0] for args in READERS} - groups


UNKNOWN_VALUES = [
    # args, exit code, words the message must hold
    (["search", "--type", "Bogus"], 1, ("unknown type 'Bogus'", "known: ", "Dataset", "FeatureSet")),
    (["search", "--type", "Datset"], 1, ("did you mean Dataset",)),
    (["search", "--stage", "Prod"], 1,
     ("unknown stage 'Prod'", "did you mean Production", "known: Development, Production, Staging")),
    (["lineage", "service/homepage", "--type", "Bogus"], 1, ("unknown type 'Bogus'", "known: ")),
    (["validate", "--team", "team/nope"], 1, ("team/nope",)),
    (["validate", "--asset", "nope"], 1, ("no asset", "nope")),
    (["same-as", "dataset/legacy-ratings", "ghost"], 1, ("no asset ghost",)),
    (["query", "missing.rq"], 1, ("no file missing.rq",)),
]  # fmt: skip


@pytest.mark.parametrize(("args", "code", "words"), UNKNOWN_VALUES, ids=lambda a: str(a))
def test_an_unknown_value_is_a_message_naming_the_known_ones_not_a_traceback(
    store: Path, args: list[str], code: int, words: tuple[str, ...]
) -> None:
    result = runner.invoke(app, [*args, "--store", str(store)])
    output = result.output.replace("\n", " ")
    assert result.exit_code == code, output
    assert isinstance(result.exception, SystemExit), result.exception  # handled, not raised
    assert all(w in output for w in words), output
    assert "Traceback" not in output


def test_a_missing_query_file_as_a_user_runs_it(store: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "kg", "query", "missing.rq", "--store", str(store)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "no file missing.rq" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    assert len((done.stderr + done.stdout).strip().splitlines()) <= 3


# -- counts that add up: kg stats counts each asset once, by its most specific type, as the
# asset list's (search's) type facet and a SPARQL count do

_SPECIFIC_TYPES = """PREFIX mlg: <https://w3id.org/mlg#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?type (COUNT(?a) AS ?n) WHERE {
  GRAPH ?g { ?a a ?type }
  FILTER(STRSTARTS(STR(?g), "urn:kg:graph:asset:") && STRSTARTS(STR(?type), STR(mlg:)))
  FILTER NOT EXISTS { GRAPH ?g { ?a a ?other } FILTER(?other != ?type) ?other rdfs:subClassOf+ ?type }
} GROUP BY ?type"""


def _stats_agree(store: Path, *, sparql: bool = True) -> dict[str, int]:
    from kg.vocab import compact

    code, output = run("stats", "--store", str(store), "--format", "json")
    assert code == 0, output
    stats = json.loads(output)
    by_type = stats["assets_by_type"]
    assert sum(by_type.values()) == stats["assets"] == stats["asset_graphs"]
    if sparql:  # an asset of one most specific type (the query counts each of several)
        code, output = run("query", _SPECIFIC_TYPES, "--store", str(store), "--format", "json")
        assert code == 0, output
        rows = json.loads(output)["results"]["bindings"]
        assert by_type == {compact(r["type"]["value"]): int(r["n"]["value"]) for r in rows}
    for rebuilt in (False, True):  # the index kept in step by the load, and rebuilt
        if rebuilt:
            assert run("search", "--rebuild", "--store", str(store))[0] == 0
        code, output = run("search", "--store", str(store), "--format", "json")
        listing = json.loads(output)
        assert listing["total"] == stats["assets"]
        assert by_type == {compact(t): n for t, n in listing["facets"]["type"].items()}
    return by_type  # type: ignore[no-any-return]


def test_kg_stats_counts_each_asset_once_by_its_most_specific_type(store: Path) -> None:
    by_type = _stats_agree(store)
    assert sum(by_type.values()) == 91
    assert (by_type["mlg:Dataset"], by_type["mlg:FeatureSet"]) == (17, 3)  # not 20 datasets
    assert (by_type["mlg:Team"], by_type["mlg:Person"], by_type["mlg:PrivacyReview"]) == (7, 8, 4)


def test_kg_stats_agree_on_a_generated_graph(tmp_path: Path) -> None:
    from bench.generate import generate

    lines, _ = generate(1000)
    generated = tmp_path / "generated.nt"
    generated.write_text("\n".join(lines) + "\n")
    store = tmp_path / "store"
    assert run("load", str(generated), "--gate", "off", "--store", str(store))[0] == 0
    by_type = _stats_agree(store)
    assert {"mlg:Dataset", "mlg:FeatureSet", "mlg:Team", "mlg:Person"} <= set(by_type)


def test_kg_stats_count_an_asset_of_several_types_once_as_the_type_facet_does(
    tmp_path: Path,
) -> None:
    several = tmp_path / "several.ttl"
    several.write_text(
        "@prefix mlg: <https://w3id.org/mlg#> .\n@prefix id: <https://w3id.org/mlg/id/> .\n"
        "id:x1 a mlg:Dataset, mlg:Model .\nid:x2 a mlg:Run, mlg:Service .\n"
        "id:x3 a mlg:FeatureSet, mlg:Dataset .\nid:x4 a mlg:Team, mlg:Person .\n"
        "id:x5 a mlg:Workflow, mlg:Evaluation .\nid:x6 a mlg:Feature, mlg:Experiment .\n"
    )
    store = tmp_path / "store"
    assert run("load", str(several), "--gate", "off", "--store", str(store))[0] == 0
    by_type = _stats_agree(store, sparql=False)
    assert sum(by_type.values()) == 6
    assert by_type["mlg:FeatureSet"] == 1  # x3, once, under its most specific type


# -- an unchanged re-ingest says so and writes nothing, not even a load record

_LOADS = (
    "SELECT (COUNT(?l) AS ?n) WHERE { GRAPH <urn:kg:graph:loads> "
    "{ ?l a <https://w3id.org/mlg#Load> } }"
)


@pytest.mark.parametrize(
    ("importer", "sample"),
    [
        ("openlineage", "openlineage-events.jsonl"),
        ("datahub", "datahub-metadata.json"),
        ("backstage", "backstage-catalog.yaml"),
    ],
)
def test_ingesting_the_same_file_again_reports_unchanged_and_writes_no_load_record(
    tmp_path: Path, importer: str, sample: str
) -> None:
    path, source = str(tmp_path / "store"), str(GOLDEN_DIR / sample)
    assert run("ingest", importer, source, "--store", path)[0] == 0

    def loads() -> str:
        answer = json.loads(run("query", _LOADS, "--store", path, "--format", "json")[1])
        return answer["results"]["bindings"][0]["n"]["value"]  # type: ignore[no-any-return]

    before = loads()
    code, output = run("ingest", importer, source, "--store", path)
    assert code == 0, output
    assert "0 created, 0 updated, " in output and " unchanged" in output
    assert loads() == before


# -- kg load talks like a tool: governance findings by rule, counted, with the first assets


def _rule_line(line: str) -> tuple[str, int, str] | None:
    """A governance summary line's rule, count and first assets."""
    import re

    found = re.match(r"^warning: governance: (.+?): (\d+): (.*)$", line)
    return (found.group(1), int(found.group(2)), found.group(3)) if found else None


@pytest.fixture(scope="module")
def generated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bench.generate import generate

    lines, _ = generate(2000)
    path = tmp_path_factory.mktemp("generated") / "generated.nt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_load_summarises_governance_findings_by_rule(generated_file: Path, tmp_path: Path) -> None:
    code, output = run("load", str(generated_file), "--store", str(tmp_path / "json"),
                       "--format", "json")  # fmt: skip
    assert code == 0
    violations = json.loads(output)["violations"]
    shapes = {v["shape"] for v in violations}
    assert len(violations) > 50 and len(shapes) >= 2  # enough to be worth summarising
    code, output = run("load", str(generated_file), "--store", str(tmp_path / "text"))
    assert code == 0
    governance = [line for line in output.splitlines() if "governance" in line]
    assert len(governance) == len(shapes)  # one line per rule, however many findings
    assert len(output.splitlines()) <= 2 + len(shapes)
    counted = 0
    for line in governance:
        found = _rule_line(line)
        assert found, line
        _, count, assets = found
        counted += count
        assert assets.count("https://") == min(count, 5)  # the first assets
        if count > 5:
            assert assets.endswith(f"and {count - 5} more (-v lists all)")
    assert counted == len(violations)
    code, output = run("load", str(generated_file), "--store", str(tmp_path / "verbose"), "-v")
    assert code == 0
    assert len([line for line in output.splitlines() if "governance" in line]) == len(violations)


def test_load_collapses_identical_findings_and_verbose_names_each_asset(tmp_path: Path) -> None:
    doc = tmp_path / "two-owners.yaml"
    doc.write_text(
        "- {id: dataset/two, type: Dataset, name: Two, description: d, owner: [team/g1, team/g2]}\n"
        "- {id: dataset/too, type: Dataset, name: Too, description: d, owner: [team/g1, team/g2]}\n"
    )
    code, output = run("load", str(doc), "--store", str(tmp_path / "a"))
    assert code == 0
    rule = [line for line in output.splitlines() if "Exactly one owner" in line]
    assert len(rule) == 1
    found = _rule_line(rule[0])
    assert found and found[1] == 2, rule  # two assets, each named once
    assert found[2].count("dataset/two") == 1 and found[2].count("dataset/too") == 1
    code, output = run("load", str(doc), "--store", str(tmp_path / "b"), "-v")
    lines = [line for line in output.splitlines() if "Exactly one owner" in line]
    assert len(lines) == len(set(lines))  # identical lines collapsed
    assert any("dataset/two" in line for line in lines)
    assert any("dataset/too" in line for line in lines)


def test_load_shows_its_stages_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    screen = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=screen, force_terminal=True, width=120))
    code, _ = run("load", DEMO, "--store", str(tmp_path / "store"))
    assert code == 0
    shown = screen.getvalue()
    stages = ["parsing", "checking against the ontology", "deriving", "governance gate",
              "committing", "finding unresolved references", "indexing lineage and search"]  # fmt: skip
    positions = [shown.find(name) for name in stages]
    assert all(p >= 0 for p in positions), shown[-2000:]
    assert positions == sorted(positions)  # in the pipeline's order
    quiet = io.StringIO()
    monkeypatch.setattr(cli, "err", Console(file=quiet, force_terminal=False))
    assert run("load", DEMO, "--store", str(tmp_path / "other"))[0] == 0
    assert "parsing" not in quiet.getvalue()  # not a terminal: no progress lines


def test_ctrl_c_stops_a_long_query_at_once(store: Path) -> None:
    """pyoxigraph keeps a signal waiting until a query ends; kg query evaluates in a thread so
    that Ctrl-C ends the command (exit 130) while the query still runs."""
    import signal
    import subprocess
    import sys
    import time

    closure = "(<https://w3id.org/mlg#dependsOn>|^<https://w3id.org/mlg#dependsOn>)*"
    runaway = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a {closure} ?b . ?c {closure} ?d . ?e ?p ?f . ?g ?q ?h }}"
    with subprocess.Popen(
        [sys.executable, "-m", "kg", "query", runaway, "--store", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # as from a terminal: a suite started in the background by a non-interactive shell
        # passes SIGINT on ignored, and Python then never raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as process:
        time.sleep(3)  # well into the query (it would run for hours)
        assert process.poll() is None
        process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
    assert process.returncode == 130
    assert b"interrupted" in stderr


def test_load_says_a_repeated_warning_once_with_its_count() -> None:
    said = [
        "a.nq: left out urn:g",
        "a.nq: left out urn:g",
        "b.nq:3: ill-typed",
        "a.nq: left out urn:g",
    ]
    assert cli._counted(said) == ["a.nq: left out urn:g (3 times)", "b.nq:3: ill-typed"]


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("KG_PORT", "abc", "KG_PORT: Input should be a valid integer"),
        ("KG_WRITE_LEASE", "0", "KG_WRITE_LEASE: Input should be greater than 0"),
        ("KG_FOLLOW_INTERVAL", "-1", "KG_FOLLOW_INTERVAL: Input should be greater than or equal"),
        ("KG_GATE", "sometimes", "KG_GATE: Input should be 'enforce', 'warn' or 'off'"),
    ],
)
def test_a_setting_kg_cannot_run_with_is_named(
    tmp_path: Path, variable: str, value: str, words: str
) -> None:
    result = runner.invoke(app, ["lineage", "x", "--store", str(tmp_path)], env={variable: value})
    assert result.exit_code == 2
    assert words in result.output and repr(value) in result.output
    assert "Traceback" not in result.output
