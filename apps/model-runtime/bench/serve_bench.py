"""Serving benchmark: 16 concurrent chat requests vs the same 16 one after another.

Usage (from apps/model-runtime):
    .venv/bin/python bench/serve_bench.py [--model smollm2-135m-instruct] [--rounds 3]
Each round runs both phases; the order alternates between rounds (sequential first, then
concurrent first, ...) so that a shared, noisy CPU does not favour one side. Reports every
round and the medians of completion tokens/s, the batching gain and p50/p99 request latency.
The server uses the same intra-op thread count as `studio-runtime serve` (`--threads`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import threading
import time
from typing import Any

import openai
import uvicorn

from studio_runtime.serve.app import create_app
from studio_runtime.serve.engine import Engine, default_threads

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


async def run(url: str, model: str, n: int, max_tokens: int, rounds: int) -> dict[str, object]:
    client = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0)

    async def one(i: int) -> tuple[float, int]:
        t = time.perf_counter()
        r = await client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}],
            max_tokens=max_tokens,
            temperature=0,
        )
        assert r.usage is not None
        return time.perf_counter() - t, r.usage.completion_tokens

    async def sequential() -> dict[str, float]:
        t0 = time.perf_counter()
        res = [await one(i) for i in range(n)]
        return summary(res, time.perf_counter() - t0)

    async def concurrent() -> dict[str, float]:
        t0 = time.perf_counter()
        res = await asyncio.gather(*(one(i) for i in range(n)))
        return summary(list(res), time.perf_counter() - t0)

    def summary(res: list[tuple[float, int]], wall: float) -> dict[str, float]:
        lat = [t for t, _ in res]
        return {
            "tokens": sum(c for _, c in res),
            "tokens_per_s": sum(c for _, c in res) / wall,
            "wall_s": wall,
            "p50_latency_s": statistics.median(lat),
            "p99_latency_s": pct(lat, 0.99),
        }

    await one(0)  # warm-up
    await asyncio.gather(*(one(i) for i in range(n)))
    per_round: list[dict[str, Any]] = []
    for k in range(rounds):
        if k % 2 == 0:
            seq, conc = await sequential(), await concurrent()
        else:
            conc, seq = await concurrent(), await sequential()
        per_round.append(
            {
                "order": "sequential-first" if k % 2 == 0 else "concurrent-first",
                "gain": conc["tokens_per_s"] / seq["tokens_per_s"],
                "sequential": seq,
                "concurrent": conc,
            }
        )

    def med(side: str, key: str) -> float:
        return round(statistics.median(float(r[side][key]) for r in per_round), 2)

    return {
        "requests": n,
        "max_tokens": max_tokens,
        "rounds": rounds,
        "sequential_tokens_per_s": med("sequential", "tokens_per_s"),
        "concurrent_tokens_per_s": med("concurrent", "tokens_per_s"),
        "batching_gain": round(statistics.median(float(r["gain"]) for r in per_round), 2),
        "sequential_wall_s": med("sequential", "wall_s"),
        "concurrent_wall_s": med("concurrent", "wall_s"),
        "concurrent_p50_latency_s": med("concurrent", "p50_latency_s"),
        "concurrent_p99_latency_s": med("concurrent", "p99_latency_s"),
        "sequential_p50_latency_s": med("sequential", "p50_latency_s"),
        "sequential_p99_latency_s": med("sequential", "p99_latency_s"),
        "per_round": [
            {
                "order": r["order"],
                "gain": round(float(r["gain"]), 2),
                **{
                    f"{side}_{key}": round(float(r[side][key]), 2)
                    for side in ("sequential", "concurrent")
                    for key in ("tokens_per_s", "wall_s", "p50_latency_s", "p99_latency_s")
                },
            }
            for r in per_round
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--requests", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=default_threads())
    args = ap.parse_args()
    engine = Engine(
        args.model, batch_window_ms=20, max_batch_size=16, embeddings=False, threads=args.threads
    )
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
        run(f"http://127.0.0.1:{port}/v1", args.model, args.requests, args.max_tokens, args.rounds)
    )
    result["model"] = args.model
    result["threads"] = args.threads
    result["concurrent_batch_sizes"] = sorted(set(b for b in engine.batches if b > 1))
    print(json.dumps(result, indent=2))
    server.should_exit = True


if __name__ == "__main__":
    main()
