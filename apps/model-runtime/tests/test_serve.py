from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import openai
import pytest

from conftest import preference_rows, sft_rows, train

BASE = "tiny"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory, tiny_path):
    from conftest import sha256_file, write_jsonl

    d = tmp_path_factory.mktemp("serve-art")
    out = {}
    for method, rows, fmt in (
        ("sft", sft_rows(16), "conversational"),
        ("reward", preference_rows(16), "preference"),
    ):
        path = write_jsonl(d / f"{method}.jsonl", rows)
        job = {
            "schema_version": "v1",
            "run_id": f"serve-{method}",
            "tenant_id": "t",
            "context_id": "c",
            "method": method,
            "base_model": BASE,
            "dataset": {
                "train_path": str(path),
                "eval_path": None,
                "sha256": sha256_file(path),
                "format": fmt,
            },
            "hyperparameters": {
                "epochs": 1,
                "max_steps": 6,
                "learning_rate": 2e-2,
                "batch_size": 4,
                "gradient_accumulation_steps": 1,
                "max_seq_length": 128,
                "seed": 1,
                "eval_ratio": 0.0,
                "checkpoint_every_steps": 100,
                "adapter": "lora",
                "lora": {"r": 8, "alpha": 32, "dropout": 0.0, "target_modules": "all-linear"},
                "dpo_beta": None,
            },
            "output_dir": str(d / f"{method}-out"),
        }
        _, events = train(job)
        out[method] = events.of("completed")[0]["artifact_dir"]
    return out


@pytest.fixture(scope="module")
def server(tiny_path):
    import uvicorn

    from studio_runtime.serve.app import create_app
    from studio_runtime.serve.engine import Engine

    engine = Engine(BASE, batch_window_ms=50, max_batch_size=16)
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(engine), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", engine
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def client(server):
    url, _ = server
    return openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)


MSG = [{"role": "user", "content": "What is the refund window?"}]


def test_models_and_chat(client):
    ids = [m.id for m in client.models.list().data]
    assert BASE in ids and "all-minilm-l6-v2" in ids
    r = client.chat.completions.create(model=BASE, messages=MSG, max_tokens=8, temperature=0)
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason in ("stop", "length")
    assert 0 < r.usage.completion_tokens <= 8
    assert r.usage.prompt_tokens > 0


def test_sampling_params_seed_stop_and_max_tokens(client):
    kw = {"model": BASE, "messages": MSG, "max_tokens": 12}
    a = client.chat.completions.create(**kw, temperature=1.0, top_p=0.9, seed=123)
    b = client.chat.completions.create(**kw, temperature=1.0, top_p=0.9, seed=123)
    c = client.chat.completions.create(**kw, temperature=1.0, top_p=0.9, seed=124)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.choices[0].message.content != c.choices[0].message.content
    greedy = client.chat.completions.create(**kw, temperature=0).choices[0].message.content
    assert len(greedy) > 4
    stop = greedy[2:4]
    stopped = client.chat.completions.create(**kw, temperature=0, stop=[stop])
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.choices[0].message.content == greedy[: greedy.find(stop)]
    short = client.chat.completions.create(**{**kw, "max_tokens": 3}, temperature=0)
    assert short.usage.completion_tokens == 3 and short.choices[0].finish_reason == "length"


def test_streaming_matches_plain(client):
    kw = {"model": BASE, "messages": MSG, "max_tokens": 10, "temperature": 0}
    plain = client.chat.completions.create(**kw).choices[0].message.content
    chunks = list(client.chat.completions.create(**kw, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == plain


def test_streaming_raw_sse_ends_with_done(server):
    url, _ = server
    body = {"model": BASE, "messages": MSG, "max_tokens": 3, "stream": True}
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=60) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [ln for ln in r.iter_lines() if ln]
    assert lines[-1] == "data: [DONE]"


def test_embeddings(client):
    r = client.embeddings.create(
        model="all-minilm-l6-v2",
        input=["Refunds within 30 days", "You can return items for 30 days", "Cats purr"],
    )
    vecs = [d.embedding for d in r.data]
    assert len(vecs) == 3 and all(len(v) == 384 for v in vecs)

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert dot(vecs[0], vecs[1]) > dot(vecs[0], vecs[2])


def test_concurrent_requests_are_batched(server, client):
    _, engine = server
    before = len(engine.batches)

    async def go():
        ac = openai.AsyncOpenAI(base_url=client.base_url, api_key="unused", max_retries=0)
        reqs = [
            ac.chat.completions.create(
                model=BASE,
                messages=[{"role": "user", "content": f"Question {i}?"}],
                max_tokens=4 + i % 3,
                temperature=0.0 if i % 2 else 0.8,
                seed=i,
            )
            for i in range(8)
        ]
        return await asyncio.gather(*reqs)

    results = asyncio.run(go())
    assert len(results) == 8
    assert all(r.usage.completion_tokens <= 4 + i % 3 for i, r in enumerate(results))
    assert max(engine.batches[before:]) > 1


def test_adapter_load_switch_unload(server, client, artifacts):
    url, _ = server
    kw = {"messages": MSG, "max_tokens": 8, "temperature": 0}
    base = client.chat.completions.create(model=BASE, **kw).choices[0].message.content
    r = httpx.post(
        url + "/v1/load_lora_adapter",
        json={"lora_name": "policy", "lora_path": artifacts["sft"]},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert "policy" in [m.id for m in client.models.list().data]
    tuned = client.chat.completions.create(model="policy", **kw).choices[0].message.content
    assert tuned != base
    # Switching back to the base still gives the base's answer.
    assert client.chat.completions.create(model=BASE, **kw).choices[0].message.content == base
    dup = httpx.post(
        url + "/v1/load_lora_adapter",
        json={"lora_name": "policy", "lora_path": artifacts["sft"]},
        timeout=60,
    )
    assert dup.status_code == 400 and "error" in dup.json()
    r = httpx.post(url + "/v1/unload_lora_adapter", json={"lora_name": "policy"}, timeout=60)
    assert r.status_code == 200
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="policy", **kw)
    assert client.chat.completions.create(model=BASE, **kw).choices[0].message.content == base


def test_reward_scoring(server, artifacts):
    url, _ = server
    r = httpx.post(
        url + "/v1/load_lora_adapter",
        json={"lora_name": "rm", "lora_path": artifacts["reward"]},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    items = [
        {
            "prompt": "What is the refund window?",
            "response": "Refunds are accepted within 30 days.",
        },
        {"prompt": "What is the refund window?", "response": "Whatever. Figure it out yourself."},
    ]
    r = httpx.post(url + "/v1/rewards", json={"model": "rm", "input": items}, timeout=60)
    assert r.status_code == 200, r.text
    scores = [d["score"] for d in r.json()["data"]]
    assert len(scores) == 2 and all(isinstance(s, float) for s in scores)
    missing = httpx.post(url + "/v1/rewards", json={"model": "nope", "input": items}, timeout=60)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_errors_are_openai_shaped(server, client):
    url, _ = server
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="no-such-model", messages=MSG)
    assert nf.value.status_code == 404
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=BASE, messages=MSG, temperature=5)
    assert bad.value.status_code == 400
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=BASE, messages=[])
    r = httpx.post(url + "/v1/chat/completions", content=b"{not json", timeout=30)
    assert r.status_code == 400 and "message" in r.json()["error"]
    r = httpx.post(
        url + "/v1/load_lora_adapter", json={"lora_name": "x", "lora_path": "/nope"}, timeout=30
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_lora_path"
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="text-embedding-3-small", input="hi")


def test_batched_rows_match_single_requests(server, client):
    """Rows of different prompt lengths, token limits and sampling parameters decoded in one
    batch (left padding, rows leaving the batch as they finish) give what each request gives
    alone."""
    _, engine = server
    specs = [
        {"content": "Hi", "max_tokens": 2, "temperature": 0},
        {"content": "What is the refund window for shoes bought online?", "max_tokens": 9},
        {"content": "Question 3?", "max_tokens": 6, "temperature": 0.9, "seed": 7},
        {"content": "A much longer question about returns, receipts and store credit?"},
        {"content": "Short", "max_tokens": 5, "temperature": 0.7, "top_p": 0.8, "seed": 3},
    ]

    def kwargs(s):
        return {
            "model": BASE,
            "messages": [{"role": "user", "content": s["content"]}],
            "max_tokens": s.get("max_tokens", 12),
            "temperature": s.get("temperature", 0),
            **{k: s[k] for k in ("seed", "top_p") if k in s},
        }

    alone = [client.chat.completions.create(**kwargs(s)) for s in specs]

    async def together():
        ac = openai.AsyncOpenAI(base_url=client.base_url, api_key="unused", max_retries=0)
        return await asyncio.gather(*(ac.chat.completions.create(**kwargs(s)) for s in specs))

    before = len(engine.batches)
    batched = asyncio.run(together())
    assert max(engine.batches[before:]) == len(specs)
    for s, a, b in zip(specs, alone, batched, strict=True):
        assert b.choices[0].message.content == a.choices[0].message.content, s
        assert b.usage.completion_tokens == a.usage.completion_tokens <= s.get("max_tokens", 12)
        assert b.choices[0].finish_reason == a.choices[0].finish_reason


def test_streaming_inside_a_batch(server, client):
    """A streamed request batched with a longer plain one streams its own text and ends when its
    row ends, not when the batch does."""
    kw = {"model": BASE, "messages": MSG, "temperature": 0}
    plain = client.chat.completions.create(**kw, max_tokens=4).choices[0].message.content

    async def go():
        ac = openai.AsyncOpenAI(base_url=client.base_url, api_key="unused", max_retries=0)

        async def streamed():
            stream = await ac.chat.completions.create(**kw, max_tokens=4, stream=True)
            chunks = [c async for c in stream]
            return chunks, time.perf_counter()

        async def long():
            r = await ac.chat.completions.create(**kw, max_tokens=60)
            return r, time.perf_counter()

        return await asyncio.gather(streamed(), long())

    (chunks, t_stream), (_, t_long) = asyncio.run(go())
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == plain
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")
    assert t_stream <= t_long
