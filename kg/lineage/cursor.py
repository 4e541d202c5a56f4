"""The cursor of a paged lineage or impact answer: where the next page starts, bound to the
question it continues and to the state of the graph its first page was read from.

A cursor is opaque to clients but not secret: it names an offset, a page size and digests of
the question and of the state, with a checksum so that a cursor edited by hand is refused. A
forged one could only ask for another page of the same answer, which the caller may read
anyway. The state is the change log's stamp (every process serving one store agrees on it),
or the position of an as-of answer, which no later write changes.

>>> text = encode(Position("question", "state", 200, 100))
>>> decode(text, "question", "state")
Position(question='question', state='state', offset=200, limit=100)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from kg.errors import InputError, NotKeptError

# Longer than any cursor encode() makes (about 70 characters): refused before it is decoded.
MAX_CURSOR = 200
_VERSION = "1"


class AnswerChangedError(NotKeptError):
    """A cursor from before the graph changed: its answer is no longer the one to page."""

    title = "Answer changed"


@dataclass(frozen=True)
class Position:
    question: str
    state: str
    offset: int
    limit: int


def digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _checksum(payload: str) -> str:
    return hashlib.blake2b(payload.encode(), digest_size=4, person=b"kg-cursor").hexdigest()


def encode(position: Position) -> str:
    payload = "|".join(
        (
            _VERSION,
            str(position.offset),
            str(position.limit),
            digest(position.question),
            digest(position.state),
        )
    )
    text = f"{payload}|{_checksum(payload)}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(text: str, question: str, state: str) -> Position:
    """The position a cursor names, for this question and state: a 400 naming `cursor` for
    text kg did not give or that continues another question, a 410 when the graph changed."""
    if len(text) > MAX_CURSOR:
        raise InputError(
            f"longer than any cursor kg gives ({MAX_CURSOR} characters)", source="cursor"
        )
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    fields = raw.split("|")
    if (
        len(fields) != 6
        or fields[0] != _VERSION
        or _checksum("|".join(fields[:5])) != fields[5]
        or not fields[1].isdigit()
        or not fields[2].isdigit()
        or len(fields[1]) > 9
        or len(fields[2]) > 9
    ):
        raise InputError(
            "not a cursor kg gave: pass the nextCursor of the previous page as it came",
            source="cursor",
        )
    if fields[3] != digest(question):
        raise InputError(
            "the cursor continues another question: ask with the parameters of its first page",
            source="cursor",
        )
    if fields[4] != digest(state):
        raise AnswerChangedError(
            "the answer changed since its first page (the graph was written to): "
            "start again without a cursor"
        )
    return Position(question, state, int(fields[1]), int(fields[2]))
