"""The lexical checks of SPARQL text: nesting depth, and the targets of SERVICE and LOAD read as
the SPARQL lexer reads them."""

from __future__ import annotations

import pytest

from kg import sparqltext
from kg.errors import LimitError, OutboundRefusedError

BASE = "http://kg.example/sparql"

TARGETS = [
    # text, expected (keyword, target) pairs
    ("SELECT * WHERE { SERVICE <http://a.example/sparql> { ?s ?p ?o } }",
     [("SERVICE", "http://a.example/sparql")]),
    ("select * { service silent <http://a.example/> {} }", [("SERVICE", "http://a.example/")]),
    ("PREFIX e: <http://e.example/> SELECT * { SERVICE e:sparql {} }",
     [("SERVICE", "http://e.example/sparql")]),
    ("PREFIX : <http://e.example/> SELECT * { SERVICE :x{} }", [("SERVICE", "http://e.example/x")]),
    ("BASE <http://b.example/dir/> SELECT * { SERVICE <../sparql> {} }",
     [("SERVICE", "http://b.example/sparql")]),
    ("SELECT * { SERVICE <relative> {} }", [("SERVICE", "http://kg.example/relative")]),
    (r"SELECT * { SERVICE <\u0068ttp://h.example/> {} }", [("SERVICE", "http://h.example/")]),
    ("SELECT * { SERVICE ?endpoint {} }", [("SERVICE", None)]),
    ("SELECT * { SERVICE undeclared:x {} }", [("SERVICE", None)]),
    ("LOAD <http://l.example/data.ttl> INTO GRAPH <urn:g>", [("LOAD", "http://l.example/data.ttl")]),
    ("LOAD SILENT<http://l.example/d>", [("LOAD", "http://l.example/d")]),
    # not calls: inside strings, IRIs, comments, prefixed names and variables
    ('SELECT * { ?s <http://e.example/SERVICE> "SERVICE <http://a/>" }', []),
    ("SELECT * { ?s ?p ?o } # SERVICE <http://a/> {}", []),
    ("SELECT * { ?s ex:service ?o . ?service ?p ?load }", []),
    ("SELECT * { ?s ?p '''LOAD <http://a/>''' }", []),
    # a comment ended by a carriage return hides nothing after it
    ("SELECT * { ?s ?p ?o } #\rSERVICE <http://a.example/> {}", [("SERVICE", "http://a.example/")]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), TARGETS)
def test_outbound_targets(text: str, expected: list[tuple[str, str | None]]) -> None:
    found = [(c.keyword, c.target) for c in sparqltext.outbound(text, base_iri=BASE)]
    assert found == expected


NESTING = [
    ("SELECT * { ?s ?p ?o }", 1),
    ("SELECT * { { ?s ?p ?o } UNION { ?a ?b ?c } }", 2),
    ('SELECT * { ?s ?p "{{{{{{" }', 1),
    ("SELECT * { ?s ?p ?o FILTER((1 < 2)) }", 3),
    ("INSERT DATA { << << <a> <b> <c> >> <p> <o> >> <q> <r> }", 3),
    ("INSERT DATA { <a> <b> <c> {| <p> [ <q> <r> ] |} }", 3),
    ("SELECT * { ?s ?p ?o } # {{{{", 1),
]


@pytest.mark.parametrize(("text", "depth"), NESTING)
def test_nesting(text: str, depth: int) -> None:
    assert sparqltext.nesting(sparqltext.mask(text))[0] == depth


def test_depth_and_size_limits() -> None:
    deep = "SELECT * WHERE " + "{" * 65 + "}" * 65
    with pytest.raises(LimitError, match="KG_MAX_DEPTH"):
        sparqltext.check_size_and_depth(deep, max_bytes=10_000, max_depth=64, kind="query")
    sparqltext.check_size_and_depth(deep, max_bytes=10_000, max_depth=65, kind="query")
    with pytest.raises(LimitError, match="KG_MAX_QUERY"):
        sparqltext.check_size_and_depth(deep, max_bytes=100, max_depth=100, kind="query")


@pytest.mark.parametrize(
    ("allowed", "trusted", "refused"),
    [
        ([], True, "KG_FEDERATION_ALLOW lists it"),
        (["http://a.example/"], False, "write token"),
        (["http://b.example/"], True, "not under a prefix"),
        (["http://a.example/"], True, None),
    ],
)
def test_check_outbound(allowed: list[str], trusted: bool, refused: str | None) -> None:
    text = "SELECT * { SERVICE <http://a.example/sparql> { ?s ?p ?o } }"
    if refused is None:
        assert sparqltext.check_outbound(text, allowed, trusted=trusted)
        return
    with pytest.raises(OutboundRefusedError, match=refused):
        sparqltext.check_outbound(text, allowed, trusted=trusted)
    assert not sparqltext.check_outbound("ASK {}", [], trusted=False)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("SELECT ?x WHERE { ?x a ex:Thing }", "line 1, column 24: undeclared prefix ex:"),
        ("SELECT ?x WHERE {\n  ?x a ex:Thing ;\n     ex:p ?y }", "line 2, column 8: undeclared prefix ex:"),
        ("PREFIX id: <https://kg.example/id/>\nSELECT * { id:dataset/x ?p ?o }",
         "line 2, column 22: a prefixed name cannot hold '/'"),
        ("SELECT * WHERE { ?s ?p ?o ", "line 1, column 27: expected one of"),
    ],
)  # fmt: skip
def test_syntax_errors_point_into_the_text(text: str, words: str) -> None:
    from kg.errors import QueryError
    from kg.store import open_store

    store = open_store(None)
    with pytest.raises(QueryError) as refused:
        store.query(text)
    assert words in refused.value.message
    assert "\\u{" not in refused.value.message  # no character-class listings
    assert len(refused.value.message) < 400
