"""How the CLI reaches a graph: the store itself, or the `kg serve` that holds it.

Both kinds answer in the same plain data (the JSON the HTTP API answers: kg.views, shaped by
the API's own response models, kg.api.models), so every command prints the same thing, with the
same exit code, whichever way it went. The CLI picks:
`--url` / KG_URL, else the store, else (the store held by a server) the server the store folder
names.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

import pyoxigraph as ox

from kg import views
from kg.api import models
from kg.client import Client, Part, ServerError
from kg.config import Settings
from kg.errors import KGError, NotFoundError
from kg.exports import ExportFormat
from kg.governance.gate import GateMode
from kg.governance.model import Severity
from kg.governance.render import Format
from kg.governance.shapes import load_shapes
from kg.governance.validation import Engine
from kg.graph import Document, KnowledgeGraph
from kg.history.timeline import parse_moment
from kg.ids import to_id, to_iri
from kg.lineage import Direction
from kg.sources.service import Hydration
from kg.write import importers, pipeline

# What `kg query` prints: solutions or a boolean as pyoxigraph has them, or a graph's triples.
Answer = ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]
Progress = Callable[[int, int], None]

DUMP_MEDIA = {
    "nq": ("application/n-quads", ox.RdfFormat.N_QUADS),
    "trig": ("application/trig", ox.RdfFormat.TRIG),
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
}


@dataclass(frozen=True)
class Validation:
    text: str
    conforms: bool


class Access(Protocol):
    """What the CLI asks of a graph, wherever it is."""

    where: str  # the store path or the server URL, for messages
    base_iri: str
    truncated: bool  # the last query's answer was cut at a server's row cap

    def iri(self, name: str) -> str: ...
    def short(self, iri: str) -> str: ...
    def rule_names(self) -> dict[str, str]: ...
    def load(
        self,
        documents: Sequence[Document],
        gate: GateMode,
        progress: pipeline.Progress | None = None,
    ) -> dict[str, Any]: ...
    def bulk_load(
        self,
        path: Path,
        rdf_format: ox.RdfFormat,
        progress: Callable[[pipeline.Stage], None] | None,
    ) -> dict[str, Any]: ...
    def ingest(
        self,
        importer: importers.Importer,
        documents: Sequence[Document],
        gate: GateMode,
        progress: Progress | None,
    ) -> dict[str, Any]: ...
    def same_as(self, asset: str, others: Sequence[str], remove: bool) -> None: ...
    def query(self, text: str) -> Answer: ...
    def named_query(self, name: str, params: dict[str, str]) -> Answer: ...
    def lineage(
        self,
        asset: str,
        direction: Direction,
        depth: int | None,
        types: list[str] | None,
        as_of: str | None = None,
    ) -> dict[str, Any]: ...
    def impact(self, asset: str, as_of: str | None = None) -> dict[str, Any]: ...
    def paths(self, origin: str, target: str, as_of: str | None = None) -> dict[str, Any]: ...
    def changes(self, options: dict[str, Any]) -> dict[str, Any]: ...
    def history(self, asset: str, limit: int) -> dict[str, Any]: ...
    def prune(self, before: str) -> dict[str, Any]: ...
    def validate(
        self,
        scope: tuple[str | None, str | None, str | None],
        engine: Engine,
        shapes: Sequence[Path],
        fmt: Format,
        fail_on: Severity,
        save: bool,
        as_of: str | None = None,
    ) -> Validation: ...
    def search(
        self, text: str, filters: dict[str, list[str]], limit: int, exact_facets: bool = False
    ) -> dict[str, Any]: ...
    def rebuild_search(self) -> int: ...
    def export(
        self,
        fmt: ExportFormat,
        team: str | None,
        asset: str | None,
        direction: Direction,
        as_of: str | None = None,
    ) -> bytes: ...
    def dump(self, handle: BinaryIO, fmt: str) -> None: ...
    def stats(self) -> dict[str, Any]: ...
    def sync(self, source: str) -> dict[str, Any]: ...
    def sources(self) -> list[dict[str, Any]]: ...
    def inference_rules(self) -> list[dict[str, Any]]: ...
    def infer(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


class UnavailableHereError(KGError):
    """What the CLI cannot do where it is (exit 2): an option the server cannot honour, shapes
    kg cannot read."""

    status = 400
    title = "Not possible here"


class Local:
    """The store, opened by this process."""

    def __init__(self, graph: KnowledgeGraph) -> None:
        self.graph = graph
        self.where = str(graph.settings.store_path() or "memory")
        self.base_iri = graph.settings.base_iri
        self.truncated = False

    def iri(self, name: str) -> str:
        return self.graph.iri(name)

    def short(self, iri: str) -> str:
        return self.graph.short(iri)

    def rule_names(self) -> dict[str, str]:
        return self.graph.shapes().names

    def load(
        self,
        documents: Sequence[Document],
        gate: GateMode,
        progress: pipeline.Progress | None = None,
    ) -> dict[str, Any]:
        report = self.graph.load(documents, gate, restore=True, progress=progress)
        return models.shaped(models.LoadReport, report.as_dict())

    def bulk_load(
        self,
        path: Path,
        rdf_format: ox.RdfFormat,
        progress: Callable[[pipeline.Stage], None] | None,
    ) -> dict[str, Any]:
        report = self.graph.bulk_load(path, rdf_format, progress=progress)
        return models.shaped(models.LoadReport, report.as_dict())

    def ingest(
        self,
        importer: importers.Importer,
        documents: Sequence[Document],
        gate: GateMode,
        progress: Progress | None,
    ) -> dict[str, Any]:
        report = importers.ingest(
            self.graph, importer, documents, strict=False, gate=gate, progress=progress
        )
        return models.shaped(models.IngestReport, report.as_dict())

    def same_as(self, asset: str, others: Sequence[str], remove: bool) -> None:
        for name in [asset, *others]:
            if not self.graph.exists(self.graph.iri(name)):
                raise NotFoundError(f"no asset {name} in the graph")
        importers.declare_same(self.graph, asset, others, remove=remove)

    def query(self, text: str) -> Answer:
        return _interruptible(lambda: self.graph.query(text))

    def named_query(self, name: str, params: dict[str, str]) -> Answer:
        return _interruptible(lambda: self.graph.named_query(name, params))

    def lineage(
        self,
        asset: str,
        direction: Direction,
        depth: int | None,
        types: list[str] | None,
        as_of: str | None = None,
    ) -> dict[str, Any]:
        # as the API answers them: built by kg.views, and (large) not checked again
        moment = _moment(as_of)
        return views.lineage(self.graph.lineage(asset, direction, depth, types, as_of=moment))

    def impact(self, asset: str, as_of: str | None = None) -> dict[str, Any]:
        return views.impact(self.graph.impact(asset, as_of=_moment(as_of)))

    def paths(self, origin: str, target: str, as_of: str | None = None) -> dict[str, Any]:
        found = self.graph.paths(origin, target, as_of=_moment(as_of))
        return models.shaped(models.Paths, views.paths(found))

    def changes(self, options: dict[str, Any]) -> dict[str, Any]:
        page = self.graph.changes(
            since=_moment(options.get("since"), "--since"),
            until=_moment(options.get("until"), "--until"),
            node=options.get("nodeId"),
            direction=Direction(options.get("direction") or Direction.BOTH.value),
            cursor=options.get("cursor"),
            limit=int(options.get("limit") or 1000),
            kinds=options.get("kind") or (),
        )
        return {
            "changes": [c.as_dict() for c in page.changes],
            "next": page.next,
            "more": page.more,
        }

    def history(self, asset: str, limit: int) -> dict[str, Any]:
        return self.graph.asset_history(asset, limit)

    def prune(self, before: str) -> dict[str, Any]:
        moment = _moment(before, "--before")
        assert moment is not None
        return self.graph.prune_history(moment)

    def validate(
        self,
        scope: tuple[str | None, str | None, str | None],
        engine: Engine,
        shapes: Sequence[Path],
        fmt: Format,
        fail_on: Severity,
        save: bool,
        as_of: str | None = None,
    ) -> Validation:
        moment = _moment(as_of)
        if moment is not None and save:
            raise UnavailableHereError("a validation as of a moment is not kept: leave out --save")
        focus = self.graph.scope(*scope, as_of=moment)  # an unknown name: NotFoundError
        try:  # shapes kg cannot read, or a subset asked to be saved: the check failed
            report = self.graph.validate(focus, engine, shapes, as_of=moment)
            if save:
                self.graph.save_report(report)
            text = self.graph.render(report, fmt, fail_on)
        except KGError as exc:
            raise UnavailableHereError(exc.message) from exc
        return Validation(text, report.conforms(fail_on))

    def search(
        self, text: str, filters: dict[str, list[str]], limit: int, exact_facets: bool = False
    ) -> dict[str, Any]:
        found = self.graph.search(text, filters, limit, exact_facets=exact_facets)
        return models.shaped(models.SearchResult, views.search(text, found))

    def rebuild_search(self) -> int:
        return self.graph.rebuild_search()

    def export(
        self,
        fmt: ExportFormat,
        team: str | None,
        asset: str | None,
        direction: Direction,
        as_of: str | None = None,
    ) -> bytes:
        return self.graph.export(fmt, team, asset, direction, _moment(as_of))

    def dump(self, handle: BinaryIO, fmt: str) -> None:
        self.graph.store.dump(handle, DUMP_MEDIA[fmt][1])

    def stats(self) -> dict[str, Any]:
        return models.shaped(models.Stats, self.graph.stats())

    def _hydration(self) -> Hydration:
        return Hydration.open(self.graph, self.graph.settings)

    def sync(self, source: str) -> dict[str, Any]:
        """List the source, queue everything, and hydrate it here and now."""
        hydration = self._hydration()
        try:
            report = hydration.sync(source).as_dict()
            report["hydrated"] = hydration.drain()
            status = {s["source"]: s for s in hydration.status()}[source]
            report["pending"] = status["pending"]
            report["failed"] = status["failed"]
            report["failures"] = status["failures"]
            return report
        finally:
            hydration.close()

    def sources(self) -> list[dict[str, Any]]:
        hydration = self._hydration()
        try:
            return hydration.status()
        finally:
            hydration.close()

    def inference_rules(self) -> list[dict[str, Any]]:
        return self.graph.inference_rules()

    def infer(self) -> dict[str, Any]:
        report = self.graph.infer()
        if report is None:
            return {"changed": {}, "load": None}
        return {"changed": report.inferred_rules, "load": report.load}

    def close(self) -> None:
        self.graph.close()


class Remote:
    """A running kg server, over its HTTP API."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.where = client.url
        self.base_iri = settings.base_iri
        self.truncated = False

    def iri(self, name: str) -> str:
        return to_iri(name, self.base_iri).value

    def short(self, iri: str) -> str:
        return to_id(iri, self.base_iri)

    def rule_names(self) -> dict[str, str]:
        # The rules' names are in the shapes files, which this installation has too.
        return load_shapes(self.settings.shape_paths()).names

    def load(
        self,
        documents: Sequence[Document],
        gate: GateMode,
        progress: pipeline.Progress | None = None,  # the server's own work is not seen here
    ) -> dict[str, Any]:
        reply = self.client.post_files(
            "/api/v1/assets", _parts(documents), {"gate": gate.value, "restore": "true"}
        )
        return dict(reply.json())

    def bulk_load(
        self,
        path: Path,
        rdf_format: ox.RdfFormat,
        progress: Callable[[pipeline.Stage], None] | None,
    ) -> dict[str, Any]:
        raise UnavailableHereError(
            f"the bulk path runs beside the store, and {self.where} is a server: stop it and run "
            "`kg load --bulk --store PATH`, or load through it without --bulk"
        )

    def ingest(
        self,
        importer: importers.Importer,
        documents: Sequence[Document],
        gate: GateMode,
        progress: Progress | None,
    ) -> dict[str, Any]:
        reply = self.client.post_files(
            f"/api/v1/ingest/{importer.value}",
            _parts(documents),
            {"gate": gate.value, "partial": "true"},
        )
        return dict(reply.json())

    def same_as(self, asset: str, others: Sequence[str], remove: bool) -> None:
        body = json.dumps({"asset": asset, "sameAs": list(others), "remove": remove}).encode()
        self.client.post("/api/v1/equivalences", body=body, media="application/json")

    def query(self, text: str) -> Answer:
        reply = self.client.post(
            "/sparql", body=text.encode(), media="application/sparql-query", accept=_ANY_RESULT
        )
        self.truncated = reply.headers.get("kg-truncated") == "true"
        return _parsed(reply.media, reply.body)

    def named_query(self, name: str, params: dict[str, str]) -> Answer:
        reply = self.client.get(f"/api/v1/queries/{name}", params, accept=_ANY_RESULT)
        self.truncated = reply.headers.get("kg-truncated") == "true"
        return _parsed(reply.media, reply.body)

    def lineage(
        self,
        asset: str,
        direction: Direction,
        depth: int | None,
        types: list[str] | None,
        as_of: str | None = None,
    ) -> dict[str, Any]:
        params = {
            "nodeId": asset,
            "direction": direction.value,
            "depth": depth,
            "type": types,
            "asOf": as_of,
        }
        return dict(self.client.get("/api/v1/lineage", params).json())

    def impact(self, asset: str, as_of: str | None = None) -> dict[str, Any]:
        return dict(self.client.get("/api/v1/impact", {"nodeId": asset, "asOf": as_of}).json())

    def paths(self, origin: str, target: str, as_of: str | None = None) -> dict[str, Any]:
        params = {"from": origin, "to": target, "asOf": as_of}
        return dict(self.client.get("/api/v1/path", params).json())

    def changes(self, options: dict[str, Any]) -> dict[str, Any]:
        return dict(self.client.get("/api/v1/changes", options).json())

    def history(self, asset: str, limit: int) -> dict[str, Any]:
        path = f"/api/v1/assets/{quote(asset, safe='/:')}/history"
        return dict(self.client.get(path, {"limit": limit}).json())

    def prune(self, before: str) -> dict[str, Any]:
        body = json.dumps({"before": before}).encode()
        reply = self.client.post("/api/v1/history/prune", body=body, media="application/json")
        return dict(reply.json())

    def validate(
        self,
        scope: tuple[str | None, str | None, str | None],
        engine: Engine,
        shapes: Sequence[Path],
        fmt: Format,
        fail_on: Severity,
        save: bool,
        as_of: str | None = None,
    ) -> Validation:
        if as_of is not None and save:
            raise UnavailableHereError("a validation as of a moment is not kept: leave out --save")
        if shapes:
            raise UnavailableHereError(
                "--shapes needs the store: the server validates with its own shapes "
                "(KG_SHAPES where it runs)"
            )
        if engine is not Engine.COMPILED:
            raise UnavailableHereError(f"--engine {engine.value} needs the store: a server runs "
                                     "the compiled engine")  # fmt: skip
        params: dict[str, str | None] = {"format": fmt.value, "failOn": fail_on.value}
        if save:
            if any(scope):
                raise UnavailableHereError(
                    "only a validation of the whole graph is kept as the latest report"
                )
            reply = self.client.post("/api/v1/validation", params, accept="*/*")
        else:
            asset, team, lineage = scope
            params |= {"asset": asset, "team": team, "lineage": lineage, "asOf": as_of}
            reply = self.client.get("/api/v1/validation", params, accept="*/*")
        return Validation(
            reply.body.decode("utf-8"), reply.headers.get("kg-conforms", "").lower() == "true"
        )

    def search(
        self, text: str, filters: dict[str, list[str]], limit: int, exact_facets: bool = False
    ) -> dict[str, Any]:
        params: dict[str, str | int | list[str]] = {"q": text, "limit": limit, **filters}
        if exact_facets:
            params["exactFacets"] = "true"
        return dict(self.client.get("/api/v1/search", params).json())

    def rebuild_search(self) -> int:
        raise UnavailableHereError("--rebuild needs the store: the server keeps its own index")

    def export(
        self,
        fmt: ExportFormat,
        team: str | None,
        asset: str | None,
        direction: Direction,
        as_of: str | None = None,
    ) -> bytes:
        params = {
            "format": fmt.value,
            "team": team,
            "nodeId": asset,
            "direction": direction.value,
            "asOf": as_of,
        }
        return self.client.get("/api/v1/export", params, accept="*/*").body

    def dump(self, handle: BinaryIO, fmt: str) -> None:
        media = DUMP_MEDIA[fmt][0]
        handle.write(self.client.get("/api/v1/dump", accept=media).body)

    def stats(self) -> dict[str, Any]:
        return dict(self.client.get("/api/v1/stats").json())

    def sync(self, source: str) -> dict[str, Any]:
        # the server's worker hydrates what it queued: `kg sources` shows how far it is
        path = f"/api/v1/sources/{quote(source, safe='')}/sync"
        return dict(self.client.post(path).json())

    def sources(self) -> list[dict[str, Any]]:
        return list(self.client.get("/api/v1/sources").json())

    def inference_rules(self) -> list[dict[str, Any]]:
        return list(self.client.get("/api/v1/inference/rules").json())

    def infer(self) -> dict[str, Any]:
        return dict(self.client.post("/api/v1/inference").json())

    def close(self) -> None:
        pass


_ANY_RESULT = "application/sparql-results+json, application/n-triples;q=0.9"


def _parts(documents: Sequence[Document]) -> list[Part]:
    return [Part(d.name, d.data, d.media_type) for d in documents]


def _interruptible(
    evaluate: Callable[[], ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples],
) -> Answer:
    """`evaluate()` to the end in a thread, so that Ctrl-C stops the command at once: pyoxigraph
    does not return to Python until a query is done, and a signal waits for it. An interrupted
    query only read the store, so the process ends there (exit 130, as shells expect). The
    answer crosses threads serialized: pyoxigraph's results belong to the thread that made
    them."""
    outcome: list[tuple[str, bytes]] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result = evaluate()
            if isinstance(result, ox.QueryTriples):
                outcome.append(("application/n-triples", _serialized(result)))
            else:
                data = result.serialize(format=ox.QueryResultsFormat.JSON)
                outcome.append(("application/sparql-results+json", data or b""))
        except BaseException as exc:  # handed to the caller's thread as it is
            failure.append(exc)

    worker = threading.Thread(target=run, name="kg-query", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
        os._exit(130)
    if failure:
        raise failure[0]
    return _parsed(*outcome[0])


def _serialized(triples: ox.QueryTriples) -> bytes:
    return triples.serialize(format=ox.RdfFormat.N_TRIPLES) or b""


def _parsed(media: str, body: bytes) -> Answer:
    """A server's SPARQL answer as pyoxigraph has it locally."""
    if media == "application/sparql-results+json":
        return ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
    if media == "application/n-triples":
        return [q.triple for q in ox.parse(body, ox.RdfFormat.N_TRIPLES)]
    raise ServerError(502, f"the server answered the query as {media}", [])


def _moment(text: str | None, name: str = "--as-of") -> dt.datetime | None:
    return None if text is None else parse_moment(text, name)
