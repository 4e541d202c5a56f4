"""The attacks of the "safe to expose" review, one table row each, against a live `kg serve`:
the expected refusal, the server still alive, the store exactly as it was, bounded time and
memory. Every row failed (crash, hang, 500, silent damage or a call out) before kg bounded it."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.test_serve import start_server

pytestmark = pytest.mark.embedded_only("a `kg serve` in another process, on the embedded store")

TOKEN = "attack-token"  # noqa: S105 (a test token)
WRITER = {"authorization": f"Bearer {TOKEN}"}
MAX_BODY = 1_000_000
MLG = "https://w3id.org/mlg#"
ID = "https://w3id.org/mlg/id/"
UPDATE = {"content-type": "application/sparql-update", **WRITER}


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 400
    words: tuple[str, ...] = ()
    longest_answer: int = 100_000  # bytes: an error must not echo an expanded input


def _nested_json_ld(depth: int) -> bytes:
    inner = '{"@id": "urn:x"}'
    for _ in range(depth):
        inner = '{"https://w3id.org/mlg#derivedFrom": ' + inner + "}"
    return (
        '{"@context": {}, "@id": "urn:kg:deep", "https://w3id.org/mlg#derivedFrom": ' + inner + "}"
    ).encode()


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
<rdf:Description rdf:about="urn:bomb"><rdfs:label>&h;</rdfs:label></rdf:Description></rdf:RDF>
"""
YAML_BOMB = b"""a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
TRUNCATED_RDF_XML = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:mlg="https://w3id.org/mlg#">
<rdf:Description rdf:about="https://w3id.org/mlg/id/dataset/cut">
  <mlg:status rdf:resource="https://w3id.org/mlg#Active"/>
</rdf:Descr"""
GZIP_BOMB = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
DEEP = 5000

ATTACKS = [
    Attack("sparql query nesting 2,250 groups", "POST", "/sparql",
           ("SELECT * WHERE " + "{" * 2250 + "}" * 2250).encode(),
           {"content-type": "application/sparql-query"}, 400, ("KG_MAX_DEPTH",)),
    Attack("sparql query nesting parentheses", "POST", "/sparql",
           ("ASK { FILTER(" + "(" * DEEP + "1" + ")" * DEEP + ") }").encode(),
           {"content-type": "application/sparql-query"}, 400, ("KG_MAX_DEPTH",)),
    Attack("sparql update nesting (a writer)", "POST", "/sparql",
           ("DELETE WHERE " + "{" * 2250 + "}" * 2250).encode(), UPDATE, 400, ("KG_MAX_DEPTH",)),
    Attack("sparql quoted triples nested 50,000 deep", "POST", "/sparql",
           ("SELECT * WHERE { " + "<< " * 50_000 + "?s ?p ?o" + " >> ?q ?r" * 50_000 + " }").encode(),
           {"content-type": "application/sparql-query"}, 400, ("KG_MAX_DEPTH",)),
    Attack("deep JSON-LD to the anonymous dry run", "POST", "/api/v1/validate",
           _nested_json_ld(DEEP), {"content-type": "application/ld+json"}, 400, ("KG_MAX_DEPTH",)),
    Attack("deep JSON-LD to the asset loader", "POST", "/api/v1/assets",
           _nested_json_ld(DEEP), {"content-type": "application/ld+json", **WRITER}, 400,
           ("KG_MAX_DEPTH",)),
    Attack("SERVICE from an anonymous reader", "POST", "/sparql",
           b"SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
           {"content-type": "application/sparql-query"}, 400, ("KG_FEDERATION_ALLOW",)),
    Attack("SERVICE through a variable", "GET",
           "/sparql?query=" + urllib.parse.quote("SELECT * { SERVICE ?x { ?s ?p ?o } }"),
           status=400, words=("KG_FEDERATION_ALLOW",)),
    Attack("LOAD from a writer", "POST", "/sparql",
           b"LOAD <http://127.0.0.1:9/data.ttl> INTO GRAPH <urn:x>", UPDATE, 400,
           ("KG_FEDERATION_ALLOW",)),
    Attack("RDF/XML entity bomb", "POST", "/api/v1/assets", ENTITY_BOMB,
           {"content-type": "application/rdf+xml", **WRITER}, 400, ("DTD",)),
    Attack("RDF/XML entity bomb to the dry run", "POST", "/api/v1/validate", ENTITY_BOMB,
           {"content-type": "application/rdf+xml"}, 400, ("DTD",)),
    Attack("YAML alias bomb", "POST", "/api/v1/assets", YAML_BOMB,
           {"content-type": "application/yaml", **WRITER}, 400, ("KG_MAX_YAML_NODES",), 2000),
    Attack("YAML alias bomb to the Backstage importer", "POST", "/api/v1/ingest/backstage",
           YAML_BOMB, WRITER, 400, ("KG_MAX_YAML_NODES",), 2000),
    Attack("gzip bomb to the OpenLineage receiver", "POST", "/api/v1/lineage", GZIP_BOMB,
           {"content-type": "application/json", "content-encoding": "gzip", **WRITER}, 413,
           ("KG_MAX_BODY",)),
    Attack("gzip bomb from an anonymous client", "POST", "/api/v1/lineage", GZIP_BOMB,
           {"content-type": "application/json", "content-encoding": "gzip"}, 413,
           ("KG_MAX_BODY",)),
    Attack("truncated gzip", "POST", "/api/v1/lineage", gzip.compress(b'{"a": 1} ' * 500)[:-12],
           {"content-type": "application/json", "content-encoding": "gzip", **WRITER}, 400,
           ("gzip",)),
    Attack("oversized body to the dry run", "POST", "/api/v1/validate",
           b"#" * (MAX_BODY + 10), {"content-type": "text/turtle"}, 413, ("KG_MAX_BODY",)),
    Attack("oversized body to before-you-build", "POST", "/api/v1/search/similar",
           b'{"name": "' + b"x" * (MAX_BODY + 10) + b'"}', {"content-type": "application/json"},
           413, ("KG_MAX_BODY",)),
    Attack("deep JSON to before-you-build", "POST", "/api/v1/search/similar",
           b'{"name": ' + b"[" * DEEP + b"]" * DEEP + b"}", {"content-type": "application/json"},
           400, ("KG_MAX_DEPTH",)),
    Attack("deep JSON to the DataHub importer", "POST", "/api/v1/ingest/datahub",
           b"[" * DEEP + b"]" * DEEP, WRITER, 400, ("KG_MAX_DEPTH",)),
    Attack("deep JSON to the OpenLineage receiver", "POST", "/api/v1/lineage",
           b'{"eventType": ' + b"[" * DEEP + b"]" * DEEP + b"}",
           {"content-type": "application/json", **WRITER}, 400, ("KG_MAX_DEPTH",)),
    Attack("deep YAML asset document", "POST", "/api/v1/assets", b"[" * DEEP + b"]" * DEEP,
           {"content-type": "application/yaml", **WRITER}, 400, ("KG_MAX_DEPTH",)),
    Attack("huge offset", "GET", "/api/v1/search?q=model&offset=" + "9" * 40, status=422),
    Attack("huge asset list offset", "GET", "/api/v1/assets?offset=" + "9" * 40, status=422),
    Attack("truncated RDF/XML", "POST", "/api/v1/assets", TRUNCATED_RDF_XML,
           {"content-type": "application/rdf+xml", **WRITER}, 400, ("RDF/XML",)),
    Attack("ill-typed literal", "POST", "/api/v1/assets",
           f'<{ID}dataset/typed> <{MLG}observedAt> "yesterday"^^<http://www.w3.org/2001/XMLSchema#dateTime> .'.encode(),
           {"content-type": "application/n-triples", **WRITER}, 400, ("xsd:dateTime",)),
    Attack("INSERT DATA into the load history", "POST", "/sparql",
           b"INSERT DATA { GRAPH <urn:kg:graph:loads> { <urn:x> <urn:p> <urn:o> } }", UPDATE,
           403, ("urn:kg:graph:loads",)),
    Attack("DROP of the load history", "POST", "/sparql", b"DROP GRAPH <urn:kg:graph:loads>",
           UPDATE, 403, ("urn:kg:graph:loads",)),
    Attack("a forged load record", "POST", "/sparql",
           f"INSERT DATA {{ GRAPH <urn:kg:graph:loads> {{ <urn:kg:load:forged> a <{MLG}Load> ; "
           '<http://www.w3.org/ns/prov#endedAtTime> "2999-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> } }'.encode(),
           UPDATE, 403, ("urn:kg:graph:loads",)),
    Attack("a write into a derived graph", "POST", "/sparql",
           f"INSERT DATA {{ GRAPH <urn:kg:graph:derived:urn:kg:graph:asset:{ID}service/homepage> "
           f"{{ <{ID}service/homepage> <{MLG}dependsOn> <{ID}dataset/clicks> }} }}".encode(),
           UPDATE, 403, ("urn:kg:graph:derived:",)),
    Attack("a write into the shapes", "POST", "/sparql",
           b"DELETE WHERE { GRAPH <urn:kg:graph:shapes> { ?s ?p ?o } }", UPDATE, 403,
           ("urn:kg:graph:shapes",)),
    Attack("Graph Store PUT of the ontology", "PUT", "/store?graph=urn:kg:graph:ontology",
           b"<urn:x> <urn:p> <urn:o> .", {"content-type": "application/n-triples", **WRITER},
           403, ("urn:kg:graph:ontology",)),
    Attack("Graph Store DELETE of the report", "DELETE",
           "/store?graph=urn:kg:graph:reports/latest", headers=WRITER, status=403,
           words=("urn:kg:graph:reports/latest",)),
    Attack("TriG naming the shapes graph", "POST", "/api/v1/assets",
           b"<urn:kg:graph:shapes> { <urn:x> <urn:p> <urn:o> }",
           {"content-type": "application/trig", **WRITER}, 403, ("urn:kg:graph:shapes",)),
    Attack("using-graph-uri pasted into the update", "POST",
           "/sparql?using-graph-uri=" + urllib.parse.quote("urn:x> } ; DROP ALL ; INSERT DATA { <urn:y"),
           b"DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", UPDATE, 400, ("using-graph-uri",)),
    Attack("using-named-graph-uri pasted into the update", "POST",
           "/sparql?using-named-graph-uri=" + urllib.parse.quote("urn:x> DROP ALL"),
           b"DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", UPDATE, 400, ("using-named-graph-uri",)),
    Attack("a validation read does not write", "GET", "/api/v1/validation", status=200),
]  # fmt: skip


def _request(base: str, attack: Attack) -> tuple[int, bytes]:
    """The attack over one connection. A server may answer (413) before it has read the whole
    body and close: the answer is read even when sending the rest fails."""
    host, port = urllib.parse.urlsplit(base).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(attack.method, attack.path, body=attack.body or None,
                               headers=attack.headers)  # fmt: skip
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _fingerprint(base: str) -> str:
    """Every quad of every graph, load records included: equal fingerprints, equal stores."""
    query = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    url = base + "/sparql?" + urllib.parse.urlencode({"query": query, "format": "tsv"})
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (loopback)
        rows = sorted(response.read().decode().splitlines()[1:])
    assert len(rows) > 1000
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def _memory(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    store = tmp_path_factory.mktemp("attacks") / "store"
    env = {"KG_API_TOKENS": TOKEN, "KG_MAX_BODY": str(MAX_BODY), "KG_MAX_ROWS": "1000000"}
    process, base = start_server("--demo", "--store", str(store), env=env)
    try:
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_refused_and_changes_nothing(server: tuple[str, int], attack: Attack) -> None:
    base, pid = server
    before = _fingerprint(base)
    memory = _memory(pid)
    status, body = _request(base, attack)
    assert status == attack.status, body[:500]
    text = body.decode("utf-8", errors="replace")
    for word in attack.words:
        assert word in text, text[:500]
    assert len(body) <= attack.longest_answer
    assert _memory(pid) - memory < 512 * 1024 * 1024, "the server's peak memory grew by 512 MB"
    with urllib.request.urlopen(base + "/healthz", timeout=10) as alive:  # noqa: S310
        assert json.loads(alive.read()) == {"status": "ok"}
    assert _fingerprint(base) == before
