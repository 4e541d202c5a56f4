"""The bulk path: a large, trusted file of new assets, parsed and loaded by Oxigraph itself.

The write pipeline (kg.write.pipeline) makes a Python object of every triple to check it,
group it into its asset's graph, derive from it, commit it and index it: about 10 µs a triple.
Here Python reads each line as text once: the subject names the graph, a string test clears
the lines the ontology's checks have nothing to say about (the rest are parsed and checked by
the pipeline's own functions), the derived triples are written beside it, and what the lineage
and search indexes need is kept as strings. The lines, now quads, go to Oxigraph's bulk loader
in one go. The store ends as the pipeline would leave it (tests/write/test_bulk.py).

Only new assets: a file describing an asset the store already has is refused (replacing a
description is the pipeline's job). No gate runs (the input is trusted: `kg validate` after).
Oxigraph's bulk loader is not transactional: when it fails, what it had loaded is removed
before the error is raised, so a refused bulk load leaves the store as it was.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import pyoxigraph as ox

from kg.auth.principal import Principal
from kg.errors import InputError
from kg.graphs import ASSET_GRAPH_PREFIX, DERIVED_GRAPH_PREFIX, LOADS_GRAPH, LOG_GRAPH
from kg.history import record as versioning
from kg.limits import Limits
from kg.ontology import Ontology
from kg.store import GraphStore, GraphWrite, OxigraphStore, to_ntriples
from kg.vocab import MLG, OWNER, RDF_TYPE, RDFS_LABEL, SAME_AS, STAGE, STATUS, compact, value
from kg.write import log, records
from kg.write.pipeline import Stage, literal_warning, refusal
from kg.write.records import LoadReport, Reference

# Formats the bulk path reads: N-Triples as it is, the other default-graph syntaxes turned into
# N-Triples by Oxigraph first. Quads carry graphs of their own: the pipeline keeps those as given.
TRIPLE_FORMATS = (
    ox.RdfFormat.N_TRIPLES,
    ox.RdfFormat.TURTLE,
    ox.RdfFormat.RDF_XML,
    ox.RdfFormat.N3,
)
_WARNINGS_SHOWN = 100
_CHUNK = 50_000  # lines written to the quads file at a time

TYPE_TEXT = f"<{RDF_TYPE.value}>"
SAME_AS_TEXT = f"<{SAME_AS.value}>"
_MLG_TEXT = "<" + MLG
# The statements lineage and search read of an asset: kept, as (predicate, value), per subject.
DESCRIBING = frozenset(
    f"<{p}>"
    for p in (
        RDF_TYPE.value,
        RDFS_LABEL.value,
        OWNER.value,
        STATUS.value,
        STAGE.value,
        "http://purl.org/dc/terms/description",
        "http://www.w3.org/ns/dcat#keyword",
    )
)
# A line the string test reads: subject, predicate, object, all in N-Triples' canonical form.
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_SIMPLE_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'"}


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) > 1:
        return chr(int(code[1:], 16))
    return _SIMPLE_ESCAPES.get(code, code)


def term_value(text: str) -> str:
    """The value of a term in N-Triples form: an IRI without its brackets, a literal's lexical
    form unescaped, a blank node's label as written."""
    if text.startswith("<"):
        return text[1:-1]
    if text.startswith('"'):
        lexical = text[1 : text.rfind('"')]
        return _ESCAPE.sub(_unescape, lexical) if "\\" in lexical else lexical
    return text


# Derived super-classes among an asset's statements: lineage shows them, search does not.
DERIVED_TYPE = "derived " + RDF_TYPE.value


@dataclass
class Added:
    """What a bulk load added, as the indexes need it, held compactly (a million assets' worth):
    every IRI it names (`names`, by number), the lineage edges as stated (subject, property,
    object numbers, three at a time: the index adds owl:sameAs's other way itself) and each IRI
    subject's describing statements as a flat list of (predicate IRI, value) pairs, derived
    super-classes under DERIVED_TYPE."""

    names: list[str] = field(default_factory=list)
    edges: array[int] = field(default_factory=lambda: array("q"))
    described: dict[int, list[str]] = field(default_factory=dict)
    stamp: str = ""

    def statements(self) -> Iterator[tuple[str, list[str]]]:
        """(IRI, flat statements) of each described subject."""
        names = self.names
        for node, flat in self.described.items():
            yield names[node], flat


def pairs(flat: list[str]) -> Iterator[tuple[str, str]]:
    """A flat statement list as (predicate, value) pairs."""
    return zip(flat[::2], flat[1::2], strict=True)


class BulkFollower(Protocol):
    """A structure kept in step with the store that can take a bulk load's additions whole."""

    def bulk_added(self, store: GraphStore, added: Added) -> None: ...


@dataclass(frozen=True)
class _Predicate:
    """What the string test knows of one predicate, worked out once."""

    iri: str
    refused: bool  # the ontology refuses every use (an unknown mlg property)
    literal_checked: bool  # literal objects need the full check
    node_checked: bool  # IRI and blank-node objects need the full check
    supers: tuple[str, ...]  # mlg super-properties, derived
    lineage: bool
    ranged: frozenset[str]  # the classes an mlg object property's target must be of
    reference: bool  # an mlg object property: an untyped target is an unresolved reference
    describing: bool


class _Lines:
    """The line-by-line work: checks, graphs, derived quads and what the indexes need. Terms
    are numbered (`number`) as they come, so each IRI is held once."""

    def __init__(self, ontology: Ontology, limits: Limits, source: str) -> None:
        self.ontology = ontology
        self.limits = limits
        self.source = source
        self.long = min(limits.max_iri, limits.max_literal)
        classes, properties = ontology.materialized
        self.class_supers = {str(c): tuple(map(str, v)) for c, v in classes.items()}
        self.property_supers = {str(p): tuple(map(str, v)) for p, v in properties.items()}
        self.lineage = {f"<{p}>" for p in ontology.lineage_properties}
        self.predicates: dict[str, _Predicate] = {}
        self.mlg_objects: dict[str, bool] = {}  # an mlg IRI as object: does it need the check?
        self.warnings: list[str] = []
        self.ill_typed = 0
        self.added = Added()
        self.ids: dict[str, int] = {}  # an IRI in brackets -> its number in added.names
        self.subjects: dict[int, None] = {}  # IRI subjects, in order
        self.ranged = array("q")  # (s, p, o, line) to check the range of, four at a time
        self.references = array("q")  # (s, p, o) of mlg object properties, three at a time
        # blank nodes: their lines, and who points at them (an IRI, or another blank node)
        self.blank_lines: dict[str, list[tuple[str, str, int]]] = {}
        self.blank_owner: dict[str, str] = {}
        self.triples = 0
        self.derived = 0

    def number(self, term: str) -> int:
        """The number of an IRI (given in brackets)."""
        found = self.ids.get(term)
        if found is None:
            found = self.ids[term] = len(self.added.names)
            self.added.names.append(term[1:-1])
        return found

    def predicate(self, p: str) -> _Predicate:
        found = self.predicates.get(p)
        if found is None:
            iri = p[1:-1]
            ont = self.ontology
            found = _Predicate(
                iri=iri,
                refused=iri.startswith(MLG) and not ont.is_term(iri),
                literal_checked=iri in ont.object_properties or iri in ont.datatype_ranges,
                node_checked=iri in ont.datatype_properties,
                supers=self.property_supers.get(p, ()),
                lineage=p in self.lineage,
                ranged=ont.ranges.get(iri, frozenset()),
                reference=iri.startswith(MLG) and iri in ont.object_properties,
                describing=p in DESCRIBING,
            )
            self.predicates[p] = found
        return found

    def needs_check(self, s: str, p: str, o: str, info: _Predicate, length: int) -> bool:
        """Whether the pipeline's checks could say anything of this line (False: they pass it)."""
        if info.refused or length > self.long:
            return True
        first = o[0]
        if first == '"':
            return info.literal_checked or '"^^<' in o  # typed: its lexical form is checked
        if info.node_checked:
            return True
        if first == "<" and o.startswith(_MLG_TEXT):
            verdict = self.mlg_objects.get(o)
            if verdict is None:
                iri = o[1:-1]
                if p == TYPE_TEXT:
                    verdict = iri not in self.ontology.classes
                else:
                    verdict = not self.ontology.is_term(iri)
                self.mlg_objects[o] = verdict
            return verdict
        return False

    def check(self, s: str, p: str, o: str, number: int) -> None:
        """The pipeline's own checks of one triple (parsed for them)."""
        triple = _parse_line(f"{s} {p} {o} .", self.source, number)
        refused = refusal(triple, self.ontology, self.limits)
        if refused is not None:
            message, setting = refused
            where = f"{message} at line {number} ({setting})" if setting else message
            raise InputError(where, source=self.source, line=number)
        warning = literal_warning(triple, self.ontology)
        if warning:
            self.ill_typed += 1
            if self.ill_typed <= _WARNINGS_SHOWN:
                self.warnings.append(f"{self.source}:{number}: {warning}")

    def line(self, s: str, p: str, o: str, number: int, length: int, out: list[str]) -> None:
        """One line, every case covered (the common one is handled faster in `read`)."""
        info = self.predicate(p)
        if self.needs_check(s, p, o, info, length):
            self.check(s, p, o, number)
        self.triples += 1
        if s[0] == "_":  # a blank node: its graph is its owner's, known once every line is read
            self.blank_lines.setdefault(s, []).append((p, o, number))
            if o[0] == "_":
                self.blank_owner.setdefault(o, s)
            return
        subject = self.number(s)
        self.subjects[subject] = None
        if o[0] == "_":
            self.blank_owner.setdefault(o, s)
        self.emit(s, s, p, o, info, out)
        if o[0] == "<" and (info.lineage or info.ranged or info.reference):
            target, prop = self.number(o), self.number(p)
            if info.lineage:
                self.added.edges.extend((subject, prop, target))
            if info.ranged:
                self.ranged.extend((subject, prop, target, number))
            if info.reference:
                self.references.extend((subject, prop, target))
        if info.describing:
            self.added.described.setdefault(subject, []).extend((info.iri, term_value(o)))

    def read(self, handle: IO[str], output: IO[str]) -> None:
        """Every line of the file. The common line (an IRI subject, canonical form, nothing for
        the checks to look at, no blank node) is handled here with no call per line; any other
        goes through `line`, which does the same with every case covered."""
        out: list[str] = []
        append = out.append
        predicates = self.predicates
        subjects = self.subjects
        ids = self.ids
        number_of = self.number
        edges = self.added.edges
        described = self.added.described
        ranged, references = self.ranged, self.references
        class_supers = self.class_supers
        long = self.long
        asset = f"<{ASSET_GRAPH_PREFIX}"
        derived_asset = f"<{DERIVED_GRAPH_PREFIX}{ASSET_GRAPH_PREFIX}"
        triples = derived = 0
        rdf_type = RDF_TYPE.value
        for line_number, text in enumerate(handle, 1):
            parts = text.split(" ", 2)
            info = predicates.get(parts[1]) if len(parts) == 3 else None
            s = parts[0]
            if (
                info is None
                or info.refused
                or info.node_checked
                or text[-3:] != " .\n"
                or s[0] != "<"
                or s[-1] != ">"
                or "\\" in s
                or len(text) > long
            ):
                terms = _terms(text, line_number, self.source)
                if terms is not None:
                    self.line(*terms, line_number, len(text), out)
                continue
            p = parts[1]
            o = parts[2][:-3]
            first = o[0]
            if first == "<":
                if (
                    "\\" in o
                    or " " in o
                    or o[-1] != ">"
                    or (o.startswith(_MLG_TEXT) and self.needs_check(s, p, o, info, len(text)))
                ):
                    self.line(s, p, o, line_number, len(text), out)
                    continue
            elif first == '"':
                if info.literal_checked or '"^^<' in o:
                    self.line(s, p, o, line_number, len(text), out)
                    continue
            else:  # a blank node as object
                self.line(s, p, o, line_number, len(text), out)
                continue
            triples += 1
            subject = ids.get(s)
            if subject is None:
                subject = number_of(s)
            subjects[subject] = None
            tail = s[1:]
            append(f"{s} {p} {o} {asset}{tail} .\n")
            if first == "<" and (info.lineage or info.ranged or info.reference):
                target = ids.get(o)
                if target is None:
                    target = number_of(o)
                prop = ids.get(p)
                if prop is None:
                    prop = number_of(p)
                if info.lineage:
                    edges.extend((subject, prop, target))
                if info.ranged:
                    ranged.extend((subject, prop, target, line_number))
                if info.reference:
                    references.extend((subject, prop, target))
            if p == TYPE_TEXT:
                supers = class_supers.get(o, ())
                statements = described.get(subject)
                if statements is None:
                    statements = described[subject] = []
                statements += (rdf_type, o[1:-1])
                for cls in supers:
                    append(f"{s} {p} {cls} {derived_asset}{tail} .\n")
                    statements += (DERIVED_TYPE, cls[1:-1])
                derived += len(supers)
            else:
                if p == SAME_AS_TEXT and first == "<":
                    append(f"{o} {p} {s} {derived_asset}{tail} .\n")
                    derived += 1
                else:
                    for prop_text in info.supers:
                        append(f"{s} {prop_text} {o} {derived_asset}{tail} .\n")
                    derived += len(info.supers)
                if info.describing:
                    statements = described.get(subject)
                    if statements is None:
                        statements = described[subject] = []
                    statements += (info.iri, term_value(o))
            if len(out) >= _CHUNK:
                output.writelines(out)
                out.clear()
        self.triples += triples
        self.derived += derived
        self.blanks(out)
        output.writelines(out)

    def emit(self, owner: str, s: str, p: str, o: str, info: _Predicate, out: list[str]) -> None:
        """The quad in its asset's graph and what the pipeline derives from it."""
        graph = f"<{ASSET_GRAPH_PREFIX}{owner[1:]}"
        out.append(f"{s} {p} {o} {graph} .\n")
        derived = f"<{DERIVED_GRAPH_PREFIX}{ASSET_GRAPH_PREFIX}{owner[1:]}"
        if p == TYPE_TEXT:
            supers = self.class_supers.get(o, ())
            for cls in supers:
                out.append(f"{s} {p} {cls} {derived} .\n")
                self.derived += 1
            if s[0] == "<":
                statements = self.added.described.setdefault(self.number(s), [])
                for cls in supers:
                    statements += (DERIVED_TYPE, cls[1:-1])
        elif p == SAME_AS_TEXT and o[0] == "<":
            out.append(f"{o} {p} {s} {derived} .\n")
            self.derived += 1
        else:
            for prop in info.supers:
                out.append(f"{s} {prop} {o} {derived} .\n")
                self.derived += 1

    def owner_of(self, blank: str) -> str | None:
        seen = {blank}
        owner = self.blank_owner.get(blank)
        while owner is not None and owner[0] == "_":
            if owner in seen:
                return None
            seen.add(owner)
            owner = self.blank_owner.get(owner)
        return owner

    def blanks(self, out: list[str]) -> None:
        """The blank nodes' lines, in the graphs of the assets they hang off."""
        for blank, lines in self.blank_lines.items():
            owner = self.owner_of(blank)
            if owner is None:
                raise InputError(
                    f"blank node {blank} is not attached to any asset; give it an IRI",
                    source=self.source,
                    line=lines[0][2],
                )
            for p, o, _ in lines:
                self.emit(owner, blank, p, o, self.predicate(p), out)

    def stated_types(self, node: int) -> list[str] | None:
        """The mlg classes the file states a node is of (None: it states none)."""
        flat = self.added.described.get(node)
        if flat is None:
            return None
        rdf_type = RDF_TYPE.value
        found = [o for p, o in pairs(flat) if p == rdf_type and o.startswith(MLG)]
        return found or None


def _parse_line(text: str, source: str, number: int) -> ox.Triple:
    try:
        found = list(ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES))
    except SyntaxError as exc:
        raise InputError(f"not valid N-Triples: {exc}", source=source, line=number) from exc
    if len(found) != 1:
        raise InputError("expected one triple on the line", source=source, line=number)
    quad: ox.Quad = found[0]
    return quad.triple


def _split(line: str) -> tuple[str, str, str] | None:
    """A line's terms when it is in canonical form (single spaces, ` .` at the end, no
    escapes in IRIs), else None: the line is then parsed properly."""
    if not line.endswith(" .\n"):
        if not line.endswith(" ."):
            return None
        line += "\n"
    parts = line[:-3].split(" ", 2)
    if len(parts) != 3:
        return None
    s, p, o = parts
    if (
        not p.startswith("<")
        or not p.endswith(">")
        or "\\" in p
        or "\\" in s
        or (s[0] != "<" and not s.startswith("_:"))
        or (s[0] == "<" and not s.endswith(">"))
        or " " in p
        or not o
    ):
        return None
    if o[0] == "<" and ("\\" in o or " " in o or not o.endswith(">")):
        return None
    return s, p, o


def _terms(line: str, number: int, source: str) -> tuple[str, str, str] | None:
    """The three terms of one input line (None for a blank or comment line)."""
    split = _split(line)
    if split is not None:
        return split
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    t = _parse_line(stripped, source, number)
    return str(t.subject), str(t.predicate), str(t.object)


def _first_syntax_error(path: Path, source: str) -> InputError | None:
    """Where Oxigraph's parser stops on the input, as an error naming the line."""
    try:
        for _ in ox.parse(path=path, format=ox.RdfFormat.N_TRIPLES):
            pass
    except SyntaxError as exc:
        found = re.search(r"line (\d+)|(\d+):\d+", str(exc))
        line = int(found.group(1) or found.group(2)) if found else None
        return InputError(f"not valid N-Triples: {exc}", source=source, line=line)
    return None


def as_ntriples(path: Path, rdf_format: ox.RdfFormat, base_iri: str | None, folder: Path) -> Path:
    """The file as N-Triples, converted by Oxigraph (a scratch store on disk, then a dump)."""
    if rdf_format == ox.RdfFormat.N_TRIPLES:
        return path
    if rdf_format not in TRIPLE_FORMATS:
        raise InputError(
            "the bulk path reads default-graph formats "
            f"({', '.join(f.name for f in TRIPLE_FORMATS)}); {rdf_format.name} carries named "
            "graphs of its own: load it with `kg load`",
            source=path.name,
        )
    target = folder / f"{path.name}.nt"
    try:
        to_ntriples(path, rdf_format, base_iri, target, folder / "parse")
    except SyntaxError as exc:
        raise InputError(f"not valid {rdf_format.name}: {exc}", source=path.name) from exc
    return target


def plan(path: Path, ontology: Ontology, limits: Limits, source: str, output: IO[str]) -> _Lines:
    """Read the N-Triples file line by line, writing its quads (and the derived ones) to
    `output`; what was read, checked and found is returned."""
    lines = _Lines(ontology, limits, source)
    with path.open(encoding="utf-8") as handle:
        lines.read(handle, output)
    return lines


def check_ranges(lines: _Lines, store: OxigraphStore) -> None:
    """An edge's target must be of the class the property's range gives (when typed, in the
    file or the store), as kg.write.pipeline.check_ranges refuses it."""
    ontology = lines.ontology
    names = lines.added.names
    values = {v: c for c, vs in ontology.individuals.items() for v in vs}
    known: dict[int, tuple[str, ...]] = {}
    fits: dict[tuple[int, tuple[str, ...]], bool] = {}  # (property, target's types) -> in range
    ranged = lines.ranged
    for at in range(0, len(ranged), 4):
        subject, prop, target, number = ranged[at : at + 4]
        types = known.get(target)
        if types is None:
            iri = names[target]
            stated = lines.stated_types(target)
            if stated is not None:
                found = set(stated)
            elif iri in values:
                found = {values[iri]}
            else:
                found = {value(t.object) for t in store.triples(ox.NamedNode(iri), RDF_TYPE, None)}
            types = known[target] = tuple(
                sorted(c for c in found if c.startswith(MLG) and c in ontology.classes)
            )
        if not types:
            continue
        p = names[prop]
        expected = ontology.ranges.get(p, frozenset())
        fit = fits.get((prop, types))
        if fit is None:
            fit = fits[(prop, types)] = all(
                any(ontology.within(c, r) for c in types) for r in expected
            )
        if fit:
            continue
        actual = ontology.specific_type(types) or types[0]
        raise InputError(
            f"{names[subject]} {compact(p)} {names[target]}: {compact(p)} expects "
            f"{' and '.join(compact(r) for r in sorted(expected))}, but {names[target]} is "
            f"{compact(actual)}",
            source=lines.source,
            line=number,
        )


def unresolved(lines: _Lines, store: OxigraphStore) -> list[Reference]:
    """Edges whose target has no type in the file or the store (as the pipeline reports)."""
    names = lines.added.names
    values = {v for vs in lines.ontology.individuals.values() for v in vs}
    typed: dict[int, bool] = {}
    found = []
    references = lines.references
    for at in range(0, len(references), 3):
        subject, prop, target = references[at : at + 3]
        if target not in typed:
            iri = names[target]
            typed[target] = (
                iri in values
                or lines.stated_types(target) is not None
                or next(store.triples(ox.NamedNode(iri), RDF_TYPE, None), None) is not None
            )
        if not typed[target]:
            found.append(Reference(names[subject], names[prop], names[target]))
    return found


def load(
    store: OxigraphStore,
    ontology: Ontology,
    path: Path,
    *,
    rdf_format: ox.RdfFormat = ox.RdfFormat.N_TRIPLES,
    base_iri: str | None = None,
    limits: Limits | None = None,
    followers: list[BulkFollower] | None = None,
    writer: Principal | None = None,
    history: bool = False,
    scratch: Path | None = None,
    progress: Callable[[Stage], None] | None = None,
) -> LoadReport:
    """Load a file of new assets through the bulk path (see the module's notes): checked,
    grouped and derived as the pipeline would, bulk-loaded, recorded in the change log, and
    the followers filled. `scratch` is where the quads file is written (beside the store)."""
    bounds = limits or Limits()
    source = path.name
    folder = Path(tempfile.mkdtemp(prefix="kg-bulk-", dir=scratch))
    try:
        told = progress or (lambda stage: None)
        told("parse")
        triples_file = as_ntriples(path, rdf_format, base_iri, folder)
        quads_file = folder / "load.nq"
        told("check")
        with quads_file.open("w", encoding="utf-8") as output:
            lines = plan(triples_file, ontology, bounds, source, output)
            check_ranges(lines, store)
            names = lines.added.names
            graphs = [f"{ASSET_GRAPH_PREFIX}{names[n]}" for n in lines.subjects]
            if store.has_data():
                existing = store.existing_graphs(graphs)
                if existing:
                    first = sorted(existing)[0].removeprefix(ASSET_GRAPH_PREFIX)
                    raise InputError(
                        f"the bulk path adds new assets, and {len(existing):,} of these are "
                        f"already in the store (the first: {first}): load changes to them with "
                        "`kg load`",
                        source=source,
                    )
            load_iri = ox.NamedNode(f"urn:kg:load:{uuid.uuid4()}")
            wrote = f"<{log.WROTE.value}>"
            record = f"<{load_iri.value}> {wrote} "
            loads = f" <{LOADS_GRAPH.value}> .\n"
            for start in range(0, len(graphs), _CHUNK):
                output.writelines(f"{record}<{g}>{loads}" for g in graphs[start : start + _CHUNK])
        report = LoadReport(load=load_iri.value, sources=[source])
        report.triples, report.derived = lines.triples, lines.derived
        report.assets = len(graphs)
        report.graphs = graphs
        report.warnings = lines.warnings
        if lines.ill_typed > _WARNINGS_SHOWN:
            report.warnings.append(
                f"{source}: {lines.ill_typed - _WARNINGS_SHOWN} more ill-typed literals kept "
                "as given"
            )
        report.unresolved = unresolved(lines, store)
        report.subjects = {names[n] for n in lines.subjects}
        del lines.ranged, lines.references, lines.ids
        told("commit")
        derived = [f"{DERIVED_GRAPH_PREFIX}{g}" for g in graphs]
        try:
            store.bulk_load_file(quads_file, [*graphs, *derived])
        except SyntaxError:
            error = _first_syntax_error(triples_file, source)
            raise error or InputError("the bulk loader refused the input", source=source) from None
        # The load's place in the change log: what a pipeline write adds in its commit.
        report.position = log.head(store) + 1
        new_head, position = log.entries(load_iri, report.position)
        kept = [new_head]
        extra = [position, records.ended(load_iri)]
        extra += records.load_record(load_iri, report.sources, [])
        if writer is not None:
            extra += versioning.writer(load_iri, writer)
        if history:
            kept.append(versioning.since_mark(store, report.position))
        store.commit(GraphWrite(replace={LOG_GRAPH: kept}, drop=[], append=extra))
        told("index")
        lines.added.stamp = log.stamp(report.position, report.load)
        for follower in followers or []:
            follower.bulk_added(store, lines.added)
        return report
    finally:
        shutil.rmtree(folder, ignore_errors=True)
