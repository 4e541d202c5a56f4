"""The audit log itself: what an entry holds, the bounds of the queue and of refusals, the
reads (filters, pages, SPARQL) and what survives a close."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pyoxigraph as ox
import pytest

from kg.audit import vocab
from kg.audit.log import AuditLog, audit_path
from kg.audit.vocab import Entry
from kg.config import Settings
from kg.errors import InputError, QueryError
from kg.store import open_store
from kg.vocab import RDF_TYPE

NOON = 1_764_676_800 * 10**9  # 2025-12-02T12:00:00Z, in nanoseconds
MINUTE = 60 * 10**9


class Clock:
    """A clock the test moves: entries and minutes fall where the test says."""

    def __init__(self, at: int = NOON) -> None:
        self.at = at

    def __call__(self) -> int:
        return self.at


def settings(**overrides: object) -> Settings:
    return Settings(**{"memory": True, **overrides})  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log(clock: Clock) -> Iterator[AuditLog]:
    audit = AuditLog(open_store(None), settings(), clock=clock, refusals_per_minute=3)
    yield audit
    audit.close()


def write(at: int, name: str = "alice", status: int = 201, **more: object) -> Entry:
    outcome = "written" if status < 400 else "refused"
    values: dict[str, object] = {
        "method": "POST",
        "target": "/api/v1/assets",
        "status": status,
        "address": "10.0.0.7",
        "principal": name,
        "role": "writer",
        "kind": "token",
    }
    values.update(more)
    return Entry(at, outcome, **values)  # type: ignore[arg-type]


def test_an_entry_says_who_what_when_where_and_why(log: AuditLog) -> None:
    log.record(write(NOON, loads=("urn:kg:load:1",)))
    log.record(write(NOON + 1, name="bob", status=403, detail="bob may not write team/a"))
    log.flush()
    refused, written = log.entries().entries
    assert written == {
        "id": written["id"],
        "at": "2025-12-02T12:00:00Z",  # as Oxigraph writes an xsd:dateTime
        "principal": {"name": "alice", "role": "writer", "kind": "token"},
        "method": "POST",
        "path": "/api/v1/assets",
        "status": 201,
        "outcome": "written",
        "address": "10.0.0.7",
        "detail": None,
        "loads": ["urn:kg:load:1"],
        "count": None,
    }
    assert (refused["principal"]["name"], refused["status"], refused["detail"]) == (
        "bob",
        403,
        "bob may not write team/a",
    )


def test_the_rdf_of_an_entry_is_prov(log: AuditLog) -> None:
    log.record(write(NOON, name="ci loader/1"))
    log.flush()
    quads = list(log.store.quads(None, None, None))
    graphs = {q.graph_name for q in quads}
    assert graphs == {ox.NamedNode("urn:kg:graph:audit:2025-12-02")}
    entry = next(q.subject for q in quads if q.object == vocab.AUDIT_ENTRY)
    said = {(q.predicate, q.object) for q in quads if q.subject == entry}
    agent = ox.NamedNode("urn:kg:principal:ci%20loader%2F1")
    assert {
        (RDF_TYPE, vocab.ACTIVITY),
        (vocab.ASSOCIATED_WITH, agent),
        (vocab.STATUS, ox.Literal("201", datatype=vocab.INTEGER)),
        (vocab.STARTED, ox.Literal("2025-12-02T12:00:00Z", datatype=vocab.DATE_TIME)),
    } <= said
    assert ox.Quad(agent, RDF_TYPE, vocab.AGENT, vocab.day_graph(NOON)) in quads


def test_filters_pages_and_time_bounds(log: AuditLog) -> None:
    day = 24 * 60 * MINUTE
    for i in range(7):  # over three days, newest last
        log.record(write(NOON + i * day // 3, name="alice" if i % 2 else "bob", status=201 + i))
    log.flush()
    statuses = [e["status"] for e in log.entries().entries]
    assert statuses == [207, 206, 205, 204, 203, 202, 201]
    pages, cursor = [], None
    while True:
        page = log.entries(limit=3, cursor=cursor)
        pages.append([e["status"] for e in page.entries])
        if page.next is None:
            break
        cursor = page.next
    assert pages == [[207, 206, 205], [204, 203, 202], [201]]
    assert [e["status"] for e in log.entries(principal="alice").entries] == [206, 204, 202]
    assert [e["status"] for e in log.entries(status=203).entries] == [203]
    since = datetime.fromtimestamp((NOON + day // 3) / 1e9, UTC)
    until = datetime.fromtimestamp((NOON + 4 * day // 3) / 1e9, UTC)
    assert [e["status"] for e in log.entries(since=since, until=until).entries] == [
        205,
        204,
        203,
        202,
    ]


def test_bad_reads_are_input_errors(log: AuditLog) -> None:
    with pytest.raises(InputError, match="limit"):
        log.entries(limit=1001)
    with pytest.raises(InputError, match="outcome"):
        log.entries(outcome="maybe")
    with pytest.raises(InputError, match="cursor"):
        log.entries(cursor="') } DROP ALL #")


def test_past_the_queue_one_entry_counts_the_dropped(clock: Clock) -> None:
    audit = AuditLog(open_store(None), settings(), clock=clock, queue_limit=5)
    try:
        for i in range(8):
            audit.record(write(NOON + i))
        audit.flush()
        entries = audit.entries().entries
    finally:
        audit.close()
    dropped = [e for e in entries if e["outcome"] == "dropped"]
    assert len(entries) == 6
    assert [(e["count"], e["detail"]) for e in dropped] == [
        (3, "3 entries dropped: the audit queue was full")
    ]


def test_refusals_past_the_cap_of_an_address_are_counted_per_minute(
    log: AuditLog, clock: Clock
) -> None:
    for i in range(5):
        log.record(write(NOON + i, status=401, address="203.0.113.9", principal=None))
    log.record(write(NOON + 9, status=401, address="198.51.100.1", principal=None))
    log.record(write(NOON + 10, status=201, address="203.0.113.9"))  # writes are not capped
    clock.at = NOON + MINUTE + 5  # the next minute: the last one's count is written
    log.record(write(clock.at, status=401, address="203.0.113.9", principal=None))
    log.flush()
    entries = log.entries().entries
    summaries = [e for e in entries if e["count"] is not None]
    assert [(e["address"], e["count"], e["outcome"]) for e in summaries] == [
        ("203.0.113.9", 2, "refused")
    ]
    assert "2 more refusals from 203.0.113.9 in the minute from 2025-12-02T12:00:00" in str(
        summaries[0]["detail"]
    )
    one_by_one = [e for e in entries if e["status"] == 401]
    assert len(one_by_one) == 3 + 1 + 1  # the cap, the other address, the next minute's


def test_recording_never_raises(log: AuditLog, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="kg.audit"):
        log.record(Entry("not a time", "written"))  # type: ignore[arg-type]
    assert "could not record" in caplog.text


def test_long_texts_are_cut() -> None:
    assert len(vocab.cut("x" * 5000) or "") == 2000
    assert vocab.cut("caf\udce9") == "caf?"


def test_the_background_thread_writes_and_close_flushes(tmp_path: Path) -> None:
    store = tmp_path / "store"
    audit = AuditLog.open(settings(memory=False, store=store), interval=0.05)
    assert audit_path(audit.settings) == tmp_path / "store.audit"
    audit.record(write(time.time_ns()))
    for _ in range(400):  # written by the thread alone, without a flush
        if audit.store.size() > 0:
            break
        time.sleep(0.05)
    assert audit.store.size() > 0
    audit.record(write(time.time_ns(), name="last"))
    audit.close()  # flushes what the thread had not written yet
    again = AuditLog.open(settings(memory=False, store=store))
    try:
        names = [e["principal"]["name"] for e in again.entries().entries]
    finally:
        again.close()
    assert names == ["last", "alice"]


def test_sparql_reads_and_never_writes(log: AuditLog) -> None:
    log.record(write(NOON, status=403, detail="no"))
    log.record(write(NOON + 1))

    def ask(text: str, accept: str | None = None) -> bytes:
        async def run() -> bytes:
            return (await log.sparql(text, accept=accept, formats=[])).body

        return anyio.run(run)

    count = "SELECT (COUNT(*) AS ?n) WHERE { ?e a <https://w3id.org/mlg#AuditEntry> }"
    assert json.loads(ask(count))["results"]["bindings"][0]["n"]["value"] == "2"
    assert b"403" in ask(
        "SELECT ?s WHERE { ?e <https://w3id.org/mlg#httpStatus> ?s }", accept="text/csv"
    )
    assert json.loads(ask("ASK { ?e <https://w3id.org/mlg#problemDetail> 'no' }"))["boolean"]
    for refused in (
        "INSERT DATA { <urn:x> <urn:y> <urn:z> }",
        "DESCRIBE ?e WHERE { ?e ?p ?o }",
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    ):
        with pytest.raises(QueryError):
            ask(refused)
    assert log.store.size() == sum(1 for _ in log.store.quads(None, None, None))
    assert not list(log.store.quads(ox.NamedNode("urn:x"), None, None))


def test_sparql_over_an_audit_on_disk_runs_in_a_worker_process(tmp_path: Path) -> None:
    audit = AuditLog.open(settings(memory=False, store=tmp_path / "store"))
    try:
        audit.record(write(time.time_ns()))
        assert audit.evaluator.isolated  # killed at its deadline, as /sparql's queries are

        async def run() -> bytes:
            count = "SELECT (COUNT(*) AS ?n) WHERE { ?e a <https://w3id.org/mlg#AuditEntry> }"
            return (await audit.sparql(count, accept=None, formats=[])).body

        answer = json.loads(anyio.run(run))
    finally:
        audit.close()
    assert answer["results"]["bindings"][0]["n"]["value"] == "1"
    assert not (tmp_path / "store.audit.views").exists()
