"""The one walk, on small graphs given as edge lists: distances, shortest-path parents, depth,
cycles, several starts, an edge held twice, and both directions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kg.lineage import Direction
from kg.lineage.walk import distances, reach, walk

Graph = dict[str, list[tuple[str, str]]]  # node -> (edge, neighbour)

# a -> b -> d, a -> c -> d (a diamond), d -> e, e -> a (a cycle back to the top)
DIAMOND: Graph = {
    "a": [("ab", "b"), ("ac", "c")],
    "b": [("bd", "d")],
    "c": [("cd", "d")],
    "d": [("de", "e")],
    "e": [("ea", "a")],
}
# the same edge held twice (the lineage index is a multiset: an edge stated in two graphs)
TWICE: Graph = {"a": [("p", "b"), ("p", "b"), ("q", "b")], "b": []}
CHAIN: Graph = {"a": [("ab", "b")], "b": [("bc", "c")], "c": []}


def step(graph: Graph) -> Callable[[str], list[tuple[str, str]]]:
    return lambda node: graph.get(node, [])


def reverse(graph: Graph) -> Graph:
    back: Graph = {}
    for node, pairs in graph.items():
        for edge, other in pairs:
            back.setdefault(other, []).append((edge, node))
    return back


@pytest.mark.parametrize(
    ("graph", "starts", "depth", "distance", "parents"),
    [
        (
            DIAMOND, ["a"], None,
            {"a": 0, "b": 1, "c": 1, "d": 2, "e": 3},
            {"a": [], "b": [("a", "ab")], "c": [("a", "ac")], "d": [("b", "bd"), ("c", "cd")],
             "e": [("d", "de")]},
        ),
        (DIAMOND, ["a"], 1, {"a": 0, "b": 1, "c": 1}, {"a": [], "b": [("a", "ab")], "c": [("a", "ac")]}),
        (DIAMOND, ["a"], 0, {"a": 0}, {"a": []}),
        (DIAMOND, ["e"], None, {"e": 0, "a": 1, "b": 2, "c": 2, "d": 3},
         {"e": [], "a": [("e", "ea")], "b": [("a", "ab")], "c": [("a", "ac")],
          "d": [("b", "bd"), ("c", "cd")]}),
        (DIAMOND, ["b", "c"], 1, {"b": 0, "c": 0, "d": 1},
         {"b": [], "c": [], "d": [("b", "bd"), ("c", "cd")]}),
        (TWICE, ["a"], None, {"a": 0, "b": 1}, {"a": [], "b": [("a", "p"), ("a", "q")]}),
        (CHAIN, ["z"], None, {"z": 0}, {"z": []}),
        (CHAIN, [], None, {}, {}),
    ],
    ids=["diamond", "depth 1", "depth 0", "through the cycle", "two starts", "edge twice",
         "isolated start", "no start"],
)  # fmt: skip
def test_walk(
    graph: Graph,
    starts: list[str],
    depth: int | None,
    distance: dict[str, int],
    parents: dict[str, list[tuple[str, str]]],
) -> None:
    found = walk(starts, step(graph), depth, parents=True)
    assert found.distance == distance
    assert found.parents == parents
    plain = walk(starts, step(graph), depth)
    assert (plain.distance, plain.parents) == (distance, {})


def test_nodes_come_in_the_order_they_are_reached() -> None:
    assert list(walk(["a"], step(DIAMOND)).distance) == ["a", "b", "c", "d", "e"]


def test_each_node_is_expanded_once() -> None:
    expanded: list[str] = []

    def counting(node: str) -> list[tuple[str, str]]:
        expanded.append(node)
        return DIAMOND[node]

    walk(["a"], counting)
    assert sorted(expanded) == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(
    ("starts", "reached"),
    [(["a"], {"a", "b", "c", "d", "e"}), (["d"], {"a", "b", "c", "d", "e"}), ([], set())],
)
def test_reach(starts: list[str], reached: set[str]) -> None:
    assert reach(starts, lambda n: [other for _, other in DIAMOND[n]]) == reached


@pytest.mark.parametrize(
    ("root", "direction", "depth", "expected"),
    [
        ("b", Direction.UPSTREAM, None, {"b": 0, "c": 1}),
        ("b", Direction.DOWNSTREAM, None, {"b": 0, "a": 1}),
        ("b", Direction.BOTH, None, {"b": 0, "c": 1, "a": 1}),
        ("a", Direction.BOTH, 1, {"a": 0, "b": 1}),
        ("c", Direction.BOTH, None, {"c": 0, "b": 1, "a": 2}),
    ],
)
def test_distances_one_way_or_both(
    root: str, direction: Direction, depth: int | None, expected: dict[str, int]
) -> None:
    upstream, downstream = step(CHAIN), step(reverse(CHAIN))

    def steps(way: Direction) -> Callable[[str], list[tuple[str, str]]]:
        return upstream if way is Direction.UPSTREAM else downstream

    assert distances(root, steps, direction, depth) == expected


def test_a_node_found_both_ways_keeps_the_shorter_distance() -> None:
    # x -> y directly (upstream, 1 hop) and y -> m -> x (downstream of x, 2 hops)
    up: Graph = {"x": [("xy", "y")], "y": [("ym", "m")], "m": [("mx", "x")]}
    down = reverse(up)
    found = distances(
        "x", lambda way: step(up if way is Direction.UPSTREAM else down), Direction.BOTH, None
    )
    assert found == {"x": 0, "y": 1, "m": 1}
