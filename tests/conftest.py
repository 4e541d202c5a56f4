from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.config import Settings
from kg.demo import load_demo
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph

# --store=embedded|oxigraph-server: the store every graph the tests open stands on
pytest_plugins = ["tests.store_option"]

BASE = "https://w3id.org/mlg/id/"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def settings(**overrides: object) -> Settings:
    # The pipeline and lineage tests build small graphs without owners: the gate is off unless
    # a test turns it on (the governance and HTTP tests do).
    values: dict[str, object] = {"memory": True, "gate": "off"}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def graph() -> Iterator[KnowledgeGraph]:
    kg = KnowledgeGraph.open(settings())
    yield kg
    kg.close()


@pytest.fixture
def demo(graph: KnowledgeGraph) -> KnowledgeGraph:
    load_demo(graph)
    return graph


@pytest.fixture
def client(demo: KnowledgeGraph) -> Iterator[TestClient]:
    demo.settings = demo.settings.model_copy(update={"gate": GateMode.ENFORCE})
    with TestClient(create_app(graph=demo)) as test_client:
        yield test_client


def load_text(graph: KnowledgeGraph, text: str, name: str = "input.yaml") -> object:
    return graph.load([Document(name, text.encode())])


def snapshot(graph: KnowledgeGraph) -> list[str]:
    """Every quad but the change log (load records and head) and the history, canonicalized:
    equal snapshots mean an equal graph."""
    log = {ox.NamedNode("urn:kg:graph:loads"), ox.NamedNode("urn:kg:graph:log")}

    def kept(quad: ox.Quad) -> bool:
        name = quad.graph_name
        return name not in log and not (
            isinstance(name, ox.NamedNode) and name.value.startswith("urn:kg:graph:history")
        )

    dataset = ox.Dataset(q for q in graph.store.quads(None, None, None) if kept(q))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in dataset)


def iri(local: str) -> str:
    return BASE + local


GOLDEN = Path(__file__).resolve().parent / "golden"
_VOCABULARY = {
    "urn:kg:graph:loads",
    "urn:kg:graph:log",
    "urn:kg:graph:ontology",
    "urn:kg:graph:shapes",
}


def data_nquads(graph: KnowledgeGraph) -> str:
    """The graph's data (not its vocabulary, load records or history) as sorted N-Quads."""
    quads = graph.store.quads(None, None, None)
    lines = {
        f"{q} .\n"
        for q in quads
        if not (
            isinstance(q.graph_name, ox.NamedNode)
            and (
                q.graph_name.value in _VOCABULARY
                or q.graph_name.value.startswith("urn:kg:graph:history")
            )
        )
    }
    return "".join(sorted(lines))


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/<name>; KG_UPDATE_GOLDEN=1 rewrites the file instead."""
    import os

    path = GOLDEN / name
    if os.environ.get("KG_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def shared(*parts: str) -> Path:
    """A path under ../shared, skipping the test where it is absent (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared is beside the repository only)")
    return path


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Ask a server the test started to end; kill it if it does not within `timeout`."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def wait_for_sparql(process: subprocess.Popen[bytes], query_url: str, name: str) -> None:
    """Until the SPARQL server the test started answers `ASK {}` at `query_url` (a minute at
    most: a new Virtuoso database takes a few seconds to build); fails if it stops first."""
    for _ in range(1200):
        if process.poll() is not None:
            pytest.fail(f"{name} stopped at start (exit {process.returncode})")
        try:
            with urllib.request.urlopen(f"{query_url}?query=ASK%7B%7D", timeout=5) as answer:  # noqa: S310 (loopback)
                answer.read()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)
    pytest.fail(f"{name} did not answer")
