"""What the OpenAPI document says about kg's answers, beyond what FastAPI reads off the routes:
the problem+json errors (RFC 9457) and which routes give them, and the media types of the
routes that answer more than JSON. Documentation only: no route answers differently for it.
tests/security/test_openapi_fuzz.py holds the document and a live server together."""

from __future__ import annotations

from types import UnionType
from typing import Any, Final

from fastapi.openapi.utils import validation_error_definition, validation_error_response_definition
from pydantic import BaseModel

from kg import protocol
from kg.exports import MEDIA_TYPES as EXPORT_MEDIA_TYPES
from kg.governance.render import MEDIA_TYPES as REPORT_MEDIA_TYPES

Responses = dict[int | str, dict[str, Any]]

PROBLEM: Final = "application/problem+json"
_PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}
_VALIDATION_REF: Final = {"$ref": "#/components/schemas/HTTPValidationError"}
_DETAIL_REF: Final = {"$ref": "#/components/schemas/HTTPError"}
_TEXT: Final = {"type": "string"}

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "source": {
            "type": ["string", "null"],
            "description": "Invalid input: the file or request it was found in.",
        },
        "line": {"type": ["integer", "null"], "description": "Invalid input: where, when known."},
        "violations": {
            "type": "array",
            "description": "Refused by governance: the violations the write would add.",
            "items": {
                "type": "object",
                "properties": {
                    "focusNode": {"type": "string"},
                    "shape": {"type": "string"},
                    "value": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
            },
        },
    },
}

DETAIL_SCHEMA: Final[dict[str, Any]] = {
    "title": "HTTPError",
    "description": "FastAPI's own errors: a JSON body that does not parse (400), a path that "
    "names no route (404).",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string"}},
}

_WHY: Final = {
    400: "Invalid input or query; or a body that cannot be read (a corrupt gzip or deflate "
    "coding, JSON nested past KG_MAX_DEPTH).",
    401: "No valid `Authorization: Bearer` token where one is needed: every write once tokens "
    "are configured (KG_TOKENS_FILE, KG_API_TOKENS, KG_OIDC_ISSUER), and reads too with "
    "KG_READ_OPEN=false.",
    403: "The caller's role does not allow it (a reader writing, a writer pruning history), a "
    "team writer's write touches another team's assets, or the write is to one of kg's own "
    "graphs (loads, history, derived, reports, shapes, ontology) or to what an inference rule "
    "concluded.",
    404: "No such asset, graph, named query, kept validation report or configured source.",
    405: "An update sent with GET.",
    410: "An answer as of a moment history does not reach (before it starts or was pruned, or "
    "KG_HISTORY=false).",
    413: "The body, as sent or as it inflates, is past KG_MAX_BODY.",
    415: "A Content-Encoding other than gzip, deflate or identity, or a body media type the "
    "route does not read.",
    422: "The request does not match its parameters, or governance refused the write "
    "(KG_GATE=enforce): nothing was written.",
    502: "A source of record refused kg's request (a wrong token, a bad request): see detail.",
    503: "No evaluation worker was free in time (KG_QUERY_WORKERS, KG_QUERY_QUEUE), or the work "
    "ran past its time budget (KG_QUERY_TIMEOUT, KG_TASK_TIMEOUT); or a source of record did "
    "not answer.",
}


def problems(*statuses: int, text: bool = False, detail: bool = False) -> Responses:
    """Problem-details answers for these statuses; `text`: the route may answer them as
    text/plain too (the SPARQL protocols answer their own errors so); `detail`: as FastAPI's
    `{"detail": ...}` too (a JSON body model that does not parse; a path parameter that the
    route's pattern does not match)."""
    responses: Responses = {}
    for status in statuses:
        content: dict[str, Any] = {PROBLEM: {"schema": _PROBLEM_REF}}
        if text:
            content["text/plain"] = {"schema": _TEXT}
        if detail:
            content["application/json"] = {"schema": _DETAIL_REF}
        if status == 422:  # FastAPI's own parameter errors, besides governance's refusals
            content["application/json"] = {"schema": _VALIDATION_REF}
        response: dict[str, Any] = {"description": _WHY[status], "content": content}
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {"required": True, "schema": {"type": "string"}}
            }
        responses[status] = response
    return responses


def media(*types: str) -> dict[str, Any]:
    """Content of these media types: JSON ones any JSON, the others text. Each schema is a
    dict of its own: FastAPI writes a response model's schema into the JSON one in place."""
    return {
        t.split(";")[0]: {"schema": {} if t.split(";")[0].endswith("json") else dict(_TEXT)}
        for t in dict.fromkeys(types)
    }


def answer(
    status: int,
    description: str,
    *types: str,
    model: type[BaseModel] | UnionType | None = None,
    **headers: str,
) -> Responses:
    """One success answer in these media types, with these optional headers; `model` (a
    kg.api.models class, or a union of them) is the schema of its application/json form."""
    response: dict[str, Any] = {"description": description}
    if model is not None:
        response["model"] = model
    if types:
        response["content"] = media(*types)
    if headers:
        response["headers"] = {
            name.replace("_", "-"): {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return {status: response}


BEARER: Final = "bearer"
BEARER_SCHEME: Final[dict[str, Any]] = {
    "type": "http",
    "scheme": "bearer",
    "description": "One of the server's KG_API_TOKENS. Only writes need one, and only when "
    "KG_API_TOKENS is set; reads are open.",
}
# the write routes' `openapi_extra`: Swagger UI locks them and sends the token Authorize holds
TOKEN: Final[dict[str, Any]] = {"security": [{BEARER: []}]}
# SPARQL over POST: a query needs no token, an update does
TOKEN_FOR_UPDATES: Final[dict[str, Any]] = {"security": [{}, {BEARER: []}]}

# every route: kg.api.middleware bounds the body of any request before it gets there
COMMON: Final = problems(400, 413, 415)
# routes that write: the token, and the gate
WRITE: Final = problems(401, 403, 422)
# routes that run in the evaluator (kg.evaluation)
BUSY: Final = problems(503)

RDF_TYPES: Final = tuple(protocol.GRAPH_TYPES)
RESULT_TYPES: Final = tuple(protocol.RESULT_TYPES)
REPORT_TYPES: Final = tuple(REPORT_MEDIA_TYPES.values())
EXPORT_TYPES: Final = tuple(EXPORT_MEDIA_TYPES.values())
ASSET_TYPES: Final = (
    "application/yaml",
    "application/json",
    "text/turtle",
    "application/trig",
    "application/n-triples",
    "application/n-quads",
    "application/ld+json",
    "application/rdf+xml",
)


def body(*types: str, examples: dict[str, object] | None = None) -> dict[str, Any]:
    """An `openapi_extra` request body of these media types, read as the route reads it, with
    an example for some of them."""
    content = media(*types)
    for media_type, example in (examples or {}).items():
        content[media_type] = {**content[media_type], "example": example}
    return {"requestBody": {"required": True, "content": content}}


# examples of bodies, for the reader and for the fuzzer's first cases
ASSET_EXAMPLES: Final[dict[str, object]] = {
    "application/yaml": "id: dataset/example-events\ntype: Dataset\nname: Example events\n"
    "owner: team/data-platform\n",
    "application/json": {
        "id": "dataset/example-events",
        "type": "Dataset",
        "name": "Example events",
        "owner": "team/data-platform",
    },
}
RDF_EXAMPLES: Final[dict[str, object]] = {
    "text/turtle": '<https://example.org/s> <https://example.org/p> "o" .',
    "application/n-triples": '<https://example.org/s> <https://example.org/p> "o" .\n',
}
OPENLINEAGE_EXAMPLE: Final[dict[str, object]] = {
    "eventType": "COMPLETE",
    "eventTime": "2026-03-02T10:00:00.000Z",
    "producer": "https://example.com/producer",
    "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    "run": {"runId": "0190a0c4-1f2e-7a3b-9c4d-5e6f7a8b9c0d"},
    "job": {"namespace": "airflow-prod", "name": "features.build_example"},
    "inputs": [{"namespace": "postgres://warehouse:5432", "name": "analytics.public.clicks"}],
    "outputs": [{"namespace": "s3://features", "name": "example"}],
}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The components the responses above refer to, and the bearer scheme of TOKEN."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = BEARER_SCHEME
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["HTTPError"] = DETAIL_SCHEMA
    schemas.setdefault("ValidationError", validation_error_definition)
    schemas.setdefault("HTTPValidationError", validation_error_response_definition)
    return document
