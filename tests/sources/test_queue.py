"""The durable event queue: one row per entity, events that come in while it is hydrated are
not lost, retries wait, failures say why, and what was acknowledged survives a reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.sources.base import EntityRef
from kg.sources.queue import EventQueue

A = EntityRef("mlflow", "model_version", "churn/1")
B = EntityRef("mlflow", "run", "r1")


@pytest.fixture
def queue(tmp_path: Path) -> EventQueue:
    return EventQueue(tmp_path / "events.sqlite")


def test_events_for_one_entity_are_one_pending_row(queue: EventQueue) -> None:
    assert queue.put([A, A, B], now=10) == 2
    assert queue.put([A], now=11) == 0
    assert queue.pending("mlflow") == 2
    assert [e.ref for e in queue.due("mlflow", 10, now=20)] == [A, B]


def test_an_event_arriving_during_hydration_makes_it_run_again(queue: EventQueue) -> None:
    queue.put([A], now=0)
    [taken] = queue.due("mlflow", 10, now=1)
    queue.put([A], now=2)  # the entity changed again while it was being fetched
    assert queue.done(taken, now=3) is False
    [again] = queue.due("mlflow", 10, now=3)
    assert again.ref == A and queue.done(again, now=4)
    assert queue.pending("mlflow") == 0
    assert queue.hydrated("mlflow")[0] == 2


def test_a_retry_waits_and_a_failure_keeps_its_reason_until_asked_again(queue: EventQueue) -> None:
    queue.put([A], now=0)
    [taken] = queue.due("mlflow", 10, now=0)
    queue.retry(taken, 8, "connection refused", now=0)
    assert queue.due("mlflow", 10, now=5) == []
    assert queue.waiting("mlflow") == [(A, 1, "connection refused")]
    [taken] = queue.due("mlflow", 10, now=9)
    queue.fail(taken, "401 from the server")
    assert queue.pending("mlflow") == 0
    total, [failure] = queue.failures("mlflow")
    assert (total, failure.ref, failure.reason) == (1, A, "401 from the server")
    assert queue.put([A], now=20) == 1  # a new event (or sync) starts it afresh
    assert [e.attempts for e in queue.due("mlflow", 10, now=20)] == [0]


def test_what_was_acknowledged_survives_a_reopen(tmp_path: Path) -> None:
    first = EventQueue(tmp_path / "events.sqlite")
    first.put([A, B], now=0)
    first.close()  # (a crash loses nothing either: each put is committed before it returns)
    second = EventQueue(tmp_path / "events.sqlite")
    assert {e.ref for e in second.due("mlflow", 10, now=1)} == {A, B}


def test_sources_are_kept_apart(queue: EventQueue) -> None:
    other = EntityRef("cards", "dataset_card", "titanic.json")
    queue.put([A, other], now=0)
    assert [e.ref for e in queue.due("cards", 10, now=1)] == [other]
    assert queue.pending("mlflow") == 1
