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

LIMIT = 60.0  # seconds a query may take before it is reported as past the limit


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


def _run(store: str, name: str, params: dict[str, str], runs: int, out: Any) -> None:
    graph = KnowledgeGraph.open(Settings(store=Path(store), gate=GateMode.OFF))  # type: ignore[call-arg]
    query = catalog.named_query(name)
    bound = query.bind(params, graph.settings.base_iri)
    times, rows = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        answer = jobs.sparql(graph.store, query.text, accept="text/csv", formats=[],
                             max_rows=10_000_000, substitutions=bound)  # fmt: skip
        times.append(time.perf_counter() - start)
        rows = answer.body.count(b"\n") - 1
    graph.close()
    out.send({"median": statistics.median(times), "rows": rows})


def run_scale(assets: int, work: Path, runs: int) -> list[tuple[str, str, str, str]]:
    data = work / f"graph-{assets}.nt"
    info = write(data, assets)
    store = work / f"kg-{assets}"
    graph = KnowledgeGraph.open(Settings(store=store, gate=GateMode.OFF))  # type: ignore[call-arg]
    graph.load([Document(data.name, data.read_bytes())], gate=GateMode.OFF)
    parameters = _parameters(info, graph)
    graph.close()
    rows = []
    context = multiprocessing.get_context("spawn")
    for name in sorted(catalog.catalogue()):
        reader, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_run, args=(str(store), name, parameters.get(name, {}), runs, sender)
        )
        child.start()
        if reader.poll(LIMIT * runs + 30):
            result = reader.recv()
            figure = f"{result['median'] * 1000:,.1f} ms"
            count = f"{result['rows']:,}"
        else:
            child.kill()
            figure, count = f"> {LIMIT:.0f} s (stopped)", "-"
        child.join()
        rows.append((f"{assets:,}", name, figure, count))
        print(f"  {assets:>9,}  {name:<30} {figure:>22} {count:>10} rows", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-queries-"))
    rows: list[tuple[str, str, str, str]] = []
    try:
        for scale in args.scales:
            rows += run_scale(scale, work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
