"""Checking OpenLineage events before they are mapped: the published JSON Schema when kg is given
the spec folder (`KG_OPENLINEAGE_SPEC`: `OpenLineage.json` and `facets/*.json`), else kg's own
check of what the spec requires of every event and of the facets kg maps.

Facets are checked the way the spec's consumers do: a facet under a standard key (`schema`,
`ownership`, ...) against that facet's schema, another facet against the schema its `_schemaURL`
names when kg has it. Every problem names the field by its path in the event. The spec's own
files are bounded (kg.limits.check_json) before they are parsed, like any other JSON.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource

from kg.limits import DEFAULT_LIMITS, check_json

_EVENT_TYPES = {"START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"}
# RFC 3339 date-time, the format the spec requires of eventTime.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
# Facet containers of an event, with the spec's facet kind for each: (path, kind).
_CONTAINERS = (
    (("run", "facets"), "RunFacet"),
    (("job", "facets"), "JobFacet"),
    (("dataset", "facets"), "DatasetFacet"),
)
_DATASET_CONTAINERS = (
    ("facets", "DatasetFacet"),
    ("inputFacets", "InputDatasetFacet"),
    ("outputFacets", "OutputDatasetFacet"),
)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the event)"


def kind(event: dict[str, Any]) -> str:
    if "run" in event:
        return "RunEvent"
    if "dataset" in event:
        return "DatasetEvent"
    return "JobEvent" if "job" in event else "unknown"


def _facet_sites(event: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], str, dict[str, Any]]]:
    """Every facet container of an event: (its path, its facet kind, the facets)."""
    for path, facet_kind in _CONTAINERS:
        holder = event.get(path[0])
        facets = holder.get(path[1]) if isinstance(holder, dict) else None
        if isinstance(facets, dict):
            yield path, facet_kind, facets
    for side in ("inputs", "outputs"):
        datasets = event.get(side)
        if not isinstance(datasets, list):
            continue
        for n, item in enumerate(datasets):
            if not isinstance(item, dict):
                continue
            for key, facet_kind in _DATASET_CONTAINERS:
                facets = item.get(key)
                if isinstance(facets, dict):
                    yield (side, n, key), facet_kind, facets


class SpecSchema:
    """The OpenLineage JSON Schema (2020-12) and its facet schemas, read from the spec folder."""

    def __init__(self, folder: Path) -> None:
        paths = [folder / "OpenLineage.json", *sorted((folder / "facets").glob("*.json"))]
        paths += sorted(folder.glob("registry/**/facets/*.json"))
        if not paths[0].is_file():
            raise FileNotFoundError(f"{paths[0]} not found: not an OpenLineage spec folder")
        self.schemas: dict[str, dict[str, Any]] = {}
        for path in paths:
            raw = path.read_bytes()
            check_json(raw, DEFAULT_LIMITS, str(path))
            schema = json.loads(raw.decode("utf-8"))
            self.schemas[schema["$id"]] = schema
        self.registry: Registry[Any] = Registry().with_resources(
            (sid, Resource.from_contents(s)) for sid, s in self.schemas.items()
        )
        core = next(s for sid, s in self.schemas.items() if sid.endswith("/OpenLineage.json"))
        checker = Draft202012Validator.FORMAT_CHECKER
        self.core = Draft202012Validator(core, registry=self.registry, format_checker=checker)
        self.by_file: dict[str, Draft202012Validator] = {}
        self.by_key: dict[tuple[str, str], Draft202012Validator] = {}
        for sid, schema in self.schemas.items():
            if sid.endswith("/OpenLineage.json"):
                continue
            validator = Draft202012Validator(schema, registry=self.registry, format_checker=checker)
            self.by_file[sid.rsplit("/", 1)[-1]] = validator
            for key, ref in (schema.get("properties") or {}).items():
                target = schema.get("$defs", {}).get(str(ref.get("$ref", "")).rsplit("/", 1)[-1])
                for part in (target or {}).get("allOf", []):
                    base = str(part.get("$ref", ""))
                    if "OpenLineage.json#/$defs/" in base:
                        self.by_key[(base.rsplit("/", 1)[-1], key)] = validator

    def _facet_validator(self, facet_kind: str, key: str, facet: Any) -> Any:
        found = self.by_key.get((facet_kind, key))
        if found is not None or not isinstance(facet, dict):
            return found
        url = str(facet.get("_schemaURL", ""))
        name = url.split("#")[0].rsplit("/", 1)[-1]
        if name == "OpenLineage.json" and "#" in url:  # older facet URLs point into the core
            name = url.split("#")[1].rsplit("/", 1)[-1] + ".json"
        return self.by_file.get(name)

    def problems(self, event: Any) -> list[str]:
        found = [_describe(e) for e in self.core.iter_errors(event)]
        if not isinstance(event, dict):
            return found
        for path, facet_kind, facets in _facet_sites(event):
            for key, facet in facets.items():
                validator = self._facet_validator(facet_kind, key, facet)
                if validator is None:
                    continue
                for error in validator.iter_errors({key: facet}):
                    found.append(_describe(error, prefix=path))
        return found


def _describe(error: ValidationError, prefix: tuple[Any, ...] = ()) -> str:
    """A schema error as `field: problem`, the field being where the problem is."""
    parts = [*prefix, *error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = re.search(r"'([^']+)' is a required property", error.message)
        if missing:
            return f"{_path([*parts, missing.group(1)])}: required, missing"
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
        return _describe(best, prefix)
    message = error.message if len(error.message) < 200 else error.message[:200] + "..."
    return f"{_path(parts)}: {message}"


class CoreCheck:
    """What the spec requires of every event, and of the facets kg reads, without the spec files."""

    def problems(self, event: Any) -> list[str]:
        if not isinstance(event, dict):
            return ["(the event): must be a JSON object"]
        found: list[str] = []

        def need(holder: Any, key: str, where: tuple[Any, ...], of_type: type = str) -> Any:
            if not isinstance(holder, dict) or key not in holder:
                found.append(f"{_path([*where, key])}: required, missing")
                return None
            if not isinstance(holder[key], of_type):
                found.append(f"{_path([*where, key])}: must be a {of_type.__name__}")
                return None
            return holder[key]

        event_time = need(event, "eventTime", ())
        if event_time is not None and not _DATE_TIME.match(event_time):
            found.append(f"eventTime: {event_time!r} is not a date-time with a time zone")
        need(event, "producer", ())
        need(event, "schemaURL", ())
        which = kind(event)
        if which == "unknown":
            found.append("(the event): a RunEvent needs run and job, a JobEvent job, a "
                         "DatasetEvent dataset")  # fmt: skip
        if which == "RunEvent":
            run = need(event, "run", (), dict)
            run_id = need(run, "runId", ("run",)) if run is not None else None
            if run_id is not None and not _is_uuid(run_id):
                found.append(f"run.runId: {run_id!r} is not a UUID")
            kind_ = event.get("eventType")
            if kind_ is not None and kind_ not in _EVENT_TYPES:
                found.append(f"eventType: {kind_!r} is not one of {sorted(_EVENT_TYPES)}")
        if which in ("RunEvent", "JobEvent"):
            job = need(event, "job", (), dict)
            if job is not None:
                need(job, "namespace", ("job",))
                need(job, "name", ("job",))
            for side in ("inputs", "outputs"):
                items = event.get(side, [])
                if not isinstance(items, list):
                    found.append(f"{side}: must be an array")
                    continue
                for n, item in enumerate(items):
                    need(item, "namespace", (side, n))
                    need(item, "name", (side, n))
        if which == "DatasetEvent":
            dataset = need(event, "dataset", (), dict)
            if dataset is not None:
                need(dataset, "namespace", ("dataset",))
                need(dataset, "name", ("dataset",))
        for path, _, facets in _facet_sites(event):
            for key, facet in facets.items():
                where = (*path, key)
                if not isinstance(facet, dict):
                    found.append(f"{_path(where)}: a facet must be a JSON object")
                    continue
                need(facet, "_producer", where)
                need(facet, "_schemaURL", where)
                found.extend(_mapped_facet_problems(key, facet, where))
        return found


def _mapped_facet_problems(key: str, facet: dict[str, Any], where: tuple[Any, ...]) -> list[str]:
    """The required fields of the facets kg maps (parent, ownership, schema, symlinks)."""
    required: dict[str, tuple[str, ...]] = {
        "parent": ("run", "job"),
        "ownership": (),
        "symlinks": (),
        "errorMessage": ("message", "programmingLanguage"),
    }
    found: list[str] = []
    for field_name in required.get(key, ()):
        if field_name not in facet:
            found.append(f"{_path([*where, field_name])}: required, missing")
    if key == "parent" and isinstance(facet.get("run"), dict) and "runId" not in facet["run"]:
        found.append(f"{_path([*where, 'run', 'runId'])}: required, missing")
    lists = {"ownership": ("owners", "name"), "symlinks": ("identifiers", "namespace")}
    if key in lists:
        list_key, item_key = lists[key]
        for n, item in enumerate(facet.get(list_key) or []):
            if not isinstance(item, dict) or item_key not in item:
                found.append(f"{_path([*where, list_key, n, item_key])}: required, missing")
    if key == "schema":
        for n, item in enumerate(facet.get("fields") or []):
            if not isinstance(item, dict) or "name" not in item:
                found.append(f"{_path([*where, 'fields', n, 'name'])}: required, missing")
    return found


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class EventSchema:
    """The check kg applies: the spec's schema when its folder is known, else the core check."""

    def __init__(self, spec_folder: Path | None) -> None:
        self.spec_folder = spec_folder

    @cached_property
    def checker(self) -> SpecSchema | CoreCheck:
        return SpecSchema(self.spec_folder) if self.spec_folder else CoreCheck()

    @property
    def name(self) -> str:
        return "OpenLineage JSON Schema" if self.spec_folder else "kg core check"

    def problems(self, event: Any) -> list[str]:
        return self.checker.problems(event)
