"""Every shipped named query at scale: the median time of each (evaluation and serialization,
as `GET /api/v1/queries/{name}` runs it), its row count, against the goal of 1 s at 100k assets.

    python -m bench.queries --scales 10000 100000      (make bench-queries)

Each query runs in a child process with a time limit, so one that runs away is reported as
such and the others still get measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.generate import BASE, write
from kg import catalog, jobs
from kg.config import Settings
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph
from kg.store import open_view

LIMIT = 60.0  # seconds a query may take before it is reported as past the limit
GOAL = 1.0  # seconds each named query may take at 100k assets
GOAL_SCALE = 100_000


def _parameters(info: Any, graph: KnowledgeGraph) -> dict[str, dict[str, str]]:
    team = next(iter(graph.search("", {"type": [f"{'mlg:Team'}"]}, 1).hits)).id
    version = BASE + info.small_version.removeprefix(BASE).strip("<>")
    model = next(
        (t.object.value for t in graph.store.triples(
            __import__("pyoxigraph").NamedNode(version),
            __import__("pyoxigraph").NamedNode("https://w3id.org/mlg#versionOf"), None)),
        version,
    )  # fmt: skip
    # the dataset with the most direct dependents (the generator's first dataset may have none)
    busiest = graph.store.query(
        "SELECT ?d (COUNT(?x) AS ?n) WHERE { ?x <https://w3id.org/mlg#derivedFrom> ?d } "
        "GROUP BY ?d ORDER BY DESC(?n) LIMIT 1"
    )
    root = next(iter(busiest))["d"].value  # type: ignore[index, union-attr]
    deepest = BASE + info.deepest_version.removeprefix(BASE).strip("<>")
    return {
        "upstream": {"asset": deepest},
        "downstream": {"asset": root},
        "services-using-dataset": {"dataset": root},
        "experiments-running-model": {"model": model},
        "team-assets": {"team": team},
    }


def _queries(folder: Path | None) -> dict[str, catalog.NamedQuery]:
    """The shipped catalogue, or the .rq files of `folder` (e.g. an earlier version's texts)."""
    if folder is None:
        return catalog.catalogue()
    return {q.name: q for q in map(catalog.parse_query_file, sorted(folder.glob("*.rq")))}


def _run(
    store: str, path: str | None, name: str, params: dict[str, str], runs: int, out: Any
) -> None:
    # As a server's worker runs it: the store read-only, no lineage index in the process.
    view = open_view(Path(store))
    query = _queries(Path(path) if path else None)[name]
    bound = query.bind(params, BASE)
    times, rows = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        answer = jobs.sparql(view, query.text, accept="text/csv", formats=[],
                             max_rows=10_000_000, substitutions=bound)  # fmt: skip
        times.append(time.perf_counter() - start)
        rows = answer.body.count(b"\n") - 1
    view.close()
    out.send({"median": statistics.median(times), "rows": rows})


def _against_goal(assets: int, seconds: float | None) -> str:
    """The figure next to the goal: 1 s at 100k assets (below that scale, for reference)."""
    if seconds is None:
        return f"goal {GOAL:.0f} s: missed (stopped)"
    verdict = "met" if seconds < GOAL else f"missed, {seconds / GOAL:.2f}x"
    return f"goal {GOAL:.0f} s: {verdict}" + ("" if assets >= GOAL_SCALE else " (goal is at 100k)")


def run_scale(
    assets: int, work: Path, runs: int, folder: Path | None = None
) -> list[tuple[str, str, str, str, str]]:
    data = work / f"graph-{assets}.nt"
    info = write(data, assets)
    store = work / f"kg-{assets}"
    graph = KnowledgeGraph.open(Settings(store=store, gate=GateMode.OFF))  # type: ignore[call-arg]
    graph.load([Document(data.name, data.read_bytes())], gate=GateMode.OFF)
    parameters = _parameters(info, graph)
    graph.close()
    rows = []
    context = multiprocessing.get_context("spawn")
    for name in sorted(_queries(folder)):
        reader, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_run,
            args=(str(store), folder and str(folder), name, parameters.get(name, {}), runs, sender),
        )
        child.start()
        seconds: float | None = None
        if reader.poll(LIMIT * runs + 30):
            result = reader.recv()
            seconds = result["median"]
            figure = f"{result['median'] * 1000:,.1f} ms"
            count = f"{result['rows']:,}"
        else:
            child.kill()
            figure, count = f"> {LIMIT:.0f} s (stopped)", "-"
        child.join()
        goal = _against_goal(assets, seconds)
        rows.append((f"{assets:,}", name, figure, count, goal))
        print(f"  {assets:>9,}  {name:<30} {figure:>22} {count:>10} rows   {goal}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--queries", type=Path, help="a folder of .rq files to run instead of the shipped ones"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-queries-"))
    rows: list[tuple[str, str, str, str, str]] = []
    try:
        for scale in args.scales:
            rows += run_scale(scale, work, args.runs, args.queries)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    at_goal = [r for r in rows if r[0] == f"{GOAL_SCALE:,}"]
    if at_goal:
        met = sum(1 for r in at_goal if r[4].endswith(": met"))
        print(
            f"  {met} of {len(at_goal)} named queries under {GOAL:.0f} s at {GOAL_SCALE:,} assets"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
