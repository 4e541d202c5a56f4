"""Rule files: what makes one, and what is refused, naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import InputError
from kg.inference.rules import load_rules, parse_rule, rule_files

PREFIX = "PREFIX mlg: <https://w3id.org/mlg#>\n"
GOOD = PREFIX + "CONSTRUCT { ?v mlg:trainedOn ?d } WHERE { ?v mlg:generatedBy ?r . ?r mlg:used ?d }"


def test_a_rule_has_its_name_description_anchor_and_variables() -> None:
    text = "# name: trained\n# description: What its run used.\n" + GOOD
    rule = parse_rule(text, Path("x.rq"))
    assert (rule.name, rule.description, rule.anchor) == ("trained", "What its run used.", "v")
    assert rule.variables == ("v", "r", "d")
    assert rule.template_variables == ["v", "d"]
    assert rule.where.startswith("{") and rule.where.endswith("}")


def test_without_a_name_header_the_file_names_the_rule() -> None:
    assert parse_rule(GOOD, Path("rules/from-file.rq")).name == "from-file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PREFIX + "SELECT ?v WHERE { ?v mlg:used ?d }", "CONSTRUCT"),
        (
            PREFIX + "CONSTRUCT { ?v mlg:used ?d . ?d mlg:used ?v } WHERE { ?v mlg:used ?d }",
            "same subject variable",
        ),
        (
            PREFIX + "CONSTRUCT { <urn:x> mlg:used ?d } WHERE { ?v mlg:used ?d }",
            "same subject variable",
        ),
        (PREFIX + "CONSTRUCT { ?v mlg:used ?d } WHERE { ?v mlg:used ?d } LIMIT 3", "modifiers"),
        (
            PREFIX
            + "CONSTRUCT { ?v mlg:used ?d } WHERE { SERVICE <http://e.example/> { ?v mlg:used ?d } }",
            "SERVICE",
        ),
        (PREFIX + "CONSTRUCT { ?v mlg:used ?d } WHERE { ?v mlg:used ", "not a SPARQL query"),
        ("# name: Bad Name\n" + GOOD, "rule name"),
        (PREFIX + "CONSTRUCT { ?v mlg:used _:b } WHERE { ?v mlg:used ?d }", "blank nodes"),
    ],
)
def test_what_is_not_a_rule_is_refused_naming_the_file(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        parse_rule(text, Path("bad.rq"))
    assert caught.value.source == "bad.rq"


def test_two_rules_of_one_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.rq").write_text("# name: same\n" + GOOD)
    (tmp_path / "b.rq").write_text("# name: same\n" + GOOD)
    with pytest.raises(InputError, match="two rules are named 'same'"):
        load_rules(rule_files([tmp_path]))


def test_the_shipped_rules_load() -> None:
    names = {rule.name for rule in load_rules(rule_files())}
    assert {"experiment-tests", "version-trained-on", "version-uses-features"} <= names
