"""The compiled engine against the W3C SHACL test suite, for every test whose shapes it compiles.

The expected results are the suite's own; the suite's other tests go to pyshacl (the fallback),
whose figure comes from ../shared/tools/run_w3c_shacl_suite.py.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import SH

from kg.governance.engines import run_compiled
from kg.governance.model import Severity
from kg.governance.shapes import compile_shapes, nt
from kg.store import GraphWrite, open_store
from tests.conftest import SHARED

SUITE = SHARED / "data" / "shacl-test-suite" / "tests"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")

pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason="../shared is not beside the repo")


def _validate_tests() -> list[tuple[str, Path, Path, Graph, URIRef]]:
    found = []
    for path in sorted(SUITE.rglob("*.ttl")):
        if path.name == "manifest.ttl":
            continue
        graph = Graph().parse(path, format="turtle", publicID=path.resolve().as_uri())
        for test in graph.subjects(RDF.type, SHT.Validate):
            action = graph.value(test, MF.action)
            data = Path(str(graph.value(action, SHT.dataGraph)).removeprefix("file://"))
            shapes = Path(str(graph.value(action, SHT.shapesGraph)).removeprefix("file://"))
            found.append((str(path.relative_to(SUITE)), data, shapes, graph, test))
    return found


def _expected(manifest: Graph, test: URIRef) -> set[tuple[object, ...]]:
    report = manifest.value(test, MF.result)
    keys = set()
    for result in manifest.objects(report, SH.result):

        def one(p: URIRef) -> str | None:
            value = manifest.value(result, p)  # noqa: B023
            return nt(value) if value is not None else None

        shape = one(SH.sourceShape)
        keys.add((
            one(SH.focusNode), one(SH.resultPath), one(SH.value),
            str(manifest.value(result, SH.sourceConstraintComponent)),
            Severity.from_iri(str(manifest.value(result, SH.resultSeverity))).value,
            shape if shape and shape.startswith("<") else None,
        ))  # fmt: skip
    return keys


TESTS = _validate_tests() if SUITE.is_dir() else []


def test_the_compiled_engine_takes_a_real_share_of_the_suite() -> None:
    compiled = [t for t in TESTS if _compiles(t[2])]
    assert len(TESTS) > 100
    assert len(compiled) >= 12


def _compiles(shapes_path: Path) -> bool:
    shapes = compile_shapes(
        Graph().parse(shapes_path, format="turtle", publicID=shapes_path.resolve().as_uri())
    )
    return shapes.fallback is None and bool(shapes.checks)


@pytest.mark.parametrize(
    ("name", "data", "shapes_path", "manifest", "test"), TESTS, ids=[t[0] for t in TESTS]
)
def test_compiled_engine_matches_the_suite(
    name: str, data: Path, shapes_path: Path, manifest: Graph, test: URIRef
) -> None:
    shapes = compile_shapes(
        Graph().parse(shapes_path, format="turtle", publicID=shapes_path.resolve().as_uri())
    )
    if shapes.fallback is not None or not shapes.checks:
        pytest.skip("uses constraints the compiled engine leaves to pyshacl")
    store = open_store(None)
    triples = [q.triple for q in ox.parse(path=data, base_iri=data.resolve().as_uri())]
    store.commit(GraphWrite(replace={ox.NamedNode("urn:test:data"): triples}))
    found = {r.key() for r in run_compiled(store, shapes)}
    assert found == _expected(manifest, test)
