"""A writer's team scope, checked on the write the pipeline would commit: the team's assets
(owned by it or a member, as any data graph says), its own and its members' descriptions, and
new assets the write gives it are allowed; anything else is refused, naming the assets and
their owners."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.auth import scope
from kg.auth.context import acting_as
from kg.auth.principal import Principal, Role
from kg.errors import ForbiddenError
from kg.graph import Document, KnowledgeGraph
from kg.graphs import asset_graph, inferred_graph
from kg.store import GraphWrite
from kg.vocab import OWNER, RDF_TYPE, mlg
from kg.write import pipeline
from tests.conftest import iri, load_text, snapshot

TESS = Principal("tess", Role.WRITER, iri("team/a"))
GRAPH = """
- {id: team/a, type: Team, name: A}
- {id: team/b, type: Team, name: B}
- {id: person/ann, type: Person, name: Ann, memberOf: team/a}
- {id: person/bo, type: Person, name: Bo, memberOf: team/b}
- {id: dataset/a1, type: Dataset, name: A1, owner: team/a}
- {id: dataset/a2, type: Dataset, name: A2, owner: person/ann}
- {id: dataset/b1, type: Dataset, name: B1, owner: team/b}
- {id: dataset/orphan, type: Dataset, name: Nobody's}
- {id: dataset/imported, type: Dataset, name: Imported}
"""


@pytest.fixture
def teams(graph: KnowledgeGraph) -> KnowledgeGraph:
    load_text(graph, GRAPH)
    # an importer's graph names the owner of dataset/imported, not its own description
    source = ox.NamedNode("urn:kg:graph:source:datahub:imported")
    graph.store.commit(
        GraphWrite(
            replace={
                source: [
                    ox.Triple(
                        ox.NamedNode(iri("dataset/imported")), OWNER, ox.NamedNode(iri("team/a"))
                    )
                ]
            }
        )
    )
    return graph


def _write(graph: KnowledgeGraph, text: str) -> tuple[GraphWrite, set[str]]:
    write = pipeline.prepare(graph.ontology, graph.parse([Document("input.yaml", text.encode())]))
    return write, pipeline.touched_subjects(graph.store, write)


def _check(graph: KnowledgeGraph, text: str, principal: Principal = TESS) -> None:
    write, subjects = _write(graph, text)
    scope.check(graph.store, principal, write, subjects)


ALLOWED = {
    "its own asset": "- {id: dataset/a1, type: Dataset, name: A1 again, owner: team/a}",
    "a member's asset": "- {id: dataset/a2, type: Dataset, name: A2 again, owner: person/ann}",
    "given away": "- {id: dataset/a1, type: Dataset, name: A1, owner: team/b}",
    "owned as an importer says": "- {id: dataset/imported, type: Dataset, name: Now ours}",
    "the team itself": "- {id: team/a, type: Team, name: Team A}",
    "a member": "- {id: person/ann, type: Person, name: Ann A., memberOf: team/a}",
    "a new asset it owns": "- {id: dataset/n1, type: Dataset, name: N1, owner: team/a}",
    "a new asset a member owns": "- {id: dataset/n1, type: Dataset, owner: person/ann}",
    "a newcomer and what they own": (
        "- {id: person/newbie, type: Person, memberOf: team/a}\n"
        "- {id: dataset/n2, type: Dataset, owner: person/newbie}"
    ),
}
REFUSED = {
    "another team's asset": (
        "- {id: dataset/b1, type: Dataset, name: Mine now}",
        [("dataset/b1", "team/b")],
    ),
    "taking another team's asset": (
        "- {id: dataset/b1, type: Dataset, name: B1, owner: team/a}",
        [("dataset/b1", "team/b")],
    ),
    "an asset without owner": (
        "- {id: dataset/orphan, type: Dataset, owner: team/a}",
        [("dataset/orphan", None)],
    ),
    "a new asset of another team": (
        "- {id: dataset/n3, type: Dataset, owner: team/b}",
        [("dataset/n3", "team/b")],
    ),
    "a new asset of no one": ("- {id: dataset/n4, type: Dataset}", [("dataset/n4", None)]),
    "another team's member, made ours": (
        "- {id: person/bo, type: Person, memberOf: team/a}",
        [("person/bo", None)],
    ),
    "another team": ("- {id: team/b, type: Team, name: Ours}", [("team/b", None)]),
    "one of two": (
        "- {id: dataset/a1, type: Dataset, owner: team/a}\n- {id: dataset/b1, type: Dataset}",
        [("dataset/b1", "team/b")],
    ),
}


@pytest.mark.parametrize("text", ALLOWED.values(), ids=ALLOWED.keys())
def test_writes_within_the_team_are_allowed(teams: KnowledgeGraph, text: str) -> None:
    _check(teams, text)


@pytest.mark.parametrize(("text", "named"), REFUSED.values(), ids=REFUSED.keys())
def test_writes_outside_the_team_are_refused_naming_them(
    teams: KnowledgeGraph, text: str, named: list[tuple[str, str | None]]
) -> None:
    with pytest.raises(ForbiddenError) as refused:
        _check(teams, text)
    message = refused.value.message
    assert message.startswith(f"tess writes for the team {iri('team/a')} only")
    for asset, owner in named:
        assert f"{iri(asset)} ({iri(owner) if owner else 'no owner'})" in message
    assert refused.value.status == 403


def test_a_drop_needs_ownership_now(teams: KnowledgeGraph) -> None:
    own = GraphWrite(replace={}, drop=[asset_graph(ox.NamedNode(iri("dataset/a1")))])
    scope.check(teams.store, TESS, own, pipeline.touched_subjects(teams.store, own))
    other = GraphWrite(replace={}, drop=[asset_graph(ox.NamedNode(iri("dataset/b1")))])
    with pytest.raises(ForbiddenError, match="dataset/b1"):
        scope.check(teams.store, TESS, other, pipeline.touched_subjects(teams.store, other))


def test_a_refusal_names_five_assets_and_counts_the_rest(teams: KnowledgeGraph) -> None:
    text = "\n".join(f"- {{id: dataset/x{n}, type: Dataset, owner: team/b}}" for n in range(7))
    with pytest.raises(ForbiddenError) as refused:
        _check(teams, text)
    message = refused.value.message
    assert sum(iri(f"dataset/x{n}") in message for n in range(7)) == 5
    assert message.endswith(", and 2 more")


def test_writers_without_a_team_and_admins_are_not_limited(teams: KnowledgeGraph) -> None:
    text = "- {id: dataset/b1, type: Dataset, name: Anyone's}"
    _check(teams, text, Principal("walt", Role.WRITER))
    _check(teams, text, Principal("ada", Role.ADMIN))


def test_what_rules_conclude_is_not_checked(teams: KnowledgeGraph) -> None:
    b1 = ox.NamedNode(iri("dataset/b1"))
    concluded = GraphWrite(
        replace={inferred_graph("rule", b1): [ox.Triple(b1, RDF_TYPE, mlg("Dataset"))]}
    )
    scope.check(teams.store, TESS, concluded, {b1.value})


def test_a_load_out_of_scope_writes_nothing(teams: KnowledgeGraph) -> None:
    before = snapshot(teams)
    with acting_as(TESS), pytest.raises(ForbiddenError, match="dataset/b1"):
        load_text(teams, "- {id: dataset/b1, type: Dataset, name: Mine now}")
    assert snapshot(teams) == before
    with acting_as(TESS):
        load_text(teams, "- {id: dataset/a1, type: Dataset, name: Ours, owner: team/a}")
    assert snapshot(teams) != before
