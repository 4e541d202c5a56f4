"""The HTTP layer bounds every request before a parser, a handler or authentication sees it
(kg.api.middleware), and kg's HTML pages run no script but kg's own and link no script IRI."""

from __future__ import annotations

import gzip
import json
import re
import uuid
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from kg.api.middleware import BodyLimits, Inflater
from kg.config import Settings
from kg.errors import BodyTooLargeError, InputError
from kg.governance.gate import GateMode
from kg.governance.render import linkable
from kg.graph import KnowledgeGraph
from tests.conftest import iri, snapshot

LIMIT = 64 * 1024  # KG_MAX_BODY for these tests
TOKEN = "bounds-token"  # noqa: S105 (a test token)
AUTH = {"authorization": f"Bearer {TOKEN}"}
JSON = {"content-type": "application/json"}
YAML = {"content-type": "application/yaml"}
GZIP = {"content-encoding": "gzip"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
BIG = 10**30


def deep(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


def event(job: str = "gzip.job") -> bytes:
    return json.dumps({
        "eventType": "START",
        "eventTime": "2026-05-01T10:00:00Z",
        "producer": "https://example.com/tests",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "spark-prod", "name": job},
        "inputs": [],
        "outputs": [],
    }).encode()  # fmt: skip


def chunks(total: int, size: int = 8192) -> Callable[[], Iterator[bytes]]:
    """A body sent chunked, with no Content-Length."""

    def stream() -> Iterator[bytes]:
        for start in range(0, total, size):
            yield b"x" * min(size, total - start)

    return stream


BOMB = gzip.compress(b"\0" * (LIMIT * 64))  # a few hundred bytes inflating to 64 x the limit
DEFLATE_BOMB = zlib.compress(b" " * (LIMIT * 64))
GOOD_YAML = b"assets:\n  - {id: dataset/bounds-check, type: Dataset, name: Bounds, owner: team/data-platform}\n"
DEEP_SIMILAR = ('{"name": "x", "sources": ' + deep(10_000, '"a"') + "}").encode()
DEEP_EQUIVALENCE = ('{"asset": "x", "sameAs": ' + deep(10_000, '"a"') + "}").encode()
DEEP_DOCUMENT = ('{"id": "dataset/deep", "description": ' + deep(500) + "}").encode()
DEEP_OBJECTS = ('{"a":' * 200 + "1" + "}" * 200).encode()

# name, method, path, headers, body, status, words in the answer
CASES: list[tuple[str, str, str, dict[str, str], Any, int, list[str]]] = [
    ("declared length past the limit, before the token is checked", "POST", "/api/v1/assets", YAML, b"x" * (LIMIT + 1), 413, ["KG_MAX_BODY", str(LIMIT + 1)]),
    ("declared length past the limit on validate", "POST", "/api/v1/validate", YAML, b"x" * (LIMIT + 1), 413, ["KG_MAX_BODY"]),
    ("declared length past the limit on similar", "POST", "/api/v1/search/similar", JSON, b'{"name": "' + b"x" * LIMIT + b'"}', 413, ["KG_MAX_BODY"]),
    ("declared length past the limit on equivalences", "POST", "/api/v1/equivalences", {**JSON, **AUTH}, b'{"asset": "a", "sameAs": ["' + b"x" * LIMIT + b'"]}', 413, ["KG_MAX_BODY"]),
    ("declared length past the limit on a SPARQL update", "POST", "/sparql", {"content-type": "application/sparql-update", **AUTH}, b"#" * (LIMIT + 1), 413, ["KG_MAX_BODY"]),
    ("declared length past the limit on a GET", "GET", "/api/v1/stats", {}, b"x" * (LIMIT + 1), 413, ["KG_MAX_BODY"]),
    ("chunked past the limit, no Content-Length, on validate", "POST", "/api/v1/validate", YAML, chunks(LIMIT + 1), 413, ["KG_MAX_BODY"]),
    ("chunked past the limit on similar", "POST", "/api/v1/search/similar", JSON, chunks(4 * LIMIT), 413, ["KG_MAX_BODY"]),
    ("chunked past the limit on an asset PUT", "PUT", "/api/v1/assets/dataset/x", {**YAML, **AUTH}, chunks(LIMIT + 1), 413, ["KG_MAX_BODY"]),
    ("gzip bomb on the OpenLineage receiver", "POST", "/api/v1/lineage", {**JSON, **GZIP, **AUTH}, BOMB, 413, ["inflates", "KG_MAX_BODY"]),
    ("gzip bomb without a token", "POST", "/api/v1/lineage", {**JSON, **GZIP}, BOMB, 413, ["KG_MAX_BODY"]),
    ("gzip bomb on validate", "POST", "/api/v1/validate", {**YAML, **GZIP}, BOMB, 413, ["KG_MAX_BODY"]),
    ("gzip bomb on a SPARQL query", "POST", "/sparql", {"content-type": "application/sparql-query", **GZIP}, BOMB, 413, ["KG_MAX_BODY"]),
    ("x-gzip bomb", "POST", "/api/v1/assets", {**YAML, "content-encoding": "x-gzip"}, BOMB, 413, ["KG_MAX_BODY"]),
    ("deflate bomb", "POST", "/api/v1/validate", {**YAML, "content-encoding": "deflate"}, DEFLATE_BOMB, 413, ["deflate", "KG_MAX_BODY"]),
    ("truncated gzip", "POST", "/api/v1/lineage", {**JSON, **GZIP, **AUTH}, gzip.compress(event())[:-12], 400, ["gzip", "truncated"]),
    ("gzip of garbage", "POST", "/api/v1/assets", {**YAML, **GZIP, **AUTH}, b"not gzip at all", 400, ["not valid gzip"]),
    ("gzip followed by garbage", "POST", "/api/v1/assets", {**YAML, **GZIP, **AUTH}, gzip.compress(GOOD_YAML) + b"junk", 400, ["not valid gzip"]),
    ("truncated deflate", "POST", "/api/v1/validate", {**YAML, "content-encoding": "deflate"}, zlib.compress(GOOD_YAML)[:-6], 400, ["deflate", "truncated"]),
    ("deflate followed by data", "POST", "/api/v1/validate", {**YAML, "content-encoding": "deflate"}, zlib.compress(GOOD_YAML) + b"x", 400, ["follows the end"]),
    ("brotli is not supported", "POST", "/api/v1/assets", {**YAML, "content-encoding": "br", **AUTH}, b"whatever", 415, ["br", "gzip"]),
    ("two codings are not undone", "POST", "/api/v1/assets", {**YAML, "content-encoding": "gzip, gzip", **AUTH}, gzip.compress(gzip.compress(GOOD_YAML)), 415, ["one coding"]),
    ("an unknown coding on an empty body", "POST", "/api/v1/validate", {**YAML, "content-encoding": "compress"}, b"", 415, ["compress"]),
    ("deep JSON to similar", "POST", "/api/v1/search/similar", JSON, DEEP_SIMILAR, 400, ["KG_MAX_DEPTH"]),
    ("deep JSON to validate", "POST", "/api/v1/validate", JSON, DEEP_DOCUMENT, 400, ["KG_MAX_DEPTH"]),
    ("deep JSON objects to validate", "POST", "/api/v1/validate", JSON, DEEP_OBJECTS, 400, ["KG_MAX_DEPTH"]),
    ("deep JSON to equivalences", "POST", "/api/v1/equivalences", {**JSON, **AUTH}, DEEP_EQUIVALENCE, 400, ["KG_MAX_DEPTH"]),
    ("deep JSON-LD to assets", "POST", "/api/v1/assets", {"content-type": "application/ld+json", **AUTH}, DEEP_OBJECTS, 400, ["KG_MAX_DEPTH"]),
    ("deep +json media type", "POST", "/api/v1/lineage", {"content-type": "application/vnd.x+json", **AUTH}, DEEP_OBJECTS, 400, ["KG_MAX_DEPTH"]),
    ("deep JSON inside gzip", "POST", "/api/v1/search/similar", {**JSON, **GZIP}, gzip.compress(DEEP_SIMILAR), 400, ["KG_MAX_DEPTH"]),
    ("search offset 10**30", "GET", f"/api/v1/search?q=ranking&offset={BIG}", {}, None, 422, ["offset"]),
    ("search offset past the window", "GET", "/api/v1/search?offset=10001", {}, None, 422, ["10000"]),
    ("search offset of 5000 digits", "GET", "/api/v1/search?offset=" + "9" * 5000, {}, None, 422, ["offset"]),
    ("search offset at the window", "GET", "/api/v1/search?offset=10000", {}, None, 200, ['"hits":[]']),
    ("search limit 10**30", "GET", f"/api/v1/search?limit={BIG}", {}, None, 422, ["limit"]),
    ("search negative offset", "GET", f"/api/v1/search?offset=-{BIG}", {}, None, 422, ["offset"]),
    ("asset list offset 10**30", "GET", f"/api/v1/assets?offset={BIG}", {}, None, 422, ["offset"]),
    ("asset list offset 10**18", "GET", f"/api/v1/assets?offset={10**18}", {}, None, 422, ["offset"]),
    ("asset list limit 10**30", "GET", f"/api/v1/assets?limit={BIG}", {}, None, 422, ["limit"]),
    ("similar limit 10**30", "POST", f"/api/v1/search/similar?limit={BIG}", JSON, b'{"name": "ranking"}', 422, ["limit"]),
    ("lineage depth 10**30", "GET", f"/api/v1/lineage?nodeId=service/homepage&depth={BIG}", {}, None, 422, ["depth"]),
]  # fmt: skip


@pytest.fixture
def bounded(client: TestClient, demo: KnowledgeGraph) -> TestClient:
    demo.settings = demo.settings.model_copy(update={"max_body": LIMIT, "api_tokens": TOKEN})
    return client


@pytest.mark.parametrize(
    ("name", "method", "path", "headers", "body", "status", "words"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_bounds(
    bounded: TestClient,
    demo: KnowledgeGraph,
    name: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any,
    status: int,
    words: list[str],
) -> None:
    before = snapshot(demo)
    content = body() if callable(body) else body
    response = bounded.request(method, path, headers=headers, content=content)
    assert response.status_code == status, response.text[:500]
    for word in words:
        assert word in response.text, (word, response.text[:500])
    if status in (400, 413, 415):
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status and problem["title"] and problem["detail"]
    if status == 415:
        assert response.headers["accept-encoding"] == "gzip, deflate"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert bounded.get("/healthz").json() == {"status": "ok"}
    assert snapshot(demo) == before


@pytest.mark.parametrize(
    ("name", "coding", "encode"),
    [
        ("gzip", "gzip", gzip.compress),
        ("two gzip members", "gzip", lambda b: gzip.compress(b[:10]) + gzip.compress(b[10:])),
        ("deflate (zlib)", "deflate", zlib.compress),
        ("deflate (raw)", "deflate", lambda b: zlib.compress(b, wbits=-15)),
        ("identity", "identity", lambda b: b),
    ],
)
def test_compressed_event_is_received(
    bounded: TestClient,
    demo: KnowledgeGraph,
    name: str,
    coding: str,
    encode: Callable[[bytes], bytes],
) -> None:
    """What the OpenLineage client sends with compression=gzip still lands."""
    job = f"{coding}.{len(name)}.job"
    headers = {**JSON, **AUTH, "content-encoding": coding}
    response = bounded.post("/api/v1/lineage", content=encode(event(job)), headers=headers)
    assert response.status_code == 201, response.text
    assert bounded.get(f"/api/v1/assets/job/spark-prod/{job}").status_code == 200


def test_a_compressed_body_under_the_limit_inflates_up_to_it(
    bounded: TestClient, demo: KnowledgeGraph
) -> None:
    padding = b"#" * (LIMIT - len(GOOD_YAML) - 1) + b"\n"
    document = GOOD_YAML + padding
    assert len(document) == LIMIT
    response = bounded.post(
        "/api/v1/assets", content=gzip.compress(document), headers={**YAML, **GZIP, **AUTH}
    )
    assert response.status_code == 201, response.text
    past = bounded.post(
        "/api/v1/assets", content=gzip.compress(document + b"#"), headers={**YAML, **GZIP, **AUTH}
    )
    assert past.status_code == 413


# ---------------------------------------------------------------- the middleware alone


class Recorder:
    """The app behind the middleware: what it was called with."""

    def __init__(self) -> None:
        self.scope: Scope | None = None
        self.messages: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.messages.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def run_asgi(
    headers: dict[str, str], parts: list[bytes], *, disconnect: bool = False
) -> tuple[Recorder, list[Message], int]:
    """The middleware over a recorder, fed `parts` as http.request messages."""
    app = Recorder()
    middleware = BodyLimits(app, settings=lambda: Settings(memory=True, max_body=LIMIT))
    queue = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1 or disconnect}
        for i, p in enumerate(parts)
    ]
    if disconnect:
        queue.append({"type": "http.disconnect"})
    sent: list[Message] = []
    reads = 0

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        return queue.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/validate",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    anyio.run(middleware, scope, receive, send)
    return app, sent, reads


def split(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def test_a_declared_length_past_the_limit_is_refused_before_reading() -> None:
    app, sent, reads = run_asgi({"content-length": str(LIMIT + 1)}, [b"x" * 10])
    assert reads == 0 and app.scope is None
    assert sent[0]["status"] == 413
    assert b"KG_MAX_BODY" in sent[1]["body"]


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(GOOD_YAML)),
        ("gzip", gzip.compress(GOOD_YAML[:7]) + gzip.compress(GOOD_YAML[7:])),
        ("deflate", zlib.compress(GOOD_YAML)),
        ("deflate", zlib.compress(GOOD_YAML, wbits=-15)),
        ("GZip", gzip.compress(GOOD_YAML)),
        ("identity, gzip", gzip.compress(GOOD_YAML)),
    ],
)
@pytest.mark.parametrize("size", [1, 2, 7, 10_000])
def test_the_app_gets_the_plain_body_in_one_message(coding: str, encoded: bytes, size: int) -> None:
    headers = {"content-type": "application/yaml", "content-encoding": coding}
    app, sent, _ = run_asgi({**headers, "content-length": str(len(encoded))}, split(encoded, size))
    assert sent[0]["status"] == 204
    assert app.messages == [{"type": "http.request", "body": GOOD_YAML, "more_body": False}]
    assert app.scope is not None
    names = [k for k, _ in app.scope["headers"]]
    assert b"content-encoding" not in names
    assert (b"content-length", str(len(GOOD_YAML)).encode()) in app.scope["headers"]


def test_a_client_gone_mid_body_reaches_no_app() -> None:
    app, sent, _ = run_asgi({"content-type": "application/yaml"}, [b"abc"], disconnect=True)
    assert app.scope is None and sent == []


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
@pytest.mark.parametrize("size", [1, 64, 100_000])
def test_a_bomb_never_inflates_past_the_limit_plus_one(coding: str, size: int) -> None:
    plain = b"\0" * (LIMIT * 200)
    bomb = gzip.compress(plain) if coding == "gzip" else zlib.compress(plain)
    inflater = Inflater(coding, LIMIT)
    with pytest.raises(BodyTooLargeError, match="KG_MAX_BODY"):
        for part in split(bomb, size):
            inflater.feed(part)
    assert inflater.size == LIMIT + 1


def test_a_stream_of_exactly_the_limit_is_complete() -> None:
    inflater = Inflater("gzip", LIMIT)
    out = b"".join(inflater.feed(p) for p in split(gzip.compress(b"a" * LIMIT), 3))
    inflater.finish(1)
    assert out == b"a" * LIMIT


def test_a_truncated_stream_is_named() -> None:
    inflater = Inflater("gzip", LIMIT)
    inflater.feed(gzip.compress(b"a" * 1000)[:-4])
    with pytest.raises(InputError, match="truncated"):
        inflater.finish(1)


# ---------------------------------------------------------------- headers and HTML


PAGES = [
    ("home", "/", {}),
    ("SPARQL page", "/sparql", {"accept": "text/html"}),
    ("asset page", "/id/dataset/playback-events-raw", {"accept": "text/html"}),
    ("asset page by IRI", "/asset?id=dataset/playback-events-raw", {}),
    ("lineage page", "/lineage?nodeId=service/homepage", {}),
    ("impact page", "/impact?nodeId=dataset/playback-events-raw", {}),
    ("governance page", "/governance", {}),
    ("API docs", "/docs", {}),
    ("HTML validation report", "/api/v1/validation?format=html", {}),
    ("HTML validation report by Accept", "/api/v1/validation", {"accept": "text/html"}),
]


@pytest.mark.parametrize(("name", "path", "headers"), PAGES, ids=[p[0] for p in PAGES])
def test_html_pages_carry_the_policy(
    client: TestClient, name: str, path: str, headers: dict[str, str]
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    for tag in re.findall(r"<script\b[^>]*>", response.text, re.IGNORECASE):
        assert re.search(r' src="/(portal|vendor)/', tag) or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", response.text, re.IGNORECASE)  # no inline handlers


def test_other_answers_are_not_sniffed(client: TestClient) -> None:
    for response in (
        client.get("/api/v1/stats"),
        client.get("/api/v1/assets/ghost"),
        client.get("/sparql", params={"query": "ASK {}"}),
        client.post("/api/v1/search/similar", content=b"{", headers=JSON),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in response.headers


@pytest.mark.parametrize(("name", "path", "headers"), PAGES[:8], ids=[p[0] for p in PAGES[:8]])
def test_portal_pages_load_only_kg_files(
    client: TestClient, name: str, path: str, headers: dict[str, str]
) -> None:
    page = client.get(path, headers=headers).text
    for tag in re.findall(r"<script\b[^>]*>", page, re.IGNORECASE):
        assert (
            re.search(r' src="/(portal|vendor)/[\w.-]+"', tag) or 'type="application/json"' in tag
        )
    for href in re.findall(r'<link [^>]*href="([^"]*)"', page):
        assert href.startswith(("/portal/", "/vendor/")), href
    block = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page, re.S)
    assert block is not None
    assert "<" not in block[1]  # no `</script>` or `<!--` can end or change the data block
    assert json.loads(block[1])["baseIri"] == "https://w3id.org/mlg/id/"


HOSTILE_IDS = [
    (" ", 400),  # empty once trimmed
    ("%%%", 400),  # not an IRI
    ("a b<>", 404),
    ("javascript:alert(1)", 404),
    ("\x00", 404),
    ("<urn:x", 404),
    ("x" * 20_000, 404),
    ("[" * 5_000 + "]" * 5_000, 404),
]


@pytest.mark.parametrize(("identifier", "status"), HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
def test_a_hostile_asset_id_gets_a_page_that_says_so(
    client: TestClient, identifier: str, status: int
) -> None:
    before = client.get("/api/v1/stats").json()
    response = client.get("/asset", params={"id": identifier})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    block = re.search(
        r'<script type="application/json" id="page-data">(.*?)</script>', response.text, re.S
    )
    assert block is not None and "<" not in block[1]  # the id cannot end the data block
    assert json.loads(block[1])["missing"]  # the page says what is wrong
    assert client.get("/api/v1/stats").json() == before  # nothing written
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "media"),
    [
        ("/portal/app.js", 200, "text/javascript"),
        ("/portal/portal.css", 200, "text/css"),
        ("/portal/icon.svg", 200, "image/svg+xml"),
        ("/portal/other.js", 404, "application/problem+json"),
        ("/portal/__init__.py", 404, "application/problem+json"),
        ("/portal/..%2Fpages.py", 404, None),
        ("/portal/%2E%2E%2Ffiles.py", 404, None),
        ("/vendor/left-pad.js", 404, "application/problem+json"),
        ("/vendor/..%2Fpackage.json", 404, None),
    ],
)
def test_the_portal_serves_its_own_files_only(
    client: TestClient, path: str, status: int, media: str | None
) -> None:
    response = client.get(path)
    assert response.status_code == status, path
    if media is not None:
        assert response.headers["content-type"].startswith(media)
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_api_docs_work_offline(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.headers["content-security-policy"] == CSP
    assert "cdn" not in response.text.lower()
    assert client.get("/redoc").status_code == 404


EVIL = """@prefix mlg: <https://w3id.org/mlg#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/mlg/id/dataset/evil> a mlg:Dataset ; rdfs:label "Evil <b>" ; mlg:status mlg:Active ;
  mlg:owner <https://w3id.org/mlg/id/team/data-platform> ;
  mlg:derivedFrom <javascript:alert(1)> , <JavaScript:alert(2)> , <data:text/html,hi> ,
    <https://example.com/ok> , <urn:x:y> ;
  rdfs:seeAlso <javascript:alert(3)> .
<javascript:alert(4)> a mlg:Dataset ; rdfs:label "js" ;
  mlg:derivedFrom <https://w3id.org/mlg/id/dataset/evil> .
"""


def test_script_iris_are_never_links(client: TestClient, demo: KnowledgeGraph) -> None:
    # loaded around the gate: the unowned `javascript:` dataset must reach the report
    demo.settings = demo.settings.model_copy(update={"gate": GateMode.OFF})
    response = client.post("/api/v1/assets", content=EVIL, headers={"content-type": "text/turtle"})
    assert response.status_code == 201, response.text
    page = client.get("/id/dataset/evil", headers={"accept": "text/html"}).text
    report = client.get("/api/v1/validation?format=html").text
    assert "javascript:alert(4)" in client.get("/api/v1/validation?format=json").text
    for html in (page, report):
        assert not re.search(r'href="\s*(javascript|data|vbscript):', html, re.IGNORECASE)
        for href in re.findall(r'href="([^"]*)"', html):
            assert href.startswith(("/", "http://", "https://", "urn:")), href
    assert "Evil &lt;b&gt; · kg" in page and "<b>" not in page  # the title, escaped
    assert ">js</td>" in report  # the focus node's name, not a link


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/x", True),
        ("HTTP://example.com/x", True),
        ("urn:uuid:1", True),
        (iri("dataset/x"), True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("vbscript:x", False),
        ("file:///etc/passwd", False),
        ("//evil.example/x", False),
        ("_:b0", False),
        ("", False),
    ],
)
def test_only_http_https_and_urn_are_linkable(value: str, expected: bool) -> None:
    assert linkable(value) is expected
