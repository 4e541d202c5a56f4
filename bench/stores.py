"""kg on the embedded store against kg on an Oxigraph server, in the same run: a load, a small
and a large lineage, search, a one-asset write, catching up at start; and the delay before a
write through one kg process is seen through another one on the same server.

    python -m bench.stores --scales 1000 10000        (part of make bench)

The server is `oxigraph serve` (PyPI `oxigraph`) on loopback, started here over a scratch
folder. Answers are checked equal between the two stores.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import BASE, write
from bench.run import check, free_port, ms, row, timed, wait_for
from kg.config import Settings
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph
from kg.lineage import Direction

WORDS = ["dataset", "feature 12", "ranking", "model m1", "events", "evaluation"]


def oxigraph(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    program = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    port = free_port()
    process = subprocess.Popen(
        [program, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/query?query=ASK%7B%7D")
    return process, url


def settings(folder: Path, url: str | None = None, **more: object) -> Settings:
    values: dict[str, object] = {"store": url or folder, "gate": GateMode.OFF, **more}
    if url is not None:  # the server is the store; the folder holds this process's indexes
        return Settings(**values).model_copy(update={"store": folder})  # type: ignore[arg-type]
    return Settings(**values)  # type: ignore[arg-type]


def figures(label: str, graph: KnowledgeGraph, data: Path, info: object) -> dict[str, object]:
    found: dict[str, object] = {}
    load, _ = timed(lambda: graph.load([Document(data.name, data.read_bytes())]), 1)
    found["load"] = load
    deepest = BASE + info.deepest_version  # type: ignore[attr-defined]
    small = BASE + info.small_version  # type: ignore[attr-defined]
    found["large"], large = timed(lambda: graph.lineage(deepest, Direction.UPSTREAM), 5)
    found["small"], little = timed(lambda: graph.lineage(small, Direction.UPSTREAM), 20)
    found["answers"] = (sorted(n.id for n in large.nodes), sorted(n.id for n in little.nodes))
    found["sizes"] = (len(large.nodes), len(little.nodes))
    found["search"] = statistics.median(timed(lambda w=w: graph.search(w), 10)[0] for w in WORDS)
    found["hits"] = [[h.id for h in graph.search(w).hits] for w in WORDS]
    version = info.small_version  # type: ignore[attr-defined]
    document = (
        f"assets:\n- {{id: {version}, type: ModelVersion, name: Retrained, owner: team/t0, "
        "versionOf: model/m0}\n"
    ).encode()
    found["write"], _ = timed(lambda: graph.load([Document("one.yaml", document)]), 10)
    return found


def follower_delay(url: str, work: Path, trials: int = 20) -> list[float]:
    """Seconds from a write's answer in one kg process to its edge in the other's lineage."""
    one = KnowledgeGraph.open(settings(work / "one", url, follow_interval=0.1))
    two = KnowledgeGraph.open(settings(work / "two", url, follow_interval=0.1))
    delays = []
    try:
        target = BASE + "dataset/seen-base"
        for trial in range(trials):
            name = f"dataset/seen-{trial}"
            text = f"assets:\n- {{id: {name}, type: Dataset, derivedFrom: dataset/seen-base}}\n"
            one.load([Document("seen.yaml", text.encode())])
            began = time.perf_counter()
            while not any(node.id == target for node in two.lineage(BASE + name).nodes):
                if time.perf_counter() - began > 30:
                    raise SystemExit("the other process never saw the write")
                time.sleep(0.002)
            delays.append(time.perf_counter() - began)
    finally:
        one.close()
        two.close()
    return delays


def run_scale(assets: int, work: Path) -> None:
    label = f"{assets:,}"
    print(f"\n== {label} assets: embedded store vs Oxigraph server", flush=True)
    data = work / f"graph-{assets}.nt"
    info = write(data, assets)
    server, url = oxigraph(work / f"oxigraph-{assets}")
    try:
        embedded = KnowledgeGraph.open(settings(work / f"embedded-{assets}"))
        local = figures(label, embedded, data, info)
        embedded.close()
        remote_graph = KnowledgeGraph.open(settings(work / f"remote-{assets}", url))
        remote = figures(label, remote_graph, data, info)
        remote_graph.close()
        for name, title in [
            ("load", f"load {info.triples:,} triples"),
            ("large", f"lineage upstream, {local['sizes'][0]:,} nodes"),  # type: ignore[index]
            ("small", f"lineage upstream, {local['sizes'][1]:,} nodes"),  # type: ignore[index]
            ("search", "search, p50 over queries"),
            ("write", "one-asset write"),
        ]:
            a, b = float(local[name]), float(remote[name])  # type: ignore[arg-type]
            row(label, f"{title}: server vs embedded", ms(b), f"embedded {ms(a)}", f"{b / a:.1f}x")
        check("lineage answers: server = embedded", local["answers"] == remote["answers"])
        check("search answers: server = embedded", local["hits"] == remote["hits"])
        began = time.perf_counter()
        reopened = KnowledgeGraph.open(settings(work / f"remote-{assets}", url))
        opened = time.perf_counter() - began
        row(label, "open on the server: indexes restored, caught up from the log", ms(opened))
        reopened.close()
        delays = sorted(follower_delay(url, work / f"followers-{assets}"))
        row(
            label,
            "write in one process -> in the other's lineage: p50 / max",
            f"{ms(statistics.median(delays))} / {ms(delays[-1])}",
            "follow interval 100 ms",
        )
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=int, nargs="+", default=[1_000, 10_000])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-stores-"))
    try:
        for scale in args.scales:
            run_scale(scale, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    from bench.run import CHECKS

    failed = [name for name, ok in CHECKS if not ok]
    print(f"\nanswer checks: {len(CHECKS) - len(failed)} same, {len(failed)} different")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
