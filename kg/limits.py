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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Final

from kg.errors import LimitError

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


def limit_error(message: str, source: str | None, line: int | None = None) -> LimitError:
    """A LimitError whose message reads `source: <message> at line N (SETTING)`: the caller's
    message ends with the setting, the line goes before it."""
    text = message
    if line is not None:
        head, paren, setting = message.rpartition(" (")
        text = f"{head} at line {line}{paren}{setting}" if paren else f"{message} at line {line}"
    error = LimitError(text, source=source)
    error.line = line
    return error


def too_deep(limits: Limits, source: str | None, line: int | None, what: str = "") -> LimitError:
    kind = f"{what} " if what else ""
    return limit_error(
        f"{kind}nesting deeper than {limits.max_depth} levels (KG_MAX_DEPTH)", source, line
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
