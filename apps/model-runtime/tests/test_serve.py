from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

from conftest import preference_rows, sft_rows, train

BASE = "tiny"
KEY = "test-model-server-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


def post(url: str, **kw):
    """httpx.post with the server's API key."""
    return httpx.post(url, headers={**AUTH, **kw.pop("headers", {})}, **kw)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def artifact_root(tmp_path_factory):
    """The server's artifact folder: the only place it loads adapters from."""
    return tmp_path_factory.mktemp("serve-art")


@pytest.fixture(scope="module")
def artifacts(artifact_root, tiny_path):
    from conftest import sha256_file, write_jsonl

    d = artifact_root
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
def server(tiny_path, artifact_root):
    import uvicorn

    from studio_runtime.serve.app import create_app
    from studio_runtime.serve.engine import Engine

    engine = Engine(BASE, batch_window_ms=50, max_batch_size=16)
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(
            create_app(engine, api_key=KEY, artifact_dir=artifact_root),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
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
    return openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0)


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
    with httpx.stream(
        "POST", url + "/v1/chat/completions", json=body, headers=AUTH, timeout=60
    ) as r:
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
        ac = openai.AsyncOpenAI(base_url=client.base_url, api_key=KEY, max_retries=0)
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
    r = post(
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
    dup = post(
        url + "/v1/load_lora_adapter",
        json={"lora_name": "policy", "lora_path": artifacts["sft"]},
        timeout=60,
    )
    assert dup.status_code == 400 and "error" in dup.json()
    r = post(url + "/v1/unload_lora_adapter", json={"lora_name": "policy"}, timeout=60)
    assert r.status_code == 200
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="policy", **kw)
    assert client.chat.completions.create(model=BASE, **kw).choices[0].message.content == base


def _conv(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_reward_model_scores_conversations(server, artifacts, tmp_path):
    url, _ = server
    r = post(
        url + "/v1/load_reward_model",
        json={"name": "rm", "path": artifacts["reward"]},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    assert "rm" in [m["id"] for m in httpx.get(url + "/v1/models", headers=AUTH).json()["data"]]
    good = _conv("What is the refund window?", "Refunds are accepted within 30 days of purchase.")
    bad = _conv("What is the refund window?", "Whatever. Figure it out yourself, idiot!!")
    longer = [{"role": "system", "content": "Answer from the policy."}, *good]
    r = post(url + "/v1/rewards", json={"model": "rm", "conversations": [good, bad, longer]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == "rm" and len(body["scores"]) == 3
    scores = body["scores"]
    assert all(isinstance(s, float) for s in scores)
    # Trained on such pairs: the on-policy answer outscores the rude one.
    assert scores[0] > scores[1]
    # Batched (right-padded) scores equal each conversation scored alone.
    for conv, batched in zip([good, bad, longer], scores, strict=True):
        alone = post(url + "/v1/rewards", json={"model": "rm", "conversations": [conv]})
        assert alone.json()["scores"][0] == pytest.approx(batched, abs=1e-4)


def test_reward_requests_with_clear_errors(server, artifacts):
    url, _ = server
    ok = [_conv("q", "a")]
    cases = [
        ({"model": "nope", "conversations": ok}, 404, "model_not_found", "nope"),
        ({"model": "rm", "conversations": []}, 400, "invalid_conversations", "non-empty"),
        ({"model": "rm", "conversations": [[]]}, 400, "invalid_conversations", "[0] is empty"),
        (
            {"model": "rm", "conversations": [*ok, [{"role": "bot", "content": "x"}]]},
            400,
            "invalid_conversations",
            "conversations[1][0].role",
        ),
        (
            {"model": "rm", "conversations": [[{"role": "user", "content": "q"}]]},
            400,
            "invalid_conversations",
            "must end with the assistant answer",
        ),
        ({"model": "rm"}, 400, None, "conversations"),
    ]
    post(url + "/v1/load_reward_model", json={"name": "rm", "path": artifacts["reward"]})
    for body, status, code, text in cases:
        r = post(url + "/v1/rewards", json=body)
        assert r.status_code == status, (body, r.text)
        error = r.json()["error"]
        assert error["code"] == code and text in error["message"], (body, error)


def test_load_reward_model_is_confined_and_checked(server, artifacts, tmp_path):
    url, _ = server
    outside = tmp_path / "outside-rm"
    shutil.copytree(artifacts["reward"], outside)

    def load(name: str, path: str):
        return post(url + "/v1/load_reward_model", json={"name": name, "path": path})

    for path in (str(outside), "/etc", str(Path(artifacts["reward"]).parent / "missing")):
        r = load("probe", path)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_lora_path", r.text
    sft = load("probe", artifacts["sft"])  # inside, but a policy adapter
    assert sft.status_code == 400 and sft.json()["error"]["code"] == "not_a_reward_model"
    assert load("rm2", artifacts["reward"]).status_code == 200
    dup = load("rm2", artifacts["reward"])
    assert dup.status_code == 400 and dup.json()["error"]["code"] == "model_exists"
    models = [m["id"] for m in httpx.get(url + "/v1/models", headers=AUTH).json()["data"]]
    assert "probe" not in models and "rm2" in models


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
    r = post(url + "/v1/chat/completions", content=b"{not json", timeout=30)
    assert r.status_code == 400 and "message" in r.json()["error"]
    r = post(
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
        ac = openai.AsyncOpenAI(base_url=client.base_url, api_key=KEY, max_retries=0)
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
        ac = openai.AsyncOpenAI(base_url=client.base_url, api_key=KEY, max_retries=0)

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


def test_every_route_but_health_needs_the_api_key(server):
    url, _ = server
    assert httpx.get(url + "/health", timeout=10).status_code == 200
    chat = {"model": BASE, "messages": MSG, "max_tokens": 2}
    calls = [
        ("GET", "/v1/models", None),
        ("POST", "/v1/chat/completions", chat),
        ("POST", "/v1/embeddings", {"model": "all-minilm-l6-v2", "input": "hi"}),
        ("POST", "/v1/load_lora_adapter", {"lora_name": "x", "lora_path": "/etc"}),
        ("POST", "/v1/unload_lora_adapter", {"lora_name": "x"}),
        ("POST", "/v1/load_reward_model", {"name": "x", "path": "/etc"}),
        ("POST", "/v1/rewards", {"model": "rm", "conversations": [_conv("p", "r")]}),
        ("GET", "/docs", None),
        ("GET", "/openapi.json", None),
    ]
    wrong = [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Bearer {KEY[:-1]}"},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer"},
    ]
    for method, path, body in calls:
        for headers in wrong:
            r = httpx.request(method, url + path, json=body, headers=headers, timeout=10)
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.json()["error"]["code"] == "invalid_api_key"
            assert r.headers["www-authenticate"] == "Bearer"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url + "/v1", api_key="not-the-key", max_retries=0).models.list()
    ok = httpx.get(url + "/v1/models", headers=AUTH, timeout=10)
    assert ok.status_code == 200


def test_adapter_paths_are_confined_to_the_artifact_folder(
    server, artifacts, artifact_root, tmp_path
):
    url, _ = server
    real = Path(artifacts["sft"])
    outside = tmp_path / "outside-adapter"
    shutil.copytree(real, outside)  # a real adapter, but outside the folder
    link = real.parent / "link-to-outside"
    link.symlink_to(outside, target_is_directory=True)

    def load(path: str):
        return post(
            url + "/v1/load_lora_adapter",
            json={"lora_name": "probe", "lora_path": path},
            timeout=60,
        )

    refused = [
        str(outside),  # exists, is an adapter, outside
        str(link),  # inside by name, outside once the link is followed
        f"{real.parent}/{os.path.relpath(outside, real.parent)}",  # ../ out of the folder
        os.path.relpath(outside, artifact_root),  # relative, out of the folder
        "/etc",  # exists, outside
        "/no/such/folder",  # missing, outside
        str(real.parent / "no-such-adapter"),  # missing, inside
        str(real.parent),  # inside, not an adapter
    ]
    messages = set()
    for path in refused:
        r = load(path)
        assert r.status_code == 400, (path, r.text)
        error = r.json()["error"]
        assert error["code"] == "invalid_lora_path"
        messages.add(error["message"].replace(repr(path), "<path>"))
    # One answer for a forbidden path and a missing one: nothing tells which paths exist.
    assert messages == {"no adapter at <path> in the artifact folder"}
    listed = httpx.get(url + "/v1/models", headers=AUTH).json()["data"]
    assert "probe" not in [m["id"] for m in listed]


def test_adapter_loading_is_off_without_an_artifact_folder(artifacts):
    from studio_runtime.serve.app import confined_adapter_path
    from studio_runtime.serve.engine import EngineError

    with pytest.raises(EngineError) as off:
        confined_adapter_path(None, artifacts["sft"])
    assert off.value.status == 403 and off.value.code == "adapter_loading_disabled"
    # A relative path is taken inside the folder.
    real = Path(artifacts["sft"])
    assert confined_adapter_path(real.parent, real.name) == Path(os.path.realpath(real))
