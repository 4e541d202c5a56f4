"""MLflow as a source of truth: a tracking server's REST API (`/api/2.0/mlflow/...`) lists and
fetches experiments, runs, MLflow 3 logged models, registered models and model versions;
`kg.sources.mlflow_map` maps what it fetched.

The model registry's webhooks (MLflow 3) say which entity changed; they are verified the way
MLflow signs them (HMAC-SHA256 over `<delivery id>.<timestamp>.<body>`, base64, `v1,` in front)
and turned into the thin events to hydrate: kg fetches the entity rather than trust the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from kg.errors import InputError, KGError
from kg.sources.base import EntityRef, Mapped, SourceRefusedError, SourceUnavailableError
from kg.sources.mlflow_map import map_entity

API = "/api/2.0/mlflow/"
SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_HEADER = "X-MLflow-Delivery-Id"
# How old a delivery may be (seconds, either way) before it counts as a replay: the five
# minutes Standard Webhooks recommend, whose scheme MLflow follows.
WEBHOOK_TOLERANCE = 300
_PAGE = 1000
_LOGGED_MODELS_PAGE = 100  # the server's default page of logged models
_EXPERIMENTS_PER_SEARCH = 100


class WebhookSignatureError(KGError):
    """A webhook delivery without a valid, fresh signature of the shared secret."""

    status = 401
    title = "Invalid webhook signature"


class _MissingError(Exception):
    """The server answered that the entity does not exist."""


class _NoEndpointError(Exception):
    """The server does not have the endpoint (an MLflow before 3 has no logged models)."""


class MlflowSource:
    """An MLflow tracking server (and its model registry), read over its REST API."""

    name: str = "mlflow"
    kinds: tuple[str, ...] = (
        "experiment",
        "run",
        "logged_model",
        "registered_model",
        "model_version",
    )

    def __init__(
        self, uri: str, base_iri: str, token: str | None = None, timeout: float = 10.0
    ) -> None:
        self.uri = uri.rstrip("/")
        self.base_iri = base_iri
        self.token = token
        self.timeout = timeout

    # -- HTTP
    def _call(
        self, path: str, query: Mapping[str, Any] | None = None, body: Any = None
    ) -> dict[str, Any]:
        """One API call (GET with `query`, POST with a JSON `body`) -> its JSON answer."""
        url = self.uri + API + path + (f"?{urlencode(query, doseq=True)}" if query else "")
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        method = "POST" if data is not None else "GET"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 (the configured server)
        where = f"MLflow {method} {API}{path}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(where, exc) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceUnavailableError(f"{where}: no answer ({reason})") from exc
        except OSError as exc:
            raise SourceUnavailableError(f"{where}: no answer ({exc})") from exc
        try:
            parsed = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SourceRefusedError(f"{where} answered 200 with something not JSON") from exc
        if not isinstance(parsed, dict):
            raise SourceRefusedError(f"{where} answered 200 with JSON that is not an object")
        return parsed

    def _pages(
        self, path: str, key: str, query: dict[str, Any] | None = None, body: Any = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged search (GET with `query` or POST with `body`)."""
        token: str | None = None
        while True:
            if body is not None:
                answer = self._call(path, body={**body, **({"page_token": token} if token else {})})
            else:
                page = {**(query or {}), **({"page_token": token} if token else {})}
                answer = self._call(path, query=page)
            for item in answer.get(key) or []:
                if isinstance(item, dict):
                    yield item
            token = answer.get("next_page_token") or None
            if token is None:
                return

    # -- the Source protocol
    def entities(self) -> Iterator[EntityRef]:
        try:
            yield from self._entities()
        except _MissingError as exc:  # deleted while being listed: the next sync sees the new list
            raise SourceUnavailableError(str(exc)) from exc
        except _NoEndpointError as exc:
            raise SourceRefusedError(str(exc)) from exc

    def _entities(self) -> Iterator[EntityRef]:
        experiments = [
            str(e["experiment_id"])
            for e in self._pages(
                "experiments/search",
                "experiments",
                body={"max_results": _PAGE, "view_type": "ACTIVE_ONLY"},
            )
        ]
        for experiment in experiments:
            yield EntityRef(self.name, "experiment", experiment)
        for experiment in experiments:
            # Deleted runs are gone for kg; ACTIVE_ONLY keeps every status of the others.
            body = {"experiment_ids": [experiment], "run_view_type": "ACTIVE_ONLY"}
            for run in self._pages("runs/search", "runs", body={**body, "max_results": _PAGE}):
                yield EntityRef(self.name, "run", str(run["info"]["run_id"]))
        yield from self._logged_models(experiments)
        for model in self._pages(
            "registered-models/search", "registered_models", query={"max_results": _PAGE}
        ):
            yield EntityRef(self.name, "registered_model", str(model["name"]))
        for version in self._pages(
            "model-versions/search", "model_versions", query={"max_results": _PAGE}
        ):
            yield EntityRef(self.name, "model_version", f"{version['name']}/{version['version']}")

    def _logged_models(self, experiments: list[str]) -> Iterator[EntityRef]:
        for start in range(0, len(experiments), _EXPERIMENTS_PER_SEARCH):
            body = {
                "experiment_ids": experiments[start : start + _EXPERIMENTS_PER_SEARCH],
                "max_results": _LOGGED_MODELS_PAGE,
            }
            try:
                for model in self._pages("logged-models/search", "models", body=body):
                    yield EntityRef(self.name, "logged_model", str(model["info"]["model_id"]))
            except (_NoEndpointError, _MissingError):
                return  # a server before MLflow 3: it has no logged models to list

    def fetch(self, ref: EntityRef) -> dict[str, Any] | None:
        fetchers = {
            "experiment": self._experiment,
            "run": self._run,
            "logged_model": self._logged_model,
            "registered_model": self._registered_model,
            "model_version": self._model_version,
        }
        if ref.source != self.name or ref.kind not in fetchers:
            raise InputError(f"{ref} is not an entity MLflow has")
        try:
            return fetchers[ref.kind](ref.id)
        except _MissingError:
            return None
        except _NoEndpointError as exc:
            raise SourceRefusedError(str(exc)) from exc

    def map(self, ref: EntityRef, state: dict[str, Any]) -> Mapped:
        return map_entity(ref, state, self.base_iri)

    # -- fetching each kind
    def _experiment(self, experiment_id: str) -> dict[str, Any] | None:
        answer = self._call("experiments/get", query={"experiment_id": experiment_id})
        if (answer.get("experiment") or {}).get("lifecycle_stage") == "deleted":
            return None
        return answer

    def _run(self, run_id: str) -> dict[str, Any] | None:
        answer = self._call("runs/get", query={"run_id": run_id})
        run = answer.get("run") or {}
        if (run.get("info") or {}).get("lifecycle_stage") == "deleted":
            return None
        versions = list(
            self._pages(
                "model-versions/search",
                "model_versions",
                query={"filter": f"run_id='{_quoted(run_id)}'", "max_results": _PAGE},
            )
        )
        return {"run": run, "model_versions": versions}

    def _logged_model(self, model_id: str) -> dict[str, Any]:
        return self._call(f"logged-models/{quote(model_id, safe='')}")

    def _registered_model(self, name: str) -> dict[str, Any]:
        answer = self._call("registered-models/get", query={"name": name})
        versions = list(
            self._pages(
                "model-versions/search",
                "model_versions",
                query={"filter": f"name='{_quoted(name)}'", "max_results": _PAGE},
            )
        )
        return {**answer, "model_versions": versions}

    def _model_version(self, entity_id: str) -> dict[str, Any]:
        name, slash, version = entity_id.rpartition("/")
        if not slash or not name or not version:
            raise InputError(f"a model version id is '<model name>/<version>', not {entity_id!r}")
        answer = self._call("model-versions/get", query={"name": name, "version": version})
        run_id = (answer.get("model_version") or {}).get("run_id")
        user = None
        if run_id:
            try:
                run = self._call("runs/get", query={"run_id": run_id}).get("run") or {}
                user = (run.get("info") or {}).get("user_id") or None
            except _MissingError:
                user = None  # the run was deleted for good: the version outlives it
        return {**answer, "run_user_id": user}

    # -- webhooks
    def verify_webhook(
        self, secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None
    ) -> None:
        """Accept a delivery only if it is signed with `secret` and at most
        WEBHOOK_TOLERANCE seconds away from `now`; WebhookSignatureError otherwise."""
        verify_webhook(secret, headers, body, now)

    def webhook_events(self, payload: dict[str, Any]) -> list[EntityRef]:
        return webhook_events(payload)


def _quoted(value: str) -> str:
    # MLflow's filter strings quote with ' and escape it by doubling nothing: refuse it instead.
    if "'" in value:
        raise InputError(f"{value!r}: MLflow filters cannot name a value with a quote in it")
    return value


def _http_error(where: str, exc: urllib.error.HTTPError) -> Exception:
    try:
        detail = json.loads(exc.read() or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        detail = {}
    code = detail.get("error_code", "") if isinstance(detail, dict) else ""
    message = detail.get("message", "") if isinstance(detail, dict) else ""
    said = f"{where} answered {exc.code}" + (f" {code}: {message}" if code else "")
    if code == "RESOURCE_DOES_NOT_EXIST":
        return _MissingError(said)
    if code == "ENDPOINT_NOT_FOUND" or (exc.code == 404 and not code):
        return _NoEndpointError(f"{said} (no such endpoint: is the URI the tracking server's?)")
    if exc.code == 429 or exc.code >= 500:
        return SourceUnavailableError(said)
    return SourceRefusedError(said)


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), "")


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The `X-MLflow-Signature` MLflow sends for a delivery."""
    signed = delivery_id.encode("utf-8") + b"." + timestamp.encode("utf-8") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_webhook(
    secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> None:
    """See MlflowSource.verify_webhook."""
    given = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    delivery = _header(headers, DELIVERY_HEADER)
    if not given or not timestamp or not delivery:
        missing = [
            h
            for h, v in (
                (SIGNATURE_HEADER, given),
                (TIMESTAMP_HEADER, timestamp),
                (DELIVERY_HEADER, delivery),
            )
            if not v
        ]
        raise WebhookSignatureError(f"the webhook delivery has no {', '.join(missing)} header")
    if not timestamp.isdigit():
        raise WebhookSignatureError(f"{TIMESTAMP_HEADER} {timestamp[:40]!r} is not Unix seconds")
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > WEBHOOK_TOLERANCE:
        raise WebhookSignatureError(
            f"the webhook delivery is {int(age)} s old (more than {WEBHOOK_TOLERANCE} s either way)"
        )
    expected = signature(secret, delivery, timestamp, body)
    # The header may carry several signatures (a secret being rotated), space-separated.
    if not any(hmac.compare_digest(expected, candidate) for candidate in given.split()):
        raise WebhookSignatureError("the webhook signature does not match the shared secret")


# Webhook event (entity.action) -> the kind of entity it changed.
_EVENT_KINDS = {
    "registered_model.created": "registered_model",
    "model_version.created": "model_version",
    "model_version_tag.set": "model_version",
    "model_version_tag.deleted": "model_version",
    "model_version_alias.created": "model_version",
    "model_version_alias.deleted": "registered_model",
}


def webhook_events(payload: dict[str, Any]) -> list[EntityRef]:
    """The entities a model-registry webhook says changed (prompts and unknown events: none).

    An alias deleted names no version: the registered model is hydrated again, and it
    refreshes its versions."""
    if not isinstance(payload, dict):
        raise InputError("a webhook payload is a JSON object")
    event = f"{payload.get('entity')}.{payload.get('action')}"
    kind = _EVENT_KINDS.get(event)
    if kind is None:
        return []
    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
        raise InputError(f"a {event} webhook needs data.name")
    if kind == "registered_model":
        return [EntityRef(MlflowSource.name, kind, data["name"])]
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, str | int) or str(version) == "":
        raise InputError(f"a {event} webhook needs data.version")
    return [EntityRef(MlflowSource.name, kind, f"{data['name']}/{version}")]
