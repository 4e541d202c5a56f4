"""SPARQL Update cost: the fast plan (reads what the update touches) against the copy plan (the
update run on a scratch copy of the store), in the same run, on stores of N generated assets.

    python -m bench.updates --scales 10000 100000      (make bench-updates)

For each scale the generator of `make bench` (bench.generate) writes the graph, a child process
loads it into an on-disk store, then one child process per plan opens the store and times,
through KnowledgeGraph.sparql_update's lock and pipeline:

* a one-triple `INSERT DATA` on an existing asset (a new triple each run), and
* a one-subject `DELETE/INSERT WHERE` (a counter on that asset, read and replaced each run),

and reports the median of several runs and its peak RSS while updating (VmHWM, reset after the
store is open). The copy child also checks that both plans give the same batch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from bench.generate import BASE, write
from kg.config import Settings
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph
from kg.write import sparql_update

COUNTER = "urn:bench:count"


def _rss(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: clear_refs 5); False where it cannot."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _open(store: Path) -> KnowledgeGraph:
    return KnowledgeGraph.open(Settings(store=store, gate=GateMode.OFF))  # type: ignore[call-arg]


def _texts(subject: str, run: int) -> dict[str, str]:
    s = f"<{subject}>"
    return {
        "insert-data": f'INSERT DATA {{ {s} <http://www.w3.org/2000/01/rdf-schema#comment> "bench run {run}" }}',
        "delete-insert-where": (
            f"DELETE {{ {s} <{COUNTER}> ?n }} INSERT {{ {s} <{COUNTER}> ?next }} "
            f"WHERE {{ OPTIONAL {{ {s} <{COUNTER}> ?n }} BIND(COALESCE(?n + 1, 1) AS ?next) }}"
        ),
    }


def _canonical(batch: Any) -> list[str] | None:
    if batch is None:
        return None
    dataset = ox.Dataset(
        [ox.Quad(t.subject, t.predicate, t.object) for t in batch.triples]
        + [
            ox.Quad(t.subject, t.predicate, t.object, g)
            for g, ts in batch.named_graphs.items()
            for t in ts
        ]
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in dataset) + sorted(f"drop {g}" for g in batch.drop)


def child_build(data: Path, store: Path) -> dict[str, Any]:
    graph = _open(store)
    start = time.perf_counter()
    graph.load([Document(data.name, data.read_bytes())], gate=GateMode.OFF)
    seconds = time.perf_counter() - start
    quads = graph.store.size()
    graph.close()
    return {"load_seconds": seconds, "quads": quads}


def child_time(store: Path, plan: str, subject: str, runs: int) -> dict[str, Any]:
    graph = _open(store)
    opened = _rss("VmRSS")
    reset = _reset_peak()
    times: dict[str, list[float]] = {}
    same: dict[str, bool] = {}
    offset = 0 if plan == "fast" else 1000
    for run in range(runs):
        for name, text in _texts(subject, offset + run).items():
            start = time.perf_counter()
            if plan == "fast":
                report = graph.sparql_update(text)
            else:  # the copy plan, under the same lock and through the same pipeline
                with graph.writing:
                    planned = sparql_update.plan_update(graph.store, text, fast=False)
                    report = None if planned.batch is None else graph.load_batches([planned.batch])
            times.setdefault(name, []).append(time.perf_counter() - start)
            assert report is not None, f"{name} changed nothing"
    peak = _rss("VmHWM")
    if plan == "copy":  # both plans, same batch (not committed)
        for name, text in _texts(subject, 10_000).items():
            fast = sparql_update.plan_update(graph.store, text)
            copy = sparql_update.plan_update(graph.store, text, fast=False)
            same[name] = fast.fast and _canonical(fast.batch) == _canonical(copy.batch)
    counted = graph.store.query(f"SELECT ?n WHERE {{ <{subject}> <{COUNTER}> ?n }}")
    assert isinstance(counted, ox.QuerySolutions)
    values = [int(row["n"].value) for row in counted]  # type: ignore[union-attr]
    graph.close()
    return {
        "median": {name: statistics.median(ts) for name, ts in times.items()},
        "opened_rss": opened,
        "peak_rss": peak if reset else None,
        "counter": values,
        "same": same,
    }


def _child(*args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.updates", "--child", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def mb(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 2**20:,.0f} MB"


def run_scale(
    assets: int, work: Path, runs: int, copy_runs: int, with_copy: bool = True
) -> list[tuple[str, ...]]:
    print(f"\n== {assets:,} assets", flush=True)
    data = work / f"graph-{assets}.nt"
    info = write(data, assets)
    store = work / f"kg-{assets}"
    for leftover in work.glob(f"kg-{assets}*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    built = _child("build", str(data), str(store))
    print(f"  {info.triples:,} generated triples, {built['quads']:,} quads stored "
          f"(loaded in {ms(built['load_seconds'])})", flush=True)  # fmt: skip
    subject = BASE + info.small_version.removeprefix(BASE).strip("<>")
    fast = _child("time", str(store), "fast", subject, str(runs))
    label = f"{assets:,} ({built['quads']:,} quads)"
    if not with_copy:  # the copy plan would need ~3.3 GB per 100k assets: fast plan alone
        assert fast["counter"] == [runs], fast
        rows = [(label, name, ms(fast["median"][name]), "not run", "")
                for name in ("insert-data", "delete-insert-where")]  # fmt: skip
        rows.append((label, "peak RSS while updating", mb(fast["peak_rss"]), "", ""))
        for r in rows:
            print(f"  {r[1]:<22} fast {r[2]:>12}", flush=True)
        return rows
    copy = _child("time", str(store), "copy", subject, str(copy_runs))
    # every read-and-replace of the counter counted, once
    assert (fast["counter"], copy["counter"]) == ([runs], [runs + copy_runs]), (fast, copy)
    rows = []
    for name in ("insert-data", "delete-insert-where"):
        new, old = fast["median"][name], copy["median"][name]
        rows.append((label, name, ms(new), ms(old), f"{old / new:,.0f}x"))
        print(
            f"  {name:<22} fast {ms(new):>12}   copy {ms(old):>12}   {old / new:>8,.0f}x",
            flush=True,
        )
    rows.append((label, "peak RSS while updating", mb(fast["peak_rss"]), mb(copy["peak_rss"]), ""))
    rows.append(
        (label, "RSS with the store open", mb(fast["opened_rss"]), mb(copy["opened_rss"]), "")
    )
    print(f"  peak RSS while updating: fast {mb(fast['peak_rss'])}, copy {mb(copy['peak_rss'])} "
          f"(open: {mb(fast['opened_rss'])})", flush=True)  # fmt: skip
    for name, ok in copy["same"].items():
        print(f"  check: {name}: fast and copy plans {'same' if ok else 'DIFFERENT'}", flush=True)
        if not ok:
            raise SystemExit(f"{name}: the plans differ")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=7, help="runs of the fast plan (median)")
    parser.add_argument("--copy-runs", type=int, default=3, help="runs of the copy plan (median)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder")
    parser.add_argument(
        "--copy-up-to", type=int, default=100_000, help="largest scale the copy plan runs at"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "build":
            result = child_build(Path(rest[0]), Path(rest[1]))
        else:
            result = child_time(Path(rest[0]), rest[1], rest[2], int(rest[3]))
        print(json.dumps(result))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-bench-updates-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"kg SPARQL Update benchmark: {os.cpu_count()} cores, work in {work}")
    rows: list[tuple[str, ...]] = []
    try:
        for scale in args.scales:
            rows += run_scale(scale, work, args.runs, args.copy_runs, scale <= args.copy_up_to)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| assets | update | fast plan | copy plan | ratio |\n|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
