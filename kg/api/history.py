"""History over HTTP: what changed and when (a feed with a cursor, and Server-Sent Events for
changes as they come), an asset's versions, and pruning (admins). Each route only translates."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from kg.api import models
from kg.api.deps import AdminDep, GraphDep
from kg.api.openapi import TOKEN, problems
from kg.errors import BusyError
from kg.graph import KnowledgeGraph
from kg.history import changes as history_changes
from kg.history.timeline import parse_moment
from kg.lineage import Direction

router = APIRouter(tags=["history"])

Since = Annotated[
    str | None,
    Query(description="ISO-8601 timestamp: changes after it (default: all history)."),
]
Until = Annotated[
    str | None, Query(description="ISO-8601 timestamp: changes up to it (default: now).")
]
NodeId = Annotated[
    str | None,
    Query(alias="nodeId", description="Only changes about this asset's lineage (see direction)."),
]
Kinds = Annotated[
    list[str] | None,
    Query(
        alias="kind",
        description="Only these kinds: " + ", ".join(history_changes.ALL_KINDS) + ".",
    ),
]
Cursor = Annotated[
    str | None,
    Query(description="The `next` of an earlier answer: what came after it."),
]
Limit = Annotated[
    int, Query(ge=1, le=history_changes.MAX_LIMIT, description="About how many changes.")
]
STREAMS = 32  # Server-Sent Events clients at once; past it, 503
_POLL = 0.5  # seconds between two looks at the change log while a stream waits
_HEARTBEAT = 15.0  # seconds of quiet after which a stream sends a comment (keeps proxies open)
_LIFETIME = 3600.0  # seconds a stream lasts: then it ends, and the client resumes by its cursor


_EVENT_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "A stream of changes."}
}


def _moment(text: str | None, name: str) -> Any:
    return None if text is None else parse_moment(text, name)


def _page(graph: KnowledgeGraph, **options: Any) -> dict[str, Any]:
    page = graph.changes(**options)
    return {
        "changes": [c.as_dict() for c in page.changes],
        "next": page.next,
        "more": page.more,
    }


@router.get(
    "/api/v1/changes",
    summary="What changed, when, from which source and by whom",
    response_model=models.ChangesPage,
    responses=problems(400, 404, 410),
)
async def get_changes(
    graph: GraphDep,
    since: Since = None,
    until: Until = None,
    node_id: NodeId = None,
    direction: Direction = Direction.BOTH,
    kind: Kinds = None,
    cursor: Cursor = None,
    limit: Limit = 1000,
) -> dict[str, Any]:
    """Every edge added or removed and every status, stage, owner, classification, type and
    name changed between two moments, oldest first, each with the write's time, sources and
    writer. Page with `next`; a client following the feed asks again with the last `next`
    (`more: false` means it is up to date). 410 for a moment before history starts."""
    return await anyio.to_thread.run_sync(
        lambda: _page(
            graph,
            since=_moment(since, "since"),
            until=_moment(until, "until"),
            node=node_id,
            direction=direction,
            cursor=cursor,
            limit=limit,
            kinds=kind or (),
        )
    )


@router.get(
    "/api/v1/changes/stream",
    summary="Changes as they happen (Server-Sent Events)",
    response_class=StreamingResponse,
    responses=_EVENT_STREAM | problems(400, 503),
)
async def stream_changes(
    request: Request,
    graph: GraphDep,
    node_id: NodeId = None,
    direction: Direction = Direction.BOTH,
    kind: Kinds = None,
    cursor: Cursor = None,
) -> StreamingResponse:
    """A `text/event-stream` of `changes` events, one per batch of changes (data: a JSON list
    of changes, as /api/v1/changes gives them; id: the cursor after them). Starts with what
    follows `cursor` (or the `Last-Event-ID` header a reconnecting client sends), by default
    with the next change made. A stream ends after an hour; a client reconnects and resumes."""
    state = request.app.state
    streams = getattr(state, "change_streams", 0)
    if streams >= STREAMS:
        raise BusyError(f"{STREAMS} change streams are open already; try again later")
    start = request.headers.get("last-event-id") or cursor
    history_changes.parse_cursor(start)  # 400 before the stream opens
    if start is None:
        graph.timeline.refresh(graph.store)
        start = history_changes.cursor_of(graph.timeline.read_up_to + 1, 0)
    kinds = kind or ()
    state.change_streams = streams + 1

    def following(after: str) -> history_changes.Page:
        return graph.changes(
            cursor=after, limit=500, node=node_id, direction=direction, kinds=kinds
        )

    async def events() -> AsyncIterator[bytes]:
        position = start
        quiet = 0.0
        ends = anyio.current_time() + _LIFETIME
        try:
            yield b"retry: 2000\n: kg changes\n\n"
            while not await request.is_disconnected() and anyio.current_time() < ends:
                page = await anyio.to_thread.run_sync(following, position)
                if page.changes:
                    data = json.dumps([c.as_dict() for c in page.changes])
                    yield f"event: changes\nid: {page.next}\ndata: {data}\n\n".encode()
                    quiet = 0.0
                position = page.next
                if page.more:
                    continue
                await asyncio.sleep(_POLL)
                quiet += _POLL
                if quiet >= _HEARTBEAT:
                    yield b": still here\n\n"
                    quiet = 0.0
        finally:
            state.change_streams -= 1

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


@router.get(
    "/api/v1/assets/{identifier:path}/history",
    summary="An asset's versions: who changed what, and when",
    response_model=models.AssetHistory,
    responses=problems(404, 410),
)
async def get_asset_history(
    graph: GraphDep,
    identifier: str,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most versions, newest first.")] = 100,
) -> dict[str, Any]:
    """Each write that changed what is said of the asset, newest first, with its time,
    sources, writer and changes."""
    return await anyio.to_thread.run_sync(graph.asset_history, identifier, limit)


class Prune(BaseModel):
    before: str = Field(description="ISO-8601 timestamp: versions kept before it are removed.")


@router.post(
    "/api/v1/history/prune",
    summary="Remove the history before a moment (admins)",
    response_model=models.Pruned,
    responses=problems(400, detail=True) | problems(401, 403, 410),
    openapi_extra=TOKEN,
)
async def post_prune(graph: AdminDep, body: Prune) -> dict[str, object]:
    """Removes what writes before `before` replaced: answers as of an earlier moment are then
    refused (410). The prune itself is recorded (who, when, up to where)."""
    moment = parse_moment(body.before, "before")
    return await anyio.to_thread.run_sync(graph.prune_history, moment)
