"""FastAPI app: OpenAI-compatible endpoints plus vLLM-style adapter loading and rewards.

Endpoints
- ``GET /v1/models``
- ``POST /v1/chat/completions`` (``stream: true`` gives SSE chunks ending with ``data: [DONE]``)
- ``POST /v1/embeddings`` (model ``all-minilm-l6-v2``, 384 dimensions)
- ``POST /v1/load_lora_adapter`` ``{lora_name, lora_path}`` and ``POST /v1/unload_lora_adapter``
  ``{lora_name}`` as in vLLM; an artifact whose ``run.json`` says ``method: reward`` is loaded
  as a reward model instead of a generation adapter
- ``POST /v1/load_reward_model`` ``{name, path}``: a reward-model artifact (``train reward``),
  confined to the artifact folder like ``load_lora_adapter``
- ``POST /v1/rewards`` ``{model, conversations: [[{role, content}, ...], ...]}`` →
  ``{model, scores}``: one scalar per conversation, its last (assistant) message being scored

Access
- With an API key (``--api-key`` / ``STUDIO_MODEL_SERVER_API_KEY``) every route but ``GET /health``
  needs ``Authorization: Bearer <key>``; otherwise 401 (OpenAI-shaped, code ``invalid_api_key``).
- ``load_lora_adapter`` and ``load_reward_model`` load only from inside the artifact folder
  (``--artifact-dir`` / ``STUDIO_ARTIFACT_DIR``), symbolic links resolved; a path outside it, a
  missing one and one without an adapter all get the same 400 ``invalid_lora_path``, so the
  answer does not tell which paths exist. Without an artifact folder the routes load nothing
  (adapters given at start with ``--adapters`` are the operator's and are not confined).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .engine import (
    EMBEDDING_MODEL,
    Engine,
    EngineError,
    SamplingParams,
    default_threads,
    new_id,
)

log = logging.getLogger(__name__)


class ContentPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "user", "assistant", "developer"]
    content: str | list[ContentPart]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    n: int = Field(default=1, ge=1)


class EmbeddingRequest(BaseModel):
    model: str
    input: str | list[str]
    encoding_format: Literal["float", "base64"] | None = None


class LoadAdapter(BaseModel):
    lora_name: str = Field(min_length=1)
    lora_path: str = Field(min_length=1)


class UnloadAdapter(BaseModel):
    lora_name: str = Field(min_length=1)


class LoadRewardModel(BaseModel):
    name: str = Field(min_length=1)
    path: str = Field(min_length=1)


class RewardMessage(BaseModel):
    role: str
    content: str


class RewardRequest(BaseModel):
    model: str = Field(min_length=1)
    conversations: list[list[RewardMessage]]


def reward_conversations(body: RewardRequest) -> list[list[dict[str, str]]]:
    """The conversations as chat messages, or an EngineError (400) naming the first bad one:
    each needs messages with roles system/user/assistant, and ends with the assistant answer
    that is scored."""
    if not body.conversations:
        raise EngineError(
            "conversations must be a non-empty list of conversations", code="invalid_conversations"
        )
    out = []
    for i, conv in enumerate(body.conversations):
        if not conv:
            raise EngineError(f"conversations[{i}] is empty", code="invalid_conversations")
        for j, m in enumerate(conv):
            if m.role not in ("system", "user", "assistant"):
                raise EngineError(
                    f"conversations[{i}][{j}].role must be system, user or assistant, got "
                    f"{m.role!r}",
                    code="invalid_conversations",
                )
        if conv[-1].role != "assistant":
            raise EngineError(
                f"conversations[{i}] must end with the assistant answer to score, not a "
                f"{conv[-1].role!r} message",
                code="invalid_conversations",
            )
        out.append([{"role": m.role, "content": m.content} for m in conv])
    return out


def _b64(vector: list[float]) -> str:
    import base64

    import numpy as np

    return base64.b64encode(np.asarray(vector, dtype=np.float32).tobytes()).decode("ascii")


def error(status: int, message: str, code: str | None = None, param: str | None = None) -> Any:
    kind = "invalid_request_error" if status < 500 else "server_error"
    if status == 404:
        kind = "NotFoundError" if code is None else "invalid_request_error"
    return JSONResponse(
        status_code=status,
        content={"error": {"message": message, "type": kind, "param": param, "code": code}},
    )


# The ASGI interface, as the middleware below sees it.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Routes an orchestrator probes without credentials.
OPEN_PATHS = frozenset({"/health"})


class ApiKeyMiddleware:
    """Refuses every HTTP request but ``OPEN_PATHS`` without ``Authorization: Bearer <key>``.

    The comparison takes the same time wherever the keys differ (``hmac.compare_digest`` of their
    SHA-256 digests, so their lengths do not show either).
    """

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        if not api_key:
            raise ValueError("the API key must not be empty")
        self.app = app
        self._expected = _digest(api_key)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").rstrip("/") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = _bearer(scope)
        if given is None:
            await _refuse(send, "missing API key: send Authorization: Bearer <key>")
            return
        if not hmac.compare_digest(_digest(given), self._expected):
            await _refuse(send, "invalid API key")
            return
        await self.app(scope, receive, send)


def _digest(value: str) -> bytes:
    import hashlib

    return hashlib.sha256(value.encode("utf-8")).digest()


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            credential = credential.strip()
            return credential if scheme.lower() == "bearer" and credential else None
    return None


async def _refuse(send: Send, message: str) -> None:
    body = json.dumps(
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
                (b"www-authenticate", b"Bearer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def confined_adapter_path(artifact_dir: Path | None, requested: str) -> Path:
    """The real path of an adapter ``requested`` by a client, if it lies inside ``artifact_dir``.

    Symbolic links are resolved before the check (a link inside the folder to a path outside it is
    refused); a relative path is taken relative to the folder. Outside, missing, or not an adapter
    (no ``adapter_config.json`` or ``config.json``): one and the same EngineError, so a caller
    learns nothing about which paths exist.
    """
    refused = EngineError(
        f"no adapter at {requested!r} in the artifact folder", code="invalid_lora_path"
    )
    if artifact_dir is None:
        raise EngineError(
            "loading adapters is off: start the server with --artifact-dir "
            "(STUDIO_ARTIFACT_DIR), the folder adapters are loaded from",
            403,
            "adapter_loading_disabled",
        )
    if "\x00" in requested:
        raise refused
    root = Path(os.path.realpath(artifact_dir))
    candidate = Path(os.path.realpath(root / requested))
    if candidate == root or not candidate.is_relative_to(root):
        raise refused
    if (
        not (candidate / "adapter_config.json").is_file()
        and not (candidate / "config.json").is_file()
    ):
        raise refused
    return candidate


def create_app(
    engine: Engine,
    preload: dict[str, str] | None = None,
    *,
    api_key: str | None = None,
    artifact_dir: str | Path | None = None,
) -> FastAPI:
    """The server's ASGI app. ``api_key``: required on every route but /health (None: open, for
    a server bound to loopback inside one process tree). ``artifact_dir``: the only folder
    ``load_lora_adapter`` loads from (None: the route loads nothing)."""
    adapters_root = Path(artifact_dir) if artifact_dir is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        for name, path in (preload or {}).items():
            engine.load_adapter(name, path)
        yield
        await engine.stop()

    app = FastAPI(
        title="Alignment Studio model runtime",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.engine = engine
    if api_key is not None:
        app.add_middleware(ApiKeyMiddleware, api_key=api_key)

    @app.exception_handler(EngineError)
    async def _engine_error(_: Request, exc: EngineError) -> Any:
        return error(exc.status, str(exc), exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Any:
        first = exc.errors()[0] if exc.errors() else {}
        loc = ".".join(str(x) for x in first.get("loc", [])[1:])
        return error(400, f"{loc}: {first.get('msg', 'invalid request')}", None, loc or None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Any:
        return error(exc.status_code, str(exc.detail))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": m["id"],
                    "object": "model",
                    "created": engine.created,
                    "owned_by": "alignment-studio",
                    "root": m["root"],
                    "parent": m["parent"],
                }
                for m in engine.model_ids()
            ],
        }

    @app.post("/v1/load_lora_adapter")
    async def load_lora(body: LoadAdapter) -> Any:
        path = confined_adapter_path(adapters_root, body.lora_path)
        kind = await asyncio.to_thread(engine.load_adapter, body.lora_name, str(path))
        what = "reward model" if kind == "reward" else "LoRA adapter"
        return PlainTextResponse(f"Success: {what} '{body.lora_name}' added successfully.")

    @app.post("/v1/unload_lora_adapter")
    async def unload_lora(body: UnloadAdapter) -> Any:
        await asyncio.to_thread(engine.unload_adapter, body.lora_name)
        return PlainTextResponse(f"Success: LoRA adapter '{body.lora_name}' removed successfully.")

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest) -> Any:
        if body.n != 1:
            return error(400, "only n=1 is supported", None, "n")
        engine.check_model(body.model)
        stop = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        if any(not s for s in stop):
            return error(400, "stop sequences must be non-empty", None, "stop")
        params = SamplingParams(
            max_tokens=body.max_completion_tokens or body.max_tokens or 256,
            temperature=1.0 if body.temperature is None else body.temperature,
            top_p=1.0 if body.top_p is None else body.top_p,
            stop=stop,
            seed=body.seed,
        )
        msgs = [{"role": m.role, "content": m.text()} for m in body.messages]
        for m in msgs:
            if m["role"] == "developer":
                m["role"] = "system"
        try:
            prompt_ids = engine.encode_chat(msgs)
        except Exception as exc:
            return error(400, f"messages cannot be rendered with the chat template: {exc}")
        req = await engine.submit(body.model, prompt_ids, params)
        cid, created = new_id("chatcmpl"), int(time.time())
        if body.stream:
            return StreamingResponse(
                _stream(req, cid, created, body.model), media_type="text/event-stream"
            )
        result = await req.done
        return {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result["text"]},
                    "finish_reason": result["finish_reason"],
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": result["prompt_tokens"],
                "completion_tokens": result["completion_tokens"],
                "total_tokens": result["prompt_tokens"] + result["completion_tokens"],
            },
        }

    async def _stream(req: Any, cid: str, created: int, model: str) -> AsyncIterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None) -> str:
            payload = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(payload)}\n\n"

        yield chunk({"role": "assistant", "content": ""}, None)
        while True:
            delta = await req.deltas.get()
            if delta is None:
                break
            yield chunk({"content": delta}, None)
        result = await req.done
        yield chunk({}, result["finish_reason"])
        yield "data: [DONE]\n\n"

    @app.post("/v1/embeddings")
    async def embeddings(body: EmbeddingRequest) -> Any:
        texts = [body.input] if isinstance(body.input, str) else body.input
        if not texts or any(not isinstance(t, str) for t in texts):
            return error(
                400, "input must be a string or a non-empty list of strings", None, "input"
            )
        vectors = await asyncio.to_thread(engine.embed, body.model, texts)
        tokens = await asyncio.to_thread(engine.count_tokens, texts)
        return {
            "object": "list",
            "model": EMBEDDING_MODEL,
            "data": [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": _b64(v) if body.encoding_format == "base64" else v,
                }
                for i, v in enumerate(vectors)
            ],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    @app.post("/v1/load_reward_model")
    async def load_reward_model(body: LoadRewardModel) -> Any:
        path = confined_adapter_path(adapters_root, body.path)
        await asyncio.to_thread(engine.load_reward_model, body.name, str(path))
        return {"name": body.name, "loaded": True}

    @app.post("/v1/rewards")
    async def rewards(body: RewardRequest) -> Any:
        conversations = reward_conversations(body)
        engine.check_reward_model(body.model)
        scores = await asyncio.to_thread(engine.score, body.model, conversations)
        return {"model": body.model, "scores": scores}

    return app


def serve(
    *,
    host: str,
    port: int,
    base_model: str,
    adapters: dict[str, str],
    batch_window_ms: float,
    max_batch_size: int,
    embeddings: bool,
    threads: int | None = None,
    api_key: str | None = None,
    artifact_dir: str | None = None,
) -> None:
    import uvicorn

    engine = Engine(
        base_model,
        batch_window_ms=batch_window_ms,
        max_batch_size=max_batch_size,
        embeddings=embeddings,
        threads=threads if threads is not None else default_threads(),
    )
    if api_key is None:
        log.warning(
            "no API key (--api-key / STUDIO_MODEL_SERVER_API_KEY): every route is open to "
            "whoever reaches %s:%s",
            host,
            port,
        )
    app = create_app(engine, adapters, api_key=api_key, artifact_dir=artifact_dir)
    uvicorn.run(app, host=host, port=port, log_level="info")
