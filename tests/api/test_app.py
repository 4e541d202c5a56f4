"""The application factory: an app built from settings opens its graph as it starts and closes it
as it stops; a graph handed to it is served as it is and left to whoever opened it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.graph import KnowledgeGraph
from tests.conftest import settings


@pytest.fixture
def closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[KnowledgeGraph]]:
    """The graphs closed while the test runs, in order (each still closes for real)."""
    seen: list[KnowledgeGraph] = []
    close = KnowledgeGraph.close

    def recording(self: KnowledgeGraph) -> None:
        seen.append(self)
        close(self)

    monkeypatch.setattr(KnowledgeGraph, "close", recording)
    yield seen


def test_an_app_from_settings_opens_its_graph_and_closes_it(closed: list[KnowledgeGraph]) -> None:
    app = create_app(settings(base_iri="https://example.org/id/"))
    with TestClient(app) as client:
        served = app.state.graph
        assert isinstance(served, KnowledgeGraph)
        assert served.settings.base_iri == "https://example.org/id/"
        assert client.get("/api/v1/stats").json()["assets"] == 0
        assert closed == []
    assert closed == [served]


def test_a_graph_handed_over_is_left_open(
    graph: KnowledgeGraph, closed: list[KnowledgeGraph]
) -> None:
    with TestClient(create_app(graph=graph)) as client:
        assert client.get("/healthz").status_code == 200
    assert closed == []
    assert graph.stats()["assets"] == 0  # still usable


def test_kg_serve_hands_its_graph_over_to_be_closed(closed: list[KnowledgeGraph]) -> None:
    graph = KnowledgeGraph.open(settings())
    with TestClient(create_app(graph=graph, close_graph=True)):
        pass
    assert closed == [graph]


def test_settings_and_a_graph_are_refused_together(graph: KnowledgeGraph) -> None:
    with pytest.raises(TypeError, match="not both"):
        create_app(settings(), graph=graph)
