"""The `kg` command line: thin commands over kg.graph, one exit-code convention.

Exit codes, the same for every command:

    0  success
    1  a finding (`kg validate` does not conform; `kg ingest` refused a file, the others
       loaded) or refused input, which writes nothing: a bad file or query, an unknown asset,
       team, type, status, stage or named query
    2  usage or environment: an unknown option or option value (a `--format` kg does not
       write), no store at the `--store` path, the store in use by another process that is
       not a kg server, no server at `--url`, a server refusing the token or busy, an option
       only the store can honour, or (`kg validate`) shapes that cannot be read

Only `kg serve`, `kg load` and `kg ingest` create a store; every other command needs one, or
the server that holds it (kg.access), with the same output and exit codes.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pyoxigraph as ox
import rich.progress
import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from kg import catalog, cli_audit
from kg.access import DUMP_MEDIA, Access, Answer, Local, Remote, UnavailableHereError
from kg.api import models
from kg.cli_tokens import token_app
from kg.client import (
    Client,
    ServerError,
    UnreachableError,
    announced,
    listen_url,
)
from kg.config import Settings, load_settings
from kg.errors import (
    InputError,
    KGError,
    NotFoundError,
    SettingsError,
    StoreLockedError,
    StoreUnavailableError,
)
from kg.exports import ExportFormat
from kg.governance.gate import GateError, GateMode
from kg.governance.model import Severity
from kg.governance.render import Format
from kg.governance.validation import Engine
from kg.graph import Document, KnowledgeGraph
from kg.history import changes as history_changes
from kg.ingest import backstage
from kg.ingest.report import summary_lines
from kg.lineage import Direction
from kg.vocab import compact
from kg.write import pipeline
from kg.write.importers import Importer

app = typer.Typer(
    name="kg",
    help="kg: the ML lifecycle knowledge graph (lineage, impact, SPARQL) on an embedded store.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="ISO-8601 timestamp: the answer as it was then (e.g. 2026-12-01T09:30:00Z).",
        show_default=False,
    ),
]
StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Store folder (default ./kg-data, or KG_STORE).", show_default=False
    ),
]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="A running kg server to ask instead of the store (KG_URL); by default the server "
        "holding --store, if one does.",
        show_default=False,
    ),
]
T = TypeVar("T")


class Output(StrEnum):
    table = "table"
    json = "json"


class ResultFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    tsv = "tsv"
    xml = "xml"


def _settings(store: Path | None, memory: bool = False) -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(exc.message, 2) from exc
    updates: dict[str, Any] = {}
    if store is not None:
        updates["store"] = store
    if memory:
        updates["memory"] = True
    return settings.model_copy(update=updates)


def _is_store(path: Path) -> bool:
    """A folder with something in it: opening anything else would create a new, empty store."""
    return path.is_dir() and next(path.iterdir(), None) is not None


@contextmanager
def _access(store: Path | None, url: str | None, create: bool = False) -> Iterator[Access]:
    """The graph at `--store`, or the server that holds it (or `--url`). Only loading commands
    (`create`) may start a new store: a mistyped path elsewhere is `no store at PATH`, exit 2."""
    settings = _settings(store)
    if url or settings.url:
        yield Remote(Client(url or settings.url, settings.client_token()), settings)
        return
    path = settings.store_path()
    if settings.sparql_endpoints() is not None:
        # A SPARQL server is the store: the command opens it directly, beside any `kg serve`
        # on it (writes take turns, kg.write.lease); its indexes catch up from the change
        # log, kept in the --store folder. A command is short: no thread follows the log.
        try:
            graph = KnowledgeGraph.open(settings.model_copy(update={"follow_interval": 0}))
        except StoreUnavailableError as exc:
            raise _fail(exc.message, 2) from exc
        remote = Local(graph)
        try:
            yield remote
        finally:
            remote.close()
        return
    if not create and path is not None and not _is_store(path):
        raise _fail(f"no store at {path}", 2)
    try:
        graph = KnowledgeGraph.open(settings)
    except StoreLockedError as exc:
        server = announced(path) if path is not None else None
        if server is None:
            raise _fail(exc.message, 2) from exc
        try:  # a server that names itself but does not answer: the store is just in use
            Client(server, timeout=10).get("/healthz")
        except UnreachableError:
            raise _fail(f"{exc.message} (its server at {server} does not answer)", 2) from exc
        if err.is_terminal:
            _say_err(f"{path} is held by kg serve at {server}: asking it")
        yield Remote(Client(server, settings.client_token()), settings)
        return
    access = Local(graph)
    try:
        yield access
    finally:
        access.close()


def _run(action: Callable[[], T]) -> T:
    """Run a command body, turning kg errors into a message and exit code 1 (2 for the store)."""
    try:
        return action()
    except (StoreLockedError, StoreUnavailableError, UnavailableHereError, UnreachableError) as exc:
        raise _fail(exc.message, 2) from exc
    except GateError as exc:
        for result in exc.report.results:
            _say_err(f"  {result.focus.strip('<>')}: {result.message}")
        raise _fail(exc.message, 1) from exc
    except ServerError as exc:  # the server's refusal, with the exit code of the same locally
        for violation in exc.violations:
            _say_err(f"  {violation.get('focusNode')}: {violation.get('message')}")
        raise _fail(exc.message, 2 if exc.status in (401, 502) or exc.status >= 500 else 1) from exc
    except KGError as exc:
        raise _fail(exc.message, 1) from exc


class Table(RichTable):
    """A rich table whose cells are plain text: ids with brackets are not read as markup."""

    def add_row(self, *cells: Any, **kwargs: Any) -> None:
        super().add_row(*(Text(c) if isinstance(c, str) else c for c in cells), **kwargs)


def _say(text: str) -> None:
    """Print data (ids, names) as it is: no markup, no highlighting, no wrapping."""
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _say_err(text: str) -> None:
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@app.command()
def serve(
    store: StoreOption = None,
    url: UrlOption = None,
    memory: Annotated[bool, typer.Option(help="Keep the graph in memory only.")] = False,
    host: Annotated[str | None, typer.Option(help="Listen address (KG_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (KG_PORT).")] = None,
    demo: Annotated[bool, typer.Option(help="Load the demo organisation at start.")] = False,
) -> None:
    """Serve the graph over HTTP: SPARQL, lineage, impact, paths, asset upload."""
    import uvicorn

    from kg.api.app import create_app

    settings = _settings(store, memory)
    try:
        graph = KnowledgeGraph.open(settings)
    except (StoreLockedError, StoreUnavailableError) as exc:
        raise _fail(exc.message, 2) from exc
    if demo:
        from kg.demo import load_demo

        report = load_demo(graph)
        err.print(f"demo graph loaded: {report.assets} assets, {report.triples} triples")
    listen_host = host or settings.host
    listen_port = port or settings.port
    url = listen_url(listen_host, listen_port)
    err.print(f"kg serving at {url}  (the portal; SPARQL at /sparql, API docs at /docs)")
    # the app closes the graph at shutdown and announces itself in the store folder
    app = create_app(graph=graph, close_graph=True, url=url)
    uvicorn.run(
        app, host=listen_host, port=listen_port, log_level="info", proxy_headers=False
    )  # the audit records the peer, not what a header claims


@app.command()
def load(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Turtle, TriG, N-Triples, N-Quads, RDF/XML, JSON-LD or asset YAML/JSON files.",
            exists=True,
            dir_okay=False,
        ),
    ],
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format", help="Report format.")] = Output.table,
    gate: Annotated[
        GateMode,
        typer.Option(help="Governance: warn about new violations, refuse them (enforce), or off."),
    ] = GateMode.WARN,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Every finding, warning and reference.")
    ] = False,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="A large trusted file of new assets (N-Triples, Turtle, RDF/XML), loaded by "
            "Oxigraph's bulk loader with the same checks and derived triples; no gate "
            "(`kg validate` after). Local stores only.",
        ),
    ] = False,
) -> None:
    """Load files through the write pipeline, all at once or not at all."""
    if bulk:
        _bulk_load(files, store, url, output)
        return
    documents = _read_files(files)
    with _access(store, url, create=True) as access, _stages() as progress:
        report = _run(lambda: access.load(documents, gate, progress))
        names = access.rule_names() if report["violations"] else {}
    if output is Output.json:
        _print_json(report)
        return
    _say(
        f"loaded {report['assets']} assets ({report['triples']} triples, "
        f"{report['derived']} derived) from {len(files)} file(s)"
    )
    shown = None if verbose else 5
    unresolved = [
        f"{r['subject']} {compact(r['predicate'])} {r['target']}" for r in report["unresolved"]
    ]
    _say_some("unresolved (not loaded yet)", unresolved, shown)
    # per rule, each asset once (a rule may find one asset several times: two unknown owners),
    # and with -v each of its distinct messages once
    by_rule: dict[str, dict[str, list[str]]] = {}
    for result in report["violations"]:
        rule = names.get(f"<{result['shape']}>") or compact(result["shape"])
        messages = by_rule.setdefault(rule, {}).setdefault(result["focusNode"], [])
        if result["message"] not in messages:
            messages.append(result["message"])
    for rule, assets in sorted(by_rule.items()):
        items = [f"{a}: {m}" for a, ms in assets.items() for m in ms] if verbose else [*assets]
        _say_some(f"warning: governance: {rule}", items, shown)
    _say_some("warning", _counted(report.get("warnings", [])), None if verbose else 10)


def _bulk_load(files: list[Path], store: Path | None, url: str | None, output: Output) -> None:
    """`kg load --bulk`: one file, through kg.write.bulk."""
    if len(files) != 1:
        raise _fail("--bulk loads one file at a time", 2)
    path = files[0]
    rdf_format = ox.RdfFormat.from_extension(path.suffix.lstrip(".").lower())
    if rdf_format is None:
        raise _fail(f"{path.name}: --bulk reads .nt, .ttl or .rdf files", 2)
    with _access(store, url, create=True) as access, _stages() as progress:
        report = _run(lambda: access.bulk_load(path, rdf_format, lambda s: progress(s, 0, None)))
    if output is Output.json:
        _print_json(report)
        return
    _say(
        f"loaded {report['assets']} assets ({report['triples']} triples, "
        f"{report['derived']} derived) from {path.name} by the bulk path"
    )
    unresolved = [
        f"{r['subject']} {compact(r['predicate'])} {r['target']}" for r in report["unresolved"]
    ]
    _say_some("unresolved (not loaded yet)", unresolved, 5)
    _say_some("warning", _counted(report.get("warnings", [])), 10)


def _counted(items: list[str]) -> list[str]:
    """Each item once, in order, with how often it came when more than once."""
    return [f"{item} ({n} times)" if n > 1 else item for item, n in Counter(items).items()]


_STAGE_NAMES = {
    "parse": "parsing",
    "check": "checking against the ontology",
    "derive": "deriving",
    "gate": "governance gate",
    "commit": "committing",
    "references": "finding unresolved references",
    "index": "indexing lineage and search",
}


@contextmanager
def _stages() -> Iterator[pipeline.Progress]:
    """A progress line on a terminal through the load's stages (kg.write.pipeline.STAGES): which
    stage, how far, how long; nothing elsewhere."""
    columns = (
        rich.progress.SpinnerColumn(),
        rich.progress.TextColumn("{task.description}"),
        rich.progress.BarColumn(),
        rich.progress.MofNCompleteColumn(),
        rich.progress.TimeElapsedColumn(),
    )
    with rich.progress.Progress(
        *columns, console=err, transient=True, disable=not err.is_terminal
    ) as bar:
        task = bar.add_task("loading", total=None)
        step = iter(range(1, len(pipeline.STAGES) + 1))
        current: list[str] = []

        def report(stage: str, done: int, total: int | None) -> None:
            if not current or current[-1] != stage:
                current.append(stage)
                number = next(step, len(pipeline.STAGES))
                name = _STAGE_NAMES.get(stage, stage)
                bar.update(task, description=f"{number}/{len(pipeline.STAGES)} {name}")
                bar.update(task, completed=done, total=total)
                bar.refresh()  # a new stage shows at once, however short
                return
            bar.update(task, completed=done, total=total)

        yield report


def _say_some(title: str, items: list[str], shown: int | None) -> None:
    """A summary line per kind of finding: how many, the first few (all when `shown` is None,
    one per line then)."""
    if not items:
        return
    if shown is None:
        for item in items:
            _say(f"{title}: {item}")
        return
    more = f" and {len(items) - shown} more (-v lists all)" if len(items) > shown else ""
    _say(f"{title}: {len(items)}: {'; '.join(items[:shown])}{more}")


def _read_files(files: list[Path]) -> list[Document]:
    """The files' bytes, with a progress bar per file on a terminal."""
    documents = []
    for path in files:
        with rich.progress.open(
            path,
            "rb",
            description=f"reading {path.name}",
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as handle:
            documents.append(Document(str(path), handle.read()))
    return documents


def _say_findings(violations: list[dict[str, Any]], shown: int = 5) -> None:
    """Governance findings grouped by message, with a few of the assets each concerns."""
    by_message: dict[str, list[str]] = {}
    for result in violations:
        key = f"{result['severity']}: {result['message']}"
        by_message.setdefault(key, []).append(result["focusNode"])
    for message, nodes in sorted(by_message.items()):
        more = f" and {len(nodes) - shown} more" if len(nodes) > shown else ""
        _say(f"governance ({message}) {len(nodes)} asset(s): {', '.join(nodes[:shown])}{more}")


def _with_locations(paths: list[Path]) -> list[Path]:
    """The files and, transitively, the files their Backstage Location entities point at."""
    seen: list[Path] = []
    queue = list(paths)
    while queue:
        path = queue.pop(0)
        if path.resolve() in {p.resolve() for p in seen}:
            continue
        if not path.is_file():
            raise InputError(f"the Location target {path} does not exist")
        seen.append(path)
        for target in backstage.locations_of(path.read_bytes(), str(path)):
            if "://" not in target:  # remote locations are not fetched
                queue.append(path.parent / target)
    return seen


@app.command()
def ingest(
    importer: Annotated[Importer, typer.Argument(help="The source format.")],
    files: Annotated[
        list[Path],
        typer.Argument(
            help="OpenLineage events (JSON, arrays or JSON lines), DataHub MCE/MCP JSON files, "
            "or Backstage catalog-info YAML files.",
            exists=True,
            dir_okay=False,
        ),
    ],
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format", help="Report format.")] = Output.table,
    gate: Annotated[
        GateMode,
        typer.Option(
            help="Governance for DataHub and Backstage imports: warn, enforce (refuse new "
            "violations) or off. OpenLineage events are always accepted, findings reported."
        ),
    ] = GateMode.WARN,
) -> None:
    """Import metadata from OpenLineage, DataHub or Backstage files. A file with invalid input is
    refused whole (exit 1) and the others load; the report says what was created, updated,
    unresolved, refused and skipped."""
    if importer is Importer.BACKSTAGE:
        files = _run(lambda: _with_locations(files))
    documents = _read_files(files)
    with (
        _access(store, url, create=True) as access,
        rich.progress.Progress(console=err, transient=True, disable=not err.is_terminal) as bar,
    ):
        task = bar.add_task(f"mapping {importer.value}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        data = _run(lambda: access.ingest(importer, documents, gate, progress))
    if output is Output.json:
        _print_json(data)
    else:
        for line in summary_lines(data):
            _say(line)
        for item in data["refused"]:
            _say_err(f"refused: {item['item']}: {item['reason']}")
        for item in data["skipped"]:
            _say(f"skipped: {item['item']}: {item['reason']}")
        for ref in data["unresolved"]:
            _say(f"unresolved: {ref['subject']} {compact(ref['predicate'])} {ref['target']}")
        _say_findings(data["violations"])
    if data["refused"]:
        raise typer.Exit(1)


@app.command("same-as")
def same_as(
    asset: Annotated[str, typer.Argument(help="Asset IRI, prefix:local name or local id.")],
    others: Annotated[list[str], typer.Argument(help="The assets it is the same as.")],
    store: StoreOption = None,
    url: UrlOption = None,
    remove: Annotated[bool, typer.Option("--remove", help="Withdraw the declaration.")] = False,
) -> None:
    """Declare that assets named differently by different sources are one asset (owl:sameAs);
    lineage and impact follow the equivalence both ways."""
    with _access(store, url) as access:
        _run(lambda: access.same_as(asset, others, remove))
        verb = "no longer the same as" if remove else "the same as"
        _say(f"{access.iri(asset)} is {verb} {', '.join(access.iri(o) for o in others)}")


@app.command()
def query(
    name_or_file: Annotated[str, typer.Argument(help="A named query, a .rq file, or SPARQL text.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="k=v, repeatable.")
    ] = None,
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[ResultFormat, typer.Option("--format")] = ResultFormat.table,
) -> None:
    """Run a named query (see `kg queries`), a query file or SPARQL text."""
    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise _fail(f"--param {item!r} is not k=v", 2)
        params[key] = value
    with _access(store, url) as access:

        def run() -> Answer:
            path = Path(name_or_file)
            names = list(catalog.catalogue())
            if name_or_file in names or not (path.suffix == ".rq" or " " in name_or_file):
                if name_or_file not in names:
                    hint = difflib.get_close_matches(name_or_file, names, n=3)
                    more = f" (did you mean {' or '.join(hint)}?)" if hint else ""
                    raise NotFoundError(
                        f"no named query {name_or_file!r}{more}; known: {', '.join(names)}"
                    )
                return access.named_query(name_or_file, params)
            if path.suffix == ".rq" and not path.is_file():
                raise NotFoundError(f"no file {name_or_file}")
            text = path.read_text(encoding="utf-8") if path.suffix == ".rq" else name_or_file
            return access.query(text)

        result = _run(run)
        _print_results(result, output)
        if access.truncated:
            _say_err(f"warning: {access.where} cut the answer at its row cap (KG_MAX_ROWS)")


def _print_results(result: Answer, output: ResultFormat) -> None:
    if isinstance(result, list):  # a graph: CONSTRUCT, DESCRIBE
        sys.stdout.write((ox.serialize(result, format=ox.RdfFormat.TURTLE) or b"").decode())
        return
    if output is ResultFormat.table and isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        table = Table(*variables)
        for row in result:
            table.add_row(*("" if row[v] is None else compact(row[v].value) for v in variables))
        out.print(table)
        return
    if output is ResultFormat.table:
        _say("true" if bool(result) else "false")
        return
    formats = {
        ResultFormat.json: ox.QueryResultsFormat.JSON,
        ResultFormat.csv: ox.QueryResultsFormat.CSV,
        ResultFormat.tsv: ox.QueryResultsFormat.TSV,
        ResultFormat.xml: ox.QueryResultsFormat.XML,
    }
    data = result.serialize(format=formats[output])
    assert data is not None
    sys.stdout.write(data.decode() + ("\n" if not data.endswith(b"\n") else ""))


@app.command("queries")
def list_queries(output: Annotated[Output, typer.Option("--format")] = Output.table) -> None:
    """List the named queries and their parameters."""
    entries = catalog.catalogue().values()
    if output is Output.json:  # as GET /api/v1/queries answers it
        _print_json([models.NamedQuery.of(q).model_dump(mode="json") for q in entries])
        return
    table = Table("name", "summary", "parameters")
    for q in entries:
        table.add_row(q.name, q.summary, ", ".join(f"{p.name} ({p.kind})" for p in q.parameters))
    out.print(table)


@app.command()
def lineage(
    asset: Annotated[str, typer.Argument(help="Asset id, prefix:local name or full IRI.")],
    downstream: Annotated[
        bool, typer.Option("--downstream", help="Walk to dependents instead.")
    ] = False,
    both: Annotated[bool, typer.Option("--both", help="Walk both ways.")] = False,
    depth: Annotated[int | None, typer.Option(min=1, help="Stop after N hops.")] = None,
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="Keep only these classes.")
    ] = None,
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
    as_of: AsOfOption = None,
) -> None:
    """Upstream lineage of an asset (what it is built from), or its dependents; --as-of: as
    it was then."""
    direction = (
        Direction.BOTH if both else Direction.DOWNSTREAM if downstream else Direction.UPSTREAM
    )
    with _access(store, url) as access:
        data = _run(lambda: access.lineage(asset, direction, depth, type_ or None, as_of))
    if output is Output.json:
        _print_json(data)
        return
    short = access.short
    table = Table(
        "hops", "asset", "type", "name", "owner", "via",
        title=f"{direction.value} of {short(data['root'])}",
    )  # fmt: skip
    for n in data["graph"]:
        edges = n["outEdges"] if direction is Direction.DOWNSTREAM else n["inEdges"]
        table.add_row(
            str(n["distance"]),
            short(n["id"]) + ("" if n["resolved"] else " (unresolved)"),
            n["type"] or "",
            n["label"] or "",
            ", ".join(short(o) for o in n["owners"]),
            ", ".join(sorted({_via(e) for e in edges})) if n["distance"] else "",
        )
    out.print(table)


def _via(edge: dict[str, Any]) -> str:
    """An edge's kind, and the rule that inferred it, if one did."""
    rule = edge.get("inferredBy")
    return f"{edge['type']} (inferred: {rule})" if rule else str(edge["type"])


@app.command()
def impact(
    asset: Annotated[str, typer.Argument(help="The asset that changes.")],
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
    as_of: AsOfOption = None,
) -> None:
    """What breaks if an asset changes: affected assets, services, experiments, owners;
    --as-of: as it was then."""
    with _access(store, url) as access:
        data = _run(lambda: access.impact(asset, as_of))
    if output is Output.json:
        _print_json(data)
        return
    short = access.short
    _say(f"Impact of a change to {short(data['root'])}: {data['affectedCount']} assets")
    for kind, ids in data["byType"].items():
        _say(f"  {kind}: {', '.join(short(i) for i in ids)}")
    production = ", ".join(short(n["id"]) for n in data["productionServices"])
    _say("Production services: " + (production or "none"))
    _say("Experiments: " + (", ".join(short(n["id"]) for n in data["experiments"]) or "none"))
    table = Table("owner", "type", "affected assets", "members", title="Owners to notify")
    for o in data["owners"]:
        table.add_row(
            short(o["id"]),
            o["type"] or "unresolved",
            str(len(o["assets"])),
            ", ".join(short(m) for m in o["members"]),
        )
    out.print(table)
    if data["unowned"]:
        _say("No owner to notify for: " + ", ".join(short(i) for i in data["unowned"]))


@app.command()
def path(
    origin: Annotated[str, typer.Argument(help="From this asset...")],
    target: Annotated[str, typer.Argument(help="...to this one.")],
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
    as_of: AsOfOption = None,
) -> None:
    """Why one asset depends on another: the shortest dependency path(s) between them;
    --as-of: as they were then."""
    with _access(store, url) as access:
        data = _run(lambda: access.paths(origin, target, as_of))
    if output is Output.json:
        _print_json(data)
        return
    short = access.short
    if not data["paths"]:
        _say(f"{short(access.iri(origin))} and {short(access.iri(target))} are not connected "
             "by dependencies")  # fmt: skip
        raise typer.Exit(0)
    relation = "depends on" if data["direction"] == Direction.UPSTREAM.value else (
        "is depended on by"
    )  # fmt: skip
    _say(f"{short(data['from'])} {relation} {short(data['to'])} in {data['length']} hop(s):")
    for p in data["paths"]:
        steps = [short(p[0]["origin"])] + [f"-[{e['type']}]-> {short(e['destination'])}" for e in p]
        _say("  " + " ".join(steps))


@app.command()
def validate(
    store: StoreOption = None,
    url: UrlOption = None,
    shapes: Annotated[
        list[Path] | None,
        typer.Option("--shapes", help="Extra shapes: a Turtle file or a folder (repeatable)."),
    ] = None,
    fail_on: Annotated[
        Severity, typer.Option(help="Lowest severity that fails.")
    ] = Severity.VIOLATION,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.TEXT,
    output_file: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the report here.")
    ] = None,
    asset: Annotated[str | None, typer.Option(help="Validate this asset only.")] = None,
    team: Annotated[str | None, typer.Option(help="Validate the assets of this team.")] = None,
    lineage: Annotated[
        str | None, typer.Option(help="Validate this asset and its lineage.")
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="compiled (fast) or pyshacl (reference).")
    ] = Engine.COMPILED,
    save: Annotated[
        bool,
        typer.Option(
            "--save", help="Keep the report of a whole-graph run in urn:kg:graph:reports/latest."
        ),
    ] = False,
    as_of: AsOfOption = None,
) -> None:
    """Check the graph against the governance rules (exit 0 conforms; 1 does not, or an
    unknown asset or team; 2 usage, no store, or shapes kg cannot read); --as-of: the graph
    as it stood then, against today's rules."""
    with _access(store, url) as access:
        verdict = _run(
            lambda: access.validate(
                (asset, team, lineage), engine, shapes or (), fmt, fail_on, save, as_of
            )
        )
    rendered = verdict.text
    if output_file is not None:
        output_file.write_text(rendered, encoding="utf-8")
    else:
        sys.stdout.write(rendered)
    raise typer.Exit(0 if verdict.conforms else 1)


@app.command()
def search(
    text: Annotated[
        str, typer.Argument(help="Words to find (names, tags, ids, descriptions).")
    ] = "",
    type_: Annotated[list[str] | None, typer.Option("--type", help="Only these classes.")] = None,
    owner: Annotated[list[str] | None, typer.Option(help="Only these owners.")] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="Only these statuses (Active, Deprecated...).")
    ] = None,
    stage: Annotated[
        list[str] | None, typer.Option(help="Only these stages (Production, Staging...).")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only these tags.")] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(help="Only assets these sources described (kg, openlineage, datahub...)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    exact_facets: Annotated[
        bool,
        typer.Option(help="Count every match's facets (past a few thousand they are estimated)."),
    ] = False,
    rebuild: Annotated[
        bool, typer.Option(help="Rebuild the search index from the store first.")
    ] = False,
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Find assets by words, with facets (type, owner, status, stage, tag, source)."""
    with _access(store, url) as access:
        if rebuild:
            count = _run(access.rebuild_search)
            _say_err(f"search index rebuilt: {count} subjects")
        filters = {
            "type": type_ or [], "owner": owner or [], "status": status or [],
            "stage": stage or [], "tag": tag or [], "source": source or [],
        }  # fmt: skip
        data = _run(lambda: access.search(text, filters, limit, exact_facets))
    if output is Output.json:
        _print_json(data)
        return
    short = access.short
    table = Table("score", "asset", "type", "name", "owner", title=f"{data['total']} match(es)")
    for h in data["hits"]:
        table.add_row(
            f"{h['score']:.2f}", short(h["id"]), h["type"] or "", h["label"] or "",
            ", ".join(short(o) for o in h["owners"]),
        )  # fmt: skip
    out.print(table)


@app.command()
def export(
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format", help="dcat, prov, jsonld, turtle, or trig (with each source's graphs)."
        ),
    ] = ExportFormat.TURTLE,
    team: Annotated[
        str | None, typer.Option(help="Only this team's assets (owned by it or its members).")
    ] = None,
    asset: Annotated[str | None, typer.Option(help="Only this asset's lineage.")] = None,
    direction: Annotated[
        Direction, typer.Option(help="With --asset: upstream, downstream or both.")
    ] = Direction.UPSTREAM,
    output_file: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")
    ] = None,
    store: StoreOption = None,
    url: UrlOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Export the graph, a team's assets or an asset's lineage as a DCAT 3 catalog, PROV-O,
    JSON-LD (kg's context) or Turtle; --as-of: as it was then. Loading an export into another
    kg gives the same lineage."""
    with _access(store, url) as access:
        data = _run(lambda: access.export(fmt, team, asset, direction, as_of))
    if output_file is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output_file.write_bytes(data)


@app.command()
def dump(
    output_file: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="nq, trig (with graphs) or ttl, nt (union of graphs).")
    ] = "nq",
    store: StoreOption = None,
    url: UrlOption = None,
) -> None:
    """Write the whole graph, with its named graphs."""
    if fmt not in DUMP_MEDIA:
        raise _fail(f"unknown format {fmt!r}; use one of {', '.join(DUMP_MEDIA)}", 2)
    with _access(store, url) as access:
        if output_file is None:
            _run(lambda: access.dump(sys.stdout.buffer, fmt))
            sys.stdout.flush()
        else:
            with output_file.open("wb") as handle:
                _run(lambda: access.dump(handle, fmt))


@app.command()
def stats(
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Counts: triples, graphs, assets by type."""
    with _access(store, url) as access:
        data = _run(access.stats)
    if output is Output.json:
        _print_json(data)
        return
    out.print(
        f"triples: {data['triples']}  graphs: {data['graphs']}  "
        f"asset graphs: {data['asset_graphs']}"
    )
    sources = data["source_graphs"]
    assert isinstance(sources, dict)
    if sources:
        out.print("from sources: " + ", ".join(f"{k} {v}" for k, v in sources.items()))
    table = Table("type", "assets")
    by_type = data["assets_by_type"]
    assert isinstance(by_type, dict)
    for kind, count in by_type.items():
        table.add_row(kind, str(count))
    out.print(table)


@app.command()
def sync(
    source: Annotated[
        str, typer.Argument(help="The source: mlflow (KG_MLFLOW_URI), cards (KG_CARDS_DIR).")
    ],
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Reconcile kg with a source: hydrate every entity it has, drop what it no longer has.
    On a store this process opens it hydrates at once; against a server, the server's worker
    does (follow it with `kg sources`)."""
    with _access(store, url, create=True) as access:
        data = _run(lambda: access.sync(source))
    if output is Output.json:
        _print_json(data)
        return
    out.print(
        f"{data['source']}: {data['listed']} entities listed, {data['queued']} queued, "
        f"{data['removed']} gone at the source"
    )
    if "hydrated" in data:
        out.print(
            f"hydrated {data['hydrated']}; pending {data['pending']}; failed {data['failed']}"
        )
        for failure in data.get("failures", [])[:10]:
            _say_err(f"  {failure['entity']} {failure['id']}: {failure['reason']}")
        if data["failed"] or data["pending"]:
            raise typer.Exit(1)


@app.command("sources")
def list_sources(
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """The sources kg hydrates from: last sync, pending and failed events, with reasons."""
    with _access(store, url) as access:
        data = _run(access.sources)
    if output is Output.json:
        _print_json(data)
        return
    if not data:
        out.print("no sources configured (KG_MLFLOW_URI, KG_CARDS_DIR)")
        return
    table = Table("source", "last sync", "pending", "retrying", "failed", "hydrated")
    for row in data:
        last = row["lastSync"] or {}
        when = _when(last.get("finished")) if last else "never"
        if last.get("error"):
            when += f" (failed: {last['error']})"
        table.add_row(
            row["source"],
            when,
            str(row["pending"]),
            str(len(row["retrying"])),
            str(row["failed"]),
            str(row["hydrated"]),
        )
    out.print(table)
    for row in data:
        for item in [*row["retrying"], *row["failures"]][:10]:
            _say_err(f"  {row['source']} {item['entity']} {item['id']}: {item['reason']}")


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "running"
    import datetime as dt

    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="seconds")


@app.command()
def rules(
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """The inference rules (rules/ and KG_RULES) and how many conclusions each keeps."""
    with _access(store, url) as access:
        data = _run(access.inference_rules)
    if output is Output.json:
        _print_json(data)
        return
    table = Table("rule", "assets", "triples", "description")
    for row in data:
        table.add_row(row["name"], str(row["assets"]), str(row["triples"]), row["description"])
    out.print(table)


@app.command()
def infer(
    all_rules: Annotated[
        bool, typer.Option("--all", help="Recompute every rule over the whole graph.")
    ] = False,
    store: StoreOption = None,
    url: UrlOption = None,
) -> None:
    """Recompute the inference rules' conclusions (every write keeps them in step; this is for
    a new or changed rule)."""
    if not all_rules:
        raise _fail("say --all: every rule is recomputed over the whole graph", 2)
    with _access(store, url) as access:
        data = _run(access.infer)
    changed = data["changed"]
    if not changed:
        out.print("every rule's conclusions were in step")
        return
    out.print("recomputed: " + ", ".join(f"{k} ({v} assets)" for k, v in sorted(changed.items())))


@app.command()
def changes(
    since: Annotated[str | None, typer.Option(help="ISO-8601: changes after it.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO-8601: changes up to it.")] = None,
    asset: Annotated[
        str | None, typer.Option(help="Only changes about this asset's lineage.")
    ] = None,
    direction: Annotated[
        Direction, typer.Option(help="With --asset: upstream, downstream or both.")
    ] = Direction.BOTH,
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only these kinds: " + ", ".join(history_changes.ALL_KINDS) + "."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=history_changes.MAX_LIMIT)] = 1000,
    cursor: Annotated[
        str | None, typer.Option(help="Continue after the `next` of an earlier answer.")
    ] = None,
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """What changed, when, from which source and by whom: every edge added or removed, every
    status, stage, owner, classification, type and name changed."""
    options = {
        "since": since, "until": until, "nodeId": asset, "direction": direction.value,
        "kind": kind or [], "limit": limit, "cursor": cursor,
    }  # fmt: skip
    with _access(store, url) as access:
        data = _run(lambda: access.changes(options))
    if output is Output.json:
        _print_json(data)
        return
    short = access.short
    table = Table(
        "when", "by", "asset", "what", "change", title=f"{len(data['changes'])} change(s)"
    )
    for c in data["changes"]:
        value = short(c["value"]) if c["value"] and c["value"].startswith("http") else c["value"]
        what = c["kind"] if c["kind"] != "attribute" else compact(c["property"])
        if c["kind"] == "edge":
            what = f"{compact(c['property'])} -> {value}"
            value = ""
        if c["change"] == "changed":
            previous = c["previous"] or ""
            shown = short(previous) if previous.startswith("http") else previous
            change = f"{shown} -> {value}"
        else:
            change = f"{c['change']} {value}".strip()
        table.add_row((c["at"] or "")[:19], c["by"] or "", short(c["subject"]), what, change)
    out.print(table)
    if data["more"]:
        _say_err(f"more: --cursor {data['next']}")


app.add_typer(token_app, name="token")

history_app = typer.Typer(
    help="An asset's versions, and pruning the history.", no_args_is_help=True
)
app.add_typer(history_app, name="history")


@history_app.command("show")
def history_show(
    asset: Annotated[str, typer.Argument(help="Asset id, prefix:local name or full IRI.")],
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    store: StoreOption = None,
    url: UrlOption = None,
    output: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Each write that changed what is said of an asset, newest first: when, who, which source
    and what changed."""
    with _access(store, url) as access:
        data = _run(lambda: access.history(asset, limit))
    if output is Output.json:
        _print_json(data)
        return
    short = access.short
    for version in data["versions"]:
        sources = ", ".join(version["sources"])
        _say(f"{(version['at'] or '')[:19]}  {version['by'] or '?'}  ({sources})")
        for c in version["changes"]:
            value = c["value"] or ""
            shown = short(value) if value.startswith("http") else value
            if c["change"] == "changed":
                previous = c["previous"] or ""
                before = short(previous) if previous.startswith("http") else previous
                _say(f"    {c['kind']}: {before} -> {shown}")
            else:
                _say(f"    {c['change']} {compact(c['property'])} {shown}")


@history_app.command("prune")
def history_prune(
    before: Annotated[str, typer.Option(help="ISO-8601: remove the history before it.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask to confirm.")] = False,
    store: StoreOption = None,
    url: UrlOption = None,
) -> None:
    """Remove what writes before a moment replaced (admins): answers as of an earlier moment
    are refused from then on. The prune is recorded, with who and when."""
    if not yes:
        typer.confirm(f"Remove the history before {before}? It cannot be brought back", abort=True)
    with _access(store, url) as access:
        data = _run(lambda: access.prune(before))
    _say(
        f"pruned the versions of {data['pruned']} write(s); history now starts at write "
        f"{data['historySince']} (recorded as {data['record']})"
    )


app.command("audit")(cli_audit.audit)


def main() -> None:
    app()
