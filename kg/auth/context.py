"""The principal the current request or command acts as.

Set once where the caller is recognised (the HTTP dependencies, the CLI), read where what it
does is recorded (the write path names it in the history). A context variable, so that it
follows a request into the worker thread that runs it and never leaks into another request.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from kg.auth.principal import Principal, Role

_acting: ContextVar[Principal | None] = ContextVar("kg_principal", default=None)


def local() -> Principal:
    """Whoever runs a command on the store's own machine: they can open the store anyway."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's)
        user = "unknown"
    return Principal(f"local:{user}", Role.ADMIN, kind="local")


def acting() -> Principal:
    """The principal in effect: the one set for this request or command, else the local user."""
    found = _acting.get()
    return found if found is not None else local()


def act_as(principal: Principal) -> None:
    """Set the principal for the rest of the current context (a request's task)."""
    _acting.set(principal)


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    """Act as `principal` within the block (a worker thread, a job, a test)."""
    token = _acting.set(principal)
    try:
        yield principal
    finally:
        _acting.reset(token)
