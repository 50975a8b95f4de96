"""Qdrant REST API stand-in.

Serves the subset of Qdrant's REST API that `@qdrant/js-client-rest` uses for collection
management, upserts, deletes, retrieval, scroll, count and the Query API (dense, sparse,
prefetch + RRF fusion, filters). Requests are parsed with the REST models that ship in
`qdrant-client` (they mirror Qdrant's OpenAPI schema) and executed by `qdrant-client`'s
local mode. Responses use Qdrant's envelope: {"result": ..., "status": "ok", "time": ...}.

With an API key (`create_app(api_key=...)`, or QDRANT__SERVICE__API_KEY as for Qdrant itself),
every request but the health checks (/healthz, /livez, /readyz) must carry it in the `api-key`
header (or as `Authorization: Bearer <key>`), as Qdrant's `service.api_key` requires; otherwise
401 with Qdrant's error envelope.

This is a stand-in for tests and local development. Production uses a real Qdrant server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
import warnings
from importlib.metadata import version as package_version
from typing import Any, Callable

from pydantic import BaseModel, TypeAdapter, ValidationError
from qdrant_client import QdrantClient, models
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

QDRANT_CLIENT_VERSION = package_version("qdrant-client")


class ApiError(Exception):
    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def _dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _ok(result: Any, started: float) -> JSONResponse:
    return JSONResponse(
        {"result": _dump(result), "status": "ok", "time": round(time.perf_counter() - started, 6)}
    )


def _error(status_code: int, message: str, started: float) -> JSONResponse:
    return JSONResponse(
        {"status": {"error": message}, "time": round(time.perf_counter() - started, 6)},
        status_code=status_code,
    )


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"Format error in JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "Format error in JSON body: expected a JSON object")
    return data


def _parse(model: Any, data: dict[str, Any]) -> Any:
    try:
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        raise ApiError(400, f"Format error in JSON body: {exc}") from exc


def _completed() -> models.UpdateResult:
    return models.UpdateResult(operation_id=0, status=models.UpdateStatus.COMPLETED)


#: Paths Qdrant answers without its API key (an orchestrator's probes).
OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz"})


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


class ApiKeyMiddleware:
    """Qdrant's `service.api_key`: the key in the `api-key` header or as a Bearer token, compared in
    constant time; /healthz, /livez and /readyz are open."""

    def __init__(self, app: Any, api_key: str) -> None:
        if not api_key:
            raise ValueError("the API key must not be empty")
        self.app = app
        self._expected = _digest(api_key)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope.get("headers", []):
            if name == b"api-key":
                given = value.decode("latin-1").strip()
                break
            if name == b"authorization":
                scheme, _, credential = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and credential.strip():
                    given = credential.strip()
        if not given:
            message = "Must provide an API key or an Authorization bearer token"
        elif not hmac.compare_digest(_digest(given), self._expected):
            message = "Invalid API key or JWT"
        else:
            await self.app(scope, receive, send)
            return
        await _error(401, message, time.perf_counter())(scope, receive, send)


def create_app(storage: str | None = None, api_key: str | None = None) -> Starlette:
    """Build the ASGI app. `storage` is a directory for persistent data or ":memory:"; `api_key`
    (default QDRANT__SERVICE__API_KEY; empty or unset: none) is required on every request but the
    health checks."""
    storage = storage or os.environ.get("QDRANT_STANDIN_STORAGE", ":memory:")
    api_key = api_key if api_key is not None else os.environ.get("QDRANT__SERVICE__API_KEY")
    client = QdrantClient(":memory:") if storage == ":memory:" else QdrantClient(path=storage)
    # qdrant-client's local mode is not thread-safe: run every operation under one lock.
    lock = threading.Lock()

    def require_collection(name: str) -> None:
        if not client.collection_exists(name):
            raise ApiError(404, f"Not found: Collection `{name}` doesn't exist!")

    def endpoint(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def wrapped(request: Request) -> JSONResponse:
            started = time.perf_counter()
            try:
                body = await _body(request) if request.method in ("POST", "PUT", "PATCH") else {}
                with lock:
                    result = handler(request, body)
                return _ok(result, started)
            except ApiError as exc:
                return _error(exc.status_code, exc.message, started)
            except (ValueError, TypeError, KeyError, AssertionError) as exc:
                message = str(exc)
                code = 404 if "not found" in message.lower() else 400
                return _error(code, f"Bad request: {message}", started)

        return wrapped

    # --- service -------------------------------------------------------------------------

    async def root(_: Request) -> JSONResponse:
        return JSONResponse(
            {
                "title": "qdrant - vector search engine (local REST stand-in)",
                "version": QDRANT_CLIENT_VERSION,
                "commit": None,
            }
        )

    async def health(_: Request) -> PlainTextResponse:
        return PlainTextResponse("healthz check passed")

    # --- collections ---------------------------------------------------------------------

    def list_collections(_: Request, __: dict) -> Any:
        return client.get_collections()

    def get_collection(request: Request, _: dict) -> Any:
        name = request.path_params["name"]
        require_collection(name)
        return client.get_collection(name)

    def collection_exists(request: Request, _: dict) -> Any:
        return {"exists": client.collection_exists(request.path_params["name"])}

    def create_collection(request: Request, body: dict) -> Any:
        name = request.path_params["name"]
        spec: models.CreateCollection = _parse(models.CreateCollection, body)
        if client.collection_exists(name):
            raise ApiError(409, f"Wrong input: Collection `{name}` already exists!")
        return client.create_collection(
            name,
            vectors_config=spec.vectors if spec.vectors is not None else {},
            sparse_vectors_config=spec.sparse_vectors,
            metadata=spec.metadata,
        )

    def delete_collection(request: Request, _: dict) -> Any:
        return client.delete_collection(request.path_params["name"])

    def create_index(request: Request, body: dict) -> Any:
        name = request.path_params["name"]
        require_collection(name)
        spec: models.CreateFieldIndex = _parse(models.CreateFieldIndex, body)
        # Local mode keeps no payload indexes; filtering works without them. Acknowledge.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            client.create_payload_index(name, field_name=spec.field_name, field_schema=spec.field_schema)
        return _completed()

    # --- points --------------------------------------------------------------------------

    def upsert_points(request: Request, body: dict) -> Any:
        name = request.path_params["name"]
        require_collection(name)
        op = _parse(models.PointInsertOperations, body)
        points = op.batch if isinstance(op, models.PointsBatch) else op.points
        client.upsert(name, points=points, wait=True)
        return _completed()

    def delete_points(request: Request, body: dict) -> Any:
        name = request.path_params["name"]
        require_collection(name)
        selector = _parse(models.PointsSelector, body)
        client.delete(name, points_selector=selector, wait=True)
        return _completed()

    def retrieve_points(request: Request, body: dict) -> Any:
        name = request.path_params["name"]
        require_collection(name)
        spec: models.PointRequest = _parse(models.PointRequest, body)
        return client.retrieve(
            name,
            ids=spec.ids,
            with_payload=spec.with_payload if spec.with_payload is not None else True,
            with_vectors=spec.with_vector if spec.with_vector is not None else False,
        )

    def scroll_points(request: Request, body: dict) -> Any:
        name = request.path_params["name"]
        require_collection(name)
        spec: models.ScrollRequest = _parse(models.ScrollRequest, body)
        records, next_offset = client.scroll(
            name,
            scroll_filter=spec.filter,
            limit=spec.limit if spec.limit is not None else 10,
            offset=spec.offset,
            with_payload=spec.with_payload if spec.with_payload is not None else True,
            with_vectors=spec.with_vector if spec.with_vector is not None else False,
            order_by=spec.order_by,
        )
        # next_page_offset is explicitly null on the last page, as in Qdrant.
        return {"points": _dump(records), "next_page_offset": _dump(next_offset)}

    def count_points(request: Request, body: dict) -> Any:
        name = request.path_params["name"]
        require_collection(name)
        spec: models.CountRequest = _parse(models.CountRequest, body)
        return client.count(name, count_filter=spec.filter, exact=True)

    def query_points(request: Request, body: dict) -> Any:
        name = request.path_params["name"]
        require_collection(name)
        spec: models.QueryRequest = _parse(models.QueryRequest, body)
        return client.query_points(
            name,
            query=spec.query,
            using=spec.using,
            prefetch=spec.prefetch,
            query_filter=spec.filter,
            search_params=spec.params,
            limit=spec.limit if spec.limit is not None else 10,
            offset=spec.offset,
            with_payload=spec.with_payload if spec.with_payload is not None else False,
            with_vectors=spec.with_vector if spec.with_vector is not None else False,
            score_threshold=spec.score_threshold,
            lookup_from=spec.lookup_from,
        )

    routes = [
        Route("/", root, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/livez", health, methods=["GET"]),
        Route("/readyz", health, methods=["GET"]),
        Route("/collections", endpoint(list_collections), methods=["GET"]),
        Route("/collections/{name}", endpoint(get_collection), methods=["GET"]),
        Route("/collections/{name}", endpoint(create_collection), methods=["PUT"]),
        Route("/collections/{name}", endpoint(delete_collection), methods=["DELETE"]),
        Route("/collections/{name}/exists", endpoint(collection_exists), methods=["GET"]),
        Route("/collections/{name}/index", endpoint(create_index), methods=["PUT"]),
        Route("/collections/{name}/points", endpoint(upsert_points), methods=["PUT"]),
        Route("/collections/{name}/points", endpoint(retrieve_points), methods=["POST"]),
        Route("/collections/{name}/points/delete", endpoint(delete_points), methods=["POST"]),
        Route("/collections/{name}/points/scroll", endpoint(scroll_points), methods=["POST"]),
        Route("/collections/{name}/points/count", endpoint(count_points), methods=["POST"]),
        Route("/collections/{name}/points/query", endpoint(query_points), methods=["POST"]),
    ]

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return _error(404, f"Not found: {request.method} {request.url.path} is not served by this stand-in", time.perf_counter())

    async def not_allowed(request: Request, exc: Exception) -> JSONResponse:
        return _error(405, f"Method {request.method} not allowed on {request.url.path}", time.perf_counter())

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
    app.state.client = client
    if api_key:
        app.add_middleware(ApiKeyMiddleware, api_key=api_key)
    return app
