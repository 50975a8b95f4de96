"""Serving benchmark: 16 concurrent chat requests vs the same 16 one after another.

Usage (from apps/model-runtime):
    .venv/bin/python bench/serve_bench.py [--model smollm2-135m-instruct]
Reports completion tokens/s for both, the batching gain, and p50/p99 request latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import threading
import time

import openai
import uvicorn

from studio_runtime.serve.app import create_app
from studio_runtime.serve.engine import Engine

PROMPTS = [
    "What is the capital of France?",
    "Give one tip for writing clear emails.",
    "What is 12 times 7?",
    "Name a primary colour.",
    "Why do we sleep?",
    "What is a haiku?",
    "Suggest a name for a cat.",
    "What does CPU stand for?",
]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


async def run(url: str, model: str, n: int, max_tokens: int) -> dict[str, object]:
    client = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0)

    async def one(i: int) -> tuple[float, int]:
        t = time.perf_counter()
        r = await client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}],
            max_tokens=max_tokens,
            temperature=0,
        )
        return time.perf_counter() - t, r.usage.completion_tokens

    await one(0)  # warm-up
    t0 = time.perf_counter()
    seq = [await one(i) for i in range(n)]
    seq_wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    conc = await asyncio.gather(*(one(i) for i in range(n)))
    conc_wall = time.perf_counter() - t0
    seq_tps = sum(c for _, c in seq) / seq_wall
    conc_tps = sum(c for _, c in conc) / conc_wall
    lat = [t for t, _ in conc]
    return {
        "requests": n,
        "max_tokens": max_tokens,
        "sequential_tokens_per_s": round(seq_tps, 1),
        "concurrent_tokens_per_s": round(conc_tps, 1),
        "batching_gain": round(conc_tps / seq_tps, 2),
        "sequential_wall_s": round(seq_wall, 2),
        "concurrent_wall_s": round(conc_wall, 2),
        "concurrent_p50_latency_s": round(statistics.median(lat), 2),
        "concurrent_p99_latency_s": round(pct(lat, 0.99), 2),
        "sequential_p50_latency_s": round(statistics.median([t for t, _ in seq]), 2),
        "sequential_p99_latency_s": round(pct([t for t, _ in seq], 0.99), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    args = ap.parse_args()
    engine = Engine(args.model, batch_window_ms=20, max_batch_size=16, embeddings=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    result = asyncio.run(
        run(f"http://127.0.0.1:{port}/v1", args.model, args.requests, args.max_tokens)
    )
    result["model"] = args.model
    result["batch_sizes"] = engine.batches
    print(json.dumps(result, indent=2))
    server.should_exit = True


if __name__ == "__main__":
    main()
