"""One error hierarchy for the whole package; HTTP and CLI map it once each."""

from __future__ import annotations


class KGError(Exception):
    """Base of every error kg reports to a user. `status` is the HTTP status it maps to."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(KGError):
    """Input that cannot be accepted: bad syntax, unknown terms, wrong shapes of values.

    `source` names the file or request, `line` the position when known.
    """

    status = 400
    title = "Invalid input"

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        where = source or ""
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.line = line
        self.detail = message


class SettingsError(KGError):
    """A setting (environment variable, .env file or option) kg cannot run with."""

    status = 500
    title = "Invalid settings"


class QueryError(KGError):
    """A SPARQL query or update that does not parse or cannot run."""

    status = 400
    title = "Invalid query"


class NotFoundError(KGError):
    """An asset, named query or graph that does not exist."""

    status = 404
    title = "Not found"


class StoreLockedError(KGError):
    """The on-disk store is already opened by another process (a running server, another CLI)."""

    status = 503
    title = "Store in use"


class StoreUnavailableError(KGError):
    """The remote SPARQL store does not answer, answers too late or not as the protocol says,
    or refuses kg (a wrong URL, wrong credentials): nothing kg's caller can fix by asking again
    differently."""

    status = 503
    title = "Store unavailable"


class LimitError(InputError):
    """Input past one of kg's bounds (nesting depth, literal or IRI size, YAML expansion...).

    The message names the limit and its setting."""

    title = "Input past a limit"


class BodyTooLargeError(KGError):
    """A request body (counted as it inflates) past KG_MAX_BODY."""

    status = 413
    title = "Request body too large"


class ReadOnlyGraphError(KGError):
    """A protocol write aimed at one of kg's system graphs (loads, derived, reports, shapes,
    ontology), which only kg itself writes."""

    status = 403
    title = "Read-only graph"


class OutboundRefusedError(QueryError):
    """A SPARQL SERVICE or LOAD whose target KG_FEDERATION_ALLOW does not allow."""


class BusyError(KGError):
    """No evaluation worker became free in time, or the work passed its time budget."""

    status = 503
    title = "Service busy"


class UnauthorizedError(KGError):
    """No credentials where they are needed, or credentials kg does not accept (the message
    says why, never quoting them)."""

    status = 401
    title = "Unauthorized"


class ForbiddenError(KGError):
    """The caller is known but its role or team does not allow what it asked."""

    status = 403
    title = "Forbidden"


class NotKeptError(KGError):
    """An answer as of a moment history does not cover (before it started or was pruned)."""

    status = 410
    title = "Gone"


class AuditUnavailableError(KGError):
    """The audit store cannot be read (not opened by this process, or held by another)."""

    status = 503
    title = "Audit unavailable"


class UnsupportedQueryMediaError(KGError):
    """A query body in a media type the route does not read."""

    status = 415
    title = "Unsupported Media Type"
