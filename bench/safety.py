"""Safety figures: restart after a crash against after a clean stop, CPU after a stopped runaway
query against the in-process evaluation kg had before, and small-query latency while runaways
are being stopped.

    python -m bench.safety --scales 10000 100000      (make bench-safety)

Each figure is printed with its baseline from the same run and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from bench.generate import write
from bench.run import free_port, ms, pct, wait_for
from kg.config import Settings
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph

RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a (<https://w3id.org/mlg#dependsOn>|"
    "^<https://w3id.org/mlg#dependsOn>)* ?b . ?c ?p ?d . ?e ?q ?f }"
)
SMALL = "SELECT ?t WHERE { ?t a <https://w3id.org/mlg#Team> } LIMIT 5"


def row(scale: str, metric: str, kg: str, baseline: str = "", ratio: str = "") -> None:
    print(f"  {scale:>9}  {metric:<58} {kg:>12} {baseline:>14} {ratio:>8}", flush=True)


def _open(store: Path) -> tuple[float, KnowledgeGraph]:
    start = time.perf_counter()
    graph = KnowledgeGraph.open(Settings(store=store, gate=GateMode.OFF))  # type: ignore[call-arg]
    return time.perf_counter() - start, graph


def restarts(assets: int, work: Path) -> None:
    """Open after a clean stop, after a kill -9 that followed writes, and with no snapshot."""
    label = f"{assets:,}"
    data = work / f"graph-{assets}.nt"
    write(data, assets)
    store = work / f"store-{assets}"
    _, graph = _open(store)
    graph.load([Document(data.name, data.read_bytes())], gate=GateMode.OFF)
    graph.close()
    clean, graph = _open(store)
    graph.close()
    code = textwrap.dedent(
        """
        import os, signal
        from pathlib import Path
        from kg.config import Settings
        from kg.graph import Document, KnowledgeGraph
        graph = KnowledgeGraph.open(Settings(store=Path(STORE), gate="off"))
        for i in range(20):
            text = "- {id: dataset/crash%d, type: Dataset, derivedFrom: dataset/crash%d}" % (i, i + 1)
            graph.load([Document("a.yaml", text.encode())])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    ).replace("STORE", repr(str(store)))
    subprocess.run([sys.executable, "-c", code], check=False)
    crashed, graph = _open(store)
    how = graph.recovery["lineage"]
    graph.close()
    store.with_name(store.name + ".lineage.pickle").unlink()
    rebuilt, graph = _open(store)
    graph.close()
    row(label, "restart after a clean stop (snapshot)", ms(clean))
    row(label, f"restart after kill -9 ({how}) vs rebuilt", ms(crashed), ms(rebuilt),
        f"{rebuilt / crashed:.1f}x")  # fmt: skip
    shutil.rmtree(store, ignore_errors=True)


def _post(base: str, query: str) -> tuple[int, float]:
    data = urllib.parse.urlencode({"query": query}).encode()
    request = urllib.request.Request(base + "/sparql", data=data, method="POST")  # noqa: S310
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - start


def _cpu(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            continue
    return total


def runaways(work: Path) -> None:
    """The demo graph served on disk (worker processes) and in memory (threads, as before)."""
    results: dict[str, dict[str, float]] = {}
    for kind in ("on disk: worker processes", "in memory: threads"):
        port = free_port()
        store = ["--memory"] if "memory" in kind else ["--store", str(work / "served")]
        env = {**os.environ, "KG_QUERY_TIMEOUT": "2", "KG_QUERY_WORKERS": "4"}
        process = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve", "--demo", *store, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/healthz")
            _post(base, SMALL)
            time.sleep(1.5)  # the workers are up
            alone = sorted(_post(base, SMALL)[1] for _ in range(40))
            answers: list[int] = []

            def runaway(url: str = base, into: list[int] = answers) -> None:
                into.append(_post(url, RUNAWAY)[0])

            threads = [threading.Thread(target=runaway) for _ in range(2)]
            for t in threads:
                t.start()
            time.sleep(0.3)
            during = sorted(_post(base, SMALL)[1] for _ in range(20))
            for t in threads:
                t.join()
            time.sleep(1.0)
            before = _cpu(process.pid)
            time.sleep(3.0)
            after_cpu = (_cpu(process.pid) - before) / 3.0
            results[kind] = {
                "alone": statistics.median(alone),
                "during": statistics.median(during),
                "during_p90": pct(during, 0.9),
                "cpu": after_cpu,
                "stopped": float(answers.count(503)),
            }
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
    new, old = results["on disk: worker processes"], results["in memory: threads"]
    row("demo", "CPU (cores busy) in the 3 s after 2 runaways were stopped", f"{new['cpu']:.2f}",
        f"{old['cpu']:.2f}", "")  # fmt: skip
    row("demo", "small query p50 alone", ms(new["alone"]), ms(old["alone"]),
        f"{new['alone'] / old['alone']:.2f}x")  # fmt: skip
    row("demo", "small query p50 while 2 runaways run (of 4 workers)", ms(new["during"]),
        ms(old["during"]), f"{new['during'] / old['during']:.2f}x")  # fmt: skip
    row("demo", "small query p90 while 2 runaways run", ms(new["during_p90"]),
        ms(old["during_p90"]))  # fmt: skip
    print(json.dumps(results), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-safety-"))
    try:
        print(f"  {'scale':>9}  {'metric':<58} {'kg':>12} {'baseline':>14} {'ratio':>8}")
        runaways(work)
        for assets in args.scales:
            restarts(assets, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
