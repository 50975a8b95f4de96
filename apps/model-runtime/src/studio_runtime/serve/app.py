"""FastAPI app: OpenAI-compatible endpoints plus vLLM-style adapter loading and rewards.

Endpoints
- ``GET /v1/models``
- ``POST /v1/chat/completions`` (``stream: true`` gives SSE chunks ending with ``data: [DONE]``)
- ``POST /v1/embeddings`` (model ``all-minilm-l6-v2``, 384 dimensions)
- ``POST /v1/load_lora_adapter`` ``{lora_name, lora_path}`` and ``POST /v1/unload_lora_adapter``
  ``{lora_name}`` as in vLLM; an artifact whose ``run.json`` says ``method: reward`` is loaded
  as a reward model instead of a generation adapter
- ``POST /v1/rewards`` ``{model, input: [{prompt, response}]}`` → ``{data: [{index, score}]}``
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


class RewardItem(BaseModel):
    prompt: str | list[dict[str, str]]
    response: str


class RewardRequest(BaseModel):
    model: str
    input: list[RewardItem] = Field(min_length=1)


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


def create_app(engine: Engine, preload: dict[str, str] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        for name, path in (preload or {}).items():
            engine.load_adapter(name, path)
        yield
        await engine.stop()

    app = FastAPI(title="Alignment Studio model runtime", lifespan=lifespan)
    app.state.engine = engine

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
        kind = await asyncio.to_thread(engine.load_adapter, body.lora_name, body.lora_path)
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

    @app.post("/v1/rewards")
    async def rewards(body: RewardRequest) -> Any:
        items = [(i.prompt, i.response) for i in body.input]
        scores = await asyncio.to_thread(engine.score, body.model, items)
        return {
            "object": "list",
            "model": body.model,
            "data": [{"object": "reward", "index": i, "score": s} for i, s in enumerate(scores)],
        }

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
) -> None:
    import uvicorn

    engine = Engine(
        base_model,
        batch_window_ms=batch_window_ms,
        max_batch_size=max_batch_size,
        embeddings=embeddings,
        threads=threads if threads is not None else default_threads(),
    )
    uvicorn.run(create_app(engine, adapters), host=host, port=port, log_level="info")
