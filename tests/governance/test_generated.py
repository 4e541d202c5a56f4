"""The compiled engine and pyshacl agree on generated graphs, as on the hand-built ones."""

from __future__ import annotations

import pytest

from bench.generate import generate
from kg.governance.validation import Engine
from kg.graph import Document, KnowledgeGraph


@pytest.mark.parametrize("seed", [1, 2])
def test_engines_agree_on_a_generated_graph(graph: KnowledgeGraph, seed: int) -> None:
    lines, _ = generate(300, seed=seed)
    graph.load([Document("generated.nt", "\n".join(lines).encode())])
    compiled = graph.validate(engine=Engine.COMPILED)
    reference = graph.validate(engine=Engine.PYSHACL)
    assert compiled.results  # the generator plants problems: the comparison means something
    assert {r.key() for r in compiled.results} == {r.key() for r in reference.results}
