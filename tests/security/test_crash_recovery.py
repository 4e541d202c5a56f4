"""kill -9 in the middle of writes: the store is all or nothing, and start-up brings the indexes
in step by repairing them from the load records rather than rebuilding them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kg.config import Settings
from kg.graph import KnowledgeGraph
from kg.lineage import LineageIndex
from kg.search import SearchIndex

DEMO_CHANGES = """
assets:
  - {id: team/crash, type: Team, name: Crash test}
  - {id: dataset/crash-raw, type: Dataset, name: Raw crash data, owner: team/crash}
  - id: dataset/crash-clean
    type: Dataset
    name: Clean crash data
    owner: team/crash
    derivedFrom: [dataset/crash-raw, dataset/legacy-ratings]
"""


def _settings(store: Path) -> Settings:
    return Settings(store=store, gate="off")  # type: ignore[arg-type]


def _child(store: Path, body: str) -> subprocess.Popen[bytes]:
    """A Python process that opens the store, runs `body` with `graph` bound, and is then
    killed with SIGKILL by itself (a crash right after the write returned)."""
    code = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from kg.config import Settings
        from kg.graph import Document, KnowledgeGraph
        graph = KnowledgeGraph.open(Settings(store=Path({str(store)!r}), gate="off"))
        """
    ) + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code])


def _fresh_indexes(graph: KnowledgeGraph, tmp: Path) -> tuple[LineageIndex, SearchIndex]:
    lineage = LineageIndex(graph.ontology)
    lineage.rebuild(graph.store)
    search = SearchIndex(tmp / "fresh.sqlite", graph.ontology)
    search.rebuild(graph.store, None)
    return lineage, search


def _attributes(index: LineageIndex) -> dict[str, object]:
    found: dict[str, object] = {}
    for n in range(index.size()):
        a = index.attributes(n)
        if a is not None and not index.name(n).startswith("urn:kg:load:"):
            found[index.name(n)] = (sorted(a.types), a.label, a.owners, a.status, a.stage)
    return found


@pytest.mark.embedded_only("kill -9 of the process that embeds the store")
def test_a_crash_after_writes_is_repaired_not_rebuilt(tmp_path: Path) -> None:
    store = tmp_path / "store"
    graph = KnowledgeGraph.open(_settings(store))
    from kg.demo import load_demo

    load_demo(graph)
    graph.close()  # a clean stop: the lineage snapshot is written

    crash = _child(
        store,
        f"""
        graph.load([Document("changes.yaml", {DEMO_CHANGES!r}.encode())])
        graph.delete_asset("dataset/legacy-ratings")
        graph.sparql_update(
            'INSERT DATA {{ <https://w3id.org/mlg/id/dataset/crash-raw> '
            '<http://www.w3.org/2002/07/owl#sameAs> <https://w3id.org/mlg/id/dataset/clicks> }}'
        )
        os.kill(os.getpid(), signal.SIGKILL)
        """,
    )
    assert crash.wait(120) == -signal.SIGKILL

    graph = KnowledgeGraph.open(_settings(store))
    try:
        assert graph.recovery["lineage"].startswith("repaired"), graph.recovery
        lineage, search = _fresh_indexes(graph, tmp_path)
        assert graph.lineage_index.edges() == lineage.edges()
        assert _attributes(graph.lineage_index) == _attributes(lineage)
        hits = graph.search("crash").hits
        assert {h.id for h in hits} == {h.id for h in search.search("crash").hits}
        assert len(hits) == 3
        upstream = {n.id for n in graph.lineage("dataset/crash-clean").nodes}
        assert "https://w3id.org/mlg/id/dataset/crash-raw" in upstream
    finally:
        graph.close()


def test_an_unknown_stamp_rebuilds(tmp_path: Path) -> None:
    store = tmp_path / "store"
    graph = KnowledgeGraph.open(_settings(store))
    graph.load_batches([])
    graph.close()
    snapshot = store.with_name(store.name + ".lineage.pickle")
    snapshot.write_bytes(b"not a snapshot")
    graph = KnowledgeGraph.open(_settings(store))
    try:
        assert graph.recovery["lineage"] == "rebuilt"
    finally:
        graph.close()


def _bulk_file(path: Path, assets: int) -> None:
    with path.open("w") as out:
        for i in range(assets):
            out.write(
                f"<https://w3id.org/mlg/id/dataset/bulk{i}> a <https://w3id.org/mlg#Dataset> ;\n"
                f'  <http://www.w3.org/2000/01/rdf-schema#label> "Bulk {i}" ;\n'
                f"  <https://w3id.org/mlg#derivedFrom> <https://w3id.org/mlg/id/dataset/bulk{i + 1}> .\n"
            )


@pytest.mark.embedded_only("kill -9 of the process that embeds the store")
@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_kill_during_a_bulk_write_leaves_all_or_nothing(tmp_path: Path, delay: float) -> None:
    store = tmp_path / "store"
    data = tmp_path / "bulk.ttl"
    _bulk_file(data, 60_000)  # 180k triples + derived: past the bulk threshold
    graph = KnowledgeGraph.open(_settings(store))
    before = graph.store.size()
    graph.close()
    writer = _child(
        store,
        f"""
        graph.load([Document("bulk.ttl", Path({str(data)!r}).read_bytes())])
        print("loaded", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """,
    )
    time.sleep(delay)
    if writer.poll() is None:
        os.kill(writer.pid, signal.SIGKILL)
    writer.wait(60)
    (store / "bulk-0123456789abcdef.sst").write_bytes(b"what a killed bulk loader left")
    views = store.with_name(store.name + ".views")
    (views / "0000000001-deadbeef").mkdir(parents=True, exist_ok=True)
    graph = KnowledgeGraph.open(_settings(store))
    try:
        assert not list(store.glob("bulk-*.sst"))
        assert not views.exists()
        size = graph.store.size()
        loaded = graph.exists("https://w3id.org/mlg/id/dataset/bulk0")
        if loaded:
            assert graph.exists("https://w3id.org/mlg/id/dataset/bulk59999")
            assert size > before + 180_000
        else:
            assert size == before
        fresh = LineageIndex(graph.ontology)
        fresh.rebuild(graph.store)
        assert graph.lineage_index.edges() == fresh.edges()
    finally:
        graph.close()
