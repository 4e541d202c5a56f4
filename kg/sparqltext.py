"""SPARQL text as kg checks it before Oxigraph sees it: how deep it nests, and which remote
services (SERVICE) or documents (LOAD) it would make the server call.

These are lexical checks, so they must read the text as the SPARQL lexer does: strings, IRIs
and comments are masked first (so a `{` or a `SERVICE` inside them counts for nothing), and a
target IRI is read with its `\\u` escapes and its BASE resolved, as Oxigraph reads it. Where the
target cannot be known before evaluation (a variable, an undeclared prefix), it is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from kg.errors import LimitError, OutboundRefusedError

# Strings (long forms first), IRI references, comments (to the end of a line: \n or \r).
_OPAQUE = re.compile(
    r'"""(?:[^"\\]|\\[\s\S]|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\[\s\S]|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*(?:\\u[0-9A-Fa-f]{4}[^<>"{}|^`\\\x00-\x20]*'
    r'|\\U[0-9A-Fa-f]{8}[^<>"{}|^`\\\x00-\x20]*)*>'
    r"|#[^\n\r]*"
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# A keyword is a word not glued to a prefixed name, a variable or a longer word.
_KEYWORD = r"(?<![\w:?$\-.]){}(?![\w:\-])"
_IRIREF = re.compile(
    r'<[^<>"{}|^`\\\x00-\x20]*(?:\\u[0-9A-Fa-f]{4}[^<>"{}|^`\\\x00-\x20]*'
    r'|\\U[0-9A-Fa-f]{8}[^<>"{}|^`\\\x00-\x20]*)*>'
)
_PREFIX = re.compile(_KEYWORD.format("PREFIX") + r"\s+([^\s:]*):", re.IGNORECASE)
_BASE = re.compile(_KEYWORD.format("BASE"), re.IGNORECASE)
_OUTBOUND = re.compile(_KEYWORD.format("(SERVICE|LOAD)") + r"(?:\s+SILENT\b)?", re.IGNORECASE)
_SPACE = re.compile(r"\s*")
_TOKEN = re.compile(r"[^\s{]+")
_PREFIXED = re.compile(r"^([^\s:<>?$]*):(\S*)$")


def mask(text: str) -> str:
    """`text` with its strings, IRIs and comments blanked out (same length, same lines)."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return _OPAQUE.sub(blank, text)


def unescape(iri: str) -> str:
    """The `\\u` / `\\U` escapes of an IRI reference, resolved as the SPARQL lexer does."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


_NESTING = re.compile(r"<<|>>|\{\||\|\}|[{}()\[\]\n]")
_OPENERS = {"{", "(", "[", "<<", "{|"}


def nesting(masked: str) -> tuple[int, int]:
    """The deepest nesting of groups, expressions, blank nodes, quoted triples (`<< >>`) and
    annotations (`{| |}`) in masked text, and the line where it is."""
    deepest = depth = 0
    line = at = 1
    for match in _NESTING.finditer(masked):
        lexeme = match.group(0)
        if lexeme in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest, at = depth, line
        elif lexeme == "\n":
            line += 1
        else:
            depth -= 1
    return deepest, at


def check_size_and_depth(text: str, *, max_bytes: int, max_depth: int, kind: str) -> str:
    """Refuse text past the size or nesting limit; the masked text, for further checks."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        setting = "KG_MAX_QUERY" if kind == "query" else "KG_MAX_BODY"
        raise LimitError(f"the {kind} is {size} bytes; the limit is {max_bytes} ({setting})")
    masked = mask(text)
    deepest, line = nesting(masked)
    if deepest > max_depth:
        raise LimitError(
            f"the {kind} nests groups deeper than {max_depth} levels, at line {line} (KG_MAX_DEPTH)"
        )
    return masked


@dataclass(frozen=True)
class Outbound:
    """A remote call the text asks for: the keyword, and the target IRI (None when it is not
    known before evaluation)."""

    keyword: str
    target: str | None
    written: str


def outbound(text: str, masked: str | None = None, base_iri: str | None = None) -> list[Outbound]:
    """Every SERVICE and LOAD of a query or update, with its target resolved."""
    masked = mask(text) if masked is None else masked
    events = sorted(
        [(m.start(), "prefix", m) for m in _PREFIX.finditer(masked)]
        + [(m.start(), "base", m) for m in _BASE.finditer(masked)]
        + [(m.start(), "call", m) for m in _OUTBOUND.finditer(masked)],
        key=lambda event: event[0],
    )
    prefixes: dict[str, str] = {}
    base = base_iri
    found: list[Outbound] = []
    for _, kind, m in events:
        at = _SPACE.match(text, m.end())
        position = at.end() if at else m.end()
        iri = _IRIREF.match(text, position)
        if kind == "prefix" and iri:
            prefixes[m.group(1)] = _resolve(unescape(iri.group(0)[1:-1]), base)
        elif kind == "base" and iri:
            base = _resolve(unescape(iri.group(0)[1:-1]), base)
        elif kind == "call":
            token = iri or _TOKEN.match(text, position)
            written = token.group(0) if token else ""
            found.append(Outbound(m.group(1).upper(), _target(written, prefixes, base), written))
    return found


def _resolve(iri: str, base: str | None) -> str:
    return urljoin(base, iri) if base else iri


def _target(written: str, prefixes: dict[str, str], base: str | None) -> str | None:
    if written.startswith("<") and written.endswith(">"):
        return _resolve(unescape(written[1:-1]), base)
    prefixed = _PREFIXED.match(written)
    if prefixed and prefixed.group(1) in prefixes:
        local = re.sub(r"\\(.)", r"\1", prefixed.group(2))
        return prefixes[prefixed.group(1)] + local
    return None  # a variable, an undeclared prefix: not known before evaluation


def check_outbound(
    text: str,
    allowed: list[str],
    *,
    trusted: bool,
    masked: str | None = None,
    base_iri: str | None = None,
) -> bool:
    """Refuse a SERVICE or LOAD unless its target starts with an allowed prefix
    (KG_FEDERATION_ALLOW), and any of them from a caller without a token (`trusted` False).
    True when the text calls out (as allowed)."""
    calls = outbound(text, masked, base_iri)
    for call in calls:
        if not allowed:
            raise OutboundRefusedError(
                f"{call.keyword} {call.written} would make the server call out; kg calls no "
                "remote service unless KG_FEDERATION_ALLOW lists it"
            )
        if not trusted:
            raise OutboundRefusedError(
                f"{call.keyword} needs a write token (Authorization: Bearer) while reads are open"
            )
        if call.target is None:
            raise OutboundRefusedError(
                f"{call.keyword} {call.written}: the target must be an IRI known before the "
                "query runs, not a variable or an undeclared prefix"
            )
        if not any(call.target.startswith(prefix) for prefix in allowed):
            raise OutboundRefusedError(
                f"{call.keyword} <{call.target}> is not under a prefix of KG_FEDERATION_ALLOW"
            )
    return bool(calls)


_POSITION = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)
_PREFIXED_NAME = re.compile(r"(?<![\w:?$<\\])([A-Za-z][\w.-]*)?:(?=[\w%\\-])")
_PREFIX_DECLARED = re.compile(r"(?<![\w:?$\-.])PREFIX\s+([^\s:]*):", re.IGNORECASE)


def explain_syntax_error(text: str, error: str) -> str:
    """A parser error made short and pointed at the user's own text: line, column, the line
    with a caret, what was expected (at most a few alternatives), and the prefix that was never
    declared when that is the cause."""
    found = _POSITION.match(error.strip())
    if found is None:
        return error.strip()[:300]
    line, column, expected = int(found.group(1)), int(found.group(2)), found.group(3)
    masked = mask(text)
    declared = {m.group(1) for m in _PREFIX_DECLARED.finditer(masked)}
    undeclared = sorted(
        {m.group(1) or "" for m in _PREFIXED_NAME.finditer(masked)} - declared - {""}
    )
    lines = text.splitlines() or [""]
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    at = source[column - 1 : column]
    if "Prefix not found" in expected and undeclared:
        reason = f"undeclared prefix {undeclared[0]}: (add PREFIX {undeclared[0]}: <...>)"
        # the parser stops after the name; point at where the prefix is first used
        first = next(m for m in _PREFIXED_NAME.finditer(masked) if m.group(1) == undeclared[0])
        line = masked.count("\n", 0, first.start()) + 1
        column = first.start() - (masked.rfind("\n", 0, first.start()) + 1) + 1
        source = lines[line - 1] if 0 < line <= len(lines) else ""
    elif at == "/" and re.search(r"[\w-]:[\w.-]*$", source[: column - 1]):
        reason = "a prefixed name cannot hold '/': write the full IRI in <...>, or '\\/'"
    elif expected.startswith("expected one of "):
        # the parser also lists character classes ('[...]'): the tokens are what helps
        listed = [a.strip() for a in expected.removeprefix("expected one of ").split(", ")]
        sentences = [a for a in listed if " " in a and not a.startswith(('"', "[", "'"))]
        tokens = [a for a in listed if a and a not in sentences and not a.startswith(("[", "'"))]
        more = ", ..." if len(tokens) > 6 or len(tokens) + len(sentences) < len(listed) else ""
        reason = sentences[0] if sentences else "expected one of " + ", ".join(tokens[:6]) + more
    else:
        reason = expected.split("\n", 1)[0][:200]
    start = max(0, column - 60)
    excerpt = source[start : start + 100]
    caret = " " * (column - 1 - start) + "^"
    return f"line {line}, column {column}: {reason}\n  {excerpt}\n  {caret}"


_FROM = re.compile(_KEYWORD.format("FROM"), re.IGNORECASE)


def declares_dataset(text: str) -> bool:
    """True when a query names its own dataset (FROM / FROM NAMED), which then replaces kg's
    default (the union of all graphs), as the SPARQL 1.1 Protocol says."""
    return _FROM.search(mask(text)) is not None
