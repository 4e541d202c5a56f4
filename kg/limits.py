"""Bounds every input document meets before a parser sees it, and after.

The parsers kg relies on are not all safe on hostile input: pyoxigraph's JSON-LD and
RDF 1.2 triple-term parsers recurse (a few thousand levels overflow the native stack and kill
the process), its RDF/XML parser expands DTD entities without bound ("billion laughs"), and
Python's json and PyYAML recurse too (RecursionError) while PyYAML expands aliases without
bound. So each document is scanned first, by pure and fast checks that read it once:

- JSON (request bodies, JSON-LD, native JSON, DataHub, OpenLineage): nesting of arrays and
  objects, strings skipped with their escapes (`check_json`);
- RDF/XML: no DOCTYPE with an internal subset and no entity declaration (RDF/XML needs no DTD),
  element nesting, and the document well-formed to its end (a truncated document is refused,
  not read as the triples before the cut) (`check_xml`);
- Turtle, TriG, N-Triples, N-Quads: nesting of `[`, `(`, `<<`, `<<(` and `{|` outside strings,
  IRIs and comments (`check_rdf_text`);
- YAML (native asset documents, Backstage catalogs): `load_yaml` composes the node graph first,
  refusing nesting past the depth and documents whose aliases expand past `max_yaml_nodes`
  (each alias counted with its whole subtree, memoised so the count stays cheap), before any
  Python object is built.

Every refusal is a LimitError (HTTP 400) naming the limit and its setting, with the line where
it was passed, and never echoes the document.

After parsing, the pipeline's check (kg.write.pipeline.check) bounds what the parsers gave: literals
longer than `max_literal` characters and IRIs longer than `max_iri` are refused; a literal of a
datatype property whose XSD datatype the ontology fixes (rdfs:range) must be of that datatype
with a valid lexical form, else it is refused; an ill-typed literal elsewhere
("abc"^^xsd:integer on a property kg does not govern) is kept, as RDF allows, and reported as
a warning of the load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Final, NoReturn
from xml.parsers import expat

import yaml
from yaml.events import CollectionStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kg.errors import InputError, LimitError

if TYPE_CHECKING:
    from kg.config import Settings


@dataclass(frozen=True)
class Limits:
    """The bounds of one input (kg.config.Settings: KG_MAX_DEPTH, KG_MAX_LITERAL, KG_MAX_IRI,
    KG_MAX_YAML_NODES)."""

    max_depth: int = 64
    max_literal: int = 1024 * 1024
    max_iri: int = 8192
    max_yaml_nodes: int = 1_000_000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_depth=settings.max_depth,
            max_literal=settings.max_literal,
            max_iri=settings.max_iri,
            max_yaml_nodes=settings.max_yaml_nodes,
        )


DEFAULT_LIMITS: Final = Limits()


def limit_error(message: str, setting: str, source: str | None, line: int | None) -> LimitError:
    """A LimitError reading `source: <message> at line N (SETTING)`, its line kept for the
    HTTP problem's `line`."""
    where = f" at line {line}" if line is not None else ""
    error = LimitError(f"{message}{where} ({setting})", source=source)
    error.line = line
    return error


def too_deep(limits: Limits, source: str | None, line: int | None, what: str = "") -> LimitError:
    """`nesting deeper than N levels` (of `what`, when given) at the line, naming KG_MAX_DEPTH."""
    of = f" {what}" if what else ""
    return limit_error(
        f"nesting{of} deeper than {limits.max_depth} levels", "KG_MAX_DEPTH", source, line
    )


def _line_at(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


# -- JSON

_CHUNK: Final = 1 << 20
# What a chunk keeps for the bracket count: quotes (to tell strings apart) and brackets.
_NOT_JSON_SIGNIFICANT: Final = bytes(b for b in range(256) if b not in b'"[]{}')
# [ and { step in (+1), ] and } step out (-1 as a signed byte).
_STEPS: Final = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
# The rest of a string (from inside it); an escape, a whole string or one bracket: the slow scan
# that finds the line once the fast one knows the bound is passed (it reads escapes outside
# strings, which JSON has none of, as the fast one does).
_STRING_REST: Final = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_JSON_TOKENS: Final = re.compile(rb'\\[\\"]|"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def _chunk_end(data: bytes, start: int) -> int:
    """Where a chunk from `start` ends: never inside a run of backslashes or just after one, so
    that every escape is whole in one chunk."""
    end = min(start + _CHUNK, len(data))
    while end < len(data) and data[end - 1] == 0x5C:  # a backslash: take the run and the
        end += 1  # character after it
    return end


def check_json(data: bytes, limits: Limits, source: str) -> None:
    """Refuse JSON nested deeper than `limits.max_depth` arrays and objects (a top-level `{}` is
    one level), before anything parses it. Never parses: invalid JSON within the bound passes,
    for the JSON parser to report.

    Reads the input in chunks at C speed: escapes dropped (`\\\\` pairs, then `\\"`), what is
    neither a quote nor a bracket dropped, strings cut out between quotes, and the brackets left
    summed as steps in and out. Only a chunk that passes the bound is scanned token by token,
    for the line."""
    depth = 0
    in_string = False
    start = 0
    while start < len(data):
        end = _chunk_end(data, start)
        chunk = data[start:end].replace(b"\\\\", b"").replace(b'\\"', b"")
        parts = chunk.translate(None, _NOT_JSON_SIGNIFICANT).split(b'"')
        brackets = b"".join(parts[1::2] if in_string else parts[0::2])
        if brackets:
            steps = memoryview(brackets.translate(_STEPS)).cast("b")
            if max(accumulate(steps, initial=depth)) > limits.max_depth:
                raise _json_too_deep(data, start, depth, in_string, limits, source)
            depth += sum(steps)
        in_string ^= len(parts) % 2 == 0
        start = end


def _json_too_deep(
    data: bytes, start: int, depth: int, in_string: bool, limits: Limits, source: str
) -> LimitError:
    """The refusal, with the line of the bracket that passes the bound (in the chunk from
    `start`, entered at `depth`, inside a string or not)."""
    position = start
    if in_string:
        rest = _STRING_REST.match(data, start)
        position = rest.end() if rest else start
    for match in _JSON_TOKENS.finditer(data, position):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limits.max_depth:
                return too_deep(limits, source, _line_at(data, match.start()))
        elif token in (b"]", b"}"):
            depth -= 1
    return too_deep(limits, source, None)  # pragma: no cover (both scans agree)


# -- RDF/XML


class _RefusedError(Exception):
    """Carries a refusal out of an expat handler."""

    def __init__(self, error: InputError) -> None:
        super().__init__(error.message)
        self.error = error


# What expat says of a document cut short (and of an empty one).
_INCOMPLETE: Final = {
    expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
    expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
    expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION],
    expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
}


def check_xml(data: bytes, limits: Limits, source: str) -> InputError | None:
    """Refuse RDF/XML that declares a DTD internal subset or an entity (RDF/XML needs neither,
    and entities expand without bound: a few hundred bytes of nested `<!ENTITY>` make
    gigabytes) or nests elements deeper than `limits.max_depth`; tell whether it is
    well-formed to its end (a truncated document would otherwise load as the triples before
    the cut).

    Reads the document with expat, entities never expanded (the refusal comes at the DOCTYPE,
    before any is declared) and no external DTD read. A document that is not well-formed
    before its root element starts is refused here (a DTD could hide past the error). One that
    goes wrong later is the returned error, for the caller to raise unless the RDF/XML parser
    reports a syntax error of its own: no DTD can come after the root element starts, so
    the parser may read it. A document of white space only passes: it is an empty load, as in
    the other formats."""
    if not data.strip():
        return None
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0
    started = False

    def refuse(message: str) -> NoReturn:
        raise _RefusedError(InputError(message, source=source, line=parser.CurrentLineNumber))

    def doctype(name: str, system: str | None, public: str | None, internal: int) -> None:
        if internal:
            refuse(
                "the RDF/XML document declares a DTD (<!DOCTYPE ... [...]>): kg refuses DTDs and "
                "entities in RDF/XML, which needs neither and whose entities can expand without "
                "bound; write the IRIs out in full"
            )

    def entity(name: str, *_: object) -> None:
        refuse(f"the RDF/XML document declares the entity {name[:40]!r}: kg refuses entities")

    def start(name: str, attributes: object) -> None:
        nonlocal depth, started
        started = True
        depth += 1
        if depth > limits.max_depth:
            raise _RefusedError(
                too_deep(limits, source, parser.CurrentLineNumber, "of XML elements")
            )

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _RefusedError as refusal:
        raise refusal.error from None
    except LookupError as exc:  # an encoding expat does not know
        raise InputError(f"RDF/XML syntax error: {exc}", source=source, line=1) from None
    except expat.ExpatError as exc:
        reason = expat.errors.messages[exc.code]
        if exc.code in _INCOMPLETE:
            message = f"the RDF/XML document ends before it is complete ({reason}; cut short?)"
        else:
            message = f"RDF/XML syntax error: {reason}"
        error = InputError(message, source=source, line=exc.lineno)
        if not started:
            raise error from None
        return error
    return None


# -- Turtle, TriG, N-Triples, N-Quads

# What hides brackets: long and short strings (a short one ends at its line, as Turtle's do),
# IRIs, comments and escapes in local names. Then the nesting tokens, captured: triple terms
# <<( )>>, reified triples << >>, annotations {| |}, blank-node property lists [ ] and
# collections ( ).
_RDF_TOKENS: Final = re.compile(
    rb'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|\Z)'
    rb"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|\Z)"
    rb'|"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"?'
    rb"|'[^'\\\n\r]*(?:\\.[^'\\\n\r]*)*'?"
    rb'|<(?:[^<>"{}|^`\\\x00-\x20]|\\[uU][0-9A-Fa-f]{4,8})*>'
    rb"|\#[^\n\r]*"
    rb"|\\."
    rb"|(<<\(|\)>>|<<|>>|\{\||\|\}|[\[\]()])",
    re.DOTALL,
)
_RDF_STEP: Final = {
    b"": b"",
    **dict.fromkeys((b"<<(", b"<<", b"{|", b"[", b"("), b"\x01"),
    **dict.fromkeys((b")>>", b">>", b"|}", b"]", b")"), b"\xff"),
}
_RDF_OPENERS: Final = (b"[", b"(", b"<<", b"{|")


def check_rdf_text(data: bytes, limits: Limits, source: str) -> None:
    """Refuse Turtle, TriG, N-Triples or N-Quads nesting triple terms, reified triples,
    annotations, blank-node property lists and collections (together) deeper than
    `limits.max_depth`, outside strings, IRIs and comments.

    pyoxigraph parses these formats iteratively except RDF 1.2 triple terms, which it
    recurses into (some ten thousand nested `<<( ... )>>` overflow the native stack); the
    others are bounded too, so no later reader of the triples meets a deeper nesting."""
    if sum(data.count(opener) for opener in _RDF_OPENERS) <= limits.max_depth:
        return  # too few openers to pass the bound: no need to read the tokens
    steps = b"".join(map(_RDF_STEP.__getitem__, _RDF_TOKENS.findall(data)))
    if not steps or max(accumulate(memoryview(steps).cast("b"))) <= limits.max_depth:
        return
    depth = 0
    for match in _RDF_TOKENS.finditer(data):
        token = match.group(1)
        if token:
            depth += 1 if _RDF_STEP[token] == b"\x01" else -1
            if depth > limits.max_depth:
                raise too_deep(limits, source, _line_at(data, match.start()))
    raise too_deep(limits, source, None)  # pragma: no cover (both scans agree)


# -- YAML


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that composes each document's node graph first and refuses it, before any
    object is built, when it nests deeper than `limits.max_depth` or its aliases expand past
    `limits.max_yaml_nodes` nodes (an alias counts with its whole subtree; the count is
    memoised per node, so it costs one visit of each node the text holds)."""

    def __init__(self, stream: str, limits: Limits = DEFAULT_LIMITS, source: str | None = None):
        super().__init__(stream)
        self.limits = limits
        self.source = source
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if not isinstance(event, CollectionStartEvent):  # scalars and aliases nest nothing
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > self.limits.max_depth:
                mark = event.start_mark
                raise too_deep(self.limits, self.source, mark.line + 1 if mark else None)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node | None:
        node = super().compose_document()
        if node is not None:
            _check_expansion(node, self.limits, self.source)
        return node


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Node, limits: Limits, source: str | None) -> None:
    """Count the nodes the document expands to and its depth with aliases followed, each node
    once (post-order, without recursion); refuse past the limits or on an alias that contains
    itself (it expands without end)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            own = 0 if isinstance(node, ScalarNode) else 1  # as in JSON: collections count
            depth[key] = own + max((depth[id(c)] for c in children), default=0)
            open_.discard(key)
            line = node.start_mark.line + 1 if node.start_mark else None
            if size[key] > limits.max_yaml_nodes:
                raise limit_error(
                    f"the YAML document expands to more than {limits.max_yaml_nodes} nodes "
                    "(each alias counted with what it repeats)",
                    "KG_MAX_YAML_NODES",
                    source,
                    line,
                )
            if depth[key] > limits.max_depth:
                raise too_deep(limits, source, line, "(YAML aliases followed)")
            continue
        if key in size:
            continue
        if key in open_:
            line = node.start_mark.line + 1 if node.start_mark else None
            raise limit_error(
                "a YAML alias repeats a node that contains it, which expands without end",
                "KG_MAX_YAML_NODES",
                source,
                line,
            )
        open_.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)
