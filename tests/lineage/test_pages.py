"""Lineage and impact answers from kg.lineage.pages: the whole answer is the one kg.views gives
of the object answer, byte for byte in content; pages put together are the whole answer; the
summary counts what the whole answer lists; cursors refuse what they do not continue."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from kg import views
from kg.demo import load_demo
from kg.errors import InputError, NotFoundError
from kg.graph import KnowledgeGraph
from kg.lineage import Direction
from kg.lineage.cursor import MAX_CURSOR, AnswerChangedError
from kg.lineage.pages import MAX_LIMIT, ImpactPage, LineagePage
from tests.conftest import load_text, settings
from tests.history.steps import STEPS, apply, moments
from tests.lineage.test_answers import CYCLE, DIAMOND

# unresolved nodes, an equivalence (owl:sameAs holds both ways), a direct mlg:dependsOn next
# to a more specific edge, a node owned twice, a node no one owns
ODDITIES = """
- {id: v, type: ModelVersion, trainedOn: [ghost, d1], owner: [team/a, team/b]}
- {id: d1, type: Dataset, derivedFrom: d2, sameAs: d3}
- {id: d2, type: Dataset, owner: team/a}
- {id: d3, type: Dataset}
- {id: s, type: Service, deploys: v, dependsOn: v, stage: Production, owner: team/a}
- {id: team/a, type: Team}
- {id: team/b, type: Team}
"""

GRAPHS = {"demo": None, "diamond": DIAMOND, "cycle": CYCLE, "oddities": ODDITIES}
CASES: list[tuple[str, str, Direction, int | None, list[str] | None]] = [
    ("demo", "service/homepage", Direction.UPSTREAM, None, None),
    ("demo", "service/homepage", Direction.UPSTREAM, 2, None),
    ("demo", "service/homepage", Direction.BOTH, None, None),
    ("demo", "service/homepage", Direction.UPSTREAM, None, ["Dataset"]),
    ("demo", "dataset/playback-events-raw", Direction.DOWNSTREAM, None, None),
    ("demo", "dataset/title-metadata", Direction.DOWNSTREAM, None, ["Service", "ModelVersion"]),
    ("diamond", "svc", Direction.UPSTREAM, None, None),
    ("diamond", "raw", Direction.DOWNSTREAM, None, None),
    ("diamond", "f1", Direction.BOTH, 1, None),
    ("cycle", "a", Direction.UPSTREAM, None, None),
    ("cycle", "a", Direction.BOTH, None, None),
    ("oddities", "s", Direction.UPSTREAM, None, None),
    ("oddities", "ghost", Direction.DOWNSTREAM, None, None),
    ("oddities", "d3", Direction.BOTH, None, None),
]
IMPACTS = [
    ("demo", "dataset/playback-events-raw"),
    ("demo", "dataset/title-metadata"),
    ("demo", "service/homepage"),
    ("diamond", "raw"),
    ("diamond", "clean"),
    ("cycle", "b"),
    ("oddities", "d2"),
    ("oddities", "ghost"),
]


@pytest.fixture(scope="module")
def graphs() -> Iterator[dict[str, KnowledgeGraph]]:
    """One graph per text, opened once for the module: these tests only read."""
    found = {}
    for name, text in GRAPHS.items():
        found[name] = KnowledgeGraph.open(settings())
        if text is None:
            load_demo(found[name])
        else:
            load_text(found[name], text)
    yield found
    for opened in found.values():
        opened.close()


def lineage_pages(
    graph: KnowledgeGraph, root: str, limit: int, **question: Any
) -> list[LineagePage]:
    found = []
    cursor = None
    while True:
        page = graph.lineage(root, **question, limit=limit, cursor=cursor)
        assert isinstance(page, LineagePage)
        found.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return found


def impact_pages(graph: KnowledgeGraph, root: str, limit: int) -> list[ImpactPage]:
    found = []
    cursor = None
    while True:
        page = graph.impact(root, limit=limit, cursor=cursor)
        assert isinstance(page, ImpactPage)
        found.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return found


def counts(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """A summary's counts, worked out from a whole answer's nodes."""
    owners = Counter(o for n in nodes for o in n["owners"])
    services = [n for n in nodes if n["type"] == "mlg:Service"]
    return {
        "nodes": len(nodes),
        "maxDistance": max((n["distance"] for n in nodes), default=0),
        "byType": dict(sorted(Counter(n["type"] or "unknown" for n in nodes).items())),
        "services": len(services),
        "productionServices": sum(1 for n in services if n["stage"] == "mlg:Production"),
        "experiments": sum(1 for n in nodes if n["type"] == "mlg:Experiment"),
        "owners": sorted(owners.items(), key=lambda item: (-item[1], item[0])),
        "unowned": sum(1 for n in nodes if not n["owners"] and n["resolved"]),
    }


def summary_counts(summary: dict[str, Any]) -> dict[str, Any]:
    return summary | {"owners": [(o["id"], o["nodes"]) for o in summary["owners"]]}


@pytest.mark.parametrize(("name", "root", "direction", "depth", "types"), CASES)
def test_whole_lineage_json_is_the_views_answer(
    graphs: dict[str, KnowledgeGraph],
    name: str,
    root: str,
    direction: Direction,
    depth: int | None,
    types: list[str] | None,
) -> None:
    graph = graphs[name]
    expected = views.lineage(graph.lineage(root, direction, depth, types))
    assert json.loads(graph.lineage_json(root, direction, depth, types)) == expected


@pytest.mark.parametrize(("name", "root", "direction", "depth", "types"), CASES)
@pytest.mark.parametrize("limit", [1, 2, 5, MAX_LIMIT])
def test_lineage_pages_put_together_are_the_whole_answer(
    graphs: dict[str, KnowledgeGraph],
    name: str,
    root: str,
    direction: Direction,
    depth: int | None,
    types: list[str] | None,
    limit: int,
) -> None:
    graph = graphs[name]
    whole = views.lineage(graph.lineage(root, direction, depth, types))
    pages = lineage_pages(graph, root, limit, direction=direction, depth=depth, types=types)
    views_of = [page.view() for page in pages]
    assert [n for page in views_of for n in page["graph"]] == whole["graph"]
    assert all(len(page["graph"]) == limit for page in views_of[:-1])
    names: dict[str, Any] = {}
    for page in views_of:
        assert page["ownerNames"] == {
            o: whole["ownerNames"][o]
            for o in sorted({o for n in page["graph"] for o in n["owners"]})
        }
        names |= page["ownerNames"]
    assert names == whole["ownerNames"]
    assert {(p["root"], p["direction"], p["depth"]) for p in views_of} == {
        (whole["root"], whole["direction"], whole["depth"])
    }
    first, *rest = views_of
    assert summary_counts(first["summary"]) == counts(whole["graph"])
    assert all(page["summary"] is None for page in rest)
    assert views_of[-1]["nextCursor"] is None


@pytest.mark.parametrize(("name", "root"), IMPACTS)
def test_whole_impact_json_is_the_views_answer(
    graphs: dict[str, KnowledgeGraph], name: str, root: str
) -> None:
    graph = graphs[name]
    assert json.loads(graph.impact_json(root)) == views.impact(graph.impact(root))


@pytest.mark.parametrize(("name", "root"), IMPACTS)
@pytest.mark.parametrize("limit", [1, 3, MAX_LIMIT])
def test_impact_pages_and_summary_agree_with_the_whole_impact(
    graphs: dict[str, KnowledgeGraph], name: str, root: str, limit: int
) -> None:
    graph = graphs[name]
    whole = views.impact(graph.impact(root))
    views_of = [page.view() for page in impact_pages(graph, root, limit)]
    assert [n for page in views_of for n in page["affected"]] == whole["affected"]
    summary = views_of[0]["summary"]
    assert summary_counts(summary) == counts(whole["affected"])
    # and the counts of the whole answer's own groups
    assert summary["nodes"] == whole["affectedCount"]
    assert sum(summary["byType"].values()) == whole["affectedCount"]
    assert summary["byType"] == {t: len(ids) for t, ids in sorted(whole["byType"].items())}
    assert summary["productionServices"] == len(whole["productionServices"])
    assert summary["services"] == len(whole["services"])
    assert summary["experiments"] == len(whole["experiments"])
    assert sorted((o["id"], o["nodes"], o["label"]) for o in summary["owners"]) == sorted(
        (o["id"], len(o["assets"]), o["label"]) for o in whole["owners"]
    )
    assert summary["unowned"] == len(whole["unowned"])
    assert all(page["summary"] is None for page in views_of[1:])


def test_a_page_without_a_limit_holds_a_hundred(graph: KnowledgeGraph) -> None:
    text = "\n".join(f"- {{id: d{i}, type: Dataset, derivedFrom: root}}" for i in range(150))
    load_text(graph, text + "\n- {id: root, type: Dataset}\n")
    first = graph.lineage("root", Direction.DOWNSTREAM, limit=100)
    assert isinstance(first, LineagePage) and len(first.graph) == 100
    assert first.summary is not None and first.summary.nodes == 151
    second = graph.lineage("root", Direction.DOWNSTREAM, cursor=first.next_cursor)
    assert isinstance(second, LineagePage) and len(second.graph) == 51
    assert second.next_cursor is None and second.summary is None
    # a cursor with another limit pages on from where it stands
    small = graph.lineage("root", Direction.DOWNSTREAM, limit=10, cursor=first.next_cursor)
    assert isinstance(small, LineagePage)
    assert [n["id"] for n in small.graph] == [n["id"] for n in second.graph[:10]]


def _tampered(cursor: str) -> str:
    middle = len(cursor) // 2
    return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]


@pytest.mark.parametrize(
    ("cursor", "limit", "error", "names"),
    [
        ("not a cursor", None, InputError, "cursor"),
        ("", None, InputError, "cursor"),
        ("x" * (MAX_CURSOR + 1), None, InputError, "cursor"),
        ("tamper", None, InputError, "cursor"),
        ("other root", None, InputError, "cursor"),
        ("other direction", None, InputError, "cursor"),
        ("other depth", None, InputError, "cursor"),
        ("other types", None, InputError, "cursor"),
        ("impact's", None, InputError, "cursor"),
        ("valid", 0, InputError, "limit"),
        ("valid", -5, InputError, "limit"),
        ("valid", MAX_LIMIT + 1, InputError, "limit"),
        (None, 0, InputError, "limit"),
        (None, MAX_LIMIT + 1, InputError, "limit"),
    ],
)
def test_bad_cursors_and_limits_are_refused_naming_the_parameter(
    graphs: dict[str, KnowledgeGraph],
    cursor: str | None,
    limit: int | None,
    error: type[Exception],
    names: str,
) -> None:
    demo, root = graphs["demo"], "service/homepage"
    first = demo.lineage(root, limit=2)
    assert isinstance(first, LineagePage) and first.next_cursor is not None
    valid = first.next_cursor
    question: dict[str, Any] = {"node": root}
    text = cursor
    if cursor == "tamper":
        text = _tampered(valid)
    elif cursor is not None and cursor.startswith("other"):
        text = valid
        kind = cursor.split()[1]
        others: dict[str, dict[str, Any]] = {
            "root": {"node": "model/home-ranking/v3"},
            "direction": {"direction": Direction.BOTH},
            "depth": {"depth": 3},
            "types": {"types": ["Dataset"]},
        }
        question |= others[kind]
    elif cursor == "impact's":
        impact = demo.impact("dataset/playback-events-raw", limit=1)
        assert isinstance(impact, ImpactPage)
        text = impact.next_cursor
    elif cursor == "valid":
        text = valid
    with pytest.raises(error) as refused:
        demo.lineage(**question, limit=limit, cursor=text)
    assert isinstance(refused.value, InputError) and refused.value.source == names


def test_a_cursor_after_a_write_is_gone_and_a_fresh_start_works(graph: KnowledgeGraph) -> None:
    load_text(graph, DIAMOND)
    first = graph.lineage("svc", limit=2)
    impact = graph.impact("raw", limit=2)
    assert isinstance(first, LineagePage) and isinstance(impact, ImpactPage)
    load_text(graph, "- {id: raw, type: Dataset, derivedFrom: older}\n", name="more.yaml")
    with pytest.raises(AnswerChangedError) as gone:
        graph.lineage("svc", cursor=first.next_cursor)
    assert gone.value.status == 410 and "start again" in gone.value.message
    with pytest.raises(AnswerChangedError):
        graph.impact("raw", cursor=impact.next_cursor)
    again = lineage_pages(graph, "svc", 2)
    assert [n for p in again for n in p.graph] == views.lineage(graph.lineage("svc"))["graph"]


def test_an_unknown_root_is_a_404_paged_too(graphs: dict[str, KnowledgeGraph]) -> None:
    demo = graphs["demo"]
    with pytest.raises(NotFoundError):
        demo.lineage("nothing-here", limit=10)
    with pytest.raises(NotFoundError):
        demo.impact_json("nothing-here", limit=10)


def test_pages_of_a_question_come_from_its_kept_walk(graphs: dict[str, KnowledgeGraph]) -> None:
    demo = graphs["demo"]
    first = demo.lineage("service/homepage", limit=3)
    assert isinstance(first, LineagePage)
    kept = list(demo.answers._kept.values())
    demo.lineage("service/homepage", cursor=first.next_cursor)
    assert list(demo.answers._kept.values()) == kept  # the same walk, not a new one


def test_as_of_pages_equal_the_as_of_answer_and_outlive_later_writes() -> None:
    graph = KnowledgeGraph.open(settings())
    try:
        for step in range(len(STEPS)):
            apply(graph, step)
        at = moments(graph)[1]
        whole = views.lineage(graph.lineage("svc", Direction.UPSTREAM, as_of=at))
        assert json.loads(graph.lineage_json("svc", as_of=at)) == whole
        assert json.loads(graph.impact_json("raw", as_of=at)) == views.impact(
            graph.impact("raw", as_of=at)
        )
        first = graph.lineage("svc", as_of=at, limit=1)
        assert isinstance(first, LineagePage) and first.next_cursor is not None
        apply(graph, len(STEPS))  # a later write does not change the answer as of then
        rest = graph.lineage("svc", as_of=at, limit=1, cursor=first.next_cursor)
        assert isinstance(rest, LineagePage)
        assert [*first.graph, *rest.graph] == whole["graph"][:2]
        with pytest.raises(InputError):  # an answer as of then is not the present one
            graph.lineage("svc", cursor=first.next_cursor)
    finally:
        graph.close()
