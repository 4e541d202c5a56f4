"""Hostile documents at every parser entry: each is refused with a 400 (or 413) naming the limit
and its setting, fast, with the store unchanged and the server still answering; never a crash,
a hang, a huge answer or a 500.

The cases are the reproductions of the issue (deep JSON-LD that overflowed pyoxigraph's native
stack, an RDF/XML entity bomb, a YAML alias bomb, truncated RDF/XML, ill-typed literals,
oversized literals and IRIs) and their siblings on every route that parses a document. What
crashed the process before the bounds is parsed in a child Python first, so that a regression
fails a test instead of killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kg.api.app import create_app
from kg.demo import load_demo
from kg.graph import KnowledgeGraph
from tests.conftest import settings, snapshot

ROOT = Path(__file__).resolve().parents[2]
ID = "https://w3id.org/mlg/id/"
MLG = "https://w3id.org/mlg#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DEPTH = ["nesting", "deeper than 64 levels", "KG_MAX_DEPTH"]


# -- the documents


def deep_jsonld(levels: int = 10_000) -> bytes:
    """~70 KB of nested JSON-LD objects: pyoxigraph's JSON-LD parser overflowed the stack."""
    head = b'{"@context": {"x": "http://e/x"}, "@id": "' + ID.encode() + b's", "x": '
    return head + b'{"x": ' * levels + b"1" + b"}" * levels + b"}"


def deep_jsonld_lists(levels: int = 100_000) -> bytes:
    return (
        b'{"@context": {}, "@id": "'
        + ID.encode()
        + b's", "http://e/x": '
        + (b"[" * levels + b"]" * levels + b"}")
    )


def deep_json(levels: int = 100_000) -> bytes:
    return b'{"assets": ' + b"[" * levels + b"]" * levels + b"}"


def triple_terms(levels: int) -> bytes:
    """A statement of RDF 1.2 triple terms nested `levels` deep: pyoxigraph recursed into each
    (some ten thousand overflowed the native stack)."""
    term = b"<<( <http://e/s> <http://e/p> "
    return b"<http://e/s> <http://e/p> " + term * levels + b"<http://e/o>" + b" )>>" * levels


def turtle_triple_terms(levels: int = 50_000) -> bytes:
    return triple_terms(levels) + b" .\n"


def trig_triple_terms(levels: int = 50_000) -> bytes:
    return b"<http://e/g> { " + triple_terms(levels) + b" . }\n"


def deep_bnodes(levels: int = 100_000) -> bytes:
    return (
        b"<http://e/s> <http://e/p> "
        + b"[ <http://e/p> " * levels
        + b"1"
        + b" ]" * levels
        + b" .\n"
    )


def entity_bomb(levels: int = 9) -> bytes:
    """682 bytes; 9 levels of ten nested entities expand to 300 MB (10 levels: 22 s, 8.9 GB)."""
    entities = ['<!ENTITY a0 "lol">']
    entities += [f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, levels)]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(entities) + "]>\n"
        f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:e="http://e/">\n'
        f'<rdf:Description rdf:about="http://e/s"><e:p>&a{levels - 1};</e:p></rdf:Description>\n'
        "</rdf:RDF>\n"
    ).encode()


def rdfxml(body: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:mlg="{MLG}">\n{body}\n'
        "</rdf:RDF>\n"
    ).encode()


def truncated_rdfxml() -> bytes:
    """Cut after a complete description: pyoxigraph read it as the triples before the cut."""
    whole = rdfxml(
        f'<rdf:Description rdf:about="{ID}dataset/cut"><mlg:platform>s3</mlg:platform>'
        "</rdf:Description>"
    )
    return whole[: whole.index(b"</rdf:RDF>")]


def deep_rdfxml(levels: int = 50_000) -> bytes:
    body = "<mlg:p><rdf:Description>" * levels + "</rdf:Description></mlg:p>" * levels
    return rdfxml(f'<rdf:Description rdf:about="{ID}s">{body}</rdf:Description>')


def yaml_bomb() -> bytes:
    """368 bytes whose aliases expand to 43 million nodes: the error echoed them (351 MB)."""
    parts = ["&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return ("- [" + ",\n   ".join(parts) + "]\n").encode()


def backstage_bomb() -> bytes:
    parts = ["&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bomb\n"
        "  annotations: {x: [" + ", ".join(parts) + "]}\nspec: {type: service, owner: team}\n"
    ).encode()


def turtle(statement: str) -> bytes:
    return f"@prefix mlg: <{MLG}> . @prefix xsd: <{XSD}> . @prefix id: <{ID}> .\n{statement}\n".encode()


def datahub_deep() -> bytes:
    deep = "[" * 100_000 + "]" * 100_000
    return (
        json.dumps(
            [{"entityUrn": "urn:li:dataset:x", "aspectName": "status", "aspect": {"json": 1}}]
        ).encode()[:-1]
        + b", "
        + deep.encode()
        + b"]"
    )


def datahub_deep_aspect_value() -> bytes:
    record = {
        "entityUrn": "urn:li:dataset:(urn:li:dataPlatform:s3,x,PROD)",
        "aspectName": "status",
        "aspect": {"value": "[" * 1000 + "]" * 1000, "contentType": "application/json"},
    }
    return json.dumps([record]).encode()


def event_deep() -> bytes:
    return b'{"eventType": "START", "run": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"}"


def event_lines_deep() -> bytes:
    return b'{"eventType": "START"}\n' + b"[" * 1000 + b"]" * 1000 + b"\n"


# -- the table: (name, route, media type, body, status, words in the answer)


@dataclass(frozen=True)
class Case:
    name: str
    route: str
    media: str | None
    body: bytes
    status: int
    words: tuple[str, ...]
    crashed: bool = False  # crashed the whole process before the bounds: probe in a child first
    line: int | None = None  # the problem's line, when the words cannot say it

    def __str__(self) -> str:
        return self.name


ASSETS, VALIDATE, LINEAGE = "/api/v1/assets", "/api/v1/validate", "/api/v1/lineage"
DATAHUB, BACKSTAGE, OPENLINEAGE = (
    f"/api/v1/ingest/{i}" for i in ("datahub", "backstage", "openlineage")
)
OCTETS = "application/octet-stream"  # past the HTTP layer's JSON check: the readers bound it
LONG_LITERAL = "x" * (1024 * 1024 + 1)
LONG_IRI = ID + "a" * 8192

CASES = [
    Case("json-ld deep objects", ASSETS, "application/ld+json", deep_jsonld(), 400, (*DEPTH, "line 1"), crashed=True),
    Case("json-ld deep objects, sniffed", ASSETS, None, deep_jsonld(), 400, tuple(DEPTH), crashed=True),
    Case("json-ld deep lists", ASSETS, "application/ld+json", deep_jsonld_lists(), 400, tuple(DEPTH)),
    Case("native json deep, sniffed", ASSETS, None, deep_json(), 400, tuple(DEPTH)),
    Case("native json deep, as json", ASSETS, "application/json", deep_json(), 400, tuple(DEPTH)),
    Case("native yaml deep flow", ASSETS, "application/yaml", b"[" * 100_000 + b"]" * 100_000, 400, tuple(DEPTH)),
    Case("native yaml deep blocks", ASSETS, "application/yaml", "".join(f"{' ' * i}- \n" for i in range(0, 200, 2)).encode(), 400, tuple(DEPTH)),
    Case("native yaml alias bomb", ASSETS, "application/yaml", yaml_bomb(), 400, ("more than 1000000 nodes", "KG_MAX_YAML_NODES")),
    Case("native yaml recursive alias", ASSETS, "application/yaml", b"- &a [1, *a]\n", 400, ("expands without end", "KG_MAX_YAML_NODES")),
    Case("rdf/xml entity bomb", ASSETS, "application/rdf+xml", entity_bomb(), 400, ("DTD", "entities")),
    Case("rdf/xml truncated", ASSETS, "application/rdf+xml", truncated_rdfxml(), 400, ("ends before it is complete",), line=4),
    Case("rdf/xml deep", ASSETS, "application/rdf+xml", deep_rdfxml(), 400, ("nesting of XML elements", "deeper than 64 levels", "KG_MAX_DEPTH")),
    Case("turtle deep triple terms", ASSETS, "text/turtle", turtle_triple_terms(), 400, tuple(DEPTH), crashed=True),
    Case("n-triples deep triple terms", ASSETS, "application/n-triples", turtle_triple_terms(30_000), 400, tuple(DEPTH), crashed=True),
    Case("n-quads deep triple terms", ASSETS, "application/n-quads", turtle_triple_terms(30_000), 400, tuple(DEPTH), crashed=True),
    Case("trig deep triple terms", ASSETS, "application/trig", trig_triple_terms(), 400, tuple(DEPTH), crashed=True),
    Case("turtle deep blank nodes", ASSETS, "text/turtle", deep_bnodes(), 400, tuple(DEPTH)),
    Case("turtle long literal", ASSETS, "text/turtle", turtle(f'id:a a mlg:Dataset ;\n  mlg:platform "{LONG_LITERAL}" .'), 400, ("literal of 1048577 characters", "KG_MAX_LITERAL", "line 3")),
    Case("turtle long iri", ASSETS, "text/turtle", turtle(f"<{LONG_IRI}> a mlg:Dataset ."), 400, (f"IRI of {len(LONG_IRI)} characters", "KG_MAX_IRI")),
    Case("yaml long literal", ASSETS, "application/yaml", f"- {{id: a, type: Dataset, description: {LONG_LITERAL}}}\n".encode(), 400, ("KG_MAX_LITERAL", "line 1")),
    Case("ill-typed date-time on mlg:observedAt", ASSETS, "text/turtle", turtle('id:a a mlg:Dataset ;\n  mlg:observedAt "yesterday"^^xsd:dateTime .'), 400, ('mlg:observedAt expects xsd:dateTime: "yesterday" is not a valid xsd:dateTime',), line=3),
    Case("integer on mlg:platform", ASSETS, "text/turtle", turtle("id:a a mlg:Dataset ;\n  mlg:platform 5 ."), 400, ('mlg:platform expects xsd:string, not "5" (xsd:integer)',), line=3),
    Case("validate json-ld deep", VALIDATE, "application/ld+json", deep_jsonld(), 400, tuple(DEPTH), crashed=True),
    Case("validate rdf/xml entity bomb", VALIDATE, "application/rdf+xml", entity_bomb(), 400, ("DTD",)),
    Case("validate yaml alias bomb", VALIDATE, "application/yaml", yaml_bomb(), 400, ("KG_MAX_YAML_NODES",)),
    Case("validate turtle deep triple terms", VALIDATE, "text/turtle", turtle_triple_terms(), 400, tuple(DEPTH), crashed=True),
    Case("datahub deep", DATAHUB, OCTETS, datahub_deep(), 400, tuple(DEPTH)),
    Case("datahub deep aspect.value", DATAHUB, OCTETS, datahub_deep_aspect_value(), 400, (*DEPTH, "aspect.value")),
    Case("backstage alias bomb", BACKSTAGE, OCTETS, backstage_bomb(), 400, ("KG_MAX_YAML_NODES",)),
    Case("backstage deep", BACKSTAGE, OCTETS, b"apiVersion: v1\nkind: Component\nmetadata: " + b"[" * 100_000, 400, tuple(DEPTH)),
    Case("openlineage deep", OPENLINEAGE, OCTETS, event_deep(), 400, tuple(DEPTH)),
    Case("openlineage deep json line", OPENLINEAGE, OCTETS, event_lines_deep(), 400, (*DEPTH, "line 2")),
    Case("lineage deep", LINEAGE, "application/json", event_deep(), 400, tuple(DEPTH)),
    Case("lineage deep, any type", LINEAGE, OCTETS, event_deep(), 400, tuple(DEPTH)),
]  # fmt: skip

# Good inputs near the bounds keep working (the validation endpoint writes nothing).
ACCEPTED = [
    Case("json-ld 60 levels", VALIDATE, "application/ld+json", deep_jsonld(58), 200, ()),
    Case("turtle 64 levels", VALIDATE, "text/turtle", deep_bnodes(64), 200, ()),
    Case("rdf/xml with a literal of the limit", VALIDATE, "application/rdf+xml", rdfxml(f'<rdf:Description rdf:about="{ID}a"><mlg:platform>{"x" * (1024 * 1024)}</mlg:platform></rdf:Description>'), 200, ()),
    Case("yaml with aliases", VALIDATE, "application/yaml", b"- {id: a, type: Dataset, tags: &t [a, b]}\n- {id: b, type: Dataset, tags: *t}\n", 200, ()),
    Case("ill-typed literal the ontology leaves open", VALIDATE, "text/turtle", turtle(f'<{ID}dataset/playback-events-raw> <http://example.org/rows> "abc"^^xsd:integer .'), 200, ()),
    Case("date-time on mlg:observedAt", VALIDATE, "text/turtle", turtle('id:a a mlg:Dataset ; mlg:observedAt "2026-11-30T10:00:00Z"^^xsd:dateTimeStamp .'), 200, ()),
]  # fmt: skip


# -- running a case


@pytest.fixture(scope="module")
def app() -> Iterator[tuple[KnowledgeGraph, TestClient]]:
    """One demo graph for the whole table: every case leaves it as it was (the test checks)."""
    graph = KnowledgeGraph.open(settings(gate="enforce"))
    load_demo(graph)
    with TestClient(create_app(graph=graph)) as client:
        yield graph, client
    graph.close()


CHILD = """
import sys
from kg.errors import LimitError
from kg.ingest import parse_document

data = sys.stdin.buffer.read()
try:
    parse_document(
        data, source="request body", base_iri=sys.argv[2], media_type=sys.argv[1] or None
    )
except LimitError as exc:
    print("refused:", exc.message)
else:
    print("parsed")
"""


def parse_in_a_child(media: str, body: bytes) -> tuple[int, str, str]:
    """(return code, stdout, stderr) of parse_document on the body in a child Python."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD, media, ID],
        input=body,
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    return child.returncode, child.stdout.decode(), child.stderr.decode()


@pytest.mark.parametrize("case", [c for c in CASES if c.crashed and c.route != VALIDATE], ids=str)
def test_what_crashed_the_process_is_refused_in_a_child(case: Case) -> None:
    code, out, err = parse_in_a_child(case.media or "", case.body)
    assert code == 0, f"the child died ({code}): {err[-500:]}"
    assert out.startswith("refused: request body: nesting deeper than 64 levels")
    assert "(KG_MAX_DEPTH)" in out


def send(client: TestClient, case: Case) -> tuple[int, dict[str, object]]:
    headers = {"content-type": case.media} if case.media else {}
    response = client.post(case.route, content=case.body, headers=headers)
    assert "json" in response.headers.get("content-type", ""), response.text[:300]
    return response.status_code, response.json()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_input_is_refused_naming_the_limit(
    app: tuple[KnowledgeGraph, TestClient], case: Case
) -> None:
    graph, client = app
    if case.crashed:  # a regression must fail here, not kill the test run
        code, out, err = parse_in_a_child(case.media or "", case.body)
        assert code == 0 and out.startswith("refused:"), f"the child died ({code}): {err[-500:]}"
    before = snapshot(graph)
    status, problem = send(client, case)
    assert status == case.status, problem
    detail = str(problem["detail"])
    for word in case.words:
        assert word in detail, detail
    if case.line is not None:
        assert problem["line"] == case.line, problem
    assert len(detail) < 2000  # never the document, nor what it expands to
    assert problem["title"] in ("Invalid input", "Input past a limit")
    assert client.get("/healthz").status_code == 200
    assert snapshot(graph) == before


@pytest.mark.parametrize("case", ACCEPTED, ids=str)
def test_good_input_near_the_bounds_still_works(
    app: tuple[KnowledgeGraph, TestClient], case: Case
) -> None:
    graph, client = app
    before = snapshot(graph)
    headers = {"content-type": case.media or OCTETS}
    response = client.post(case.route, content=case.body, headers=headers)
    assert response.status_code == case.status, response.text[:500]
    assert snapshot(graph) == before


def test_limits_are_the_settings() -> None:
    """Tighter settings are what every entry applies: a document the defaults accept is refused
    naming the tighter bound, on the asset route and the importers alike."""
    graph = KnowledgeGraph.open(
        settings(max_depth=8, max_literal=100, max_iri=200, max_yaml_nodes=50, max_body=50_000)
    )
    try:
        with TestClient(create_app(graph=graph)) as client:
            for route, media, body, words in [
                (ASSETS, None, b"[" * 9 + b"]" * 9, "deeper than 8 levels"),
                (ASSETS, "text/turtle", turtle(f'id:a mlg:platform "{"x" * 101}" .'), "KG_MAX_LITERAL"),
                (ASSETS, "text/turtle", turtle(f"<{ID}{'a' * 200}> a mlg:Dataset ."), "KG_MAX_IRI"),
                (ASSETS, "application/yaml", b"- &a [1, 2, 3, 4, 5, 6, 7, 8]\n- [*a, *a, *a, *a, *a, *a]\n", "more than 50 nodes"),
                (BACKSTAGE, OCTETS, b"a: &a [1, 2, 3, 4, 5, 6, 7, 8]\nb: [*a, *a, *a, *a, *a, *a]\n", "more than 50 nodes"),
                (DATAHUB, OCTETS, b"[" * 9 + b"]" * 9, "deeper than 8 levels"),
                (OPENLINEAGE, OCTETS, b"[" * 9 + b"]" * 9, "deeper than 8 levels"),
            ]:  # fmt: skip
                headers = {"content-type": media} if media else {}
                response = client.post(route, content=body, headers=headers)
                assert response.status_code == 400, (route, response.text[:300])
                assert words in response.json()["detail"], (route, response.text[:300])
            too_big = turtle(f'id:a mlg:platform "{"x" * 60_000}" .')
            response = client.post(ASSETS, content=too_big, headers={"content-type": "text/turtle"})
            assert response.status_code == 413, response.text[:300]
            assert client.get("/healthz").status_code == 200
    finally:
        graph.close()
