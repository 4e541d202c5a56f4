"""The change log: positions one after another, what each write wrote, and stamps that tell
one store's writes from another's."""

from __future__ import annotations

import pytest

from kg.graph import KnowledgeGraph
from kg.write import log
from tests.conftest import iri, load_text, settings

WRITES = [
    "assets:\n- {id: dataset/a, type: Dataset}\n",
    "assets:\n- {id: dataset/b, type: Dataset, derivedFrom: dataset/a}\n",
    "assets:\n- {id: dataset/c, type: Dataset}\n- {id: dataset/a, type: Dataset, name: A}\n",
]


@pytest.fixture
def written() -> KnowledgeGraph:
    graph = KnowledgeGraph.open(settings())
    for text in WRITES:
        load_text(graph, text)
    return graph


def test_each_write_takes_the_next_position(written: KnowledgeGraph) -> None:
    assert log.head(written.store) == written.position == 3
    assert [c.position for c in log.since(written.store, 0)] == [1, 2, 3]


@pytest.mark.parametrize(
    ("after", "upto", "subjects"),
    [
        (0, None, {"dataset/a", "dataset/b", "dataset/c"}),
        (1, None, {"dataset/a", "dataset/b", "dataset/c"}),
        (2, None, {"dataset/a", "dataset/c"}),
        (2, 3, {"dataset/a", "dataset/c"}),
        (1, 2, {"dataset/b"}),
        (3, None, set()),
        (3, 3, set()),
    ],
)
def test_what_changed_after_a_position(
    written: KnowledgeGraph, after: int, upto: int | None, subjects: set[str]
) -> None:
    graphs: set[str] = set()
    for change in log.since(written.store, after, upto):
        graphs |= change.graphs
    assert log.subjects_of(graphs) == {iri(s) for s in subjects}


def test_a_stamp_holds_for_its_own_store_only(written: KnowledgeGraph) -> None:
    position, stamp = log.head_stamp(written.store)
    assert log.stamp_position(written.store, stamp) == position == 3
    other = KnowledgeGraph.open(settings())
    for text in WRITES:  # the same writes, so the same position: other load records
        load_text(other, text)
    assert log.head(other.store) == 3
    assert log.stamp_position(other.store, stamp) is None  # an index of the first: rebuilt
    for stale in [None, "", "3", "x urn:kg:load:1", "urn:kg:load:old"]:
        assert log.stamp_position(written.store, stale) is None
    assert log.stamp_position(written.store, "0") == 0  # an index of nothing yet
    assert log.changed_since(written.store, None) is None
