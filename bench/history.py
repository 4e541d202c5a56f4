"""History: what keeping every change costs the present, and what answers as of a moment cost.

    python -m bench.history --scales 10000 100000 --changes 10000      (part of make bench)

The generator of `make bench` (bench.generate) writes N assets; they are loaded into two
on-disk stores, one keeping history (KG_HISTORY=true, the default) and one not. Then:

* load: the bulk load of each, and one-asset writes (a dataset described again with another
  name, owner and upstream) alternating between the two stores, so drift hits both alike:
  median per write with history against without (goal: within noise);
* present-time lineage on both stores (goal: within noise);
* after those changes, lineage as of the moment before them on the store with history, against
  the same answer at present time from a third store that received the same load and no change
  (goal: within 2x); the first as-of answer (which builds the per-node history from the stored
  versions) reported apart; every as-of answer is checked equal to that store's;
* storage: the versions kept, per change (quads and bytes of N-Triples), and the store folders.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from bench.generate import write
from kg import views
from kg.config import Settings
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction

REPEATS = 15  # timed lineage answers per figure


def _open(store: Path, history: bool) -> KnowledgeGraph:
    return KnowledgeGraph.open(
        Settings(store=store, gate=GateMode.OFF, history=history)  # type: ignore[call-arg]
    )


def _median_ms(action: Callable[[], object], runs: int = REPEATS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _alternating(
    first: Callable[[], object], second: Callable[[], object], runs: int = REPEATS
) -> tuple[float, float]:
    """Medians (ms) of two actions timed in turns, so that drift in the machine hits both."""
    times: tuple[list[float], list[float]] = ([], [])
    for n in range(runs * 2):
        which = n % 2
        start = time.perf_counter()
        (first, second)[which]()
        times[which].append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def _folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _change(n: int, datasets: int) -> bytes:
    k = (n * 7919) % datasets
    up = (k * 31 + n) % max(1, k) if k else 1
    return (
        f"- {{id: dataset/d{k}, type: Dataset, name: Changed {n}, owner: team/t{n % 6}, "
        f"derivedFrom: [dataset/d{up}]}}\n"
    ).encode()


def scale(assets: int, changes: int, work: Path) -> list[str]:
    print(f"\n== {assets:,} assets, {changes:,} changes", flush=True)
    data = work / f"graph-{assets}.nt"
    info = write(data, assets)
    datasets = int(assets * 0.3 * 0.9)
    graphs = {}
    loads = {}
    for history in (False, True):  # the second load finds the machine warmer: history's
        graph = _open(work / f"store-{assets}-{history}", history)
        start = time.perf_counter()
        graph.load([Document(data.name, data.read_bytes())], gate=GateMode.OFF)
        loads[history] = time.perf_counter() - start
        graphs[history] = graph
    on, off = graphs[True], graphs[False]
    # the graph as it stands before the changes, kept so: the same answers as the as-of ones
    frozen = _open(work / f"store-{assets}-frozen", False)
    frozen.load([Document(data.name, data.read_bytes())], gate=GateMode.OFF)
    print(
        f"  bulk load of {info.triples:,} triples: {loads[True]:.1f} s with history, "
        f"{loads[False]:.1f} s without ({loads[True] / loads[False]:.2f}x)",
        flush=True,
    )
    roots = {
        "upstream of the deepest version": (info.deepest_version, Direction.UPSTREAM),
        "upstream of a small version": (info.small_version, Direction.UPSTREAM),
    }
    before = {name: views.lineage(off.lineage(node, d)) for name, (node, d) in roots.items()}
    rows = []
    for name, (node, direction) in roots.items():
        with_history, without = _alternating(
            functools.partial(on.lineage, node, direction),
            functools.partial(off.lineage, node, direction),
        )
        print(
            f"  present-time lineage, {name}: {with_history:.1f} ms with history, "
            f"{without:.1f} ms without ({with_history / without:.2f}x)",
            flush=True,
        )
    moment = dt.datetime.now(dt.UTC)
    times: dict[bool, list[float]] = {True: [], False: []}
    for n in range(changes):
        for history in (True, False) if n % 2 else (False, True):
            start = time.perf_counter()
            graphs[history].load([Document(f"change-{n}.yaml", _change(n, datasets))])
            times[history].append(time.perf_counter() - start)
    kept, bare = statistics.median(times[True]), statistics.median(times[False])
    print(
        f"  one-asset write: {kept * 1000:.2f} ms with history, {bare * 1000:.2f} ms without "
        f"({kept / bare:.2f}x), median of {changes:,} each",
        flush=True,
    )
    start = time.perf_counter()
    node, direction = roots["upstream of the deepest version"]
    on.lineage(node, direction, as_of=moment)
    first = time.perf_counter() - start
    print(
        f"  first as-of answer (builds the history of {changes:,} changes): {first * 1000:.0f} ms",
        flush=True,
    )
    for name, (node, direction) in roots.items():
        then = views.lineage(on.lineage(node, direction, as_of=moment))
        equal = then == before[name] == views.lineage(frozen.lineage(node, direction))
        # the baseline: the same answer at present time, from the graph that never changed
        as_of, now = _alternating(
            functools.partial(on.lineage, node, direction, as_of=moment),
            functools.partial(frozen.lineage, node, direction),
        )
        ratio = as_of / now
        verdict = "met" if ratio <= 2 else "MISSED"
        print(
            f"  as-of lineage, {name} ({len(then['graph']):,} nodes then, "
            f"{'equal to' if equal else 'DIFFERENT FROM'} the answer before the changes): "
            f"{as_of:.1f} ms as of then after {changes:,} changes, {now:.1f} ms for the same "
            f"answer at present time ({ratio:.2f}x; goal <= 2x: {verdict})",
            flush=True,
        )
        rows.append(
            f"| {assets:,} | {changes:,} | {name} | {as_of:.1f} ms | {now:.1f} ms | "
            f"{ratio:.2f}x | {verdict} |"
        )
    versions = on.query(
        "SELECT (COUNT(*) AS ?n) (SUM(STRLEN(?s)) AS ?bytes) WHERE { GRAPH ?g { ?v "
        "<https://w3id.org/mlg#statements> ?s } }"
    )
    assert isinstance(versions, ox.QuerySolutions)
    row = next(iter(versions))
    count, size = int(row["n"].value), int(row["bytes"].value or 0)
    for graph in [*graphs.values(), frozen]:
        graph.close()
    disk_on = _folder_bytes(work / f"store-{assets}-True")
    disk_off = _folder_bytes(work / f"store-{assets}-False")
    print(
        f"  storage: {count:,} versions kept for {changes:,} changes, {size / max(1, changes):,.0f} "
        f"bytes of statements per change (4 quads each); store folders {disk_on / 1e6:.1f} MB "
        f"with history, {disk_off / 1e6:.1f} MB without "
        f"({(disk_on - disk_off) / max(1, changes):,.0f} bytes per change on disk)",
        flush=True,
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--changes", type=int, default=10_000)
    args = parser.parse_args()
    print(f"kg history benchmark: {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="kg-bench-history-") as folder:
        rows = []
        for assets in args.scales:
            rows += scale(assets, args.changes, Path(folder))
        print(
            "\n| assets | changes | lineage | as of then | same answer now | ratio | goal <= 2x |"
        )
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
