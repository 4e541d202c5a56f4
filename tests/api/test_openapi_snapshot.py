"""The OpenAPI document is kg's HTTP contract: it is committed (tests/api/openapi.snapshot.json),
so that any change to what a route takes or answers shows in review as a change to that file.

After an intended change, refresh it:

    KG_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/api/test_openapi_snapshot.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

import kg
from kg.api.app import create_app
from kg.graph import KnowledgeGraph

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
REFRESH = "KG_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/api/test_openapi_snapshot.py"
_SHOWN = 12_000  # characters of the diff in a failure


@pytest.fixture
def document(graph: KnowledgeGraph) -> dict[str, Any]:
    return create_app(graph=graph).openapi()


def rendered(document: dict[str, Any]) -> str:
    """The document as committed: pretty-printed, keys sorted, without the version (a release
    changes it, not the contract)."""
    info = document.get("info", {})
    assert info.get("version") == kg.__version__
    unversioned = {**document, "info": {**info, "version": "(kg.__version__)"}}
    return json.dumps(unversioned, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_openapi_document_is_the_committed_one(document: dict[str, Any]) -> None:
    text = rendered(document)
    if os.environ.get("KG_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
        return
    if not SNAPSHOT.exists():
        pytest.fail(f"{SNAPSHOT} is missing; write it with:\n  {REFRESH}", pytrace=False)
    committed = SNAPSHOT.read_text(encoding="utf-8")
    if text == committed:
        return
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            text.splitlines(keepends=True),
            f"{SNAPSHOT.name} (committed)",
            "create_app().openapi() (now)",
            n=3,
        )
    )
    more = f"\n... ({len(diff) - _SHOWN} more characters)" if len(diff) > _SHOWN else ""
    pytest.fail(
        "The OpenAPI document differs from the committed snapshot: a route's parameters or "
        "answers changed.\n"
        f"{diff[:_SHOWN]}{more}\n"
        f"If the change is intended, refresh the snapshot and commit it:\n  {REFRESH}",
        pytrace=False,
    )


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    found: Any = document
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    assert isinstance(found, dict)
    return found


def described(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A schema that says what the JSON holds: an object with named properties, an array of
    those, or a choice among them. `{}` and `{"type": "object"}` with any properties say
    nothing."""
    schema = _resolve(document, schema)
    if "properties" in schema:
        return bool(schema["properties"])
    if schema.get("type") == "array":
        return described(document, schema.get("items", {}))
    choices: list[dict[str, Any]] = schema.get("anyOf") or schema.get("oneOf") or []
    return bool(choices) and all(described(document, c) for c in choices)


def test_every_json_answer_has_a_schema(document: dict[str, Any]) -> None:
    operations = [
        (method.upper(), path, status, response)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        for status, response in operation["responses"].items()
        if status in ("200", "201")
    ]
    json_answers = [
        (method, path, status, response["content"]["application/json"].get("schema", {}))
        for method, path, status, response in operations
        if "application/json" in response.get("content", {})
    ]
    assert len(json_answers) > 20
    undescribed = [
        f"{method} {path} {status}"
        for method, path, status, schema in json_answers
        if not described(document, schema)
    ]
    assert undescribed == [], "JSON answers without a schema: " + ", ".join(undescribed)
