"""Validation reports in every format people and tools read: W3C RDF (Turtle, JSON-LD), JSON,
HTML, JUnit XML, SARIF 2.1.0, a text table, and a per-team scorecard."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable
from enum import StrEnum
from html import escape

import pyoxigraph as ox

import kg
from kg.governance.model import SH, Report, Result, Severity
from kg.governance.validation import FocusInfo
from kg.vocab import MLG, PROV, RDF_TYPE, XSD, compact, mlg

Shorten = Callable[[str], str]


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    TURTLE = "turtle"
    JSONLD = "jsonld"
    HTML = "html"
    JUNIT = "junit"
    SARIF = "sarif"
    SCORECARD = "scorecard"


MEDIA_TYPES = {
    Format.TEXT: "text/plain; charset=utf-8",
    Format.JSON: "application/json",
    Format.TURTLE: "text/turtle",
    Format.JSONLD: "application/ld+json",
    Format.HTML: "text/html; charset=utf-8",
    Format.JUNIT: "application/xml",
    Format.SARIF: "application/sarif+json",
    Format.SCORECARD: "application/json",
}


_TYPE = RDF_TYPE.value
_GENERATED_AT = ox.NamedNode(PROV + "generatedAtTime")
_ENGINE = mlg("validationEngine")
_RULE_COUNT = mlg("ruleCount")
_DATE_TIME = ox.NamedNode(XSD + "dateTime")
_INTEGER = ox.NamedNode(XSD + "integer")

LINK_SCHEMES = frozenset({"http", "https", "urn"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def linkable(iri: str) -> bool:
    """Whether an IRI may become an `<a href>`: only http, https and urn ones do; every other
    scheme (javascript:, data:, file:...) and anything without one stays text."""
    match = _SCHEME.match(iri)
    return match is not None and match[1].lower() in LINK_SCHEMES


def _iri(term: str | None) -> str:
    return term[1:-1] if term and term.startswith("<") and term.endswith(">") else term or ""


def _term(text: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if text.startswith("<"):
        return ox.NamedNode(text[1:-1])
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    parsed = next(ox.parse(f"<urn:x> <urn:x> {text} .", ox.RdfFormat.N_TRIPLES))
    obj = parsed.object
    assert isinstance(obj, ox.Literal)
    return obj


def to_rdf(report: Report) -> list[ox.Triple]:
    """The report as a W3C sh:ValidationReport."""

    def sh(local: str) -> ox.NamedNode:
        return ox.NamedNode(SH + local)

    root = ox.BlankNode()
    triples = [
        ox.Triple(root, RDF_TYPE, sh("ValidationReport")),
        ox.Triple(
            root,
            sh("conforms"),
            ox.Literal(str(report.conforms()).lower(), datatype=ox.NamedNode(XSD + "boolean")),
        ),
        # when and how it was made, so that a kept report can be read back as it was answered
        ox.Triple(root, _GENERATED_AT, ox.Literal(report.generated_at, datatype=_DATE_TIME)),
        ox.Triple(root, _ENGINE, ox.Literal(report.engine)),
        ox.Triple(root, _RULE_COUNT, ox.Literal(str(report.shapes), datatype=_INTEGER)),
    ]
    for r in report.results:
        node = ox.BlankNode()
        triples += [
            ox.Triple(root, sh("result"), node),
            ox.Triple(node, RDF_TYPE, sh("ValidationResult")),
            ox.Triple(node, sh("focusNode"), _term(r.focus)),
            ox.Triple(node, sh("resultSeverity"), ox.NamedNode(r.severity.iri)),
            ox.Triple(node, sh("sourceConstraintComponent"), ox.NamedNode(r.component)),
            ox.Triple(node, sh("resultMessage"), ox.Literal(r.message)),
        ]
        if r.shape.startswith("<"):
            triples.append(ox.Triple(node, sh("sourceShape"), _term(r.shape)))
        if r.path:
            triples.append(ox.Triple(node, sh("resultPath"), _term(r.path)))
        if r.value:
            triples.append(ox.Triple(node, sh("value"), _term(r.value)))
    return triples


def from_rdf(triples: list[ox.Triple]) -> Report | None:
    """The report `to_rdf` wrote (as `kg validate --save` keeps it), or None when the triples
    hold no sh:ValidationReport. Results whose shape was a blank node come back without one."""
    about: dict[object, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = {}
    for t in triples:
        if not isinstance(t.object, ox.Triple):
            about.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)
    root = next(
        (s for s, p in about.items() if ox.NamedNode(SH + "ValidationReport") in p.get(_TYPE, [])),
        None,
    )
    if root is None:
        return None

    def one(node: object, predicate: str) -> str | None:
        found = about.get(node, {}).get(predicate)
        return str(found[0]) if found else None

    def lexical(node: object, predicate: str) -> str | None:
        found = about.get(node, {}).get(predicate)
        return found[0].value if found else None

    results = []
    for node in about[root].get(SH + "result", []):
        severity = lexical(node, SH + "resultSeverity")
        results.append(
            Result(
                severity=Severity.from_iri(severity or ""),
                shape=one(node, SH + "sourceShape") or "",
                focus=one(node, SH + "focusNode") or "",
                path=one(node, SH + "resultPath"),
                value=one(node, SH + "value"),
                component=lexical(node, SH + "sourceConstraintComponent") or "",
                message=lexical(node, SH + "resultMessage") or "",
            )
        )
    count = lexical(root, _RULE_COUNT.value)
    return Report(
        results=sorted(set(results), key=Result.order),
        shapes=int(count) if count and count.isdigit() else 0,
        engine=lexical(root, _ENGINE.value) or "compiled",
        generated_at=lexical(root, _GENERATED_AT.value) or "",
    )


def _rdf(report: Report, rdf_format: ox.RdfFormat) -> str:
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in to_rdf(report))
    data = (
        ox.serialize(dataset, format=rdf_format, prefixes={"sh": SH, "prov": PROV, "mlg": MLG})
        if rdf_format is ox.RdfFormat.TURTLE
        else ox.serialize(dataset, format=rdf_format)
    )
    return (data or b"").decode("utf-8")


def _result_json(r: Result, info: dict[str, FocusInfo]) -> dict[str, object]:
    about = info.get(r.focus, FocusInfo())
    return {
        "severity": r.severity.value,
        "focusNode": _iri(r.focus),
        "focusLabel": about.label,
        "owners": about.owners,
        "teams": about.teams,
        "path": _iri(r.path) or None,
        "value": _iri(r.value) if r.value else None,
        "shape": _iri(r.shape),
        "component": compact(r.component),
        "message": r.message,
    }


def as_json(report: Report, info: dict[str, FocusInfo], fail_on: Severity) -> dict[str, object]:
    return {
        "conforms": report.conforms(fail_on),
        "failOn": fail_on.value,
        "counts": report.counts(),
        "engine": report.engine,
        "shapes": report.shapes,
        "focusNodes": report.focus_nodes,
        "generatedAt": report.generated_at,
        "results": [_result_json(r, info) for r in report.results],
    }


def scorecard(report: Report, info: dict[str, FocusInfo]) -> dict[str, object]:
    """Results by owning team and rule: who has what to fix."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in report.results:
        teams = info.get(r.focus, FocusInfo()).teams or ["(no owner)"]
        for team in teams:
            table[team][f"{compact(_iri(r.shape))} ({r.severity.value})"] += 1
    return {
        "teams": [
            {"team": team, "total": sum(rules.values()), "rules": dict(sorted(rules.items()))}
            for team, rules in sorted(table.items(), key=lambda item: -sum(item[1].values()))
        ]
    }


def text(report: Report, info: dict[str, FocusInfo], short: Shorten, fail_on: Severity) -> str:
    counts = report.counts()
    verdict = "conforms" if report.conforms(fail_on) else "does not conform"
    lines = [
        f"Validation: {verdict} (fail on {fail_on.value}); "
        f"{counts['violation']} violations, {counts['warning']} warnings, {counts['info']} info",
    ]
    rows = [("severity", "rule", "focus node", "owner", "message")]
    for r in report.results:
        about = info.get(r.focus, FocusInfo())
        rows.append((
            r.severity.value, compact(_iri(r.shape)), short(_iri(r.focus)),
            ", ".join(short(o) for o in about.owners) or "-", r.message,
        ))  # fmt: skip
    if len(rows) > 1:
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            lines.append(
                "  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
            )
    return "\n".join(lines) + "\n"


def html(
    report: Report,
    info: dict[str, FocusInfo],
    short: Shorten,
    names: dict[str, str],
    fail_on: Severity,
) -> str:
    """A page for governance readers: grouped by rule, then severity."""
    counts = report.counts()
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in report.results:
        groups[r.node_shape or r.shape].append(r)
    sections = []
    for shape, results in sorted(
        groups.items(), key=lambda kv: (-max(r.severity.rank for r in kv[1]), kv[0])
    ):
        rows = []
        for r in sorted(results, key=lambda r: (-r.severity.rank, r.focus)):
            about = info.get(r.focus, FocusInfo())
            owners = ", ".join(escape(short(o)) for o in about.owners) or "<em>no owner</em>"
            focus = _iri(r.focus)
            name = escape(about.label or short(focus))
            asset = f'<a href="{escape(focus)}">{name}</a>' if linkable(focus) else name
            severity = escape(r.severity.value)
            rows.append(
                f'<tr class="{severity}"><td>{severity}</td><td>{asset}</td>'
                f"<td>{owners}</td><td>{escape(short(_iri(r.value)) if r.value else '')}</td>"
                f"<td>{escape(r.message)}</td></tr>"
            )
        title = names.get(shape) or compact(_iri(shape))
        sections.append(
            f"<section><h2>{escape(title)} <small>{escape(compact(_iri(shape)))}</small></h2>"
            "<table><tr><th>severity</th><th>asset</th><th>owner</th><th>value</th>"
            "<th>message</th></tr>" + "".join(rows) + "</table></section>"
        )
    verdict = "conforms" if report.conforms(fail_on) else "does not conform"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>kg validation report</title><style>
body{{font-family:system-ui,sans-serif;margin:2em}} table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}
.violation td:first-child{{color:#b00}}
.warning td:first-child{{color:#b60}} small{{color:#666;font-weight:normal}}</style></head><body>
<h1>Validation report</h1><p>The graph {verdict} (fail on {escape(fail_on.value)}):
<strong>{counts["violation"]:d}</strong> violations, <strong>{counts["warning"]:d}</strong>
warnings, <strong>{counts["info"]:d}</strong> info, from {report.shapes:d} rules.</p>
{"".join(sections) or "<p>No results.</p>"}</body></html>
"""


def junit(report: Report, origins: dict[str, str], names: dict[str, str]) -> str:
    """One test suite per shapes file, one test case per rule, a failure per result."""
    by_file: dict[str, dict[str, list[Result]]] = defaultdict(lambda: defaultdict(list))
    for shape, origin in origins.items():
        by_file[origin].setdefault(shape, [])
    for r in report.results:
        shape = r.node_shape or r.shape
        by_file[origins.get(shape, "shapes")][shape].append(r)
    suites = ET.Element("testsuites", name="kg validation")
    for origin, shapes in sorted(by_file.items()):
        failing = sum(1 for results in shapes.values() if results)
        suite = ET.SubElement(
            suites, "testsuite", name=origin, tests=str(len(shapes)), failures=str(failing)
        )
        for shape, results in sorted(shapes.items()):
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_iri(shape),
                name=names.get(shape) or compact(_iri(shape)),
            )
            for r in results:
                failure = ET.SubElement(case, "failure", type=r.severity.value, message=r.message)
                failure.text = f"{r.severity.value}: {_iri(r.focus)}: {r.message}"
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


_SARIF_LEVEL = {Severity.VIOLATION: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def sarif(report: Report, names: dict[str, str]) -> dict[str, object]:
    rules = sorted({r.node_shape or r.shape for r in report.results} | set(names))
    index = {rule: i for i, rule in enumerate(rules)}
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kg",
                "version": kg.__version__,
                "informationUri": "https://w3id.org/mlg",
                "rules": [
                    {"id": compact(_iri(rule)), "name": names.get(rule) or compact(_iri(rule)),
                     "shortDescription": {"text": names.get(rule) or compact(_iri(rule))},
                     "helpUri": _iri(rule) if rule.startswith("<") else "https://w3id.org/mlg"}
                    for rule in rules
                ],
            }},
            "results": [
                {
                    "ruleId": compact(_iri(r.node_shape or r.shape)),
                    "ruleIndex": index[r.node_shape or r.shape],
                    "level": _SARIF_LEVEL[r.severity],
                    "message": {"text": r.message},
                    "locations": [{"logicalLocations": [
                        {"fullyQualifiedName": _iri(r.focus), "kind": "resource"},
                    ]}],
                }
                for r in report.results
            ],
        }],
    }  # fmt: skip


def render(
    report: Report,
    fmt: Format,
    *,
    info: dict[str, FocusInfo],
    short: Shorten,
    names: dict[str, str],
    origins: dict[str, str],
    fail_on: Severity = Severity.VIOLATION,
) -> str:
    if fmt is Format.JSON:
        return json.dumps(as_json(report, info, fail_on), indent=2) + "\n"
    if fmt is Format.SCORECARD:
        return json.dumps(scorecard(report, info), indent=2) + "\n"
    if fmt is Format.TURTLE:
        return _rdf(report, ox.RdfFormat.TURTLE)
    if fmt is Format.JSONLD:
        return _rdf(report, ox.RdfFormat.JSON_LD)
    if fmt is Format.HTML:
        return html(report, info, short, names, fail_on)
    if fmt is Format.JUNIT:
        return junit(report, origins, names)
    if fmt is Format.SARIF:
        return json.dumps(sarif(report, names), indent=2) + "\n"
    return text(report, info, short, fail_on)
