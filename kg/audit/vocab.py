"""The audit's RDF: one `mlg:AuditEntry` (a `prov:Activity`) per recorded request.

    <urn:kg:audit:01764694211123456789-0000000042-3fa9c1> a mlg:AuditEntry , prov:Activity ;
        prov:startedAtTime "2026-12-02T16:50:11.123456Z"^^xsd:dateTime ;
        prov:wasAssociatedWith <urn:kg:principal:ci-loader> ;
        mlg:principalName "ci-loader" ; mlg:principalRole "writer" ; mlg:principalKind "token" ;
        mlg:httpMethod "POST" ; mlg:requestTarget "/api/v1/assets?gate=warn" ;
        mlg:httpStatus 201 ; mlg:auditOutcome "written" ; mlg:clientAddress "10.0.0.7" ;
        mlg:madeLoad <urn:kg:load:…> .
    <urn:kg:principal:ci-loader> a prov:Agent ; rdfs:label "ci-loader" .

An entry's IRI starts with its time in nanoseconds, zero-padded, so that the IRIs sort as the
entries happened: pages and time bounds are string comparisons of IRIs. Entries of one day
(UTC) share a named graph, `urn:kg:graph:audit:YYYY-MM-DD`, so a page reads the days it needs
and not the whole audit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import pyoxigraph as ox

from kg.history.record import principal_iri  # the load records name writers so too
from kg.vocab import PROV, RDF_TYPE, RDFS_LABEL, XSD, mlg

AUDIT_ENTRY: Final = mlg("AuditEntry")
ACTIVITY: Final = ox.NamedNode(PROV + "Activity")
AGENT: Final = ox.NamedNode(PROV + "Agent")
STARTED: Final = ox.NamedNode(PROV + "startedAtTime")
ASSOCIATED_WITH: Final = ox.NamedNode(PROV + "wasAssociatedWith")
PRINCIPAL_NAME: Final = mlg("principalName")
PRINCIPAL_ROLE: Final = mlg("principalRole")
PRINCIPAL_KIND: Final = mlg("principalKind")
METHOD: Final = mlg("httpMethod")
TARGET: Final = mlg("requestTarget")
STATUS: Final = mlg("httpStatus")
OUTCOME: Final = mlg("auditOutcome")
ADDRESS: Final = mlg("clientAddress")
DETAIL: Final = mlg("problemDetail")
MADE_LOAD: Final = mlg("madeLoad")
OMITTED: Final = mlg("omittedCount")
DATE_TIME: Final = ox.NamedNode(XSD + "dateTime")
INTEGER: Final = ox.NamedNode(XSD + "integer")

ENTRY_PREFIX: Final = "urn:kg:audit:"
GRAPH_PREFIX: Final = "urn:kg:graph:audit:"
ENTRY_ID = re.compile(r"^\d{20}-\d{10}-[0-9a-f]{6}$")

# What an outcome says: accepted (a write, or a read sent by POST), refused (4xx), failed (5xx);
# "dropped" counts the entries lost when the queue was full.
WRITTEN: Final = "written"
REFUSED: Final = "refused"
FAILED: Final = "failed"
DROPPED: Final = "dropped"
OUTCOMES: Final = (WRITTEN, REFUSED, FAILED, DROPPED)

MAX_TEXT: Final = 2000  # characters kept of a path, a detail, a name


def cut(text: str | None, limit: int = MAX_TEXT) -> str | None:
    """`text` at most `limit` characters long, with what cannot be UTF-8 replaced."""
    if text is None:
        return None
    clean = text.encode("utf-8", "replace").decode("utf-8")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


@dataclass(frozen=True)
class Entry:
    """One recorded request (or a counted summary: `count` entries not kept one by one)."""

    at_ns: int  # when the request arrived, nanoseconds since the epoch (UTC)
    outcome: str
    method: str | None = None
    target: str | None = None  # path and query string
    status: int | None = None
    address: str | None = None  # the peer's address, as the connection gives it
    principal: str | None = None
    role: str | None = None
    kind: str | None = None
    detail: str | None = None
    loads: tuple[str, ...] = field(default=())
    count: int | None = None


def timestamp(at_ns: int) -> str:
    """xsd:dateTime text of a time in nanoseconds, to the microsecond, in UTC."""
    moment = datetime.fromtimestamp(at_ns // 1000 / 1_000_000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def day(at_ns: int) -> str:
    """The day (UTC, YYYY-MM-DD) of a time in nanoseconds."""
    return datetime.fromtimestamp(at_ns // 10**9, UTC).date().isoformat()


def day_graph(at_ns: int) -> ox.NamedNode:
    return ox.NamedNode(GRAPH_PREFIX + day(at_ns))


def graph_day(graph: ox.NamedNode) -> str | None:
    """The day (YYYY-MM-DD) of an audit graph, None for any other graph."""
    day = graph.value.removeprefix(GRAPH_PREFIX)
    return day if day != graph.value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) else None


def entry_iri(at_ns: int, sequence: int, salt: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ENTRY_PREFIX}{at_ns:020d}-{sequence % 10**10:010d}-{salt}")


def bound(at_ns: int) -> str:
    """The IRI text every entry at or after `at_ns` sorts at or after."""
    return f"{ENTRY_PREFIX}{at_ns:020d}"


def quads(node: ox.NamedNode, entry: Entry) -> list[ox.Quad]:
    graph = day_graph(entry.at_ns)
    found: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = [
        (RDF_TYPE, AUDIT_ENTRY),
        (RDF_TYPE, ACTIVITY),
        (STARTED, ox.Literal(timestamp(entry.at_ns), datatype=DATE_TIME)),
        (OUTCOME, ox.Literal(entry.outcome)),
    ]
    texts = [
        (METHOD, entry.method),
        (TARGET, entry.target),
        (ADDRESS, entry.address),
        (PRINCIPAL_NAME, entry.principal),
        (PRINCIPAL_ROLE, entry.role),
        (PRINCIPAL_KIND, entry.kind),
        (DETAIL, entry.detail),
    ]
    found += [(p, ox.Literal(v)) for p, v in texts if v is not None]
    for predicate, number in ((STATUS, entry.status), (OMITTED, entry.count)):
        if number is not None:
            found.append((predicate, ox.Literal(str(number), datatype=INTEGER)))
    found += [(MADE_LOAD, ox.NamedNode(load)) for load in entry.loads]
    result = [ox.Quad(node, p, o, graph) for p, o in found]
    if entry.principal is not None:
        agent = principal_iri(entry.principal)
        result += [
            ox.Quad(node, ASSOCIATED_WITH, agent, graph),
            ox.Quad(agent, RDF_TYPE, AGENT, graph),
            ox.Quad(agent, RDFS_LABEL, ox.Literal(entry.principal), graph),
        ]
    return result


_FIELDS: Final = {
    STARTED.value: "at",
    METHOD.value: "method",
    TARGET.value: "path",
    STATUS.value: "status",
    OUTCOME.value: "outcome",
    ADDRESS.value: "address",
    DETAIL.value: "detail",
    OMITTED.value: "count",
    PRINCIPAL_NAME.value: "name",
    PRINCIPAL_ROLE.value: "role",
    PRINCIPAL_KIND.value: "kind",
}


def as_row(node: ox.NamedNode, statements: list[ox.Quad]) -> dict[str, Any]:
    """An entry as the API and `kg audit --format json` give it."""
    values: dict[str, Any] = {}
    loads: list[str] = []
    for quad in statements:
        predicate, obj = quad.predicate.value, quad.object
        if isinstance(obj, ox.Triple):
            continue
        if predicate == MADE_LOAD.value:
            loads.append(obj.value)
        elif predicate in _FIELDS:
            values[_FIELDS[predicate]] = obj.value
    for number in ("status", "count"):
        if number in values:
            values[number] = int(values[number])
    principal = None
    if "name" in values:
        principal = {k: values.pop(k, None) for k in ("name", "role", "kind")}
    return {
        "id": node.value.removeprefix(ENTRY_PREFIX),
        "at": values.get("at"),
        "principal": principal,
        "method": values.get("method"),
        "path": values.get("path"),
        "status": values.get("status"),
        "outcome": values.get("outcome"),
        "address": values.get("address"),
        "detail": values.get("detail"),
        "loads": sorted(loads),
        "count": values.get("count"),
    }
