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
