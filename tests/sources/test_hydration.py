"""Hydration through the one write pipeline, with a source defined here over a dict (the
interface itself under test; the MLflow and cards sources have their own tests against the
real things): events in any order or twice end in the source's state, deletions remove, entities
named before they are hydrated are marked, a source that is down is retried, a bad event is
refused whole."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.graph import KnowledgeGraph
from kg.graphs import source_graph
from kg.sources.base import EntityRef, Mapped, SourceRefusedError, SourceUnavailableError
from kg.sources.hydrate import HYDRATION_PENDING, Outcome, hydrate
from kg.sources.queue import EventQueue
from kg.sources.service import Hydration, parse_events
from kg.vocab import RDF_TYPE, RDFS_LABEL, mlg
from tests.conftest import iri, settings


class Registry:
    """A model registry in a dict: versions name their run; down/refusing on demand."""

    name = "registry"
    kinds = ("version", "run")

    def __init__(self) -> None:
        self.held: dict[EntityRef, dict[str, Any]] = {}
        self.down = False
        self.refusing = False
        self.fetches = 0

    def add(self, kind: str, ident: str, **state: Any) -> EntityRef:
        ref = EntityRef(self.name, kind, ident)
        self.held[ref] = state
        return ref

    def entities(self) -> Iterator[EntityRef]:
        if self.down:
            raise SourceUnavailableError("registry down")
        yield from sorted(self.held)

    def fetch(self, ref: EntityRef) -> dict[str, Any] | None:
        self.fetches += 1
        if self.down:
            raise SourceUnavailableError("connection refused")
        if self.refusing:
            raise SourceRefusedError("401: bad token")
        return self.held.get(ref)

    def map(self, ref: EntityRef, state: dict[str, Any]) -> Mapped:
        subject = ox.NamedNode(iri(f"{ref.kind}/{ref.id}"))
        kind = "ModelVersion" if ref.kind == "version" else "Run"
        triples = [ox.Triple(subject, RDF_TYPE, mlg(kind)),
                   ox.Triple(subject, RDFS_LABEL, ox.Literal(state["label"]))]  # fmt: skip
        mapped = Mapped(owned=[subject], triples=triples)
        if "run" in state:
            run = ox.NamedNode(iri(f"run/{state['run']}"))
            triples.append(ox.Triple(subject, mlg("generatedBy"), run))
            mapped.references[EntityRef(self.name, "run", state["run"])] = run
        if "depends" in state:  # an entity whose description depends on this one
            mapped.refresh = {EntityRef(self.name, "run", state["depends"])}
        return mapped


@pytest.fixture
def graph() -> Iterator[KnowledgeGraph]:
    opened = KnowledgeGraph.open(settings())
    yield opened
    opened.close()


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def service(graph: KnowledgeGraph, registry: Registry) -> Iterator[Hydration]:
    hydration = Hydration(graph, {"registry": registry}, EventQueue(None))  # type: ignore[dict-item]
    yield hydration
    hydration.close()


def label(graph: KnowledgeGraph, local: str) -> str | None:
    found = list(graph.store.triples(ox.NamedNode(iri(local)), RDFS_LABEL, None))
    return found[0].object.value if found else None


def test_an_entity_is_written_once_and_then_left_alone(
    graph: KnowledgeGraph, registry: Registry
) -> None:
    ref = registry.add("version", "churn/1", label="churn v1")
    assert hydrate(graph, registry, ref).outcome is Outcome.CREATED  # type: ignore[arg-type]
    position = graph.position
    assert hydrate(graph, registry, ref).outcome is Outcome.UNCHANGED  # type: ignore[arg-type]
    assert graph.position == position  # no load at all
    registry.held[ref]["label"] = "churn v1 (retrained)"
    assert hydrate(graph, registry, ref).outcome is Outcome.UPDATED  # type: ignore[arg-type]
    assert label(graph, "version/churn/1") == "churn v1 (retrained)"
    del registry.held[ref]
    assert hydrate(graph, registry, ref).outcome is Outcome.REMOVED  # type: ignore[arg-type]
    assert not graph.exists(iri("version/churn/1"))
    assert hydrate(graph, registry, ref).outcome is Outcome.ABSENT  # type: ignore[arg-type]


def test_an_entity_named_before_it_is_hydrated_is_marked_then_filled(
    service: Hydration, graph: KnowledgeGraph, registry: Registry
) -> None:
    version = registry.add("version", "churn/2", label="churn v2", run="r9")
    registry.add("run", "r9", label="training run r9")
    service.accept([version])
    assert service.drain() == 1 + 1  # the version, then the run it named
    run = ox.NamedNode(iri("run/r9"))
    assert label(graph, "run/r9") == "training run r9"
    assert not list(graph.store.triples(run, HYDRATION_PENDING, None))
    # a reference whose entity does not come yet stays marked, and queryable
    other = registry.add("version", "churn/3", label="churn v3", run="r10")
    service.accept([other])
    service.step()
    rows = graph.query("SELECT ?a ?m WHERE { ?a <https://w3id.org/mlg#hydrationPending> ?m }")
    assert [(r["a"].value, r["m"].value) for r in rows] == [(iri("run/r10"), "registry:run/r10")]  # type: ignore[union-attr]


def test_events_twice_or_out_of_order_end_in_the_sources_state(
    service: Hydration, graph: KnowledgeGraph, registry: Registry
) -> None:
    ref = registry.add("version", "churn/1", label="first")
    service.accept([ref])
    registry.held[ref]["label"] = "second"  # changed before the worker got to it
    service.accept([ref, ref])
    assert service.drain() == 1  # one fetch for three events: the state as it is now
    assert label(graph, "version/churn/1") == "second"
    # an old event arriving late changes nothing: kg asks for the state now
    service.accept([ref])
    service.drain()
    assert label(graph, "version/churn/1") == "second"
    # an event for an entity the source deleted removes it
    del registry.held[ref]
    service.accept([ref])
    service.drain()
    assert not graph.exists(iri("version/churn/1"))


def test_an_event_refreshes_what_depends_on_the_entity_even_when_it_is_unchanged(
    service: Hydration, graph: KnowledgeGraph, registry: Registry
) -> None:
    """(An MLflow alias deleted: the event names the model, which is unchanged; its versions
    are what changed.)"""
    model = registry.add("version", "m/1", label="model", depends="r1")
    run = registry.add("run", "r1", label="before")
    service.accept([model, run])
    service.drain()
    registry.held[run]["label"] = "after"  # changed at the source, with no event of its own
    service.accept([model])
    service.drain()
    assert label(graph, "run/r1") == "after"
    registry.held[run]["label"] = "later"
    service.accept([model], cause="follow")  # what is queued by another hydration: not followed
    service.drain()
    assert label(graph, "run/r1") == "after"


def test_a_state_the_mapping_cannot_read_fails_with_why_and_the_worker_goes_on(
    service: Hydration, graph: KnowledgeGraph, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    broken = registry.add("version", "bad/1")  # no label: the mapping raises KeyError
    good = registry.add("version", "good/1", label="fine")
    service.accept([broken, good])
    service.drain()
    status = service.status()[0]
    assert status["failed"] == 1 and "KeyError" in status["failures"][0]["reason"]
    assert label(graph, "version/good/1") == "fine"


def test_a_source_that_is_down_is_retried_with_backoff(
    service: Hydration, graph: KnowledgeGraph, registry: Registry
) -> None:
    ref = registry.add("version", "churn/1", label="v1")
    registry.down = True
    service.accept([ref])
    service.step()
    [waiting] = service.status()[0]["retrying"]
    assert (waiting["attempts"], waiting["reason"]) == (1, "connection refused")
    fetched = registry.fetches
    service.step()  # not due yet: the source is left alone
    assert registry.fetches == fetched
    registry.down = False
    service.step(now=time.time() + 60)
    assert label(graph, "version/churn/1") == "v1"
    assert service.status()[0]["pending"] == 0


def test_a_refusal_fails_with_its_reason_until_the_next_event(
    service: Hydration, registry: Registry
) -> None:
    ref = registry.add("version", "churn/1", label="v1")
    registry.refusing = True
    service.accept([ref])
    service.drain()
    status = service.status()[0]
    assert status["failed"] == 1
    assert status["failures"][0]["reason"] == "401: bad token"
    registry.refusing = False
    service.accept([ref])
    service.drain()
    assert service.status()[0]["failed"] == 0


def test_sync_hydrates_everything_and_removes_what_the_source_no_longer_has(
    service: Hydration, graph: KnowledgeGraph, registry: Registry
) -> None:
    a = registry.add("version", "a/1", label="a")
    registry.add("version", "b/1", label="b")
    report = service.sync("registry")
    assert (report.listed, report.removed) == (2, 0)
    service.drain()
    assert graph.exists(iri("version/a/1")) and graph.exists(iri("version/b/1"))
    del registry.held[a]  # deleted at the source, and no event said so
    report = service.sync("registry")
    assert report.removed == 1
    service.drain()
    assert not graph.exists(iri("version/a/1"))
    assert graph.exists(iri("version/b/1"))
    assert service.status()[0]["lastSync"]["listed"] == 1
    registry.down = True
    with pytest.raises(SourceUnavailableError):
        service.sync("registry")
    assert service.status()[0]["lastSync"]["error"] == "registry down"


def test_what_a_source_said_is_in_its_graph_with_the_entity_it_came_from(
    graph: KnowledgeGraph, registry: Registry
) -> None:
    ref = registry.add("version", "churn/1", label="v1")
    hydrate(graph, registry, ref)  # type: ignore[arg-type]
    stored = graph.store.graph(source_graph("registry", ox.NamedNode(iri("version/churn/1"))))
    assert (
        ox.Triple(
            ox.NamedNode(iri("version/churn/1")), mlg("sourceEntity"), ox.Literal("version/churn/1")
        )
        in stored
    )
    view = graph.asset(iri("version/churn/1"))
    assert [s.source for s in view.sources] == ["registry"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "no events"),
        ({"source": "registry", "entity": "version"}, "'id' must be a non-empty string"),
        ({"source": "nope", "entity": "version", "id": "x"}, "unknown source 'nope'"),
        ({"source": "registry", "entity": "dataset", "id": "x"}, "no entity kind 'dataset'"),
        ([{"source": "registry", "entity": "version", "id": "x"}, 3], "event 1 is not an object"),
        ({"source": "registry", "entity": "version", "id": "x" * 1001}, "longer than 1000"),
        ([{"source": "registry", "entity": "version", "id": "x"}] * 10_001, "more than 10000"),
        (
            {"source": "registry", "entity": "version", "id": "x", "state": {}},
            "unknown field 'state'",
        ),
    ],
)
def test_a_bad_event_is_refused_naming_it(registry: Registry, body: Any, message: str) -> None:
    with pytest.raises(Exception, match=message) as caught:
        parse_events(body, {"registry": registry})  # type: ignore[dict-item]
    assert getattr(caught.value, "status", None) == 400


def test_events_over_http_are_acknowledged_then_hydrated(
    graph: KnowledgeGraph, registry: Registry
) -> None:
    registry.add("version", "churn/1", label="v1")
    with TestClient(create_app(graph=graph)) as client:
        hydration = client.app.state.hydration  # type: ignore[attr-defined]
        hydration.close()  # the served app's own (no source configured) is replaced by one with ours
        client.app.state.hydration = Hydration(graph, {"registry": registry}, EventQueue(None))  # type: ignore[attr-defined,dict-item]
        event = {"source": "registry", "entity": "version", "id": "churn/1"}
        reply = client.post("/api/v1/events", json=[event, event])
        assert reply.status_code == 202, reply.text
        assert reply.json() == {"accepted": 2, "pending": 1}
        bad = client.post(
            "/api/v1/events", json={"source": "registry", "entity": "nope", "id": "1"}
        )
        assert bad.status_code == 400 and "no entity kind" in bad.json()["detail"]
        deep = client.post(
            "/api/v1/events",
            content=b"[" * 200 + b"]" * 200,
            headers={"content-type": "application/json"},
        )
        assert deep.status_code == 400 and "deeper than" in deep.json()["detail"], deep.text
        assert client.app.state.hydration.queue.pending("registry") == 1  # type: ignore[attr-defined]
        assert client.get("/healthz").status_code == 200
        broken = client.post(
            "/api/v1/events", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert broken.status_code == 400 and "not JSON" in broken.json()["detail"]
        assert client.app.state.hydration.drain() == 1  # type: ignore[attr-defined]
        status = client.get("/api/v1/sources").json()
        assert status[0]["source"] == "registry" and status[0]["hydrated"] == 1
        assert label(graph, "version/churn/1") == "v1"
        assert client.post("/api/v1/sources/nope/sync").status_code == 404
        client.app.state.hydration.close()  # type: ignore[attr-defined]


def test_the_worker_syncs_on_a_schedule(graph: KnowledgeGraph) -> None:
    from kg.sources.queue import EventQueue
    from kg.sources.service import Hydration
    from tests.sources.test_hydration import Registry

    registry = Registry()
    registry.add("version", "v/1", label="scheduled")
    service = Hydration(graph, {"registry": registry}, EventQueue(None), sync_interval=0.2)  # type: ignore[dict-item]
    service.start()
    try:
        deadline = time.monotonic() + 20
        while not graph.exists(iri("version/v/1")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert graph.exists(iri("version/v/1"))
        assert service.status()[0]["lastSync"]["listed"] == 1
    finally:
        service.close()
