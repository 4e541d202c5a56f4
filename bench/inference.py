"""Inference upkeep per write, and MLflow hydration throughput, in one run each against a
same-run baseline.

    python -m bench.inference --scales 10000 100000      (part of make bench)

Inference: the generator of `make bench` (bench.generate) writes N assets, loaded into an
on-disk store, plus A/B tests as cells (a run per cell names it, the run generates a model
version). Then one-asset writes are timed with the shipped rules kept in step and with no
rules, alternating, on the same graph: a run moved to another cell (its experiment's inferred
`mlg:tests` changes) and a dataset relabelled (no rule reaches it). The upkeep is the
difference of the medians, per written asset (goal: under 10 ms). `kg infer --all` is timed
once.

Hydration (with --mlflow): a real `mlflow server` on SQLite, runs logged by the real client;
`kg sync mlflow` in-process (list, fetch, map, write) against only fetching the same entities.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.generate import write
from kg.config import Settings
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph
from kg.inference.engine import Inference

GOAL_MS = 10.0
CELLS = 300
RUNS = 15  # timed writes of each kind and mode


def _open(store: Path, **more: object) -> KnowledgeGraph:
    return KnowledgeGraph.open(Settings(store=store, gate=GateMode.OFF, **more))  # type: ignore[arg-type]


def _ab_tests(experiments: int) -> str:
    lines = ["assets:"]
    for i in range(CELLS):
        x = f"experiment/x{i % experiments}"
        lines += [
            f"  - {{id: cell/c{i}, type: TestCell, cellOf: {x}}}",
            f"  - {{id: run/ab{i}, type: Run, testCells: [cell/c{i}]}}",
            f"  - {{id: model/ab/v{i}, type: ModelVersion, generatedBy: run/ab{i}}}",
        ]
    return "\n".join(lines) + "\n"


def _median_ms(action: Callable[[int], None], runs: int) -> float:
    times = []
    for n in range(runs):
        start = time.perf_counter()
        action(n)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def inference_scale(assets: int, work: Path) -> list[str]:
    print(f"\n== {assets:,} assets", flush=True)
    data = work / f"graph-{assets}.nt"
    info = write(data, assets)
    store = work / f"store-{assets}"
    graph = _open(store)
    start = time.perf_counter()
    graph.load([Document(data.name, data.read_bytes())], gate=GateMode.OFF)
    print(f"  loaded {info.triples:,} triples in {time.perf_counter() - start:.1f} s", flush=True)
    experiments = max(1, round(assets * 0.05 * 0.88))
    start = time.perf_counter()
    graph.load([Document("ab.yaml", _ab_tests(min(experiments, CELLS)).encode())])
    print(f"  {CELLS} cells, runs and versions in {time.perf_counter() - start:.1f} s", flush=True)
    rules = graph.inference
    none = Inference([])

    def move_run(n: int) -> None:
        cell = f"cell/c{(n * 7 + 1) % CELLS}"
        text = f"- {{id: run/ab0, type: Run, testCells: [{cell}]}}"
        graph.load([Document(f"move-{n}.yaml", text.encode())])

    def relabel(n: int) -> None:
        text = f"- {{id: dataset/d{n % 50}, type: Dataset, name: relabelled {n}}}"
        graph.load([Document(f"label-{n}.yaml", text.encode())])

    rows = []
    for name, action in (("run moved to another cell", move_run), ("dataset relabelled", relabel)):
        with_rules, without = [], []
        for n in range(3):  # alternate, so that drift in the machine hits both alike
            graph.inference = rules
            with_rules.append(_median_ms(lambda k, n=n, a=action: a(100 * n + k), RUNS))
            graph.inference = none
            without.append(_median_ms(lambda k, n=n, a=action: a(100 * n + k + 50), RUNS))
        kept, bare = statistics.median(with_rules), statistics.median(without)
        upkeep = max(0.0, kept - bare)
        verdict = "met" if upkeep < GOAL_MS else "MISSED"
        print(
            f"  {name}: write {kept:.1f} ms with rules, {bare:.1f} ms without; upkeep "
            f"{upkeep:.1f} ms per written asset (goal < {GOAL_MS:.0f} ms: {verdict}); "
            f"ratio {kept / bare:.2f}x",
            flush=True,
        )
        rows.append(f"| {assets:,} | {name} | {kept:.1f} ms | {bare:.1f} ms | {upkeep:.1f} ms | "
                    f"{verdict} |")  # fmt: skip
    graph.inference = rules
    start = time.perf_counter()
    graph.infer()
    whole = time.perf_counter() - start
    print(f"  kg infer --all (every rule whole, nothing to change): {whole * 1000:.0f} ms")
    graph.close()
    return rows


_LOG = r"""
import sys, warnings
warnings.simplefilter("ignore")
import mlflow
import pandas as pd
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("bench")
frame = pd.DataFrame({"x": [1, 2, 3], "y": [0, 1, 0]})
for n in range(int(sys.argv[2])):
    with mlflow.start_run(run_name=f"train-{n}") as run:
        mlflow.log_params({"depth": n % 7, "rate": 0.1})
        mlflow.log_metrics({"auc": 0.7 + n / 1000, "loss": 0.3})
        data = mlflow.data.from_pandas(frame, source=f"s3://bench/train-{n % 10}.csv", name="t")
        mlflow.log_input(data, context="training")
        model = mlflow.create_external_model(name="bench", source_run_id=run.info.run_id)
    mlflow.register_model(f"models:/{model.model_id}", "bench-model")
"""


def hydration(work: Path, runs: int) -> None:
    import subprocess

    from kg.sources.service import Hydration
    from tests.sources.mlflow_server import QUIET, start  # the tests' real server

    print(
        f"\n== MLflow hydration: {runs} runs logged by the real client, each registered", flush=True
    )
    folder = work / "mlflow"
    folder.mkdir()
    server = start(folder)
    try:
        subprocess.run(
            [sys.executable, "-c", _LOG, server.uri, str(runs)],
            check=True, timeout=1800, env={**os.environ, **QUIET}, capture_output=True,
        )  # fmt: skip
        graph = _open(work / "store-mlflow", mlflow_uri=server.uri, source_rate=0)
        service = Hydration.open(graph, graph.settings)
        source = service.source("mlflow")
        refs = list(source.entities())
        start_at = time.perf_counter()
        for ref in refs:
            source.fetch(ref)
        fetching = time.perf_counter() - start_at
        start_at = time.perf_counter()
        service.sync("mlflow")
        hydrated = service.drain()
        seconds = time.perf_counter() - start_at
        failed = service.status()[0]["failed"]
        service.close()
        graph.close()
    finally:
        server.stop()
    print(
        f"  {len(refs)} entities: fetching alone {len(refs) / fetching:.0f}/s; hydrated "
        f"{hydrated} (failed {failed}) through the write pipeline at {hydrated / seconds:.1f} "
        f"entities/s, {seconds / fetching:.1f}x the time of fetching them",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--mlflow", type=int, default=0, help="runs to log and hydrate (0: skip)")
    args = parser.parse_args()
    print(f"kg inference and hydration benchmark: {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="kg-bench-inference-") as folder:
        work = Path(folder)
        rows = []
        for scale in args.scales:
            rows += inference_scale(scale, work)
        print("\n| assets | write | with rules | without | upkeep per asset | goal < 10 ms |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows))
        if args.mlflow:
            hydration(work, args.mlflow)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
