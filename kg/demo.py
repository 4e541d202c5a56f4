"""The demo organisation served by `kg serve --demo` and `make run`."""

from __future__ import annotations

from kg import resources
from kg.governance.gate import GateMode
from kg.graph import Document, KnowledgeGraph
from kg.write.records import LoadReport


def demo_documents() -> list[Document]:
    return [
        Document(path.name, path.read_bytes()) for path in resources.files("examples", "demo*.yaml")
    ]


def load_demo(graph: KnowledgeGraph) -> LoadReport:
    """Load (or re-load: the pipeline replaces, never duplicates) the demo organisation.

    Its planted governance problems are reported, not refused (the gate warns)."""
    return graph.load(demo_documents(), gate=GateMode.WARN)
