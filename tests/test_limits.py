"""The pre-scanners of kg.limits: what they refuse, where they say it is, and that documents
within the bounds (deep but allowed) still parse."""

from __future__ import annotations

import json
import random

import pyoxigraph as ox
import pytest
import yaml

import kg.limits as limits_module
from kg.config import Settings
from kg.errors import InputError, LimitError
from kg.ingest import parse_document
from kg.limits import (
    DEFAULT_LIMITS,
    BoundedLoader,
    Limits,
    check_json,
    check_rdf_text,
    check_xml,
)

BASE = "https://w3id.org/mlg/id/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
SMALL = Limits(max_depth=4, max_yaml_nodes=50)


def refusal(check: object, data: bytes, limits: Limits = SMALL) -> LimitError:
    with pytest.raises(LimitError) as caught:
        check(data, limits, "doc")  # type: ignore[operator]
    return caught.value


def test_limits_come_from_the_settings() -> None:
    settings = Settings(memory=True, max_depth=7, max_literal=9, max_iri=11, max_yaml_nodes=13)  # type: ignore[call-arg]
    assert Limits.from_settings(settings) == Limits(7, 9, 11, 13)
    assert Limits.from_settings(Settings(memory=True)) == DEFAULT_LIMITS  # type: ignore[call-arg]


# -- JSON


def nested(depth: int, kind: str = "array") -> bytes:
    if kind == "array":
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"a": ' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("kind", ["array", "object"])
def test_json_exactly_at_the_bound_passes_one_past_is_refused(kind: str) -> None:
    check_json(nested(4, kind), SMALL, "doc")
    error = refusal(check_json, nested(5, kind))
    assert error.message == "doc: nesting deeper than 4 levels at line 1 (KG_MAX_DEPTH)"
    assert error.line == 1 and error.status == 400


def test_json_names_the_line_of_the_bracket_past_the_bound() -> None:
    data = b'{"a":\n [\n  [\n   [\n    [1]]]]}'
    assert refusal(check_json, data).line == 5


@pytest.mark.parametrize(
    "text",
    [
        '["[[[[[[[[[["]',  # brackets in a string
        '["\\"[[[[[[[[["]',  # behind an escaped quote
        '["\\\\", "[[[[[[[[[["]',  # an escaped backslash closes nothing
        '{"k[[[[[[[": "v{{{{{{{{"}',
    ],
)
def test_json_strings_hide_their_brackets(text: str) -> None:
    check_json(text.encode(), SMALL, "doc")


def test_json_after_an_escaped_backslash_the_string_ends() -> None:
    assert refusal(check_json, b'["\\\\", [[[[1]]]]]').line == 1


def test_json_default_depth_passes_real_documents() -> None:
    document = {"a": [{"b": [{"c": list(range(10))}]}] * 100}
    check_json(json.dumps(document).encode(), DEFAULT_LIMITS, "doc")
    check_json(nested(64), DEFAULT_LIMITS, "doc")
    with pytest.raises(LimitError):
        check_json(nested(65), DEFAULT_LIMITS, "doc")


def _reference_line(data: bytes, limit: int) -> int | None:
    """A byte-by-byte reading of the same rules (an escape outside a string counts as one)."""
    depth, i = 0, 0
    while i < len(data):
        c = data[i]
        if c == 0x5C and data[i + 1 : i + 2] in (b"\\", b'"'):
            i += 2
            continue
        if c == 0x22:
            i += 1
            while i < len(data) and data[i] != 0x22:
                i += 2 if data[i] == 0x5C else 1
        elif c in b"[{":
            depth += 1
            if depth > limit:
                return data.count(b"\n", 0, i) + 1
        elif c in b"]}":
            depth -= 1
        i += 1
    return None


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_json_chunked_scan_agrees_with_a_byte_by_byte_reading(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits_module, "_CHUNK", chunk)
    rng = random.Random(chunk)  # noqa: S311 (a reproducible test input, not a secret)
    for _ in range(3000):
        data = bytes(rng.choice(b'[[{]}"\\\\\n a') for _ in range(rng.randint(0, 24)))
        limit = rng.randint(0, 3)
        try:
            check_json(data, Limits(max_depth=limit), "doc")
            got = None
        except LimitError as exc:
            got = exc.line
        assert got == _reference_line(data, limit), data


# -- RDF/XML


def rdfxml(body: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{prolog}<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:e="http://e/">\n'
        f"{body}\n</rdf:RDF>\n"
    ).encode()


def nested_xml(levels: int) -> bytes:
    """RDF/XML whose elements nest `levels` deep (rdf:RDF and the outer description count)."""
    inner = levels - 2  # property/description pairs below the outer description
    body = "<e:p><rdf:Description>" * (inner // 2) + "<e:p>x</e:p>"
    body += "</rdf:Description></e:p>" * (inner // 2)
    return rdfxml(f'<rdf:Description rdf:about="http://e/s">{body}</rdf:Description>')


def test_xml_depth_at_the_bound_parses_and_one_past_is_refused() -> None:
    limits = Limits(max_depth=11)
    good = nested_xml(11)
    assert check_xml(good, limits, "doc") is None
    batch = parse_document(
        good, source="doc", base_iri=BASE, media_type="application/rdf+xml", limits=limits
    )
    assert len(batch.triples) == 5
    error = refusal(check_xml, nested_xml(13), limits)
    assert "nesting of XML elements deeper than 11 levels" in error.message
    assert "KG_MAX_DEPTH" in error.message and error.line == 3


def test_xml_with_a_dtd_is_refused_before_any_entity_is_declared() -> None:
    prolog = '<!DOCTYPE rdf:RDF [\n<!ENTITY e "http://e/">\n]>\n'
    with pytest.raises(InputError, match="declares a DTD") as caught:
        check_xml(rdfxml('<rdf:Description rdf:about="&e;s"/>', prolog), DEFAULT_LIMITS, "doc")
    assert caught.value.line == 2


def test_xml_with_an_external_doctype_only_passes() -> None:
    data = rdfxml('<rdf:Description rdf:about="http://e/s"/>', '<!DOCTYPE rdf:RDF SYSTEM "x">\n')
    assert check_xml(data, DEFAULT_LIMITS, "doc") is None


def test_xml_cut_short_is_refused_at_every_cut() -> None:
    whole = rdfxml('<rdf:Description rdf:about="http://e/s"><e:p>v</e:p></rdf:Description>')
    end = whole.index(b"</rdf:RDF>") + len(b"</rdf:RDF>")
    for cut in range(1, end):
        with pytest.raises(InputError):
            parse_document(
                whole[:cut], source="doc", base_iri=BASE, media_type="application/rdf+xml"
            )
    batch = parse_document(whole, source="doc", base_iri=BASE, media_type="application/rdf+xml")
    assert len(batch.triples) == 1


def test_xml_cut_between_elements_says_so_with_its_line() -> None:
    whole = rdfxml('<rdf:Description rdf:about="http://e/s"><e:p>v</e:p></rdf:Description>')
    cut = whole[: whole.index(b"</rdf:RDF>")]
    assert len(list(ox.parse(cut, ox.RdfFormat.RDF_XML))) == 1  # what pyoxigraph alone does
    with pytest.raises(InputError, match="ends before it is complete") as caught:
        parse_document(cut, source="doc", base_iri=BASE, media_type="application/rdf+xml")
    assert caught.value.line == 4


def test_xml_broken_before_the_root_is_refused_by_the_scan() -> None:
    with pytest.raises(InputError, match="RDF/XML syntax error"):
        check_xml(b"<?xml version='1.0' encoding='nope'?>\n<a/>", DEFAULT_LIMITS, "doc")


def test_xml_of_white_space_is_an_empty_load() -> None:
    assert check_xml(b"  \n", DEFAULT_LIMITS, "doc") is None


# -- Turtle family


PREFIX = b"@prefix : <http://e/> .\n"


def bnodes(depth: int) -> bytes:
    return PREFIX + b":s :p " + b"[ :p " * depth + b":o" + b" ]" * depth + b" .\n"


def triple_terms(depth: int) -> bytes:
    return PREFIX + b":s :p\n" + b"<<( :s :p " * depth + b":o" + b" )>>" * depth + b" .\n"


@pytest.mark.parametrize(
    "make",
    [
        bnodes,
        triple_terms,
        lambda d: PREFIX + b":s :p " + b"( " * d + b":o" + b" )" * d + b" .\n",
        lambda d: PREFIX + b":s :p :o " + b"{| :q :r " * d + b"|}" * d + b" .\n",
        lambda d: PREFIX + b"<< " * d + b":s :p :o" + b" >> :q :r" * d + b" .\n",
    ],
)
def test_turtle_nesting_at_the_bound_parses_one_past_is_refused(make: object) -> None:
    limits = Limits(max_depth=4)
    at_bound = make(4)  # type: ignore[operator]
    check_rdf_text(at_bound, limits, "doc")
    assert list(ox.parse(at_bound, ox.RdfFormat.TURTLE))
    assert "KG_MAX_DEPTH" in refusal(check_rdf_text, make(5), limits).message  # type: ignore[operator]


def test_turtle_names_the_line() -> None:
    assert refusal(check_rdf_text, triple_terms(5)).line == 3


@pytest.mark.parametrize(
    "text",
    [
        b':s :p "[[[[[[[[" .',
        b':s :p """\n((((((((\n""" .',
        b":s :p '''[[[[[[''' .",
        b':s :p "\\"[[[[[[[[" .',
        b":s :p <http://e/((((((((> .",
        b"# [[[[[[[[\n:s :p :o .",
        b":s :p :a\\(\\(\\(\\(\\(\\( .",
    ],
)
def test_turtle_strings_iris_comments_and_escapes_hide_brackets(text: bytes) -> None:
    check_rdf_text(PREFIX + text + b"\n", SMALL, "doc")


def test_turtle_an_iri_right_after_a_reified_triple_is_read_as_one() -> None:
    check_rdf_text(PREFIX + b"<<<http://e/[[[[[[[[> :p :o>> :q :r .\n", SMALL, "doc")


def test_n_triples_triple_terms_are_bounded() -> None:
    term = b"<<( <http://e/s> <http://e/p> "
    data = b"<http://e/s> <http://e/p> " + term * 5 + b"<http://e/o>" + b" )>>" * 5 + b" .\n"
    assert refusal(check_rdf_text, data).line == 1


def test_turtle_with_few_openers_is_not_tokenized(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits_module, "_RDF_TOKENS", None)  # would fail if used
    check_rdf_text(PREFIX + b":s :p [ :q ( :a :b ) ] .\n" * 2, Limits(max_depth=4), "doc")


# -- YAML


def load(text: str, limits: Limits = SMALL) -> object:
    loader = BoundedLoader(text, limits, "doc")
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def test_yaml_depth_at_the_bound_loads_one_past_is_refused() -> None:
    assert load("[[[[1]]]]") == [[[[1]]]]
    with pytest.raises(
        LimitError, match=r"nesting deeper than 4 levels at line 1 \(KG_MAX_DEPTH\)"
    ):
        load("[[[[[1]]]]]")
    block = "a:\n  b:\n    c:\n      d: 1\n"
    assert load(block) == {"a": {"b": {"c": {"d": 1}}}}
    with pytest.raises(LimitError) as caught:
        load(block.replace("d: 1", "d:\n        e: 1"))
    assert caught.value.line == 5
    assert load("[[[&a [1]]], [*a]]")  # an alias nests what it repeats where it is used


def test_yaml_very_deep_is_refused_without_recursion_error() -> None:
    with pytest.raises(LimitError):
        load("[" * 100_000 + "]" * 100_000, DEFAULT_LIMITS)


def test_yaml_aliases_count_with_what_they_repeat() -> None:
    fan = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a]\n"
    assert load(fan, Limits(max_yaml_nodes=60))
    with pytest.raises(LimitError, match="KG_MAX_YAML_NODES") as caught:
        load(fan, Limits(max_yaml_nodes=40))
    assert caught.value.line == 2


def test_yaml_alias_bomb_is_refused_fast_with_a_short_message() -> None:
    parts = ["&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    with pytest.raises(LimitError) as caught:
        load("- [" + ",\n   ".join(parts) + "]\n", DEFAULT_LIMITS)
    assert "more than 1000000 nodes" in caught.value.message
    assert len(caught.value.message) < 300


def test_yaml_aliases_followed_are_bounded_in_depth_too() -> None:
    chain = "\n".join(["k0: &a0 [x]"] + [f"k{i}: &a{i} [*a{i - 1}]" for i in range(1, 6)])
    with pytest.raises(LimitError, match="YAML aliases followed"):
        load(chain)
    assert load(chain, Limits(max_depth=8))


def test_yaml_recursive_alias_is_refused() -> None:
    with pytest.raises(LimitError, match="contains it"):
        load("a: &a [1, *a]")


def test_yaml_multi_documents_are_each_bounded() -> None:
    loader = BoundedLoader("a: 1\n---\n" + "[" * 5 + "]" * 5, SMALL, "doc")
    try:
        assert loader.get_data() == {"a": 1}
        with pytest.raises(LimitError):
            loader.get_data()
    finally:
        loader.dispose()


def test_yaml_safe_loading_is_kept() -> None:
    with pytest.raises(yaml.YAMLError):
        load("!!python/object/apply:os.system ['true']")


# -- after parsing: literal and IRI sizes, datatypes


XSD = "http://www.w3.org/2001/XMLSchema#"
MLG = "https://w3id.org/mlg#"


def checked(statements: str, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    from kg.ontology import default_ontology
    from kg.write.pipeline import check

    text = f"@prefix mlg: <{MLG}> . @prefix xsd: <{XSD}> .\n{statements}\n"
    batch = parse_document(text.encode(), source="doc.ttl", base_iri=BASE, limits=limits)
    warnings = check(batch, default_ontology())
    assert batch.warnings == warnings
    return warnings


def test_literals_and_iris_at_their_limits_pass_one_more_character_is_refused() -> None:
    limits = Limits(max_literal=10, max_iri=len(BASE) + 21)  # xsd:string is 39 characters
    assert checked(f'<{BASE}{"a" * 21}> mlg:platform "{"x" * 10}" .', limits) == []
    with pytest.raises(LimitError) as caught:
        checked(f'<{BASE}a> mlg:email "x" ;\n  mlg:platform "{"x" * 11}" .', limits)
    assert caught.value.message == (
        "doc.ttl: a literal of 11 characters on mlg:platform, longer than 10 at line 3 "
        "(KG_MAX_LITERAL)"
    )
    with pytest.raises(LimitError, match=r"an IRI of 46 characters .* \(KG_MAX_IRI\)"):
        checked(f'<{BASE}{"a" * 22}> mlg:platform "x" .', limits)


def test_sizes_are_checked_inside_triple_terms_and_graph_names() -> None:
    from kg.ontology import default_ontology
    from kg.write.pipeline import check

    limits = Limits(max_literal=5, max_iri=30)
    inner = ox.Triple(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("x" * 6))
    batch = parse_document(b"", source="doc.ttl", base_iri=BASE)
    batch.triples.append(ox.Triple(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), inner))
    with pytest.raises(LimitError, match="KG_MAX_LITERAL"):
        check(batch, default_ontology(), limits)
    batch = parse_document(b"", source="doc.ttl", base_iri=BASE)
    batch.named_graphs[ox.NamedNode("http://e/" + "g" * 30)] = []
    with pytest.raises(LimitError, match="KG_MAX_IRI"):
        check(batch, default_ontology(), limits)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ('mlg:observedAt "yesterday"^^xsd:dateTime', 'mlg:observedAt expects xsd:dateTime: "yesterday" is not a valid xsd:dateTime'),
        ('mlg:observedAt "2026-02-30T10:00:00Z"^^xsd:dateTime', "is not a valid xsd:dateTime"),
        ('mlg:observedAt "2026-11-30"^^xsd:date', 'mlg:observedAt expects xsd:dateTime, not "2026-11-30" (xsd:date)'),
        ("mlg:platform 5", 'mlg:platform expects xsd:string, not "5" (xsd:integer)'),
        ('mlg:platform "s3"@en', "mlg:platform expects xsd:string"),
    ],
)  # fmt: skip
def test_a_datatype_the_ontology_fixes_is_enforced(statement: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        checked(f"<{BASE}a> a mlg:Dataset ;\n  {statement} .")
    assert message in caught.value.message
    assert caught.value.line == 3


@pytest.mark.parametrize(
    "statement",
    [
        'mlg:observedAt "2026-11-30T10:00:00Z"^^xsd:dateTime',
        'mlg:observedAt "2026-11-30T10:00:00.5+01:00"^^xsd:dateTimeStamp',  # derived from it
        'mlg:platform "s3"',
        'mlg:platform "s3"^^xsd:string',
    ],
)
def test_literals_of_the_fixed_datatype_pass(statement: str) -> None:
    assert checked(f"<{BASE}a> a mlg:Dataset ; {statement} .") == []


def test_ill_typed_literals_the_ontology_leaves_open_are_reported_not_refused() -> None:
    warnings = checked(
        f'<{BASE}a> <http://e/rows> "abc"^^xsd:integer ;\n'
        f'  <http://e/at> "yesterday"^^xsd:dateTime ;\n  <http://e/ok> "5"^^xsd:integer .'
    )
    assert warnings == [
        'doc.ttl:2: ill-typed literal "abc" on http://e/rows: not a valid xsd:integer '
        "(kept as given)",
        'doc.ttl:3: ill-typed literal "yesterday" on http://e/at: not a valid xsd:dateTime '
        "(kept as given)",
    ]


def test_many_ill_typed_literals_are_counted_past_the_first_hundred() -> None:
    statements = " ".join(f'<{BASE}a> <http://e/n{i}> "x"^^xsd:integer .' for i in range(150))
    warnings = checked(statements)
    assert len(warnings) == 101
    assert warnings[-1] == "doc.ttl: 50 more ill-typed literals kept as given"


def test_the_load_report_carries_warnings_only_when_there_are_some() -> None:
    from kg.write.pipeline import LoadReport

    report = LoadReport(load="urn:kg:load:x", sources=["doc"])
    assert "warnings" not in report.as_dict()
    report.warnings = ["doc:1: ill-typed literal"]
    assert report.as_dict()["warnings"] == ["doc:1: ill-typed literal"]


@pytest.mark.parametrize(
    ("datatype", "text", "valid"),
    [
        ("integer", "-42", True), ("integer", "4.2", False), ("integer", " 42", False), ("integer", "\u0663", False),
        ("byte", "-128", True), ("byte", "128", False), ("unsignedLong", "18446744073709551615", True),
        ("unsignedLong", "18446744073709551616", False), ("nonNegativeInteger", "9" * 5000, True),
        ("long", "9" * 5000, False), ("positiveInteger", "0", False), ("negativeInteger", "-1", True),
        ("decimal", "-.5", True), ("decimal", "1e5", False), ("double", "-1.5E-3", True),
        ("double", "INF", True), ("float", "NaN", True), ("float", "nan", False),
        ("boolean", "0", True), ("boolean", "TRUE", False),
        ("date", "2024-02-29", True), ("date", "2023-02-29", False), ("date", "2000-02-29Z", True),
        ("date", "1900-02-29", False), ("date", "-0044-03-15", True), ("date", "2024-4-01", False),
        ("dateTime", "2024-01-01T24:00:00", True), ("dateTime", "2024-01-01T10:00", False),
        ("dateTime", "2024-01-01T10:00:00+14:00", True), ("dateTime", "2024-01-01T10:00:00+14:30", False),
        ("dateTimeStamp", "2024-01-01T10:00:00", False), ("time", "23:59:59.999", True),
        ("gYear", "2024", True), ("gYear", "224", False), ("gYearMonth", "2024-12", True),
        ("duration", "P1Y2M3DT4H5M6.7S", True), ("duration", "P", False), ("duration", "PT", False),
        ("duration", "P1DT", False), ("duration", "-PT0.5S", True), ("dayTimeDuration", "P1M", False),
        ("yearMonthDuration", "P2Y", True), ("anyURI", "http://e/x#y", True), ("anyURI", "a b", False),
        ("string", "\u00e9 anything", True), ("hexBinary", "not checked", True),
    ],
)  # fmt: skip
def test_lexical_forms(datatype: str, text: str, valid: bool) -> None:
    from kg.ontology import valid_lexical

    assert valid_lexical(XSD + datatype, text) is valid


def test_derived_datatypes() -> None:
    from kg.ontology import derives_from

    assert derives_from(XSD + "unsignedByte", XSD + "decimal")
    assert derives_from(XSD + "dateTimeStamp", XSD + "dateTime")
    assert not derives_from(XSD + "decimal", XSD + "integer")
    assert derives_from(XSD + "gYear", "http://www.w3.org/2000/01/rdf-schema#Literal")
