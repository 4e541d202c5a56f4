"""The kg benchmark: generate a graph, then measure loads, lineage, impact, validation, the write
gate, search, HTTP serving and memory against baselines run in the same process.

    python -m bench.run --scales 1000 10000 100000      (make bench)
    python -m bench.run --scales 1000000 --skip-reference  (make bench-large)

Every figure is a median of several runs (loads and the references at large scales run once),
and the fast paths are checked against the reference answers.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import operator
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyoxigraph as ox

from bench.generate import BASE, write
from kg.config import Settings
from kg.governance.gate import Gate, GateMode
from kg.governance.validation import Engine
from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction, Walker, lineage
from kg.lineage import pages as answer_pages
from kg.write.pipeline import prepare

ROWS: list[tuple[str, str, str, str, str]] = []
CHECKS: list[tuple[str, bool]] = []
MLG = "https://w3id.org/mlg#"


def timed(action: Callable[[], Any], runs: int = 5) -> tuple[float, Any]:
    """Median seconds of `runs` calls, and the last result. Garbage is collected once before
    (a collection per call costs seconds with a million-asset index in memory)."""
    times, result = [], None
    gc.collect()
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def row(scale: str, metric: str, kg: str, baseline: str = "", ratio: str = "") -> None:
    ROWS.append((scale, metric, kg, baseline, ratio))
    print(f"  {metric:<58} {kg:>14} {baseline:>28} {ratio:>8}", flush=True)


def check(name: str, ok: bool) -> None:
    CHECKS.append((name, ok))
    print(f"  check: {name}: {'same' if ok else 'DIFFERENT'}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str) -> None:
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def load_client(url: str, requests: int, workers: int = 4) -> tuple[list[float], float]:
    """Latencies of `requests` GETs from `workers` threads, and requests per second."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_worker = requests // workers

    def work() -> None:
        for _ in range(per_worker):
            start = time.perf_counter()
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (loopback)
                response.read()
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies), len(latencies) / (time.perf_counter() - start)


def reach(edges: Callable[[int], list[tuple[int, int]]], start: int, cap: int | None = None) -> int:
    """How many nodes a walk along `edges` reaches from `start` (stopping past `cap`)."""
    seen, frontier = {start}, [start]
    while frontier and (cap is None or len(seen) < cap):
        next_frontier = []
        for node in frontier:
            for _, other in edges(node):
                if other not in seen:
                    seen.add(other)
                    next_frontier.append(other)
        frontier = next_frontier
    return len(seen)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


# The lineage edges as a SPARQL alternation: what a plain store (no derived mlg:dependsOn) walks.
EDGES = "|".join(
    f"<{MLG}{p}>"
    for p in ["derivedFrom", "inFeatureSet", "trainedOn", "usesFeature", "versionOf", "usesModel", "evaluates", "evaluatedOn", "deploys", "tests", "generatedBy", "used", "runOf", "dependsOn"]
)  # fmt: skip


def closure_query(node: str, downstream: bool = False) -> str:
    path = f"?n ({EDGES})+ <{node}>" if downstream else f"<{node}> ({EDGES})+ ?n"
    return f"SELECT DISTINCT ?n WHERE {{ {path} }}"


VALIDATION_LIMIT = 300  # seconds


def bulk_load_into(data: Path, work: Path) -> None:
    """`kg load --bulk` of `data` into a new store at work/kg."""
    for leftover in (work / "kg", work / "kg.search.sqlite", work / "kg.lineage.pickle"):
        shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(
            missing_ok=True
        )
    graph = KnowledgeGraph.open(Settings(store=work / "kg", gate=GateMode.OFF))  # type: ignore[call-arg]
    graph.bulk_load(data)
    graph.close()


def _timed_bulk_load(queue: Any, data: Path, work: Path) -> None:
    import resource

    start = time.perf_counter()
    bulk_load_into(data, work)
    seconds = time.perf_counter() - start
    queue.put((seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024))


def timed_bulk_load(data: Path, work: Path, runs: int) -> tuple[float, int]:
    """Median seconds of `runs` bulk loads, each in a new child process, and the highest peak
    resident memory of them (a process's peak cannot be reset in place). Spawned, not forked:
    a fork can copy a lock the store's background threads hold and hang the child."""
    import multiprocessing

    times, peaks = [], []
    context = multiprocessing.get_context("spawn")
    for _ in range(runs):
        queue = context.Queue()
        process = context.Process(target=_timed_bulk_load, args=(queue, data, work))
        process.start()
        seconds, peak = queue.get()
        process.join()
        times.append(seconds)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def _store_quads(path: Path) -> set[str]:
    """The data (asset and derived graphs) a store holds, as N-Quads lines (the generated
    graph has no blank nodes)."""
    store = ox.Store.read_only(str(path))
    found = {
        str(q)
        for q in store.quads_for_pattern(None, None, None)
        if isinstance(q.graph_name, ox.NamedNode)
        and q.graph_name.value.startswith(("urn:kg:graph:asset:", "urn:kg:graph:derived:"))
    }
    del store
    return found


def graph_designs(label: str, data: Path, work: Path, raw_seconds: float) -> None:
    """What the named-graph design costs Oxigraph's bulk loader: the same triples as quads, one
    graph per asset, with and without kg's derived graph per asset (made as text, then loaded)."""
    from kg.ontology import default_ontology

    classes, properties = default_ontology().materialized
    supers_of_class = {str(c): [str(x) for x in v] for c, v in classes.items()}
    supers_of_property = {str(p): [str(x) for x in v] for p, v in properties.items()}
    type_text = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    asset_only, with_derived = work / "asset-graphs.nq", work / "derived-graphs.nq"
    with (
        data.open(encoding="utf-8") as lines,
        asset_only.open("w") as one,
        with_derived.open("w") as two,
    ):
        for line in lines:
            s, p, rest = line.split(" ", 2)
            o = rest[:-3]
            quad = f"{s} {p} {o} <urn:kg:graph:asset:{s[1:]} .\n"
            one.write(quad)
            two.write(quad)
            derived = f"<urn:kg:graph:derived:urn:kg:graph:asset:{s[1:]}"
            if p == type_text:
                two.writelines(f"{s} {p} {c} {derived} .\n" for c in supers_of_class.get(o, ()))
            else:
                two.writelines(f"{s} {q} {o} {derived} .\n" for q in supers_of_property.get(p, ()))

    def load(path: Path) -> Callable[[], None]:
        def run() -> None:
            shutil.rmtree(work / "design", ignore_errors=True)
            store = ox.Store(str(work / "design"))
            store.bulk_load(path=path, format=ox.RdfFormat.N_QUADS)
            store.flush()
            del store

        return run

    for name, path in (
        ("one graph per asset", asset_only),
        ("and a derived graph per asset (kg's design)", with_derived),
    ):
        seconds, _ = timed(load(path), 1)
        row(
            label,
            f"  design: raw bulk_load of the quads, {name}",
            ms(seconds),
            ms(raw_seconds),
            f"{seconds / raw_seconds:.2f}x",
        )
    shutil.rmtree(work / "design", ignore_errors=True)
    asset_only.unlink()
    with_derived.unlink()


def portal_figures(label: str, url: str, asset: str, picture: str, size: int) -> None:
    """First paint and ready time of the portal's pages in Chromium (bench.portal)."""
    from bench import portal

    try:
        figures = portal.measure(url, asset, picture)
    except Exception as exc:  # no Chromium or no Playwright: say so, measure the rest
        row(label, "portal pages in Chromium", f"not measured: {exc}")
        return
    for f in figures:
        name = f"lineage picture ({size:,} nodes)" if f.page == "lineage picture" else f.page
        row(
            label,
            f"portal {name}: first paint / ready (goal 1 s), long tasks",
            f"{ms(f.first_paint / 1000)} / {ms(f.ready / 1000)}, {ms(f.blocked / 1000)}",
            f"API answer alone {ms(f.api / 1000)}",
            f"{f.ready / f.api:.1f}x",
        )


def cold(graph: KnowledgeGraph, action: Callable[[], Any]) -> Callable[[], Any]:
    """`action` with the walks kept for paging forgotten first: each run walks afresh."""

    def run() -> Any:
        graph.answers = answer_pages.Answers()
        return action()

    return run


def answer_figures(
    label: str,
    graph: KnowledgeGraph,
    deepest: str,
    root: str,
    closure_seconds: float,
    check_pages: bool,
) -> None:
    """Large answers as the API gives them: whole, as JSON bytes, and a first page of 100 with
    the summary (goal 300 ms), against the bare property-path closure of the same root."""
    down = Direction.DOWNSTREAM
    whole_seconds, whole = timed(cold(graph, lambda: graph.lineage_json(root, down)), 3)
    first_seconds, first = timed(cold(graph, lambda: graph.lineage_json(root, down, limit=100)), 3)
    page = json.loads(first)
    summary = page["summary"]
    row(
        label,
        f"downstream, first page of 100 + summary of {summary['nodes']:,} (goal 300 ms)",
        ms(first_seconds),
        f"oxigraph closure {ms(closure_seconds)}",
        f"{first_seconds / closure_seconds:.2f}x",
    )
    cursor = page["nextCursor"]
    next_seconds, _ = timed(lambda: graph.lineage_json(root, down, cursor=cursor), 5)
    row(label, "  next page (the kept walk)", ms(next_seconds))
    row(
        label,
        f"  whole downstream answer as the API's JSON ({len(whole) / 2**20:,.1f} MiB)",
        ms(whole_seconds),
        f"first page {len(first) / 2**10:,.0f} KiB",
        f"{whole_seconds / first_seconds:.1f}x",
    )
    impact_first, first = timed(cold(graph, lambda: graph.impact_json(root, limit=100)), 3)
    impact_whole, whole_impact = timed(cold(graph, lambda: graph.impact_json(root)), 3)
    affected = json.loads(first)["summary"]
    row(
        label,
        f"impact, first page + summary ({affected['productionServices']:,} prod. services, "
        f"{len(affected['owners'])} owners; goal 300 ms)",
        ms(impact_first),
        f"whole impact JSON {ms(impact_whole)}",
        f"{impact_whole / impact_first:.1f}x",
    )
    up_seconds, up = timed(cold(graph, lambda: graph.lineage_json(deepest)), 3)
    row(
        label,
        f"upstream of the deepest version, whole as the API's JSON ({len(up) / 2**20:,.1f} MiB)",
        ms(up_seconds),
    )
    whole_graph = orjson.loads(whole)["graph"]
    check("downstream: summary counts = the whole answer", summary["nodes"] == len(whole_graph))
    check(
        "impact: summary counts = the whole impact",
        affected["nodes"] == orjson.loads(whole_impact)["affectedCount"],
    )
    if check_pages:
        pages, cursor = [], None
        while True:
            found = orjson.loads(
                graph.lineage_json(root, down, limit=answer_pages.MAX_LIMIT, cursor=cursor)
            )
            pages += found["graph"]
            cursor = found["nextCursor"]
            if cursor is None:
                break
        key = operator.itemgetter("id")
        check(
            "downstream: pages put together = the whole answer",
            sorted(pages, key=key) == sorted(whole_graph, key=key),
        )


def rank_alone(work: Path, words: str) -> int:
    """The ids of the 20 best matches by FTS5's bm25 and nothing else: what every search of
    these words cost at least when FTS5 ranked them (before Tantivy), whatever was done about
    facets. The same-run baseline of the search row."""
    import sqlite3

    from kg.search import _match_expression

    with contextlib.closing(sqlite3.connect(work / "kg.search.sqlite")) as db:
        found = db.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT 20",
            [_match_expression(words)],
        ).fetchall()
    return len(found)


def validation_figures(label: str, store: Path, compare: bool) -> None:
    """Each compiled rule over the whole store (goal 10 s at 1M), then the full validation (goal
    60 s), from bench.validation in a child process stopped at VALIDATION_LIMIT."""
    command = [sys.executable, "-m", "bench.validation", "--store", str(store)]
    command += ["--compare"] if compare else []
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    timer = threading.Timer(VALIDATION_LIMIT, child.kill)
    timer.start()
    slowest = ("", 0.0)
    full = without = None
    try:
        assert child.stdout is not None
        for line in child.stdout:
            figure = json.loads(line)
            if "rule" in figure:
                walked = " over the lineage index" if figure["walked"] else ""
                row(
                    label,
                    f"  rule {figure['rule']}{walked} ({figure['results']:,} results; goal 10 s)",
                    ms(figure["seconds"]),
                    f"SPARQL {ms(figure['sparql'])}" if "sparql" in figure else "",
                    f"{figure['sparql'] / figure['seconds']:.1f}x" if "sparql" in figure else "",
                )
                if "same" in figure:
                    check(f"validation: {figure['rule']} over the index = SPARQL", figure["same"])
                slowest = max(slowest, (figure["rule"], figure["seconds"]), key=lambda s: s[1])
            elif "full without index" in figure:
                without = figure
            else:
                full = figure
    finally:
        timer.cancel()
        child.wait()
    if full is None:
        row(label, "full validation, compiled", f"> {VALIDATION_LIMIT} s, stopped")
        return
    counts = full["counts"]
    row(
        label,
        f"full validation, compiled ({counts['violation']:,} violations, "
        f"{counts['warning']:,} warnings; goal 60 s)",
        ms(full["full"]),
        f"slowest rule {ms(slowest[1])}",
    )
    if without is not None:
        row(
            label,
            "  the same with no lineage index, as the API's worker runs it (budget 300 s)",
            ms(without["full without index"]),
            ms(full["full"]),
            f"{without['full without index'] / full['full']:.2f}x",
        )
        check("validation: the same report with no lineage index", without["same"])


def run_scale(assets: int, work: Path, reference: bool) -> None:
    label = f"{assets:,}"
    print(f"\n== {label} assets", flush=True)
    data = work / f"graph-{assets}.nt"
    info = write(data, assets)
    row(label, "generated triples", f"{info.triples:,}")
    runs = 3 if assets <= 10_000 else 1

    # -- loads
    def raw_load() -> None:
        shutil.rmtree(work / "raw", ignore_errors=True)
        store = ox.Store(str(work / "raw"))
        store.bulk_load(path=data, format=ox.RdfFormat.N_TRIPLES)
        store.flush()
        del store

    def kg_load() -> None:
        for leftover in (work / "kg", work / "kg.search.sqlite"):
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(
                missing_ok=True
            )
        graph = KnowledgeGraph.open(Settings(store=work / "kg", gate=GateMode.OFF))  # type: ignore[call-arg]
        graph.load([Document(data.name, data.read_bytes())], gate=GateMode.OFF)
        graph.close()

    raw_seconds, _ = timed(raw_load, runs)
    if assets <= 100_000:  # the pipeline at 1M: 275 s and 12 GiB (README); the bulk path loads it
        kg_seconds, _ = timed(kg_load, runs)
        row(
            label,
            "load on disk: kg pipeline vs raw pyoxigraph bulk_load",
            ms(kg_seconds),
            ms(raw_seconds),
            f"{kg_seconds / raw_seconds:.2f}x",
        )
        pipeline_store = _store_quads(work / "kg")
    bulk_seconds, peak = timed_bulk_load(data, work, runs)
    row(
        label,
        "load on disk: kg load --bulk vs raw bulk_load (goal 1.5x)",
        ms(bulk_seconds),
        ms(raw_seconds),
        f"{bulk_seconds / raw_seconds:.2f}x",
    )
    row(label, "  peak memory of the bulk load (goal under 4 GiB at 1M)", f"{peak / 2**30:.2f} GiB")
    row(
        label,
        "  load rate (input triples/s)",
        f"{info.triples / bulk_seconds:,.0f}/s",
        f"{info.triples / raw_seconds:,.0f}/s",
    )
    if assets <= 100_000:
        check("bulk load: data = the pipeline's", _store_quads(work / "kg") == pipeline_store)
        del pipeline_store
    graph_designs(label, data, work, raw_seconds)

    snapshot = work / "kg.lineage.pickle"
    assert snapshot.exists(), "closing kg writes the lineage index snapshot"
    start = time.perf_counter()
    graph = KnowledgeGraph.open(Settings(store=work / "kg", gate=GateMode.OFF))  # type: ignore[call-arg]
    restored = time.perf_counter() - start
    graph.close()
    snapshot.unlink()
    start = time.perf_counter()
    graph = KnowledgeGraph.open(Settings(store=work / "kg", gate=GateMode.OFF))  # type: ignore[call-arg]
    rebuilt = time.perf_counter() - start
    row(
        label,
        "open the store: lineage index from its snapshot vs rebuilt from the store",
        ms(restored),
        ms(rebuilt),
        f"{rebuilt / restored:.1f}x",
    )
    raw = ox.Store.read_only(str(work / "raw"))

    # -- lineage: deepest model version upstream, a root dataset downstream
    deepest = BASE + info.deepest_version
    fast_seconds, fast = timed(lambda: graph.lineage(deepest, Direction.UPSTREAM), 5)
    walker = Walker(graph.store, graph.ontology)
    slow_seconds, slow = timed(
        lambda: lineage(graph.store, graph.ontology, deepest, Direction.UPSTREAM, walker=walker),
        1 if assets > 10_000 else 3,
    )
    # the SPARQL references take most of a large run: once each past 100k assets
    reference_runs = 5 if assets <= 100_000 else 1
    pp_seconds, pp = timed(
        lambda: {r["n"].value for r in raw.query(closure_query(deepest))}, reference_runs
    )  # type: ignore[union-attr]
    depth = max(n.distance for n in fast.nodes)
    upstream_seconds = fast_seconds
    row(
        label,
        f"upstream of the deepest version ({len(fast.nodes) - 1:,} nodes, {depth} hops)",
        ms(fast_seconds),
        f"store walk {ms(slow_seconds)}",
        f"{slow_seconds / fast_seconds:.1f}x",
    )
    row(
        label,
        "  (property-path closure alone, no hops/types/labels)",
        "",
        f"oxigraph {ms(pp_seconds)}",
        f"{fast_seconds / pp_seconds:.1f}x",
    )
    check("upstream: index walk = store walk", fast == slow)
    check("upstream: nodes = property-path closure", {n.id for n in fast.nodes} - {deepest} == pp)

    index = graph.lineage_index
    roots = [
        index.name(n)
        for n in range(len(index._names))
        if index.name(n).startswith(BASE + "dataset/")
    ][:20]

    sizes = {r: reach(index.in_edges, index.id(r)) for r in roots}
    root = max(sizes, key=lambda r: sizes[r])
    fast_seconds, down = timed(lambda: graph.lineage(root, Direction.DOWNSTREAM), 5)
    pp_seconds, pp = timed(
        lambda: {r["n"].value for r in raw.query(closure_query(root, True))}, min(3, reference_runs)
    )  # type: ignore[union-attr]
    row(
        label,
        f"downstream of a root dataset ({len(down.nodes) - 1:,} nodes)",
        ms(fast_seconds),
        f"oxigraph closure {ms(pp_seconds)}",
        f"{fast_seconds / pp_seconds:.1f}x",
    )
    check("downstream: nodes = property-path closure", {n.id for n in down.nodes} - {root} == pp)
    impact_seconds, report = timed(lambda: graph.impact(root), 3)
    row(
        label,
        f"impact report of that dataset ({len(report.owners)} owners, {len(report.production_services)} prod. services)",
        ms(impact_seconds),
    )
    answer_figures(label, graph, deepest, root, pp_seconds, check_pages=assets <= 100_000)

    if reference and info.triples <= 1_500_000:
        import rdflib

        start = time.perf_counter()
        rdf = rdflib.Graph().parse(data, format="nt")
        row(label, "  rdflib: parse the same file", ms(time.perf_counter() - start))
        rdflib_seconds, found = timed(
            lambda: {str(r[0]) for r in rdf.query(closure_query(deepest))}, 1
        )
        row(
            label,
            "  rdflib SPARQL: upstream closure of the deepest version",
            "",
            ms(rdflib_seconds),
            f"{rdflib_seconds / upstream_seconds:.1f}x",
        )
        check("upstream: rdflib closure = kg", found == {n.id for n in fast.nodes} - {deepest})
        del rdf

    # a small answer: the largest upstream under 100 nodes among a sample of nodes
    step = max(1, len(index._names) // 3000)
    sized = {n: reach(index.out_edges, n, 100) for n in range(0, len(index._names), step)}
    small = index.name(max((n for n in sized if sized[n] < 100), key=lambda n: (sized[n], -n)))
    small_seconds, small_answer = timed(lambda: graph.lineage(small), 200)
    row(
        label, f"small lineage in-process ({len(small_answer.nodes)} nodes), p50", ms(small_seconds)
    )

    # -- governance: each rule alone, then the whole run, in a child process with a time limit
    graph.close()
    validation_figures(label, work / "kg", compare=assets <= 100_000)
    graph = KnowledgeGraph.open(Settings(store=work / "kg", gate=GateMode.OFF))  # type: ignore[call-arg]
    # pyshacl takes 100 s at 10k assets (measured once, see the README): 1k keeps `make bench` short
    if reference and info.triples <= 20_000:
        compiled_seconds, compiled = timed(lambda: graph.validate(engine=Engine.COMPILED), runs)
        reference_seconds, pyshacl = timed(lambda: graph.validate(engine=Engine.PYSHACL), 1)
        row(
            label,
            "  the same by pyshacl (incl. building its rdflib graph)",
            "",
            ms(reference_seconds),
            f"{reference_seconds / compiled_seconds:.0f}x",
        )
        check(
            "validation: compiled = pyshacl",
            {r.key() for r in compiled.results} == {r.key() for r in pyshacl.results},
        )
    gate = Gate(graph.shapes(), GateMode.ENFORCE, graph.lineage_index)  # as kg's writes use it
    one = f"- {{id: {info.small_version}, type: ModelVersion, name: Retrained, owner: team/t0, versionOf: model/m0}}\n"
    write_plan = prepare(graph.ontology, graph.parse([Document("one.yaml", one.encode())]))
    gate_seconds, _ = timed(
        lambda: gate.added_violations(graph.store, write_plan), 20 if assets <= 10_000 else 5
    )
    row(
        label,
        "write gate, one asset retrained (its model's deep lineage; goal 100 ms)",
        ms(gate_seconds),
    )
    fresh = "".join(
        f"- {{id: model/m{i}/v-new, type: ModelVersion, name: Retrained {i}, owner: team/t{i % 7}, "
        f"versionOf: model/m{i}, trainedOn: dataset/d{i * 13}}}\n"
        for i in range(100)
    )
    batch_plan = prepare(graph.ontology, graph.parse([Document("many.yaml", fresh.encode())]))
    batch_seconds, _ = timed(lambda: gate.added_violations(graph.store, batch_plan), 3)
    row(label, "write gate, 100 new versions in one write: per asset", ms(batch_seconds / 100))

    # -- search
    words = [
        "dataset",
        "feature 12",
        "ranking",
        "model m1",
        "events",
        "service s4",
        "evaluation",
        "payments",
    ]
    search_runs = 20 if assets <= 100_000 else 5
    search_times = [timed(lambda w=w: graph.search(w), search_runs)[0] for w in words]
    exact_times = [
        timed(lambda w=w: graph.search(w, exact_facets=True), search_runs)[0] for w in words
    ]
    ranked_times = [timed(lambda w=w: rank_alone(work, w), search_runs)[0] for w in words]
    row(
        label,
        "search, p50 over queries (Tantivy; facets estimated past 5k matches; goal 20 ms)",
        ms(statistics.median(search_times)),
        f"FTS5's top 20 by bm25 alone {ms(statistics.median(ranked_times))}",
        f"{statistics.median(search_times) / statistics.median(ranked_times):.2f}x",
    )
    row(label, "  the same with exact facets, p50", ms(statistics.median(exact_times)))
    # a one-asset write through the pipeline (the search index's part: SQLite's transaction and
    # Tantivy's documents, uncommitted), then the first search after it, which commits Tantivy
    write_times, first_times, found_at_once = [], [], []
    for n in range(search_runs):  # a new asset, renamed each time
        renamed = f"- {{id: dataset/search-probe, type: Dataset, name: Probe {n}}}\n".encode()
        start = time.perf_counter()
        graph.load([Document("probe.yaml", renamed)], gate=GateMode.OFF)
        middle = time.perf_counter()
        found = graph.search(f"probe {n}")
        write_times.append(middle - start)
        first_times.append(time.perf_counter() - middle)
        found_at_once.append(found.total == 1)
    check("search: a write is searchable as soon as it is made", all(found_at_once))
    row(
        label,
        "  one-asset write, p50; then the first search (commits Tantivy)",
        ms(statistics.median(write_times)),
        ms(statistics.median(first_times)),
    )
    check(
        "search: estimated facets keep the exact hits and totals",
        all(
            (lambda a, b: a.total == b.total and a.hits == b.hits)(
                graph.search(w), graph.search(w, exact_facets=True)
            )
            for w in words
        ),
    )
    # the portal's lineage picture: the sampled node whose downstream is nearest 2,000 nodes
    near = {n: reach(index.in_edges, n, 4000) for n in range(0, len(index._names), step)}
    picture = index.name(min(near, key=lambda n: (abs(near[n] - 2000), n)))
    picture_size = near[index.id(picture)]
    graph.close()

    # -- HTTP: kg serve against oxigraph serve on the same data
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--store", str(work / "kg"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "KG_GATE": "off"},
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}/api/v1/lineage?nodeId={urllib.parse.quote(small)}"
        load_client(url, 40)
        latencies, rate = load_client(url, 800)
        row(
            label,
            "small lineage over HTTP: p50 / p99, requests/s (4 clients)",
            f"{ms(pct(latencies, 0.5))} / {ms(pct(latencies, 0.99))}",
            f"{rate:,.0f} req/s",
        )
        search_url = f"http://127.0.0.1:{port}/api/v1/search?q=ranking"
        latencies, _ = load_client(search_url, 200)
        row(label, "search over HTTP, p50", ms(pct(latencies, 0.5)))
        portal_figures(label, f"http://127.0.0.1:{port}", deepest, picture, picture_size)
        row(label, "kg serve peak memory", f"{peak_rss(server.pid) / 2**20:,.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if Path(oxigraph).exists():
        port = free_port()
        peer = subprocess.Popen(
            [
                oxigraph,
                "serve-read-only",
                "--location",
                str(work / "raw"),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D")
            query = (
                f"SELECT ?n ?t ?l WHERE {{ {{ SELECT DISTINCT ?n WHERE {{ <{small}> ({EDGES})* ?n }} }} "
                "OPTIONAL { ?n a ?t } OPTIONAL { ?n <http://www.w3.org/2000/01/rdf-schema#label> ?l } }"
            )
            url = f"http://127.0.0.1:{port}/query?query={urllib.parse.quote(query)}"
            load_client(url, 40)
            latencies, rate = load_client(url, 800)
            row(
                label,
                "  oxigraph serve, the equivalent query: p50 / p99, requests/s",
                "",
                f"{ms(pct(latencies, 0.5))} / {ms(pct(latencies, 0.99))}, {rate:,.0f} req/s",
            )
        finally:
            peer.terminate()
            peer.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--skip-reference", action="store_true", help="no rdflib/pyshacl baselines")
    parser.add_argument(
        "--work", type=Path, default=None, help="scratch folder (default: a temporary one)"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"kg benchmark: pyoxigraph {ox.__version__ if hasattr(ox, '__version__') else ''}, {os.cpu_count()} cores, work in {work}"
    )
    try:
        for scale in args.scales:
            run_scale(scale, work, reference=not args.skip_reference)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| scale | metric | kg | baseline | ratio |\n|---|---|---|---|---|")
    for r in ROWS:
        print("| " + " | ".join(r) + " |")
    failed = [name for name, ok in CHECKS if not ok]
    print(
        f"\nanswer checks: {len(CHECKS) - len(failed)} same, {len(failed)} different {failed or ''}"
    )
    print(json.dumps({"rows": ROWS, "checks": CHECKS}), file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
