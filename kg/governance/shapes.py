"""Loading shapes, and compiling the ones we can into SPARQL checks run inside the store."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, SH
from rdflib.term import Node

from kg import resources
from kg.errors import InputError
from kg.governance.model import Severity
from kg.vocab import compact

RDFS_COMMENT = URIRef("http://www.w3.org/2000/01/rdf-schema#comment")
RDFS_LABEL = URIRef("http://www.w3.org/2000/01/rdf-schema#label")

# Everything a node or property shape may say for the compiled engine to take it.
_NODE_KEYS = {
    RDF.type, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf,
    SH.property, SH.sparql, SH.severity, SH.message, SH.name, SH.description, SH.deactivated,
    SH.group, SH.order, RDFS_COMMENT, RDFS_LABEL,
}  # fmt: skip
_PROPERTY_KEYS = {
    RDF.type, SH.path, SH.minCount, SH.maxCount, SH["in"], SH["class"], SH.severity,
    SH.message, SH.name, SH.description, SH.deactivated, SH.group, SH.order, RDFS_COMMENT,
    RDFS_LABEL,
}  # fmt: skip
_SPARQL_KEYS = {RDF.type, SH.select, SH.prefixes, SH.message, SH.deactivated, RDFS_COMMENT}
_TYPE_PATH = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>/<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"
FOCUS = "#FOCUS#"


def nt(term: Node) -> str:
    """An rdflib term in N-Triples syntax, as pyoxigraph prints it."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    if isinstance(term, Literal):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
        return str(ox.Literal(str(term), datatype=datatype))
    return str(term)


@dataclass(frozen=True)
class Closure:
    """A rule of the form `?value p o . $this path+ ?value . $this q r` (a production service
    standing on a deprecated asset): a full run can answer it by walking kg's lineage index
    down from the few values, where Oxigraph walks each value's closure in the store
    (kg.governance.closure)."""

    value_test: tuple[str, str]  # (predicate IRI, object IRI) each ?value has
    path: str  # the property walked, one or more times
    this_test: tuple[str, str]  # (predicate IRI, object IRI) each $this has


@dataclass(frozen=True)
class Check:
    """One constraint compiled to a SPARQL SELECT of ?this (and ?value when there is one)."""

    shape: str
    node_shape: str
    component: str
    severity: Severity
    message: str
    path: str | None
    query: str
    # SHACL-SPARQL pre-binds $this. Most rules bind it by a triple pattern in every group that
    # uses it, and then one query over all focus nodes gives the same answer; the others run
    # once per focus node with $this substituted (`targets` lists the focus nodes).
    per_focus: bool = False
    targets: str = ""
    # The same check laid out for a run over every target: the constraint's own selective side
    # first, then each row's ?this looked up as a target (a join with every target makes
    # Oxigraph start from each of them, and a full run has hundreds of thousands).
    full_query: str = ""
    closure: Closure | None = None  # the rule's form when a full run may walk the index

    def sparql(self, focus: Iterable[str] | None) -> str:
        """The check's query: over the focus nodes, or (no focus) over every target."""
        if focus is None and self.full_query:
            return self.full_query
        values = "" if focus is None else "VALUES ?this { " + " ".join(focus) + " }"
        return self.query.replace(FOCUS, values)

    def bound_to(self, node: str) -> str:
        """The rule with $this replaced by `node` (an IRI or literal in N-Triples syntax) in
        its WHERE clause, as SHACL-SPARQL pre-binding does (BOUND($this) becomes true)."""
        match = _WHERE.search(self.query)
        assert match is not None
        body = _BOUND_THIS.sub("(true)", self.query[match.end() :])
        return self.query[: match.end()] + _THIS.sub(lambda _: node, body)

    def focus_sparql(self, focus: Iterable[str] | None) -> str:
        values = "" if focus is None else "VALUES ?this { " + " ".join(focus) + " }"
        return self.targets.replace(FOCUS, values)


@dataclass
class Shapes:
    graph: Graph
    checks: list[Check] = field(default_factory=list)
    fallback: Graph | None = None  # shapes the compiled engine cannot run, for pyshacl
    node_shapes: int = 0
    names: dict[str, str] = field(default_factory=dict)  # shape -> sh:name
    origins: dict[str, str] = field(default_factory=dict)  # node shape -> file it came from
    parents: dict[str, str] = field(default_factory=dict)  # property shape -> its node shape

    @property
    def count(self) -> int:
        return self.node_shapes


def load_shapes(extra: Iterable[Path] = ()) -> Shapes:
    """The shipped shapes plus extra files or folders of Turtle shapes."""
    graph = Graph()
    paths = list(resources.files("shapes", "*.ttl"))
    for item in extra:
        paths.extend(sorted(item.glob("*.ttl")) if item.is_dir() else [item])
    origins: dict[str, str] = {}
    for path in paths:
        part = Graph()
        try:
            part.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises many types for bad Turtle
            raise InputError(f"cannot read shapes: {exc}", source=str(path)) from exc
        for shape in part.subjects(RDF.type, SH.NodeShape):
            origins[nt(shape)] = path.name
        graph += part
    shapes = compile_shapes(graph)
    shapes.origins = origins
    return shapes


class _UnsupportedError(Exception):
    pass


def compile_shapes(graph: Graph) -> Shapes:
    shapes = Shapes(graph=graph)
    shapes.names = {nt(s): str(o) for s, o in graph.subject_objects(SH.name)}
    shapes.parents = {nt(p): nt(s) for s, p in graph.subject_objects(SH.property)}
    fallback_roots: list[Node] = []
    roots = set(graph.subjects(RDF.type, SH.NodeShape))
    roots |= {
        s
        for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
        for s in graph.subjects(p, None)
    }
    for shape in sorted(roots, key=str):
        if (shape, SH.deactivated, Literal(True)) in graph:
            continue
        shapes.node_shapes += 1
        try:
            shapes.checks.extend(_compile_node_shape(graph, shape))
        except _UnsupportedError:
            fallback_roots.append(shape)
    if fallback_roots:
        shapes.fallback = _subgraph(graph, fallback_roots)
    return shapes


def _subgraph(graph: Graph, roots: list[Node]) -> Graph:
    """The shapes to hand to pyshacl: the unsupported roots and all they reference, plus
    prefix declarations."""
    result = Graph()
    seen: set[Node] = set()
    stack = [*roots, *graph.subjects(SH.declare, None)]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in graph.predicate_objects(node):
            result.add((node, p, o))
            if isinstance(o, BNode | URIRef) and p != RDF.type:
                stack.append(o)
    return result


def _severity(graph: Graph, shape: Node) -> Severity:
    value = graph.value(shape, SH.severity)
    return Severity.from_iri(str(value)) if value is not None else Severity.VIOLATION


def _targets(graph: Graph, shape: Node) -> str:
    patterns = []
    for cls in graph.objects(shape, SH.targetClass):
        patterns.append(f"?this {_TYPE_PATH} {nt(cls)} .")
    nodes = list(graph.objects(shape, SH.targetNode))
    if nodes:
        patterns.append("VALUES ?this { " + " ".join(nt(n) for n in nodes) + " }")
    for p in graph.objects(shape, SH.targetSubjectsOf):
        patterns.append(f"?this {nt(p)} ?target_object .")
    for p in graph.objects(shape, SH.targetObjectsOf):
        patterns.append(f"?target_subject {nt(p)} ?this .")
    if not patterns:
        raise _UnsupportedError
    if (shape, RDF.type, URIRef("http://www.w3.org/2000/01/rdf-schema#Class")) in graph:
        raise _UnsupportedError  # implicit class targets
    return " UNION ".join("{ " + p + " }" for p in patterns)


def _focus_block(targets: str) -> str:
    return "{ SELECT DISTINCT ?this WHERE { " + FOCUS + " " + targets + " } }"


def _of_targets(select: str, targets: str) -> str:
    """The rows of `select` whose ?this is a target, one lookup per row: for the few rows a
    constraint's selective side leaves. The nested SELECT keeps Oxigraph from pushing the
    lookup down onto every row the constraint reads."""
    return f"SELECT * WHERE {{ {{\n{select}\n}} FILTER EXISTS {{ {targets} }} }}"


def _compile_node_shape(graph: Graph, shape: Node) -> list[Check]:
    if set(graph.predicates(shape, None)) - _NODE_KEYS:
        raise _UnsupportedError
    targets = _targets(graph, shape)
    checks = []
    for prop in graph.objects(shape, SH.property):
        if (prop, SH.deactivated, Literal(True)) not in graph:
            checks.extend(_compile_property(graph, shape, prop, targets))
    for constraint in graph.objects(shape, SH.sparql):
        if (constraint, SH.deactivated, Literal(True)) not in graph:
            checks.append(_compile_sparql(graph, shape, constraint, targets))
    return checks


def _compile_property(graph: Graph, node_shape: Node, prop: Node, targets: str) -> list[Check]:
    if set(graph.predicates(prop, None)) - _PROPERTY_KEYS:
        raise _UnsupportedError
    path = graph.value(prop, SH.path)
    if not isinstance(path, URIRef):
        raise _UnsupportedError  # complex paths: pyshacl
    p = nt(path)
    focus = _focus_block(targets)
    severity = _severity(graph, prop)
    message = str(graph.value(prop, SH.message) or "")

    every = _focus_block(targets).replace(FOCUS, "")

    def check(component: str, query: str, full: str, default: str) -> Check:
        return Check(
            nt(prop), nt(node_shape), str(SH) + component, severity, message or default, p,
            query, full_query=full,
        )  # fmt: skip

    # The full runs read the property once (a scan, or a hash of its values) rather than look
    # every target up, and test as targets only the rows that break the constraint.
    checks = []
    min_count = graph.value(prop, SH.minCount)
    if min_count is not None:
        least = int(str(min_count))
        grouped = (
            f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {p} ?v }} }} "
            f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {least})"
        )
        checks.append(check(
            "MinCountConstraintComponent",
            grouped,
            # fewer than one value: no value at all, which MINUS finds from one pass over them
            f"SELECT ?this WHERE {{ {every} MINUS {{ ?this {p} ?v }} }}" if least == 1
            else grouped.replace(FOCUS, ""),
            f"Less than {least} values on {{$this}}->{p}",
        ))  # fmt: skip
    max_count = graph.value(prop, SH.maxCount)
    if max_count is not None:
        most = int(str(max_count))
        checks.append(check(
            "MaxCountConstraintComponent",
            f"SELECT ?this WHERE {{ {focus} ?this {p} ?v }} "
            f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {most})",
            _of_targets(
                f"SELECT ?this WHERE {{ ?this {p} ?v }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {most})",
                targets,
            ),
            f"More than {most} values on {{$this}}->{p}",
        ))  # fmt: skip
    members = graph.value(prop, SH["in"])
    if members is not None:
        allowed = [nt(m) for m in Collection(graph, members)]
        same = " || ".join(f"sameTerm(?value, {a})" for a in allowed) or "false"
        checks.append(check(
            "InConstraintComponent",
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus} ?this {p} ?value . "
            f"FILTER(!({same})) }}",
            _of_targets(
                f"SELECT DISTINCT ?this ?value WHERE {{ ?this {p} ?value . FILTER(!({same})) }}",
                targets,
            ),
            f"Value {{?value}} not in list {allowed}",
        ))  # fmt: skip
    for cls in graph.objects(prop, SH["class"]):
        checks.append(check(
            "ClassConstraintComponent",
            f"SELECT DISTINCT ?this ?value WHERE {{ {focus} ?this {p} ?value . "
            f"FILTER NOT EXISTS {{ ?value {_TYPE_PATH} {nt(cls)} }} }}",
            # MINUS: the class's instances once, not a lookup per value
            _of_targets(
                f"SELECT DISTINCT ?this ?value WHERE {{ ?this {p} ?value . "
                f"MINUS {{ ?value {_TYPE_PATH} {nt(cls)} }} }}",
                targets,
            ),
            f"Value does not have class {nt(cls)}",
        ))  # fmt: skip
    return checks


_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_UNSUPPORTED_VARS = re.compile(r"\$(PATH|currentShape|shapesGraph)\b")
# What SHACL-SPARQL forbids around a pre-bound $this (section 5.2.1): left to pyshacl to refuse.
_FORBIDDEN = re.compile(r"\b(MINUS|SERVICE|VALUES)\b|\bAS\s+[?$]this\b", re.IGNORECASE)
_THIS = re.compile(r"[?$]this\b")
# A query's own PREFIX and BASE lines, kept in front when the query is nested in another.
_PROLOGUE = re.compile(
    r"(?:\s*(?:PREFIX\s+[\w.-]*:\s*<[^>]*>|BASE\s*<[^>]*>|#[^\n]*))+\s*", re.IGNORECASE
)
_BOUND_THIS = re.compile(r"\bbound\s*\(\s*[?$]this\s*\)", re.IGNORECASE)
_STRINGS = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*'
)


def _groups(text: str) -> list[tuple[str, str]]:
    """Every {...} group of `text`: (the keyword before it, its text without nested groups)."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[int, list[str]]] = []
    own_start = 0
    for index, char in enumerate(text):
        if char == "{":
            if stack:
                stack[-1][1].append(text[own_start:index])
            stack.append((index, []))
            own_start = index + 1
        elif char == "}" and stack:
            start, parts = stack.pop()
            parts.append(text[own_start:index])
            before = text[:start].rstrip().rsplit(None, 1)
            found.append((before[-1].upper() if before else "", " ".join(parts)))
            own_start = index + 1
    return found


def _needs_substitution(select: str) -> bool:
    """True when joining on ?this could differ from substituting $this: a group uses $this in
    an expression without binding it by a triple pattern of its own."""
    text = _STRINGS.sub('""', select)
    for keyword, own in _groups(text):
        if keyword == "EXISTS":
            continue  # (NOT) EXISTS sees the solution's bindings
        expressions = re.findall(r"\([^()]*(?:\([^()]*\)[^()]*)*\)", own)
        outside = re.sub(r"\([^()]*(?:\([^()]*\)[^()]*)*\)", " ", own)
        if any(_THIS.search(e) for e in expressions) and not _THIS.search(outside):
            return True
    return False


def _prefixes(graph: Graph, constraint: Node) -> str:
    """PREFIX lines from sh:prefixes, following owl:imports as SHACL asks."""
    lines = []
    holders = list(graph.objects(constraint, SH.prefixes))
    seen: set[Node] = set()
    while holders:
        holder = holders.pop()
        if holder in seen:
            continue
        seen.add(holder)
        holders.extend(graph.objects(holder, OWL.imports))
        for declaration in graph.objects(holder, SH.declare):
            prefix = graph.value(declaration, SH.prefix)
            namespace = graph.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines)


def _compile_sparql(graph: Graph, shape: Node, constraint: Node, targets: str) -> Check:
    if set(graph.predicates(constraint, None)) - _SPARQL_KEYS:
        raise _UnsupportedError
    select = graph.value(constraint, SH.select)
    if select is None or _UNSUPPORTED_VARS.search(str(select)) or _FORBIDDEN.search(str(select)):
        raise _UnsupportedError
    if len(re.findall(r"\bSELECT\b", _STRINGS.sub('""', str(select)), re.IGNORECASE)) > 1:
        raise _UnsupportedError  # nested SELECTs scope $this in ways pyshacl handles
    text = str(select).replace("$this", "?this")
    prefixes = _prefixes(graph, constraint)
    message = graph.value(constraint, SH.message) or graph.value(shape, SH.message) or ""
    common = {
        "shape": nt(shape),
        "node_shape": nt(shape),
        "component": str(SH) + "SPARQLConstraintComponent",
        "severity": _severity(graph, shape),
        "message": str(message),
        "path": None,
        "targets": f"SELECT DISTINCT ?this WHERE {{ {FOCUS} {targets} }}",
    }
    if _needs_substitution(str(select)):
        return Check(query=prefixes + "\n" + text, per_focus=True, **common)  # type: ignore[arg-type]
    match = _WHERE.search(text)
    if match is None:
        raise _UnsupportedError
    # For focus nodes, they and the targets go first inside the rule's own WHERE (pre-binding
    # $this, as SHACL-SPARQL asks), so the walk starts from them. A full run evaluates the rule
    # as written, its own selective patterns leading (deprecated assets, say), and then tests
    # each row's $this as a target: joining the targets in makes Oxigraph walk from each.
    injected = text[: match.end()] + " " + _focus_block(targets) + " " + text[match.end() :]
    prologue = _PROLOGUE.match(text)
    own_prefixes, body = (prologue.group(0), text[prologue.end() :]) if prologue else ("", text)
    return Check(
        query=prefixes + "\n" + injected,
        full_query=f"{prefixes}\n{own_prefixes}\n{_of_targets(body, targets)}",
        closure=closure_of(f"{prefixes}\n{own_prefixes}", body),
        **common,  # type: ignore[arg-type]
    )


_TERM = r"(<[^<>\s]*>|[A-Za-z][\w.-]*:[\w.-]*|[A-Za-z]*:[\w.-]+|a)"
_CLOSURE = re.compile(
    rf"""\s*SELECT\s+DISTINCT\s+\?this\s+\?value\s+WHERE\s*\{{
        \s*\?value\s+{_TERM}\s+{_TERM}\s*\.
        \s*\?this\s+{_TERM}\+\s+\?value\s*\.
        \s*\?this\s+{_TERM}\s+{_TERM}\s*\.?
        \s*\}}\s*""",
    re.IGNORECASE | re.VERBOSE,
)
_PREFIX_LINE = re.compile(r"PREFIX\s+([\w.-]*):\s*<([^<>\s]*)>", re.IGNORECASE)


def closure_of(prologue: str, body: str) -> Closure | None:
    """The rule's Closure when its query is exactly that form (no comments, no other pattern),
    its terms IRIs; else None."""
    found = _CLOSURE.fullmatch(body)
    if found is None:
        return None
    namespaces = dict(_PREFIX_LINE.findall(prologue))
    iris: list[str] = []
    for term in found.groups():
        if term == "a":
            iris.append(str(RDF.type))
        elif term.startswith("<"):
            iris.append(term[1:-1])
        else:
            prefix, _, local = term.partition(":")
            if prefix not in namespaces:
                return None
            iris.append(namespaces[prefix] + local)
    value_p, value_o, path, this_p, this_o = iris
    return Closure((value_p, value_o), path, (this_p, this_o))


# -- the rule catalogue: what the shapes check, for people and the portal

_METADATA = {
    RDF.type, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf,
    SH.property, SH.severity, SH.message, SH.name, SH.description, SH.deactivated, SH.group,
    SH.order, RDFS_COMMENT, RDFS_LABEL,
}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """One rule as a report names it (a result's `shape`): a property shape, or a node shape
    with constraints of its own (SHACL-SPARQL, say). `group` is the node shape holding a
    property shape; `targets` the classes it applies to, its own or its group's."""

    id: str
    name: str | None
    description: str | None
    message: str | None
    severity: Severity
    targets: tuple[str, ...]
    group: str | None
    group_name: str | None
    file: str | None

    def as_dict(self) -> dict[str, object]:
        """As the API answers it: IRIs with their CURIE (a report's `shape` is the IRI)."""
        group = None
        if self.group is not None:
            group = {"id": self.group, "curie": compact(self.group), "name": self.group_name}
        return {
            "id": self.id,
            "curie": compact(self.id),
            "name": self.name,
            "description": self.description,
            "message": self.message,
            "severity": self.severity.value,
            "targets": [compact(t) for t in self.targets],
            "group": group,
            "file": self.file,
        }


def _text(graph: Graph, node: Node, *predicates: URIRef) -> str | None:
    """The first of these predicates' values, an English or untagged one first."""
    for predicate in predicates:
        values = [v for v in graph.objects(node, predicate) if isinstance(v, Literal)]
        values.sort(key=lambda v: (v.language not in (None, "en"), str(v)))
        if values:
            return str(values[0])
    return None


def _message(graph: Graph, shape: Node) -> str | None:
    found = _text(graph, shape, SH.message)
    for constraint in graph.objects(shape, SH.sparql):
        found = found or _text(graph, constraint, SH.message)
    return found


def rules(shapes: Shapes) -> list[Rule]:
    """Every active rule of the shapes (shapes with an IRI: a blank node has no name a report
    could give twice), by IRI."""
    graph = shapes.graph

    def active(node: Node) -> bool:
        return (node, SH.deactivated, Literal(True)) not in graph

    def rule(shape: URIRef, group: Node | None) -> Rule:
        holder = group if isinstance(group, URIRef) else None
        targets = {str(c) for c in graph.objects(shape, SH.targetClass)}
        if group is not None:
            targets |= {str(c) for c in graph.objects(group, SH.targetClass)}
        described = (SH.description, RDFS_COMMENT)
        description = _text(graph, shape, *described)
        return Rule(
            id=str(shape),
            name=_text(graph, shape, SH.name, RDFS_LABEL),
            description=description or (_text(graph, group, *described) if group else None),
            message=_message(graph, shape),
            severity=_severity(graph, shape),
            targets=tuple(sorted(targets)),
            group=str(holder) if holder is not None else None,
            group_name=_text(graph, holder, SH.name, RDFS_LABEL) if holder is not None else None,
            file=shapes.origins.get(nt(group if group is not None else shape)),
        )

    found: dict[str, Rule] = {}
    roots = set(graph.subjects(RDF.type, SH.NodeShape))
    roots |= {
        s
        for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
        for s in graph.subjects(p, None)
    }
    for root in sorted(roots, key=str):
        if not active(root):
            continue
        if isinstance(root, URIRef) and set(graph.predicates(root, None)) - _METADATA:
            found[str(root)] = rule(root, None)
        for prop in graph.objects(root, SH.property):
            if isinstance(prop, URIRef) and active(prop):
                found.setdefault(str(prop), rule(prop, root))
    return [found[key] for key in sorted(found)]
