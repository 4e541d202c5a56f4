"""Inference rules as files: a SPARQL CONSTRUCT with a name and a description.

    # name: experiment-tests
    # description: An experiment tests the model versions produced by the runs of its cells.
    PREFIX mlg: <https://w3id.org/mlg#>
    CONSTRUCT { ?experiment mlg:tests ?version }
    WHERE { ?cell mlg:cellOf ?experiment . ?run mlg:forTestCell ?cell .
            ?version mlg:generatedBy ?run }

Every constructed triple has the same subject variable (the rule's anchor), so that each asset's
conclusions can be replaced alone. The WHERE group is kept as text: kg joins it with the assets
a write touched, once per variable, to find the anchors to recompute.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kg import resources
from kg.errors import InputError
from kg.sparqltext import mask, outbound

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # a rule's name: part of graph names and IRIs
_HEADER = re.compile(r"^#\s*(name|description)\s*:\s*(.*?)\s*$", re.MULTILINE)
_WHERE = re.compile(r"(?<![\w:?$])WHERE\s*\{", re.IGNORECASE)
_VARIABLE = re.compile(r"[?$]([A-Za-z_][\w]*)")
_MAX_RULE_BYTES = 64 * 1024
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

# A template triple: constant terms, or variable names (str).
Pattern = tuple[ox.NamedNode | str, ox.NamedNode | str, ox.NamedNode | ox.Literal | str]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    path: Path
    text: str
    prologue: str  # the PREFIX and BASE declarations
    where: str  # the WHERE group, braces included
    anchor: str  # the variable every constructed triple has as subject
    template: tuple[
        tuple[ox.NamedNode | str, ox.NamedNode | str, ox.NamedNode | ox.Literal | str], ...
    ]
    variables: tuple[str, ...]  # every variable of the WHERE group
    # What a change must touch to change the rule's solutions: the constant predicates of its
    # triple patterns and the constant classes of its `a` patterns; None when a pattern with a
    # variable predicate, a variable class or a property path could match anything.
    premises: frozenset[str] | None = None

    @property
    def iri(self) -> ox.NamedNode:
        return ox.NamedNode(f"urn:kg:rule:{self.name}")

    @property
    def template_variables(self) -> list[str]:
        found = [self.anchor]
        for triple in self.template:
            found += [t for t in triple if isinstance(t, str) and t not in found]
        return found


def _term(node: object, where: str) -> ox.NamedNode | ox.Literal | str:
    if isinstance(node, Variable):
        return str(node)
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    if isinstance(node, BNode):
        raise InputError("a rule's template names IRIs, literals or variables, not blank nodes",
                         source=where)  # fmt: skip
    raise InputError(f"a rule's template cannot hold {node!r}", source=where)


def _premises(algebra: object) -> frozenset[str] | None:
    """The predicates (and `rdf:type <class>` as the class IRI) the WHERE group's patterns name."""
    found: set[str] = set()
    stack = [algebra]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "BGP":
                patterns: list[tuple[object, object, object]] = dict(node).get("triples", [])
                for _, p, o in patterns:
                    if not isinstance(p, URIRef):
                        return None  # a variable predicate or a property path
                    if str(p) == RDF_TYPE:
                        if not isinstance(o, URIRef):
                            return None
                        found.add(str(o))
                    else:
                        found.add(str(p))
            stack.extend(v for k, v in node.items() if k != "template")
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return frozenset(found)


def _matching_brace(masked: str, start: int) -> int:
    depth = 0
    for i in range(start, len(masked)):
        if masked[i] == "{":
            depth += 1
        elif masked[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise InputError("the rule's WHERE group is not closed")


def parse_rule(text: str, path: Path) -> Rule:
    """A rule from its file's text, or an InputError naming the file and what is wrong."""
    where_from = str(path)
    headers = {k: v for k, v in _HEADER.findall(text)}
    name = headers.get("name") or path.stem
    if not NAME.match(name):
        raise InputError(
            f"rule name {name!r}: use lower-case letters, digits and dashes", source=where_from
        )
    if outbound(text):  # a rule runs on every write: it never calls out (SERVICE, LOAD)
        raise InputError("a rule cannot use SERVICE or LOAD", source=where_from)
    try:
        query = prepareQuery(text)
    except Exception as exc:  # rdflib's parser raises pyparsing errors of several kinds
        raise InputError(f"not a SPARQL query: {exc}", source=where_from) from exc
    if query.algebra.name != "ConstructQuery":
        raise InputError("a rule is a SPARQL CONSTRUCT query", source=where_from)
    template = tuple(
        (_term(s, where_from), _term(p, where_from), _term(o, where_from))
        for s, p, o in query.algebra.template
    )
    subjects = {s for s, _, _ in template}
    if not template or len(subjects) != 1 or not isinstance(next(iter(subjects)), str):
        raise InputError(
            "every triple a rule constructs has the same subject variable (the asset its "
            "conclusions are about)",
            source=where_from,
        )
    anchor = next(iter(subjects))
    assert isinstance(anchor, str)
    masked = mask(text)
    found = _WHERE.search(masked)
    if found is None:
        raise InputError("write the rule's pattern after the WHERE keyword", source=where_from)
    opening = found.end() - 1
    closing = _matching_brace(masked, opening)
    if masked[closing + 1 :].strip():
        raise InputError(
            "a rule ends with its WHERE group (no ORDER BY, LIMIT or other modifiers)",
            source=where_from,
        )
    prologue = text[: masked.upper().find("CONSTRUCT")]
    where = text[opening : closing + 1]
    variables = tuple(dict.fromkeys(_VARIABLE.findall(masked[opening : closing + 1])))
    if anchor not in variables:
        raise InputError(f"the WHERE group does not bind ?{anchor}", source=where_from)
    return Rule(
        name=name,
        description=headers.get("description", ""),
        path=path,
        text=text,
        prologue=prologue,
        where=where,
        anchor=anchor,
        template=template,  # type: ignore[arg-type]
        variables=variables,
        premises=_premises(query.algebra),
    )


def read_rule(path: Path) -> Rule:
    try:
        size = path.stat().st_size
        if size > _MAX_RULE_BYTES:
            raise InputError(
                f"a rule of {size} bytes, more than {_MAX_RULE_BYTES}", source=str(path)
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the rule: {exc}", source=str(path)) from exc
    return parse_rule(text, path)


def rule_files(extra: Sequence[Path] = ()) -> list[Path]:
    """The shipped rules, then the user's (files, or folders of *.rq)."""
    found = resources.files("rules", "*.rq")
    for path in extra:
        found += sorted(path.glob("*.rq")) if path.is_dir() else [path]
    return found


def load_rules(paths: Iterable[Path]) -> list[Rule]:
    """Every rule, refusing two of one name."""
    rules: dict[str, Rule] = {}
    for path in paths:
        rule = read_rule(path)
        if rule.name in rules:
            raise InputError(
                f"two rules are named {rule.name!r} ({rules[rule.name].path} and {path})",
                source=str(path),
            )
        rules[rule.name] = rule
    return list(rules.values())
